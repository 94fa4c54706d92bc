"""How sure each number on the Evaluate page is: metrics with intervals, paired A/B verdicts, and a
sweep's probability of being best, tied group and recommendation (core/stats.py does the maths)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from core.chunking import ChunkConfig
from core.documents import Document
from core.evaluation import ALL_METRICS, METRIC_HELP, METRICS, TOKEN_METRICS, EvalRun, Question, evaluate, run_intervals
from core.plots.stats import interval_figure
from core.retrieval import RetrievalConfig, Retriever
from core.stats import SweepStats, needed_text, paired, resampler, rows_stats
from core.sweep import SweepRow, rank_key
from ui.evaluate.common import CI_HELP, TRADE_OFF, interval_text, metric_name, value_text
from ui.text import md


def metrics_block(run: EvalRun, *, key: str) -> None:
    """Every metric of one run with its 95% interval: rank metrics, then token-level ones and tokens."""
    k = run.config.k
    cis = run_intervals(run)
    for row in (METRICS, (*TOKEN_METRICS, "tokens")):
        for col, m in zip(st.columns(4), row):
            col.metric(metric_name(m, k), value_text(m, run.summary.get(m)), help=f"{METRIC_HELP[m]} {CI_HELP}")
            if m in cis:
                col.caption(interval_text(m, cis[m]))
    if run.results:
        rs = resampler(run.sources())
        width = cis["hit"].width * 100
        st.caption(f"Intervals: {md(rs.note)}. hit@{k} is known to within a {width:.0f}-point band with this set; "
                   "differences smaller than that need a paired comparison (A/B compare, sweep) to mean anything.")
    with st.expander("What the token-level metrics say", key=f"{key}_tokens_help"):
        st.markdown(TRADE_OFF)


def ab_verdicts(run_a: EvalRun, run_b: EvalRun) -> pd.DataFrame:
    """One row per metric: A and B with intervals, and the paired verdict on the same questions
    (naming the sides "A" and "B": the page says above which settings they are)."""
    sources = run_a.sources()
    rs = resampler(sources)
    cis_a, cis_b = run_intervals(run_a), run_intervals(run_b)
    rows = []
    for m in ALL_METRICS:
        scale, unit, digits = (1.0, "tokens", 0) if m == "tokens" else (100.0, "points", 1)
        p = paired(run_a.values(m), run_b.values(m), sources, label_a="A", label_b="B", rs=rs)  # named above
        rows.append({"metric": metric_name(m, f"{run_a.config.k}/{run_b.config.k}" if run_a.config.k != run_b.config.k
                                           else run_a.config.k),
                     "A": value_text(m, run_a.summary.get(m)), "A 95% CI": interval_text(m, cis_a[m])[7:],
                     "B": value_text(m, run_b.summary.get(m)), "B 95% CI": interval_text(m, cis_b[m])[7:],
                     "verdict": p.verdict(unit=unit, scale=scale, digits=digits, higher_is_better=m != "tokens")})
    return pd.DataFrame(rows)


def ab_block(run_a: EvalRun, run_b: EvalRun, label_a: str, label_b: str) -> None:
    if [r.question.question for r in run_a.results] != [r.question.question for r in run_b.results]:
        st.warning("A and B were scored on different questions, so they cannot be compared pairwise. Score again.")
        return
    hit = paired(run_a.values("hit"), run_b.values("hit"), run_a.sources(), label_a=label_a, label_b=label_b)
    (st.success if hit.reliable else st.info)(f"hit@K: {md(hit.verdict())}.")
    st.dataframe(ab_verdicts(run_a, run_b), key="eval_ab_verdicts", hide_index=True, width="stretch")
    st.caption("Paired: both settings answer the same questions, and each bootstrap resample (by document) draws "
               f"the same questions for both, so only their difference varies. {md(needed_text(hit))}")


def sweep_stats_for(rows: Sequence[SweepRow], metric: str) -> tuple[list[SweepRow], SweepStats | None]:
    """The rows best first (the app's one order) and their statistics."""
    ranked = sorted(rows, key=lambda r: rank_key(r, metric))
    return ranked, rows_stats(ranked, metric)


def sweep_block(rows: Sequence[SweepRow], metric: str, k: int, *, approximate: bool) -> None:
    """Probability of being best, the tied group, the recommendation and best vs runner-up."""
    st.markdown("#### How sure: the best, the tied group and the recommendation")
    scope = st.radio("Compare", ["k", "all"], horizontal=True, key="eval_sw_stats_scope",
                     format_func=lambda s: {"all": "every setting of the sweep (all K and methods)",
                                            "k": f"settings at K = {k} (the heatmap's K)"}[s],
                     help="At one K the settings differ in chunking and method. Across every K the recommendation "
                          "can also trade a smaller K for the same quality, but there are many more comparisons, so "
                          "the Holm correction ties more settings with the best.")
    chosen = [r for r in rows if scope == "all" or r.k == k]
    ranked, sw = sweep_stats_for(chosen, metric)
    if sw is None:
        st.info("These rows carry no per-question scores (a sweep from before this version): run the sweep again "
                "to see intervals and the tied group.")
        return
    name = metric_name(metric)
    prefix = "≈ " if approximate else ""
    c1, c2 = st.columns(2)
    c1.markdown(f"**Recommended:** {md(sw.recommendation())}")
    if sw.runner_up is not None:
        c2.markdown(f"**Best vs runner-up ({name}):** {md(sw.runner_up.verdict())}.")
    st.caption(f"{sw.n_tied} of {len(ranked)} setting(s) are statistically tied with the best: paired bootstrap "
               f"tests against it, Holm-corrected for {len(ranked) - 1} comparisons, cannot call them worse at the "
               f"5% level. P(best) is the share of 2,000 resamples (by document) in which a setting has the "
               f"highest {name}. {md(sw.note)}." + (f" {prefix}Pooled numbers: confirm exactly before quoting."
                                                     if approximate else "")
               + (f" {md(needed_text(sw.runner_up))}" if sw.runner_up is not None else ""))
    st.plotly_chart(interval_figure(sw, metric=name, approximate=approximate), key="eval_sw_intervals", width="stretch")
    table = pd.DataFrame({
        "setting": sw.labels, f"{prefix}{name} (mean)": [iv.mean for iv in sw.intervals],
        "95% CI": [iv.text() for iv in sw.intervals], "P(best)": sw.prob_best,
        "tied with best": ["yes" if t else "" for t in sw.tied],
        "prompt tokens": [round(t) for t in sw.tokens],
        "pick": ["★ recommended" if i == sw.recommended else ("best" if i == sw.best else "")
                 for i in range(len(sw.labels))],
    })
    st.dataframe(table, key="eval_sw_stats_table", hide_index=True, width="stretch", height=260,
                 column_config={f"{prefix}{name} (mean)": st.column_config.NumberColumn(format="%.3f"),
                                "P(best)": st.column_config.ProgressColumn(format="%.2f", min_value=0.0, max_value=1.0)})


AB_SCORES = "_eval_ab_scores"  # (key, run A, run B) of the last "Score A and B on every question"


def short_label(side: str, cc: ChunkConfig, rc: RetrievalConfig) -> str:
    return f"{side} ({cc.size}/{cc.overlap}, {rc.method} top-{rc.k})"


def ab_scores_section(ra: Retriever, rb: Retriever, a: tuple[ChunkConfig, RetrievalConfig],
                      b: tuple[ChunkConfig, RetrievalConfig], questions: Sequence[Question],
                      docs: Mapping[str, Document], key: tuple) -> None:
    """Score A and B on the whole question set and say, with a paired test, whether B is better."""
    st.markdown("#### Over the whole question set")
    label_a, label_b = short_label("A", *a), short_label("B", *b)
    if st.button(f"Score A and B on all {len(questions)} question(s)", key="eval_ab_score",
                 disabled=not questions, help="Exact: both indexes are real. A paired test says whether the "
                                              "difference is more than the luck of which questions were asked."):
        try:
            with st.spinner(f"Scoring {len(questions)} question(s) with A and with B..."):
                run_a = evaluate(ra, questions, docs, config=a[1], drill_down=False)
                run_b = evaluate(rb, questions, docs, config=b[1], drill_down=False)
        except Exception as exc:
            st.error(f"Scoring failed: {md(str(exc))}")
        else:
            st.session_state[AB_SCORES] = (key, run_a, run_b)
    stored = st.session_state.get(AB_SCORES)
    if not stored or stored[0] != key:
        st.caption("Press the button to compare A and B on every question, with a verdict on the difference.")
        return
    _, run_a, run_b = stored
    if not run_a.results:
        st.info("None of the questions is about a loaded document.")
        return
    ab_block(run_a, run_b, label_a, label_b)
