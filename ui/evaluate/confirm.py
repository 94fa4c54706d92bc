"""The Sweep tab's "Confirm the best exactly": re-run a fast sweep's best chunkings with real vectors.

Fast mode ranks, exact decides: this shows how far each pooled estimate was from the exact number.
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from core.compare import pooled_vs_exact, top_chunkings
from core.documents import Document
from core.plots.evaluation import metric_label, pooled_vs_exact_figure
from core.stats import row_interval
from core.sweep import SweepRow, confirmation_grids
from ui import state
from ui.evaluate.confidence import sweep_stats_for
from ui.evaluate.questions import ChosenQuestions
from ui.jobs import run_job
from ui.text import md

_NUMBERS = ("hit@K ≈ pooled", "hit@K exact", "Δ hit (exact − pooled)", "MRR@K ≈ pooled", "MRR@K exact", "Δ MRR")


def confirm_section(job: state.SweepJob, metric: str, k: int, method: str, chosen: ChosenQuestions,
                    docs: Mapping[str, Document]) -> None:
    st.markdown("#### Confirm the best exactly")
    n = st.number_input("How many of the best chunkings", 1, 10, value=3, key="eval_confirm_n")
    configs = top_chunkings(job.progress.rows, metric=metric, k=k, method=method, n=int(n))
    st.caption(f"By ≈{metric_label(metric, k)} with {method}: " + "; ".join(c.label() for c in configs)
               + ". Each is re-chunked and every chunk embedded for real (cached afterwards).")
    b1, b2, _ = st.columns([2, 1, 2])  # room for "Confirm the best N exactly" at 1280 px
    clicked = b1.button(f"Confirm the best {len(configs)} exactly", key="eval_confirm_run", disabled=not chosen.questions)
    b2.button("Cancel", key="eval_confirm_cancel", help="Stops the exact runs; finished ones are kept.")
    if clicked:
        started = state.ConfirmJob(job.id, tuple(configs))
        state.set_confirm_job(started)
        run_job(started.progress, confirmation_grids(configs, like=job.grid), mode="exact", what="exact confirmation",
                docs=list(docs.values()), questions=chosen.questions)
    confirm = state.confirm_job()
    if confirm is None or confirm.sweep_id != job.id:
        return
    if confirm.progress.status == "cancelled":
        st.warning("Exact confirmation cancelled: showing the chunkings that finished.")
    pairs = pooled_vs_exact(job.progress.rows, confirm.progress.rows)
    if not pairs:
        return
    cis = exact_intervals(confirm.progress.rows)
    tokens = {(r.chunk_config(), r.method, r.k): round(sum(q.scores.tokens for q in r.per_question) / len(r.per_question))
              for r in confirm.progress.rows if r.per_question}
    st.dataframe(pd.DataFrame({
        "chunking": [p.config.label() for p in pairs], "method": [p.method for p in pairs], "K": [p.k for p in pairs],
        "hit@K ≈ pooled": [p.pooled_hit for p in pairs], "hit@K exact": [p.exact_hit for p in pairs],
        "exact 95% CI": [cis.get((p.config, p.method, p.k), "") for p in pairs],
        "prompt tokens": [tokens.get((p.config, p.method, p.k)) for p in pairs],
        "Δ hit (exact − pooled)": [p.d_hit for p in pairs],
        "MRR@K ≈ pooled": [p.pooled_mrr for p in pairs], "MRR@K exact": [p.exact_mrr for p in pairs],
        "Δ MRR": [p.d_mrr for p in pairs],
    }), key="eval_confirm_table", hide_index=True, width="stretch",
        column_config={c: st.column_config.NumberColumn(format="%+.3f" if c.startswith("Δ") else "%.3f") for c in _NUMBERS})
    shown = [p for p in pairs if p.k == k and p.method == method] or pairs
    st.plotly_chart(pooled_vs_exact_figure(shown, metric="hit"), key="eval_confirm_chart", width="stretch")
    worst = max(abs(p.d_hit) for p in pairs)
    st.caption(f"Largest gap between the pooled estimate and the exact hit@K: {worst:.3f}. Quote the exact numbers.")
    exact = [r for r in confirm.progress.rows if r.k == k and r.method == method]
    _, sw = sweep_stats_for(exact, metric)
    if sw is not None and sw.runner_up is not None:
        st.markdown(f"**Exact, best vs runner-up ({metric_label(metric, k)}):** {md(sw.runner_up.verdict())}. "
                    f"**Recommended:** {md(sw.recommendation())}")


def exact_intervals(rows: list[SweepRow]) -> dict[tuple, str]:
    """(chunking, method, K) -> the exact hit@K's 95% interval (by document) as text."""
    return {(r.chunk_config(), r.method, r.k): row_interval(r).text() for r in rows if r.per_question}
