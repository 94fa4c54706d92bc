"""Long work inside a script run (sweeps, evaluations): progress, cancel by rerun, stop with the session.

Streamlit has no background thread here: a sweep runs inside the script, and any click reruns
the script, which interrupts it at its next Streamlit call (a progress update). That is how Cancel
works. Rows are appended to the job's JobProgress as each chunking finishes (run_sweep's on_rows),
so an interrupted run keeps them, and the next run finds the job still marked "running" and flags
it as cancelled (settle_interrupted).

A closed tab sends no click: Streamlit asks the script to stop when the session disconnects, and
that request, too, is only honoured at a Streamlit call. So long loops report progress often and
also ask `session_gone()` themselves, so work nobody will see stops within one step.
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import streamlit as st

from core.documents import Document
from core.evaluation import EvalRun, EvaluationStopped, Question, evaluate
from core.retrieval import RetrievalConfig, Retriever
from core.sweep import SweepGrid, run_sweep
from ui import state
from ui.indexing import Eta, ReportingEmbedder, sentence_bank, session_embedder
from ui.text import md


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
    # The question set is embedded per chunking but never written to the shared cache.
    emb = session_embedder().keeping_private(q.question for q in questions)
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
                               on_rows=progress.rows.extend, should_stop=session_gone)
            done += len(grid.chunk_configs())
            if result.cancelled:
                progress.status = "cancelled"
                break
        else:
            progress.status = "done"
    except Exception as exc:
        progress.status = "failed"
        st.error(f"The {what} failed: {md(str(exc))}")
    progress.seconds = time.perf_counter() - started
    bar.empty()


def session_gone() -> bool:
    """True once the browser session running this script has ended (tab closed, connection lost
    for good). Safe from any thread; False outside a Streamlit server (tests, AppTest)."""
    from streamlit.runtime import Runtime, exists
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None or not exists():
        return False
    return not Runtime.instance().is_active_session(ctx.session_id)


_EVAL_CANCELLED = "_eval_cancelled"  # set by the evaluation's Cancel button, shown once by the page


def _cancel_evaluation() -> None:
    st.session_state[_EVAL_CANCELLED] = True


def evaluation_cancelled() -> bool:
    """True once after Cancel was pressed on a running evaluation (the page says so)."""
    return bool(st.session_state.pop(_EVAL_CANCELLED, False))


def run_evaluation(retriever: Retriever, questions: Sequence[Question], docs: Mapping[str, Document], *,
                   config: RetrievalConfig) -> EvalRun | None:
    """core.evaluation.evaluate with a progress bar, a Cancel button and a stop when the session
    ends; returns None when it was stopped (a Cancel click reruns the script and never returns
    here at all: the rerun interrupts it at the next progress update)."""
    slot = st.empty()
    with slot.container(key="eval_progress"):
        bar = st.progress(0.0, text=f"Scoring {len(questions):,} question(s)...")
        st.button("Cancel", key="eval_cancel", on_click=_cancel_evaluation, help="Stops the evaluation; nothing is kept.")
        report = Eta(bar, "Scoring questions", every_s=0.2)
        try:
            return evaluate(retriever, questions, docs, config=config, progress=report, should_stop=session_gone)
        except EvaluationStopped:
            return None
        finally:
            slot.empty()
