"""The stakeholder-report download button the Decide and Costs pages share."""
from __future__ import annotations

from typing import Mapping

import streamlit as st

from core import report
from core.costs import CostInputs
from ui import state

COST_SOURCES = "costs_sources"  # written by the Costs page: field -> where its value came from


def report_button(*, key: str, help: str, cost_inputs: CostInputs | None = None,
                  cost_sources: Mapping[str, str] | None = None) -> bool:
    """Offer the report for download. Cost inputs default to what the Costs page last stored;
    returns whether the report has cost inputs of the user's (False means defaults are used)."""
    if cost_inputs is None:
        stored = st.session_state.get(state.COST_INPUTS)
        cost_inputs = stored if isinstance(stored, CostInputs) else None
    if cost_sources is None:
        cost_sources = st.session_state.get(COST_SOURCES, {})
    stats = state.chunk_stats()
    label = state.chunk_config().label()
    metrics, metrics_label = report.split_metrics(st.session_state.get(state.EVAL_SUMMARY))
    # Read now: the download callable runs outside this script run.
    args = dict(
        chunking=report.ChunkSummary(label) if stats is None else report.ChunkSummary(
            label, stats.n_chunks, stats.mean_tokens, stats.max_tokens, stats.n_truncated),
        metrics=metrics,
        metrics_label=metrics_label,
        answers=dict(st.session_state.get(state.DECISION_ANSWERS, {})),
        cost_inputs=cost_inputs,
        cost_sources=dict(cost_sources),
    )
    st.download_button(
        "Download the stakeholder report (HTML)",
        # Built only on click: the file embeds plotly.js (a few MB), too heavy to rebuild on every rerun.
        data=lambda: report.build_report(**args),
        file_name="rag_explorer_report.html",
        mime="text/html",
        key=key,
        icon=":material/download:",
        help=help,
    )
    return cost_inputs is not None
