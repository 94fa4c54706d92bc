"""The stakeholder-report download button the Decide and Costs pages share."""
from __future__ import annotations

from functools import partial

import streamlit as st

from core import report
from ui import state


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
