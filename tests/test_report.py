"""The stakeholder report: valid, self-contained HTML carrying the numbers the pages show."""
from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from core import report
from core.costs import ENGINEERING_OFF, CostInputs, compare, usd

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
ANSWERS = {"changes": "no", "problem": "both", "attribution": "yes", "latency": "no", "examples": "yes"}
WHEN = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class StrictChecker(HTMLParser):
    """Fails on any unclosed, stray or mis-nested tag; collects the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self.fetched: list[str] = []  # anything the page would load from elsewhere
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.fetched += [v for k, v in attrs if k in ("src", "href") and tag in ("script", "link", "img")]
        if tag not in VOID:
            self.stack.append(tag)
        self._in_script = tag in ("script", "style")

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()
        self._in_script = False

    def handle_data(self, data):
        if not self._in_script:
            self.text.append(data)


def parse(doc: str) -> StrictChecker:
    checker = StrictChecker()
    checker.feed(doc)
    checker.close()
    return checker


@pytest.fixture(scope="module")
def full_report() -> str:
    return report.build_report(
        chunking=report.ChunkSummary("recursive 200/40 tokens", 123, 181.25, 256, 4),
        metrics={"hit@5": 0.8125, "MRR@5": 0.6, "label": "ignored here"},
        metrics_label="dense, K=5",
        answers=ANSWERS,
        cost_inputs=CostInputs(queries_per_month=250_000, vector_db_monthly=70.0),
        cost_sources={"vector_db_monthly": "Guide upper end"},
        generated=WHEN,
    )


def test_report_is_valid_self_contained_html(full_report):
    checker = parse(full_report)
    assert full_report.startswith("<!DOCTYPE html>")
    assert not checker.errors and checker.stack == []
    assert checker.tags[:3] == ["html", "head", "meta"]
    # plotly.js is inlined exactly once and no script, stylesheet or image is fetched from elsewhere.
    assert full_report.count("plotly.js v") == 1
    assert checker.fetched == []
    assert full_report.count('class="plotly-graph-div"') == 2


def test_report_carries_the_cost_numbers_shown_on_the_cost_page(full_report):
    result = compare(CostInputs(queries_per_month=250_000, vector_db_monthly=70.0))
    text = " ".join(parse(full_report).text)
    for approach in result.approaches:
        # Same formatter as the page's st.metric values.
        assert usd(approach.monthly_total) in text
        assert usd(approach.cost_per_query, precise=True) in text
        assert usd(approach.upfront_total) in text
    assert result.month_statement in text and result.volume.statement in text
    assert "250,000" in text and "Guide upper end" in text


def test_report_carries_chunking_metrics_and_the_decision(full_report):
    text = " ".join(parse(full_report).text)
    assert "recursive 200/40 tokens" in text and "181.2" in text and "123" in text
    assert "hit@5" in text and "0.812" in text and "dense, K=5" in text
    assert "ignored here" not in text  # the label entry is not a metric
    assert "Recommendation: Hybrid: fine-tuning + RAG" in text
    assert "Conflict:" in text and "Resolved:" in text
    assert "2026-11-24 12:00 UTC" in text


def test_user_strings_are_escaped():
    evil = "<script>alert('x')</script>"
    doc = report.build_report(
        chunking=report.ChunkSummary(evil), metrics={evil: 0.5}, metrics_label=evil, answers={},
        cost_inputs=None, cost_sources={"queries_per_month": evil}, generated=WHEN,
    )
    assert evil not in doc
    assert doc.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") == 4
    assert not parse(doc).errors


def test_missing_pieces_are_said_plainly():
    doc = report.build_report(chunking=None, metrics=None, metrics_label=None, answers=None, cost_inputs=None,
                              generated=WHEN)
    text = " ".join(parse(doc).text)
    assert "No chunk settings" in text
    assert "No retrieval evaluation" in text
    assert "were not answered" in text
    assert "default inputs" in text and usd(compare(CostInputs()).rag.monthly_total) in text


def test_partial_answers_and_a_stop_are_reported():
    partial = " ".join(parse(report.build_report(chunking=None, metrics=None, metrics_label=None,
                                                 answers={"changes": "no"}, cost_inputs=None)).text)
    assert "question 2 is unanswered" in partial
    stop = " ".join(parse(report.build_report(chunking=None, metrics=None, metrics_label=None,
                                              answers={"changes": "yes", "problem": "behaves"},
                                              cost_inputs=None)).text)
    assert "Recommendation: RAG" in stop and "Not asked" in stop
    bad = " ".join(parse(report.build_report(chunking=None, metrics=None, metrics_label=None,
                                             answers={"changes": "perhaps"}, cost_inputs=None)).text)
    assert "could not be read" in bad


@pytest.mark.parametrize("summary, metrics, label", [
    (None, None, None),
    ({"hit@5": 0.5, "MRR@5": 0.25, "label": "bm25"}, {"hit@5": 0.5, "MRR@5": 0.25}, "bm25"),
    ({"hit@5": float("nan"), "note": "x", "ok": True, "n": 3}, {"n": 3.0}, None),
    ({"label": "only a label"}, None, "only a label"),
    ("not a mapping", None, None),
])
def test_split_metrics(summary, metrics, label):
    assert report.split_metrics(summary) == (metrics, label)


def test_split_metrics_accepts_a_dataclass():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Summary:
        label: str
        hit_at_5: float

    assert report.split_metrics(Summary("run 1", 0.75)) == ({"hit_at_5": 0.75}, "run 1")


ENGINEERING_ON = CostInputs(hourly_rate=100, rag_build_hours=40, rag_maintain_hours=4, ft_build_hours=80,
                            ft_maintain_hours=8)


def _costs_text(inputs: CostInputs | None, sources: dict[str, str]) -> str:
    doc = report.build_report(chunking=None, metrics=None, metrics_label=None, answers=None, cost_inputs=inputs,
                              cost_sources=sources, generated=WHEN)
    return " ".join(" ".join(parse(doc).text).split())


def test_report_says_whether_engineering_time_is_counted():
    off = {f: ENGINEERING_OFF for f in ("hourly_rate", "rag_build_hours")}
    text = _costs_text(CostInputs(), off)
    assert "Engineering time: not counted (switched off on the Costs page)" in text
    assert "only counted when switched on" not in text

    on = {"hourly_rate": "Our assumption: a round number; counted: engineering time is switched on"}
    text = _costs_text(ENGINEERING_ON, on)
    assert "Engineering time: counted (the Costs page's switch is on) at $100.00 an hour" in text
    assert "RAG 40 h to build and 4 h a month; fine-tuning 80 h to build and 8 h a month" in text
    assert "counted: engineering time is switched on" in text  # the inputs table says it per row too

    text = _costs_text(None, {})  # the Costs page was never opened: the defaults, switched off
    assert "Engineering time: not counted" in text
    assert text.count(ENGINEERING_OFF) == 5  # each engineering input's source says so


def test_report_does_not_state_break_even_volume_to_the_query():
    text = _costs_text(ENGINEERING_ON, {})
    statement = compare(ENGINEERING_ON).volume.statement
    assert statement in text and "million" in statement


# -- how sure, and where the questions came from (issue 12) ---------------------------------


def sweep_rows():
    from core.evaluation import QuestionScore, Scores
    from core.sweep import SweepRow

    rows = []
    for size, hit in ((100, 0.7), (200, 0.9)):
        for k in (1, 5):
            per_q = tuple(QuestionScore(f"q{i}", f"doc{i % 6}.txt", "curated",
                                        Scores(float(i / 30 < hit * k / 5), 0.5, 0.5, 0.5, tokens=size * k))
                          for i in range(30))
            rows.append(SweepRow("recursive", "tokens", size, 0, k, "hybrid", "pooled", hit * k / 5, 0.5, 0.5, 0.5,
                                 10, 0.1, 1.0, per_question=per_q))
    return rows


@pytest.fixture(scope="module")
def stats_report() -> str:
    return report.build_report(
        chunking=None, metrics={"hit@5": 0.9577, "MRR@5": 0.7937}, metrics_label="hybrid top-5", answers={},
        cost_inputs=None, generated=WHEN,
        intervals={"hit@5": (0.8986, 1.0), "MRR@5": (0.7208, 0.8737)},
        provenance={"curated": 60, "labelled": 7, "generated": 4},
        sweep=report.SweepSummary(tuple(sweep_rows()), "hit", 5, "hybrid", "recursive", True,
                                  recommendation="recursive 100/0 tokens: tied & <small>", verdict="no reliable difference",
                                  note="30 questions from 6 documents"),
        confirmed=(report.ConfirmedSetting("recursive 200/0 tokens, hybrid top-5", "hit@5", 0.9, 0.8, 0.97, 0.88),),
    )


def test_report_shows_question_provenance_counts(stats_report):
    text = " ".join(parse(stats_report).text)
    assert "71 questions scored: 60 curated, 7 labelled, 4 generated." in text
    assert "Generated questions are counted apart" in text


def test_report_shows_intervals_sweep_heatmap_and_confirmed_settings(stats_report):
    checker = parse(stats_report)
    assert not checker.errors and checker.stack == []
    text = " ".join(checker.text)
    assert "0.899 to 1.000" in text and "0.721 to 0.874" in text and "95% interval" in text
    assert "Settings sweep" in text and "Confirmed exactly" in text and "0.800 to 0.970" in text
    assert "&lt;small&gt;" in stats_report and "<small>" not in stats_report  # user text escaped
    # Heatmap + two cost charts, plotly.js inlined once (with the heatmap, the first chart).
    assert stats_report.count('class="plotly-graph-div"') == 3
    assert stats_report.count("plotly.js v") == 1
    assert stats_report.index('"type":"heatmap"') < stats_report.index("Cost comparison")


def test_report_without_a_question_set_says_so():
    doc = report.build_report(chunking=None, metrics=None, metrics_label=None, answers={}, cost_inputs=None,
                              generated=WHEN)
    assert "No question set was scored in this session." in " ".join(parse(doc).text)
    assert "Settings sweep" not in doc


def test_report_statistics_are_gathered_from_the_session():
    """ui.report.statistics(): what the report gets from the Evaluate page's session values."""
    import streamlit as st

    from core.evaluation import EvalRun, Question, QuestionResult, Scores, mean_scores
    from core.retrieval import RetrievalConfig
    from core.sweep import SweepGrid
    from ui import state
    from ui.report import statistics

    st.session_state.clear()
    assert statistics() == {}  # nothing run: every piece left out
    origins = ["curated"] * 20 + ["labelled"] * 3 + ["generated"] * 2
    results = tuple(QuestionResult(Question(f"q{i}", ("x",), f"doc{i % 5}.txt", origin=o),
                                   Scores(float(i % 4 > 0), 0.5, 0.5, 0.5, 0.9, 0.1, 0.1, 500.0), (), frozenset(), None, None)
                    for i, o in enumerate(origins))
    run = EvalRun(RetrievalConfig(method="hybrid", k=5), results, mean_scores([r.scores for r in results]), 10, 1.0)
    state.set_eval_record(state.EvalRecord((), run, (), "recursive 200/0 tokens, hybrid top-5"))
    state.set_eval_summary(state.EvalSummary("recursive 200/0 tokens, hybrid top-5", {"hit@5": run.summary.hit}))
    job = state.SweepJob(SweepGrid(sizes=(100, 200), overlaps=(0,), ks=(1, 5)), "pooled", (), 1.0)
    job.progress.rows.extend(sweep_rows())
    state.set_sweep_job(job)
    out = statistics()
    assert out["provenance"] == {"curated": 20, "labelled": 3, "generated": 2}
    assert out["metrics"]["hit@5"] == pytest.approx(18 / 25) and "token recall" in out["metrics"]
    lo, hi = out["intervals"]["hit@5"]
    assert lo <= 18 / 25 <= hi
    sweep = out["sweep"]
    assert sweep.k == 5 and sweep.approximate and sweep.recommendation and sweep.verdict
    doc = report.build_report(chunking=None, metrics_label="x", answers={}, cost_inputs=None, generated=WHEN, **out)
    assert "25 questions scored: 20 curated, 3 labelled, 2 generated." in " ".join(parse(doc).text)
    st.session_state.clear()
