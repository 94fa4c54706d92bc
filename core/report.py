"""A self-contained HTML report for stakeholders: chunking, retrieval quality, decision and costs.

The report is one file that opens offline: styles are inline and plotly.js is embedded once, before
the first chart, with every later chart reusing it. Every string that could come from a user (metric
names, labels, sources, settings) is escaped with html.escape; numbers are formatted by the same
functions the pages use, so the report shows exactly what the screen showed.
"""
from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import plotly.graph_objects as go

from core import decision
from core.costs import ENGINEERING, ENGINEERING_OFF, LIMITS, CostComparison, CostInputs, compare, usd
from core.plots.costs import cumulative_figure, volume_figure
from core.plots.evaluation import sweep_heatmap
from core.sweep import SweepRow

ORIGINS = ("curated", "labelled", "generated")
ORIGIN_TEXT = {"curated": "written or imported by people (a question file or the editor)",
               "labelled": "marked on the Retrieval page against a retrieved chunk",
               "generated": "made by a question generator: a check on the settings, not a substitute for real questions"}


@dataclass(frozen=True)
class ChunkSummary:
    label: str
    n_chunks: int | None = None
    mean_tokens: float | None = None
    max_tokens: int | None = None
    n_truncated: int | None = None


@dataclass(frozen=True)
class SweepSummary:
    """What the report shows of a sweep: its heatmap and, when computed, how sure its best is."""

    rows: tuple[SweepRow, ...]
    metric: str  # "hit", "mrr", ...
    k: int
    method: str
    splitter: str
    approximate: bool
    recommendation: str = ""
    verdict: str = ""  # best vs runner-up
    note: str = ""  # how the questions were resampled


@dataclass(frozen=True)
class ConfirmedSetting:
    """One setting of the sweep re-run exactly, with its 95% interval."""

    label: str
    metric: str  # display name, e.g. "hit@5"
    value: float
    lo: float
    hi: float
    pooled: float | None = None


def split_metrics(summary: object) -> tuple[dict[str, float] | None, str | None]:
    """(metric name -> value, run label) from whatever the Evaluate page stored, or (None, None).

    The summary is expected to be a mapping of metric names to floats plus a "label" entry; a
    dataclass with the same fields is accepted too. Anything that is not a finite number is dropped.
    """
    if summary is None:
        return None, None
    if dataclasses.is_dataclass(summary) and not isinstance(summary, type):
        summary = dataclasses.asdict(summary)
    if not isinstance(summary, Mapping):
        return None, None
    label = summary.get("label")
    numbers = {str(k): float(v) for k, v in summary.items()
               if k != "label" and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
    return (numbers or None), (str(label) if label is not None else None)


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def metric_value(value: float) -> str:
    return f"{value:.3f}"


def plain_number(value: float) -> str:
    """1,000,000 rather than 1e+06; 0.15 rather than 0.150000."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.6g}"


_STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; color: #1f2937;
       max-width: 1000px; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #e5e7eb; padding-bottom: 0.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.6rem 0; } th, td { border: 1px solid #e5e7eb; padding: 0.3rem 0.6rem;
text-align: left; vertical-align: top; } th { background: #f3f4f6; } td.num { text-align: right; }
.muted { color: #6b7280; font-size: 0.9rem; } .verdict { font-size: 1.2rem; font-weight: 600; }
.conflict { border-left: 4px solid #f59e0b; padding: 0.2rem 0.8rem; margin: 0.6rem 0; background: #fffbeb; }
.chart { height: 400px; margin: 1rem 0; }
"""


def build_report(
    *,
    chunking: ChunkSummary | None,
    metrics: Mapping[str, float] | None,
    metrics_label: str | None,
    answers: Mapping[str, str] | None,
    cost_inputs: CostInputs | None,
    cost_sources: Mapping[str, str] | None = None,
    generated: datetime | None = None,
    intervals: Mapping[str, tuple[float, float]] | None = None,
    provenance: Mapping[str, int] | None = None,
    sweep: SweepSummary | None = None,
    confirmed: Sequence[ConfirmedSetting] = (),
) -> str:
    """The whole report as one HTML document (a str).

    `intervals` maps a metric's name (as in `metrics`) to its 95% interval; `provenance` counts the
    scored questions by origin (curated, labelled, generated).
    """
    generated = generated or datetime.now(UTC)
    comparison = compare(cost_inputs or CostInputs())
    sweep_html, sweep_charts = _sweep_section(sweep, confirmed)
    body = [
        "<h1>RAG Explorer: decision report</h1>",
        f'<p class="muted">Generated {esc(generated.strftime("%Y-%m-%d %H:%M %Z").strip())} by RAG Explorer.</p>',
        _chunking_section(chunking),
        _questions_section(provenance),
        _metrics_section(metrics, metrics_label, intervals or {}),
        sweep_html,
        _decision_section(answers),
        _costs_section(comparison, defaults=cost_inputs is None, sources=cost_sources or {}, js_included=sweep_charts > 0),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>RAG Explorer: decision report</title>\n"
        f"<style>{_STYLE}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def _table(header: tuple[str, ...] | None, rows: Sequence[tuple[str, ...]], numeric: tuple[int, ...] = ()) -> str:
    """A table whose cells are already-escaped HTML."""
    head = f"<thead><tr>{''.join(f'<th>{h}</th>' for h in header)}</tr></thead>" if header else ""
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if k in numeric else f"<td>{c}</td>"
                         for k, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table>{head}<tbody>{body}</tbody></table>"


def _chunking_section(chunking: ChunkSummary | None) -> str:
    out = ["<h2>Chunk settings</h2>"]
    if chunking is None:
        out.append("<p>No chunk settings recorded in this session.</p>")
        return "\n".join(out)
    rows = [("Setting", esc(chunking.label))]
    if chunking.n_chunks is None:
        rows.append(("Chunks", "no documents were loaded, so there are no chunk statistics"))
    else:
        rows += [
            ("Chunks", esc(f"{chunking.n_chunks:,}")),
            ("Mean tokens per chunk", esc(f"{chunking.mean_tokens:,.1f}")),
            ("Longest chunk (tokens)", esc(f"{chunking.max_tokens:,}")),
            ("Chunks truncated by the embedding model", esc(f"{chunking.n_truncated:,}")),
        ]
    out.append(_table(None, rows))
    return "\n".join(out)


def _chart(fig: go.Figure, *, with_js: bool) -> str:
    """A figure as an HTML fragment; plotly.js goes in once, with the report's first chart."""
    # Outside Streamlit's theme the tick labels need room of their own.
    fig.update_layout(template="plotly_white", margin=dict(l=80, r=20, t=80, b=60))
    return '<div class="chart">' + fig.to_html(full_html=False, include_plotlyjs=with_js, default_height="400px") + "</div>"


def _questions_section(provenance: Mapping[str, int] | None) -> str:
    out = ["<h2>Question set</h2>"]
    counts = {o: int(n) for o, n in (provenance or {}).items() if isinstance(n, int) and n >= 0}
    total = sum(counts.values())
    if not total:
        out.append("<p>No question set was scored in this session.</p>")
        return "\n".join(out)
    parts = ", ".join(f"{counts.get(o, 0):,} {o}" for o in ORIGINS)
    out.append(f"<p>{total:,} questions scored: {esc(parts)}.</p>")
    rows = [(esc(o), esc(f"{counts.get(o, 0):,}"), esc(ORIGIN_TEXT[o])) for o in ORIGINS]
    rows += [(esc(o), esc(f"{n:,}"), "") for o, n in counts.items() if o not in ORIGINS]
    out.append(_table(("Origin", "Questions", "What it means"), rows, (1,)))
    if counts.get("generated"):
        out.append('<p class="muted">Generated questions are counted apart: a setting that wins only on them is '
                   "not yet shown to win on real questions.</p>")
    return "\n".join(out)


def _sweep_section(sweep: SweepSummary | None, confirmed: Sequence[ConfirmedSetting]) -> tuple[str, int]:
    """(HTML, number of charts in it): the sweep heatmap, how sure its best is, the confirmed settings."""
    if sweep is None and not confirmed:
        return "", 0
    out = ["<h2>Settings sweep</h2>"]
    charts = 0
    if sweep is not None and sweep.rows:
        kind = "approximate (fast pooled mode)" if sweep.approximate else "exact"
        out.append(f"<p>{len(sweep.rows):,} settings scored, {esc(kind)}.</p>")
        fig = sweep_heatmap(sweep.rows, metric=sweep.metric, k=sweep.k, method=sweep.method, splitter=sweep.splitter,
                            approximate=sweep.approximate)
        out.append(_chart(fig, with_js=True))
        charts += 1
        if sweep.recommendation:
            out.append(f"<p><strong>Recommended:</strong> {esc(sweep.recommendation)}</p>")
        if sweep.verdict:
            out.append(f"<p><strong>Best vs runner-up:</strong> {esc(sweep.verdict)}.</p>")
        if sweep.note:
            out.append(f'<p class="muted">95% intervals by bootstrap: {esc(sweep.note)}.</p>')
    if confirmed:
        out.append("<h3>Confirmed exactly</h3>")
        rows = [(esc(c.label), esc(c.metric), esc(metric_value(c.value)),
                 esc(f"{metric_value(c.lo)} to {metric_value(c.hi)}"),
                 esc("" if c.pooled is None else metric_value(c.pooled))) for c in confirmed]
        out.append(_table(("Setting", "Metric", "Exact", "95% interval", "Fast-mode estimate"), rows, (2, 3, 4)))
    return "\n".join(out), charts


def _metrics_section(metrics: Mapping[str, float] | None, label: str | None,
                     intervals: Mapping[str, tuple[float, float]] | None = None) -> str:
    out = ["<h2>Retrieval quality</h2>"]
    numbers = {k: v for k, v in (metrics or {}).items()
               if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
    if not numbers:
        out.append("<p>No retrieval evaluation was run in this session.</p>")
        return "\n".join(out)
    if label:
        out.append(f"<p>Run: {esc(label)}</p>")
    cis = intervals or {}
    if not cis:
        out.append(_table(("Metric", "Value"), [(esc(k), esc(metric_value(v))) for k, v in numbers.items()], (1,)))
        return "\n".join(out)
    rows = [(esc(k), esc(metric_value(v)), esc(f"{metric_value(cis[k][0])} to {metric_value(cis[k][1])}") if k in cis else "")
            for k, v in numbers.items()]
    out.append(_table(("Metric", "Value", "95% interval"), rows, (1, 2)))
    out.append('<p class="muted">Intervals: bootstrap over the questions, resampling whole documents (questions '
               "about one document succeed or fail together). Two settings whose difference is smaller than these "
               "bands may not really differ.</p>")
    return "\n".join(out)


def _decision_section(answers: Mapping[str, str] | None) -> str:
    out = ["<h2>RAG or fine-tuning?</h2>"]
    try:
        rec = decision.evaluate(answers or {})
    except ValueError as exc:
        out.append(f"<p>The recorded answers could not be read: {esc(exc)}</p>")
        return "\n".join(out)
    if not rec.contributions:
        out.append("<p>The decision questions were not answered in this session.</p>")
        return "\n".join(out)
    rows = [(esc(f"Q{decision.QUESTION_BY_ID[c.question_id].number}. {c.question}"), esc(c.answer), esc(c.reason))
            for c in rec.contributions]
    out.append(_table(("Question", "Answer", "What it contributed"), rows))
    if rec.not_reached:
        out.append('<p class="muted">Not asked: the first answer settles the question on its own.</p>')
    outcome = rec.outcome
    if outcome is None:
        # evaluate() names the first unanswered question whenever it has no outcome.
        assert rec.next_question is not None
        nxt = decision.QUESTION_BY_ID[rec.next_question]
        out.append(f"<p>Not finished: question {nxt.number} is unanswered, so there is no recommendation yet.</p>")
        return "\n".join(out)
    out.append(f'<p class="verdict">Recommendation: {esc(outcome.title)}</p>')
    out.append(f"<p>{esc(outcome.summary)}</p>")
    out.append(f'<p class="muted">Deciding rule: {esc(rec.rule_text)}</p>')
    for conflict in rec.conflicts:
        out.append(f'<div class="conflict"><p><strong>Conflict:</strong> {esc(conflict.description)}</p>'
                   f"<p><strong>Resolved:</strong> {esc(conflict.resolution)}</p></div>")
    steps = "".join(f"<li>{esc(s)}</li>" for s in outcome.next_steps)
    out.append(f"<p>Next steps:</p><ul>{steps}</ul>")
    return "\n".join(out)


def cost_rows(comparison: CostComparison) -> list[tuple[str, str, str, str]]:
    """(approach, monthly, per query, one-off) as formatted on the cost page."""
    return [(a.name, usd(a.monthly_total), usd(a.cost_per_query, precise=True), usd(a.upfront_total))
            for a in comparison.approaches]


def engineering_statement(i: CostInputs, sources: Mapping[str, str]) -> str:
    """Whether the costs include engineering time, and if so how much: the report says which."""
    usage_only = "the costs above are usage and prices only, with no hours of building or upkeep."
    if sources.get("hourly_rate") == ENGINEERING_OFF:
        return f"not counted (switched off on the Costs page): {usage_only}"
    if not sources and not any(getattr(i, f) for f in ENGINEERING):
        return f"not counted: {usage_only}"
    rag = f"RAG {plain_number(i.rag_build_hours)} h to build and {plain_number(i.rag_maintain_hours)} h a month"
    ft = (f"fine-tuning {plain_number(i.ft_build_hours)} h to build and {plain_number(i.ft_maintain_hours)} h "
          "a month")
    if i.hourly_rate == 0 or not any(getattr(i, f) for f in ENGINEERING if f != "hourly_rate"):
        return f"switched on, but it adds nothing: {usd(i.hourly_rate)} an hour; {rag}; {ft}."
    return (f"counted (the Costs page's switch is on) at {usd(i.hourly_rate)} an hour: {rag}; {ft}; "
            "the hybrid pays for both.")


def _costs_section(comparison: CostComparison, *, defaults: bool, sources: Mapping[str, str],
                   js_included: bool = False) -> str:
    i = comparison.inputs
    out = ["<h2>Cost comparison</h2>"]
    if defaults:
        out.append('<p class="muted">The cost page was not opened in this session: these are the default '
                   "inputs (the worked example of about 100K queries a month on gpt-4o-mini).</p>")
    out.append(f"<p>At {i.queries_per_month:,} queries in the first month "
               f"({esc(f'{i.monthly_growth_pct:g}')}% growth a month), over {i.horizon_months} months:</p>")
    out.append(_table(("Approach", "Monthly cost", "Cost per query", "One-off cost"),
                      [tuple(esc(c) for c in row) for row in cost_rows(comparison)], (1, 2, 3)))
    out.append(f"<p><strong>Break-even month:</strong> {esc(comparison.month_statement)}</p>")
    out.append(f"<p><strong>Break-even volume:</strong> {esc(comparison.volume.statement)}</p>")
    out.append(f"<p><strong>Engineering time:</strong> {esc(engineering_statement(i, sources))}</p>")
    for n, fig in enumerate((cumulative_figure(comparison), volume_figure(comparison))):
        # plotly.js goes in once, with the report's first chart; later charts find it on the page.
        out.append(_chart(fig, with_js=n == 0 and not js_included))
    rows = []
    for name, value in i.as_dict().items():
        limit = LIMITS[name]
        source = sources.get(name) or (ENGINEERING_OFF if defaults and name in ENGINEERING else "")
        rows.append((esc(limit.label), esc(plain_number(value)), esc(limit.unit), esc(source)))
    out.append("<h3>Inputs</h3>")
    out.append(_table(("Input", "Value", "Unit", "Source"), rows, (1,)))
    return "\n".join(out)
