"""Evaluate tab "Current settings": score the session's real index, then drill into each question.

These are exact numbers (the session's own index), and they are what the report quotes
(state.EvalSummary). A miss is explained: where the answer is, and whether a boundary cut it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from core.chunking import Chunk
from core.compare import explain_miss
from core.documents import Document
from core.evaluation import METRICS, QuestionResult
from core.plots.evaluation import metric_label
from ui import state
from ui.evaluate.common import html_block, settings_label
from ui.evaluate.confidence import metrics_block
from ui.evaluate.questions import ChosenQuestions
from ui.indexing import build_index
from ui.jobs import evaluation_cancelled, run_evaluation
from ui.production_serve import served_config, serving  # issue 14
from ui.text import code, md

NO_RANK = "–"  # what an empty rank cell shows

def evaluate_tab(chosen: ChosenQuestions, docs: Mapping[str, Document]) -> None:
    cc, rc = state.chunk_config(), state.retrieval_config()
    label = settings_label(cc, rc)
    st.markdown(f"**Current settings:** {md(label)}. Change them on the Chunking and Index & Retrieval pages, "
                "or apply a sweep result below.")
    if st.button("Evaluate current settings", key="eval_run", type="primary", disabled=not chosen.questions):
        built = build_index()
        if built is not None:
            built = serving(built)  # issue 14: score a published PostgreSQL collection, when one is chosen
            try:  # progress, Cancel, and a stop when the session ends (issue 16)
                run = run_evaluation(built.retriever, chosen.questions, docs, config=served_config(rc))  # issue 14
            except Exception as exc:
                st.error(f"The evaluation failed: {md(str(exc))}")
            else:
                if run is None:
                    return
                state.set_eval_record(state.EvalRecord((built.key, rc, chosen.key), run, built.retriever.chunks, label))
                state.set_eval_summary(state.EvalSummary(
                    label=label, metrics={metric_label(m, rc.k): float(run.summary.get(m)) for m in METRICS}))
    if evaluation_cancelled():
        st.info("Evaluation cancelled: nothing was scored. Press **Evaluate current settings** to start again.")
    record = state.eval_record()
    if record is None:
        st.info("Press **Evaluate current settings** to score the question set with the session's index.")
        return
    if record.key != (state.index_key(), rc, chosen.key):
        st.warning(f"These results are for {record.label} and an earlier corpus or question set, not the "
                   "current settings. Press Evaluate again to refresh them.")
    show_run(record, docs)


def show_run(record: state.EvalRecord, docs: Mapping[str, Document]) -> None:
    run = record.run
    k = run.config.k
    metrics_block(run, key="eval_current")  # every metric with its 95% interval (issue 12)
    hits = sum(1 for r in run.results if r.first_rank)
    st.caption(f"Exact: measured on the session's real index ({run.n_chunks:,} chunks). {len(run.results)} question(s) "
               f"scored, {hits} hit(s); {run.query_ms:.0f} ms per question."
               + (f" {len(run.skipped)} skipped (source not loaded)." if run.skipped else ""))

    st.markdown("#### Per question")
    st.caption("Select a row to see what came back. Misses show where the answer is and how far down the full ranking it came.")
    event = st.dataframe(question_table(run.results, k), key="eval_drill_table", on_select="rerun",
                         selection_mode="single-row", hide_index=True, width="stretch", height=260)
    rows = [i for i in (event.selection.rows if event is not None else []) if i < len(run.results)]
    # Nothing selected: open the first miss, the row most worth a look.
    pos = rows[0] if rows else next((i for i, r in enumerate(run.results) if not r.first_rank), 0)
    if not run.results:
        return
    drill_down(run.results[pos], pos, record.chunks, k, docs)


def question_table(results: Sequence[QuestionResult], k: int) -> Styler:
    """One row per question. Each rank column means something for one kind of row only (the top-K
    rank for hits, the full-ranking rank for misses), so an empty cell shows as a dash, never as
    "None". The columns stay numeric underneath, so sorting by them still sorts by rank."""
    rank_cols = [f"rank in top-{k}", "best rank (full ranking)"]
    table = pd.DataFrame({
        "#": range(1, len(results) + 1),
        "result": ["hit" if r.first_rank else ("miss" if r.relevant else "no chunk holds it") for r in results],
        rank_cols[0]: pd.array([r.first_rank for r in results], dtype="Int64"),
        rank_cols[1]: pd.array([None if r.first_rank else r.best_rank for r in results], dtype="Int64"),
        "answering chunks": [len(r.relevant) for r in results],
        "question": [r.question.question for r in results],
        "source": [r.question.source for r in results],
    })
    return table.style.format(na_rep=NO_RANK, subset=rank_cols)


def drill_down(r: QuestionResult, pos: int, chunks: Sequence[Chunk], k: int, docs: Mapping[str, Document]) -> None:
    q = r.question
    with st.container(border=True, key="eval_drill_detail"):
        st.markdown(f"**Q{pos + 1}. {md(q.question)}**")
        st.caption(f"Answers: {md(' | '.join(q.answers))} · source: {md(q.source)}" + (" · has a gold passage" if q.context else ""))
        if r.first_rank:
            st.success(f"Hit: the first answering chunk came at rank {r.first_rank} of {k}.")
        elif r.relevant:
            where = (f"the best of them came at rank {r.best_rank} in the full ranking" if r.best_rank
                     else "BM25 does not rank them at all (they share no term with the question)")
            st.warning(f"Miss: {len(r.relevant)} chunk(s) answer it, but none made the top {k}; {where}.")
            for cid in sorted(r.relevant)[:3]:
                c = chunks[cid]
                st.markdown(f"Answering chunk: {code(c.doc)} chunk {c.index}, chars {c.start:,}-{c.end:,}")
                html_block(c.text, q.question)
        else:
            _explain_no_holder(r, chunks, docs)
        st.markdown(f"**Top {k} retrieved**")
        for rank, cid in enumerate(r.retrieved, start=1):
            c = chunks[cid]
            mark = " · :green[answers it]" if cid in r.relevant else ""
            with st.container(border=True, key=f"eval_drill_hit_{rank}"):
                st.markdown(f"**#{rank}** · {code(c.doc)} · chars {c.start:,}-{c.end:,} · chunk {c.index}{mark}")
                html_block(c.text, q.question)


def _explain_no_holder(r: QuestionResult, chunks: Sequence[Chunk], docs: Mapping[str, Document]) -> None:
    """No chunk counts as answering: say whether the file is wrong or a boundary cut the answer."""
    q = r.question
    why = explain_miss(q, chunks, docs.get(q.source))
    if why.answer_at is None:
        st.warning(f"No chunk holds an answer, and no answer text occurs in {md(q.source)}: check the question file.")
    elif why.straddling and not why.holders:
        parts = ", ".join(str(chunks[i].index) for i in why.straddling)
        st.warning(f"No chunk holds the whole answer: it sits at chars {why.answer_at[0]:,}-{why.answer_at[1]:,} "
                   f"of {md(q.source)}, and a chunk boundary cuts it (chunks {parts} each hold part). "
                   "More overlap or a different splitter keeps it whole.")
    else:
        st.warning(f"The answer occurs at chars {why.answer_at[0]:,}-{why.answer_at[1]:,} of {md(q.source)}, but no "
                   "chunk both contains it and overlaps the gold passage.")
