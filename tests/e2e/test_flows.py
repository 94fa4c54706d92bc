"""The main user flows in a real Chromium against `streamlit run`, one screenshot per page.

Screenshots land in test-artifacts/screenshots/ (gitignored). Every test ends by checking that no
Streamlit exception element and no JavaScript dialog appeared.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "sample_docs"

pytestmark = pytest.mark.browser

QUESTION = "How long are backups kept on the Team plan?"


def _int(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


def test_samples_then_chunk_size_changes_the_chunks_then_query_shows_hits(app):
    app.load_samples()
    before = _int(app.metric("Chunks"))
    assert before > 0
    initial = app.slider_value("chunk_size")
    size = app.slider_keys("chunk_size", "PageUp")  # a tenth of the range larger, by keyboard
    assert size > initial
    after = _int(app.metric("Chunks"))
    assert after < before, f"chunk size {size} should give fewer chunks than {before}, got {after}"
    assert app.chart_drawn("length_hist")
    app.shot("chunking")
    app.assert_clean()

    app.nav("Index & Retrieval")
    assert _int(app.metric("Vectors")) == after  # the index follows the new chunking
    app.ask(QUESTION)
    cards = app.hit_cards()
    assert cards.count() == 5  # default top-5
    first = cards.first.inner_text()
    assert "#1" in first and "chars" in first
    assert app.page.get_by_role("heading", name="Prompt preview").count() == 1
    app.shot("retrieval")
    app.assert_clean()


def test_upload_pdf_and_html_through_the_file_input(app):
    app.nav("Documents")
    app.upload([str(SAMPLES / "pricing_and_plans.pdf"), str(SAMPLES / "release_notes.html")])
    assert any("Loaded 2 document(s)" in t for t in app.alerts("Success")), app.alerts()
    assert not app.alerts("Error")
    assert app.page.get_by_role("heading", name="Loaded documents (2)").count() == 1
    app.shot("documents-uploaded")
    app.assert_clean()

    app.nav("Index & Retrieval")
    app.ask("What does the Team plan cost per month?")
    cards = app.hit_cards()
    assert cards.count() > 0
    text = "\n".join(cards.all_inner_texts())
    assert "pricing_and_plans.pdf" in text
    assert re.search(r"pricing_and_plans\.pdf · page \d", text), "PDF hits carry their page number"
    assert set(re.findall(r"(\w+\.(?:pdf|html|md|txt|docx))", text)) <= {"pricing_and_plans.pdf", "release_notes.html"}
    app.assert_clean()


def test_a_small_sweep_on_evaluate(app):
    # One small document keeps the sweep small: only its questions are scored, few sentences embedded.
    app.nav("Documents")
    app.upload([str(SAMPLES / "faq.md")])
    app.nav("Evaluate")
    if app.key("eval_sw_run").count() == 0:
        pytest.skip("the Evaluate page has no sweep yet")
    app.page.get_by_role("tab", name="Sweep").click()  # tabs switch in the browser, no rerun
    for widget, value in (("eval_sw_sizes_tokens", 300), ("eval_sw_sizes_tokens", 400),
                          ("eval_sw_overlaps_tokens", 25), ("eval_sw_overlaps_tokens", 50)):
        remove = app.key(widget).get_by_role("button", name=f"Remove {value}", exact=True)
        if remove.count():
            app.act(remove.click)
    app.click("eval_sw_run")
    done = [t for t in app.alerts("Success") if t.startswith("Sweep done")]
    assert done, f"no 'Sweep done' message: {app.alerts()}"
    assert app.chart_drawn("eval_sw_heatmap")
    app.shot("evaluate-sweep")
    app.assert_clean()


def test_decide_flowchart_gives_a_recommendation(app):
    from core import decision

    app.nav("Decide")
    answers = {"changes": "no", "problem": "knows", "attribution": "yes", "latency": "no", "examples": "no"}
    for q in decision.QUESTIONS:
        label = q.option(answers[q.id]).label
        option = app.key(f"decide_{q.id}").get_by_text(label, exact=True)
        app.act(option.click)
    success = " ".join(app.alerts("Success"))
    assert "Recommendation:" in success, app.alerts()
    assert app.page.locator("[data-testid='stGraphVizChart'] svg").count() > 0
    app.shot("decide")
    app.assert_clean()


def test_changing_a_cost_input_changes_the_totals(app):
    app.nav("Costs")
    monthly = next(label for label in app.metrics() if label.endswith(": monthly"))
    before = app.metric(monthly)
    box = app.key("cost_queries_per_month").locator("input")
    old = _int(box.input_value())
    box.fill(str(old * 10))
    app.act(lambda: box.press("Enter"))
    after = app.metric(monthly)
    assert after != before, f"{monthly} stayed {before} after queries/month x10"
    app.shot("costs")
    app.assert_clean()


def test_every_page_renders_without_an_exception(app):
    """With the samples loaded, open every page in the navigation and keep a screenshot of it."""
    app.load_samples()
    titles = app.nav_titles()
    assert len(titles) >= 8, titles
    for title in titles:
        app.nav(title)
        app.shot("page-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-"))
        app.assert_clean()
    app.nav("Documents")
    assert app.page.get_by_role("heading", name="Loaded documents (8)").count() == 1  # nothing lost


def test_sidebar_describes_the_session_on_every_page(app):
    """"THIS SESSION" in the sidebar must be there on every page, including pages that stop early
    (st.stop(): Index & Retrieval before a question, Fine-tuning readiness before a file)."""
    app.load_samples()
    blank = []
    for title in app.nav_titles():
        app.nav(title)
        if "Documents: 8" not in app.sidebar():
            blank.append(title)
    assert not blank, f"the sidebar's session summary is missing on: {blank}"


def test_sidebar_is_current_right_after_an_upload_and_a_slider_change(app):
    """The sidebar ("THIS SESSION") must describe the session as it is now, not one run ago
    (it once was drawn before the page ran, so it showed the page's changes one rerun late)."""
    app.nav("Documents")
    app.upload([str(SAMPLES / "release_notes.html")])
    assert app.page.get_by_role("heading", name="Loaded documents (1)").count() == 1
    assert "Documents: 1" in app.sidebar()
    app.nav("Chunking")
    size = app.slider_keys("chunk_size", "PageUp")
    overlap = app.slider_value("chunk_overlap")
    assert f"recursive {size}/{overlap} tokens" in app.sidebar()
