"""Long sweeps inside a script run: progress bar, rows kept as they arrive, and cancel by rerun.

Streamlit has no background thread here: a sweep runs inside the script, and any click reruns
the script, which interrupts it. That is how Cancel works. Rows are appended to the job's
JobProgress as each chunking finishes (run_sweep's on_rows), so an interrupted run keeps them, and
the next run finds the job still marked "running" and flags it as cancelled (settle_interrupted).
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import streamlit as st

from core.documents import Document
from core.evaluation import Question
from core.sweep import SweepGrid, run_sweep
from ui import state
from ui.indexing import Eta, ReportingEmbedder, sentence_bank
from ui.resources import embedder


def settle_interrupted() -> None:
    """Call at the top of the page: a fresh script run cannot have a job still running, so one
    marked so was interrupted by a click."""
    for job in (state.sweep_job(), state.confirm_job()):
        if job is not None and job.progress.status == "running":
            job.progress.status = "cancelled"


def run_job(progress: state.JobProgress, grids: Sequence[SweepGrid], *, mode: str, what: str,
            docs: Sequence[Document], questions: Sequence[Question]) -> None:
    """Run grids one after another into progress.rows, with a progress bar; a failure is shown
    with st.error and recorded, never raised into the page."""
    doc_list = list(docs)
    emb = embedder()
    bar = st.progress(0.0, text=f"Starting the {what}...")
    started = time.perf_counter()
    total = len([c for g in grids for c in g.chunk_configs()])
    done = 0  # chunkings of earlier grids, so the bar runs once over all of them

    def on_chunking(i: int, n: int, label: str) -> None:
        if i < n:
            bar.progress(min((done + i) / total, 1.0), text=f"{what}: chunking {done + i + 1} of {total} ({label})")

    def on_embedding(d: int, t: int) -> None:
        bar.progress(min(done / total + d / t / total, 1.0), text=f"{what}: embedding chunks {d:,} / {t:,}")

    try:
        bank = None
        if mode == "pooled":
            t0 = time.perf_counter()
            bank, _ = sentence_bank(doc_list, progress=Eta(
                bar, "Fast mode: embedding every sentence once (the answers and later sweeps reuse them)"))
            progress.prep_s = time.perf_counter() - t0
        for grid in grids:
            result = run_sweep(doc_list, questions, grid=grid, mode=mode, bank=bank, progress=on_chunking,
                               embedder=ReportingEmbedder(emb, on_embedding) if mode == "exact" else emb,
                               on_rows=progress.rows.extend)
            done += len(grid.chunk_configs())
            if result.cancelled:
                progress.status = "cancelled"
                break
        else:
            progress.status = "done"
    except Exception as exc:
        progress.status = "failed"
        st.error(f"The {what} failed: {exc}")
    progress.seconds = time.perf_counter() - started
    bar.empty()
