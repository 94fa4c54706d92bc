"""Evaluate tab "A/B compare": the current settings (A) against another chunking and method (B).

Chunk ids mean nothing across two chunkings, so everything is compared on character spans
(core/compare.py): where the boundaries moved, and which retrieved spans B keeps, shifts or drops.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import streamlit as st

from core.chunking import SPLITTERS, UNITS, Chunk, ChunkConfig
from core.compare import DROPPED, NEW, SAME, SHIFTED, HitDiff, boundary_diff, hit_diff
from core.documents import Document
from core.evaluation import Question, is_relevant
from core.plots.evaluation import boundary_figure
from core.render import chunk_map_html
from core.retrieval import MAX_K, METHODS, RetrievalConfig
from core.sweep import best_first
from ui import state
from ui.evaluate.common import CUSTOM, choose, html_block, method_label, settings_label
from ui.evaluate.confidence import ab_scores_section
from ui.evaluate.questions import ChosenQuestions
from ui.indexing import build_index, build_retriever
from ui.resources import index_identity, settings
from ui.text import code, md

AB_INDEX = "_eval_ab_index"  # (key, Retriever) for configuration B
BADGE = {SAME: ":gray[same span]", SHIFTED: ":orange[shifted]", DROPPED: ":red[dropped in B]", NEW: ":green[new in B]"}


def seed_b() -> None:
    """First visit: B starts from the sweep's best, else the current chunking at twice the size."""
    if "eval_ab_size" in st.session_state:
        return
    cc, rc = state.chunk_config(), state.retrieval_config()
    job = state.sweep_job()
    best = best_first(job.progress.rows, "hit")[0] if job is not None and job.progress.rows else None
    if best is not None and (best.chunk_config(), best.method, best.k) != (cc, rc.method, rc.k):
        seed = dict(splitter=best.splitter, unit=best.unit, size=best.size, overlap=best.overlap, method=best.method, k=best.k)
    else:
        size = min(cc.size * 2, settings().chunk_size_range(cc.unit)[1])
        seed = dict(splitter=cc.splitter, unit=cc.unit, size=size, overlap=cc.overlap, method=rc.method, k=rc.k)
    for name, value in seed.items():
        st.session_state[f"eval_ab_{name}"] = value


def b_settings(a_rc: RetrievalConfig) -> tuple[ChunkConfig, RetrievalConfig] | None:
    """Configuration B from its widgets, or None (with the reason shown) when it is invalid."""
    c = st.columns([2, 1, 1, 1, 1, 1])
    b_splitter = c[0].selectbox("Splitter", list(SPLITTERS), key="eval_ab_splitter")
    b_unit = c[1].selectbox("Unit", list(UNITS), key="eval_ab_unit")
    unit = "tokens" if b_splitter == "tokens" else b_unit
    # Keep size and overlap inside what ChunkConfig accepts for the unit now chosen.
    lo, hi = settings().chunk_size_range(unit)
    st.session_state["eval_ab_size"] = min(max(int(st.session_state.get("eval_ab_size", lo)), lo), hi)
    st.session_state["eval_ab_overlap"] = min(max(int(st.session_state.get("eval_ab_overlap", 0)), 0), hi - 1)
    b_size = c[2].number_input("Size", lo, hi, key="eval_ab_size")
    b_overlap = c[3].number_input("Overlap", 0, hi - 1, key="eval_ab_overlap")
    b_method = choose(c[4], "Method", list(METHODS), key="eval_ab_method", format_func=method_label)
    b_k = c[5].number_input("Top-K", 1, MAX_K, key="eval_ab_k")
    try:
        b_cc = ChunkConfig(size=int(b_size), overlap=int(b_overlap), splitter=b_splitter, unit=unit)
        b_rc = replace(a_rc, method=b_method, k=int(b_k), candidates=max(a_rc.candidates, int(b_k)))
    except ValueError as exc:
        st.error(f"Configuration B: {md(str(exc))}")
        return None
    return b_cc, b_rc


def ab_tab(chosen: ChosenQuestions, docs: Mapping[str, Document]) -> None:
    a_cc, a_rc = state.chunk_config(), state.retrieval_config()
    st.markdown(f"**A (current settings):** {md(settings_label(a_cc, a_rc))}")
    seed_b()
    st.markdown("**B:**")
    b = b_settings(a_rc)
    if b is None:
        return
    b_cc, b_rc = b
    questions = chosen.questions
    doc_name = choose(st, "Document", list(docs), key="eval_ab_doc")
    asked = list(dict.fromkeys(q.question for q in questions if q.source == doc_name))
    pick = choose(st, "Question", [CUSTOM] + asked, key="eval_ab_question", default=asked[0] if asked else CUSTOM)
    query = st.text_input("Your question", key="eval_ab_query") if pick == CUSTOM else pick
    question = next((q for q in questions if q.question == pick and q.source == doc_name), None)

    b_key = (state.corpus_key(), b_cc, index_identity())
    if st.button("Compare A and B", key="eval_ab_run", type="primary"):
        built = build_index()
        cached = st.session_state.get(AB_INDEX)
        if built is not None and not (cached and cached[0] == b_key):
            retriever = built.retriever if b_cc == a_cc else build_retriever(list(docs.values()), b_cc)
            if retriever is not None:
                st.session_state[AB_INDEX] = (b_key, retriever)
    built = state.built_index()
    cached = st.session_state.get(AB_INDEX)
    if built is None or not cached or cached[0] != b_key:
        st.info("Press **Compare A and B** to build B's index (exact vectors, cached) and compare.")
        return
    ra, rb = built.retriever, cached[1]
    chunks_a = [ch for ch in ra.chunks if ch.doc == doc_name]
    chunks_b = [ch for ch in rb.chunks if ch.doc == doc_name]
    show_boundaries(docs[doc_name], chunks_a, chunks_b, a_cc, b_cc)
    ab_scores_section(ra, rb, (a_cc, a_rc), (b_cc, b_rc), questions, docs,
                      key=(state.index_key(), a_rc, b_key, b_rc, chosen.key))
    if not query.strip():
        st.info("Choose or type a question to compare what each configuration retrieves.")
        return
    try:
        qv = ra.embed_queries([query])[0]
        hits_a = ra.search(query, config=a_rc, query_vector=qv)
        hits_b = rb.search(query, config=b_rc, query_vector=qv)
    except Exception as exc:
        st.error(f"Retrieval failed: {md(str(exc))}")
        return
    show_changes(hit_diff([h.chunk for h in hits_a], [h.chunk for h in hits_b]), a_rc.k, b_rc.k, query, question, docs)


def show_boundaries(doc: Document, chunks_a: list[Chunk], chunks_b: list[Chunk], a_cc: ChunkConfig,
                    b_cc: ChunkConfig) -> None:
    diff = boundary_diff(chunks_a, chunks_b)
    st.markdown(f"#### Where the boundaries moved in {md(doc.name)}")
    m = st.columns(4)
    m[0].metric("Chunks A → B", f"{diff.n_a} → {diff.n_b}")
    m[1].metric("Boundaries only in A", len(diff.only_a))
    m[2].metric("Boundaries only in B", len(diff.only_b))
    m[3].metric("Shared boundaries", len(diff.shared))
    st.plotly_chart(boundary_figure(chunks_a, chunks_b, diff), key="eval_ab_boundaries", width="stretch")
    with st.expander("Chunk maps side by side"):
        left, right = st.columns(2)
        with left:
            st.caption(f"A: {a_cc.label()}")
            st.html(chunk_map_html(doc.text, chunks_a))
        with right:
            st.caption(f"B: {b_cc.label()}")
            st.html(chunk_map_html(doc.text, chunks_b))


def show_changes(hd: HitDiff, a_k: int, b_k: int, query: str, question: Question | None,
                 docs: Mapping[str, Document]) -> None:
    """A's and B's results side by side, each span marked same / shifted / dropped / new."""
    st.markdown("#### Which retrieved chunks changed")
    st.caption(f"B keeps {hd.count('a', SAME)} of A's top-{a_k} spans exactly, shifts {hd.count('a', SHIFTED)}, "
               f"drops {hd.count('a', DROPPED)}; {hd.count('b', NEW)} of B's top-{b_k} cover text A did not retrieve. "
               "Compared by character spans over the whole corpus (chunk numbers differ between chunkings).")
    left, right = st.columns(2)
    for col, changes, label in ((left, hd.a, "A"), (right, hd.b, "B")):
        with col:
            if question is not None:
                first = next((s.rank for s in changes if is_relevant(s.chunk, question, docs)), None)
                st.markdown(f"**{label}:** " + (f":green[hit at rank {first}]" if first else ":red[miss]"))
            else:
                st.markdown(f"**{label}**")
            for s in changes:
                rel = " · :green[answers it]" if question is not None and is_relevant(s.chunk, question, docs) else ""
                cover = f" ({s.coverage:.0%} covered)" if s.status == SHIFTED else ""
                with st.container(border=True, key=f"eval_ab_{label}_{s.rank}"):
                    st.markdown(f"**#{s.rank}** · {code(s.chunk.doc)} · chars {s.chunk.start:,}-{s.chunk.end:,} · "
                                f"{BADGE[s.status]}{cover}{rel}")
                    html_block(s.chunk.text, query)
