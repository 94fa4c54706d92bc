"""The stakeholder-report download button the Decide and Costs pages share."""
from __future__ import annotations

from collections import Counter
from functools import partial

import streamlit as st

from core import report
from core.evaluation import ALL_METRICS, METRIC_LABELS, TOKEN_METRIC_LABELS, run_intervals
from core.stats import row_interval, row_label, rows_stats
from core.sweep import best_first
from ui import state


def _name(metric: str, k: int) -> str:
    return METRIC_LABELS[metric].replace("K", str(k)) if metric in METRIC_LABELS else TOKEN_METRIC_LABELS[metric]


def statistics() -> dict:
    """The report's question-set provenance, intervals, sweep and confirmed settings (issue 12),
    from what the Evaluate page left in the session; each piece is left out when it was not run."""
    out: dict = {}
    record, summary = state.eval_record(), state.eval_summary()
    if record is not None and record.run.results and summary is not None and record.label == summary.label:
        run, k = record.run, record.run.config.k
        out["metrics"] = {_name(m, k): float(run.summary.get(m)) for m in ALL_METRICS}
        out["intervals"] = {_name(m, k): (iv.lo, iv.hi) for m, iv in run_intervals(run).items()}
        out["provenance"] = dict(Counter(r.question.origin for r in run.results))
    job = state.sweep_job()
    rows = job.progress.rows if job is not None else []
    if job is not None and rows:
        k = 5 if any(r.k == 5 for r in rows) else sorted({r.k for r in rows})[len({r.k for r in rows}) // 2]
        at_k = best_first([r for r in rows if r.k == k], "hit")
        sw = rows_stats(at_k, "hit")
        best = at_k[0]
        out["sweep"] = report.SweepSummary(
            tuple(rows), "hit", k, best.method, best.splitter, job.mode == "pooled",
            recommendation=sw.recommendation() if sw else "",
            verdict=sw.runner_up.verdict() if sw and sw.runner_up else "", note=sw.note if sw else "")
        if "provenance" not in out and best.per_question:
            out["provenance"] = dict(Counter(q.origin for q in best.per_question))
        confirm = state.confirm_job()
        if confirm is not None and confirm.sweep_id == job.id:
            pooled = {(r.chunk_config(), r.method, r.k): r.hit for r in rows}
            confirmed = []
            for r in best_first([r for r in confirm.progress.rows if r.k == k], "hit"):
                if not r.per_question:
                    continue
                iv = row_interval(r)
                confirmed.append(report.ConfirmedSetting(row_label(r), f"hit@{k}", r.hit, iv.lo, iv.hi,
                                                         pooled.get((r.chunk_config(), r.method, r.k))))
            out["confirmed"] = tuple(confirmed)
    return out


def report_button(*, key: str, help: str) -> bool:
    """Offer the report for download, with what the Costs page last stored; returns whether the
    report has cost inputs of the user's (False means defaults are used)."""
    costs = state.cost_report()
    cost_inputs = costs.inputs if costs else None
    cost_sources = costs.sources if costs else {}
    stats = state.chunk_stats()
    label = state.chunk_config().label()
    summary = state.eval_summary()
    metrics, metrics_label = report.split_metrics(
        None if summary is None else {"label": summary.label, **summary.metrics})
    extra = statistics()
    metrics = extra.pop("metrics", metrics)
    # Read now: the download callable runs outside this script run.
    build = partial(
        report.build_report,
        chunking=report.ChunkSummary(label) if stats is None else report.ChunkSummary(
            label, stats.n_chunks, stats.mean_tokens, stats.max_tokens, stats.n_truncated),
        metrics=metrics,
        metrics_label=metrics_label,
        answers=dict(state.decision_answers().answers),
        cost_inputs=cost_inputs,
        cost_sources=dict(cost_sources),
        **extra,
    )
    st.download_button(
        "Download the stakeholder report (HTML)",
        # Built only on click: the file embeds plotly.js (a few MB), too heavy to rebuild on every rerun.
        data=build,
        file_name="rag_explorer_report.html",
        mime="text/html",
        key=key,
        icon=":material/download:",
        help=help,
    )
    return cost_inputs is not None
