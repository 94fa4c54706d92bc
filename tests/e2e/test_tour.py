"""A stakeholder's tour: every page at 1280×720, as it would look on a projector.

The session loads the samples, builds the index and asks a question, scores the current settings,
runs a small pooled sweep (so the heatmap is drawn), answers the decision flowchart and checks
the sample training file, then visits every page. On every page it collects what a projector
would show badly or what would break offline:

- a browser console error or an uncaught page error;
- a request to any host other than the app's own (nothing the app serves may leave the machine);
- a Streamlit exception element;
- a metric value clipped with an ellipsis;
- chart text drawn over something: an axis or chart title meeting the legend, a line's label
  over a bar;
- diagram (graphviz) text rendered below MIN_DIAGRAM_PX: its font size times the scale the SVG
  is drawn at (getScreenCTM), so a diagram shrunk to fit its column counts as small.

Every fault is collected, then the test fails once with the whole list. A screenshot of every
page (and of each Evaluate tab) is written to test-artifacts/tour/<page>.png.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TOUR = ROOT / "test-artifacts" / "tour"
VIEWPORT = {"width": 1280, "height": 720}
MIN_DIAGRAM_PX = 12
QUESTION = "How long are backups kept on the Team plan?"
DECIDE_ANSWERS = {"changes": "no", "problem": "behaves", "attribution": "yes", "latency": "no", "examples": "no"}

# Rendered size of every graphviz text: font size in SVG units times the SVG's scale on screen.
DIAGRAM_TEXT_JS = """() => [...document.querySelectorAll("[data-testid='stGraphVizChart'] svg text")]
  .filter(t => t.textContent.trim())
  .map(t => {
    const m = t.getScreenCTM();
    const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    return {text: t.textContent.trim(), px: Math.round(px * 10) / 10,
            box: Math.round(t.getBoundingClientRect().height * 10) / 10};
  })"""

# Metric values (and the line under them) that do not fit: wider than their box (CSS ellipsis) or
# ending in an ellipsis.
CLIPPED_METRICS_JS = """() => [...document.querySelectorAll("[data-testid='stMetricValue'], [data-testid='stMetricDelta']")]
  .filter(el => [el, ...el.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1)
                || /(…|\\.\\.\\.)$/.test(el.innerText.trim()))
  .map(el => el.innerText.trim())"""


# Text drawn over something else in a plotly chart, as a projector shows it: the x-axis title
# or the chart title under the legend, or an annotation (a line's label) over a bar. Charts in a
# hidden tab have empty boxes and are skipped.
CHART_OVERLAPS_JS = """() => {
  const meet = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const boxes = (root, sel) => [...root.querySelectorAll(sel)].map(e => e.getBoundingClientRect())
    .filter(b => b.width > 0 && b.height > 0);
  const found = [];
  document.querySelectorAll("[data-testid='stPlotlyChart']").forEach((chart, n) => {
    const name = (chart.querySelector('.gtitle') || {}).textContent || `chart ${n + 1}`;
    const legend = boxes(chart, '.legend .bg');
    for (const [what, sel] of [['x-axis title', '.g-xtitle text'], ['chart title', '.g-gtitle text']])
      if (boxes(chart, sel).some(t => legend.some(l => meet(t, l)))) found.push(`${name}: the ${what} meets the legend`);
    const bars = boxes(chart, '.trace.bars .point path');
    chart.querySelectorAll('.annotation').forEach(a => {
      const text = a.querySelector('text');
      if (text && bars.some(b => meet(text.getBoundingClientRect(), b)))
        found.push(`${name}: label '${text.textContent}' is drawn over a bar`);
    });
  });
  return found;
}"""


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class Tour:
    """What the tour saw go wrong, page by page."""

    def __init__(self, app) -> None:
        self.app = app
        self.where = "start"
        self.faults: dict[str, list[str]] = {}  # fault -> where it was seen, in order
        self.host = urlparse(app.url).netloc  # the app's own host and port
        self.diagrams: dict[str, list[dict]] = {}
        app.page.on("console", self._on_console)
        app.context.on("request", self._on_request)

    def fault(self, text: str, where: str | None = None) -> None:
        self.faults.setdefault(text, []).append(where or self.where)

    def report(self) -> str:
        return "\n".join(f"- {text} [{len(seen)}x: {', '.join(dict.fromkeys(seen))}]" for text, seen in self.faults.items())

    def _on_console(self, msg) -> None:
        if msg.type == "error":
            self.fault(f"console error: {msg.text} ({msg.location.get('url', '')})")

    def _on_request(self, request) -> None:
        url = urlparse(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.netloc != self.host:
            self.fault(f"request outside the machine: {request.url}")

    def visit(self, title: str) -> None:
        self.where = title
        self.app.nav(title)

    def check(self, label: str) -> None:
        """Inspect the page as it is now and keep its screenshot as tour/<label>.png."""
        page = self.app.page
        errors, self.app.page_errors[:] = list(self.app.page_errors), []
        for error in errors:
            self.fault(f"page error: {error}", label)
        exceptions = page.locator("[data-testid='stException']")
        if exceptions.count():
            self.fault(f"exception on page: {exceptions.all_inner_texts()}", label)
        for value in page.evaluate(CLIPPED_METRICS_JS):
            self.fault(f"metric clipped: {value!r}", label)
        for problem in page.evaluate(CHART_OVERLAPS_JS):
            self.fault(problem, label)
        graphs = page.locator("[data-testid='stGraphVizChart'] svg")
        if graphs.count():
            graphs.first.locator("text").first.wait_for(state="attached")
            texts = page.evaluate(DIAGRAM_TEXT_JS)
            self.diagrams[label] = texts
            small = [t for t in texts if t["px"] < MIN_DIAGRAM_PX]
            if small:
                smallest = min(small, key=lambda t: t["px"])
                self.fault(f"{len(small)} of {len(texts)} diagram texts under {MIN_DIAGRAM_PX} px, "
                           f"smallest {smallest['px']} px ({smallest['text']!r})", label)
        TOUR.mkdir(parents=True, exist_ok=True)
        shutil.move(self.app.shot(f"tour-{label}"), TOUR / f"{label}.png")


def test_tour_of_every_page_at_projector_size(new_app):
    app = new_app("tour")
    tour = Tour(app)
    app.page.set_viewport_size(VIEWPORT)
    # Open the app again with the listeners in place: the first load's requests count too.
    before = app.runs.finished
    app.page.goto(app.url)
    app.wait_run(before, 120)

    tour.where = "Home"
    app.load_samples()
    tour.visit("Index & Retrieval")
    app.ask(QUESTION)
    assert app.hit_cards().count() > 0

    tour.visit("Evaluate")
    app.click("eval_run")
    assert not app.alerts("Error"), app.alerts("Error")
    app.page.get_by_role("tab", name="Sweep", exact=True).click()  # tabs switch in the browser, no rerun
    for widget, value in (("eval_sw_sizes_tokens", 300), ("eval_sw_sizes_tokens", 400),
                          ("eval_sw_overlaps_tokens", 50), ("eval_sw_ks", 1), ("eval_sw_ks", 10)):
        remove = app.key(widget).get_by_role("button", name=f"Remove {value}", exact=True)
        if remove.count():
            app.act(remove.click)
    app.click("eval_sw_run")
    assert app.chart_drawn("eval_sw_heatmap")

    tour.visit("Decide")
    from core import decision

    for q in decision.QUESTIONS:
        option = app.key(f"decide_{q.id}").get_by_text(q.option(DECIDE_ANSWERS[q.id]).label, exact=True)
        app.act(option.click)

    tour.visit("Fine-tuning readiness")
    app.click("ft_load_sample")
    assert app.chart_drawn("ft_length_chart")

    titles = app.nav_titles()
    assert len(titles) >= 8, titles
    for title in titles:
        tour.visit(title)
        label = _slug(title)
        if title == "Index & Retrieval":
            app.ask(QUESTION)  # the question box empties when the page is left; show the hits again
            assert app.hit_cards().count() > 0
        if title == "Evaluate":
            tabs = {"Current settings": "evaluate", "Sweep": "evaluate-sweep", "Embedding map": "evaluate-map"}
            for tab, tab_label in tabs.items():
                app.page.get_by_role("tab", name=tab, exact=True).click()
                if tab == "Sweep":
                    assert app.chart_drawn("eval_sw_heatmap")
                if tab == "Embedding map":
                    assert app.chart_drawn("eval_map_chart")
                tour.check(tab_label)
            continue
        tour.check(label)

    (TOUR / "diagram_text.json").write_text(json.dumps(
        {label: {"min_px": min(t["px"] for t in texts), "texts": texts} for label, texts in tour.diagrams.items()},
        indent=1))
    assert {"home", "decide"} <= set(tour.diagrams), f"no diagram found on {sorted({'home', 'decide'} - set(tour.diagrams))}"
    assert not app.dialogs, f"a dialog opened: {app.dialogs}"
    assert not tour.faults, "the tour found:\n" + tour.report()
