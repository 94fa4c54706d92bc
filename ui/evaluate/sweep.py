"""Evaluate tab "Sweep": score a grid of settings, chart and export it, apply the best.

Fast (pooled) numbers are flagged as approximate everywhere they appear; the exact confirmation
of the best few lives in ui/evaluate/confirm.py. The run itself is ui/jobs.py's.
"""
from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, replace

import pandas as pd
import streamlit as st

from core.chunking import SPLITTERS, UNITS
from core.documents import Document
from core.evaluation import METRIC_LABELS, METRICS
from core.plots.evaluation import metric_label, metric_vs_k, sweep_heatmap
from core.retrieval import METHODS
from core.sweep import SweepGrid, SweepRow, rank_key
from ui import state, strategy
from ui.evaluate.common import choose, flash, method_label, methods_help
from ui.evaluate.confidence import sweep_block
from ui.evaluate.confirm import confirm_section
from ui.evaluate.questions import ChosenQuestions
from ui.jobs import run_job
from ui.text import md

SIZE_OPTIONS = {"tokens": [32, 64, 100, 128, 150, 200, 256, 300, 400, 500, 768, 1024],
                "chars": [200, 400, 600, 800, 1000, 1200, 1500, 2000, 3000, 4000]}
SIZE_DEFAULTS = {"tokens": [100, 200, 300, 400], "chars": [400, 800, 1200, 2000]}
OVERLAP_OPTIONS = {"tokens": [0, 10, 20, 25, 40, 50, 75, 100, 150], "chars": [0, 50, 100, 150, 200, 300, 400]}
OVERLAP_DEFAULTS = {"tokens": [0, 25, 50], "chars": [0, 100, 200]}
K_OPTIONS = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50]
MODE_LABELS = {"pooled": "fast: pooled sentence vectors (≈ approximate)", "exact": "exact: embed every chunk (slow)"}
# Widget keys of the Chunking and Retrieval pages: forgotten on "apply" so they re-seed from state.
APPLY_CLEARS = ("chunk_splitter", "chunk_unit", "chunk_size", "chunk_overlap", "retrieval_method", "retrieval_k_slider")


def sweep_tab(chosen: ChosenQuestions, docs: Mapping[str, Document]) -> None:
    st.markdown(
        "Score every combination of the settings below on the question set. **Fast mode** pools sentence "
        "vectors into chunk vectors: a whole grid in seconds, within a few points of exact. Its numbers are "
        "marked **≈ approximate**; confirm the best few exactly before deciding."
    )
    grid, mode = grid_form()
    b1, b2, _ = st.columns([1, 1, 3])
    run_clicked = b1.button("Run sweep", key="eval_sw_run", type="primary", disabled=grid is None or not chosen.questions)
    b2.button("Cancel", key="eval_sw_cancel", help="Stops a running sweep; the chunkings already scored are kept.")
    if not chosen.questions:
        st.info("Load a question set with questions about the loaded documents to run a sweep.")
    if run_clicked and grid is not None:
        started = state.SweepJob(grid, mode, key=(state.corpus_key(), chosen.key), id=time.time())
        state.set_sweep_job(started)
        # The old sweep's row choices would point at rows of the new one.
        for key in ("eval_apply_choice", "_eval_sw_selected", "eval_sweep_table"):
            st.session_state.pop(key, None)
        run_job(started.progress, [grid], mode=mode, what="sweep", docs=list(docs.values()), questions=chosen.questions)
    job = state.sweep_job()
    if job is not None:
        show_sweep(job, chosen, docs)


def grid_form() -> tuple[SweepGrid | None, str]:
    """The grid the user asks for (None, with the reason shown, when it is invalid) and the mode."""
    c1, c2, c3 = st.columns([2, 1, 2])
    splitters = c1.multiselect("Splitters", list(SPLITTERS), default=["recursive"], key="eval_sw_splitters",
                               help="\n\n".join(f"**{k}**: {v}" for k, v in SPLITTERS.items()))
    unit = c2.radio("Unit", list(UNITS), horizontal=True, key="eval_sw_unit",
                    help="The token splitter always counts the model's tokens.")
    methods = c3.multiselect("Methods", list(METHODS), default=["hybrid"], key="eval_sw_methods",
                             format_func=method_label, help=methods_help())
    c4, c5, c6 = st.columns(3)
    sizes = c4.multiselect(f"Chunk sizes ({unit})", SIZE_OPTIONS[unit], default=SIZE_DEFAULTS[unit], key=f"eval_sw_sizes_{unit}")
    overlaps = c5.multiselect(f"Overlaps ({unit})", OVERLAP_OPTIONS[unit], default=OVERLAP_DEFAULTS[unit],
                              key=f"eval_sw_overlaps_{unit}")
    ks = c6.multiselect("K values", K_OPTIONS, default=[1, 3, 5, 10], key="eval_sw_ks")
    axes = strategy.sweep_axes()  # issue 13: headers, fusion, dense weight, parent mode
    mode = st.radio("Mode", list(MODE_LABELS), format_func=MODE_LABELS.get, horizontal=True, key="eval_sw_mode")
    try:
        grid = SweepGrid(tuple(splitters), tuple(sorted(sizes)), tuple(sorted(overlaps)), tuple(sorted(ks)),
                         tuple(methods), unit, **axes)
    except ValueError as exc:
        st.error(str(exc))
        return None, mode
    st.caption(f"{len(grid.chunk_configs())} chunking(s) × {len(methods)} method(s) with their strategy settings × "
               f"{len(ks)} K = {grid.n_points} points "
               "(pairs with overlap ≥ size are skipped). "
               + ("Fast mode embeds each sentence once (cached), then every chunking costs a matrix product."
                  if mode == "pooled" else
                  "Exact mode embeds every chunk of every chunking: minutes for a large grid (cached afterwards)."))
    return grid, mode


def row_label(row: SweepRow, metric: str, approximate: bool) -> str:
    value = f"{'≈' if approximate else ''}{getattr(row, metric):.3f}"
    return (f"{row.splitter} {row.size}/{row.overlap} {row.unit} · {row.method} · top-{row.k} · "
            f"{metric_label(metric, row.k)} {value}")


def show_sweep(job: state.SweepJob, chosen: ChosenQuestions, docs: Mapping[str, Document]) -> None:
    rows, progress = job.progress.rows, job.progress
    approximate = job.mode == "pooled"
    total = len(job.grid.chunk_configs())
    finished = len({r.chunk_config() for r in rows})
    if progress.status == "cancelled":
        st.warning(f"Sweep cancelled: showing the {finished} of {total} chunking(s) that finished before it stopped.")
    elif progress.status == "failed":
        st.warning(f"The sweep stopped with an error after {finished} of {total} chunking(s).")
    elif progress.status == "done":
        prep = f" (of which {progress.prep_s:.1f} s embedding sentences)" if approximate and progress.prep_s > 0.05 else ""
        st.success(f"Sweep done: {len(rows)} points over {total} chunking(s) in {progress.seconds:.1f} s{prep}.")
    if job.key != (state.corpus_key(), chosen.key):
        st.warning("The documents or the question set changed since this sweep ran: run it again to update.")
    if not rows:
        return
    if approximate:
        st.info("**≈ Approximate:** fast (pooled) mode. Rankings between settings are reliable to within a few "
                "points; use *Confirm the best exactly* below before quoting a number.")

    st.markdown("#### Results" + (" (≈ approximate)" if approximate else " (exact)"))
    metric = st.selectbox("Metric", list(METRICS), format_func=lambda m: METRIC_LABELS[m], key="eval_sw_metric")
    ks = sorted({r.k for r in rows})
    c1, c2, c3 = st.columns(3)
    hk = choose(c1, "K (heatmap)", ks, key="eval_sw_heat_k", default=5 if 5 in ks else ks[len(ks) // 2])
    hm = choose(c2, "Method (heatmap)", sorted({r.method for r in rows}), key="eval_sw_heat_method",
                format_func=method_label)
    hs = choose(c3, "Splitter", sorted({r.splitter for r in rows}), key="eval_sw_heat_splitter")
    g1, g2 = st.columns(2)
    g1.plotly_chart(sweep_heatmap(rows, metric=metric, k=hk, method=hm, splitter=hs, approximate=approximate),
                    key="eval_sw_heatmap", width="stretch")
    g2.plotly_chart(metric_vs_k(rows, metric=metric, splitter=hs, approximate=approximate),
                    key="eval_sw_lines", width="stretch")
    g1.caption("Colours span the values shown, not 0 to 1, so small differences stay visible. "
               "★ in the amber outline: the best cell (highest metric, then MRR, then the cheaper setting).")

    sweep_block(rows, metric, hk, approximate=approximate)  # P(best), tied group, recommendation (issue 12)
    selected = results_table(job)
    apply_section(rows, metric, approximate, selected)
    if approximate:
        confirm_section(job, metric, hk, hm, chosen, docs)


def row_record(row: SweepRow) -> dict:
    """A row for the table and the exports: the per-question scores become their token-level means."""
    out = {k: v for k, v in row.as_dict().items() if k != "per_question"}
    if row.per_question:
        for m in ("token_recall", "token_precision", "iou", "tokens"):
            out[m] = sum(q.scores.get(m) for q in row.per_question) / len(row.per_question)
    return out


def results_table(job: state.SweepJob) -> tuple[int, ...]:
    """The sweep's rows as a sortable table with CSV/JSON export; returns the selected row numbers."""
    rows, approximate = job.progress.rows, job.mode == "pooled"
    prefix = "≈ " if approximate else ""
    table = pd.DataFrame([row_record(r) for r in rows]).rename(columns={
        "hit": f"{prefix}hit@K", "mrr": f"{prefix}MRR@K", "recall": f"{prefix}recall@K", "ndcg": f"{prefix}nDCG@K",
        "token_recall": f"{prefix}token recall", "token_precision": f"{prefix}token precision",
        "iou": f"{prefix}token IoU", "tokens": "prompt tokens", "chunks": "chunks", "index_s": "index s",
        "query_ms": "query ms"})
    event = st.dataframe(table, key="eval_sweep_table", hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row",
                         column_config={c: st.column_config.NumberColumn(format="%.3f") for c in table.columns
                                        if c.endswith(("@K", "recall", "precision", "IoU"))})
    st.caption("Sort by any column header; select a row to make it the configuration to apply.")
    d1, d2, _ = st.columns([1, 1, 3])
    d1.download_button("Download CSV", table.to_csv(index=False).encode("utf-8"), file_name=f"rag-sweep-{job.mode}.csv",
                       mime="text/csv", key="eval_export_csv", on_click="ignore")
    payload = {"mode": job.mode, "approximate": approximate, "status": job.progress.status,
               "seconds": job.progress.seconds, "grid": asdict(job.grid), "rows": [row_record(r) for r in rows]}
    d2.download_button("Download JSON", json.dumps(payload, indent=2).encode("utf-8"), file_name=f"rag-sweep-{job.mode}.json",
                       mime="application/json", key="eval_export_json", on_click="ignore")
    return tuple(event.selection.rows) if event is not None else ()


def apply_section(rows: list[SweepRow], metric: str, approximate: bool, selected: tuple[int, ...]) -> None:
    st.markdown("#### Apply a configuration")
    order = sorted(range(len(rows)), key=lambda i: rank_key(rows[i], metric))
    if selected and selected != st.session_state.get("_eval_sw_selected") and selected[0] < len(rows):
        st.session_state["eval_apply_choice"] = selected[0]  # a newly selected table row becomes the choice
    st.session_state["_eval_sw_selected"] = selected
    choice = choose(st, "Configuration", order, key="eval_apply_choice", format_func=lambda i: row_label(rows[i], metric, approximate),
                    help="Best first by the chosen metric. Applying sets the chunking and the retrieval method, K, fusion and parent mode.")
    if st.button("Apply to Chunking and Retrieval", key="eval_apply", type="primary"):
        row = rows[choice]
        rc = state.retrieval_config()
        try:
            state.set_chunk_config(row.chunk_config())
            state.set_retrieval_config(replace(rc, method=row.method, k=row.k, candidates=max(rc.candidates, row.k),
                                                fusion=row.fusion or rc.fusion, dense_weight=row.dense_weight,
                                                parent=row.parent))
        except ValueError as exc:
            st.error(f"That configuration cannot be applied: {md(str(exc))}")
        else:
            state.forget_widgets(APPLY_CLEARS)
            flash(f"Applied {row.chunk_config().label()}, {row.method} top-{row.k}. The Chunking and "
                  "Index & Retrieval pages now use it; the index is rebuilt on next use.")
            st.rerun()
