"""Retrieval page sections for issue 13: fusion, dense weight and parent-document retrieval settings,
and what the LLM reads for each hit."""
from __future__ import annotations

import streamlit as st

from core.parents import MAX_WINDOW, PARENT_MODES
from core.retrieval import FUSIONS, METHODS, Hit, RetrievalConfig
from ui import state
from ui.text import md

_FUSION_HELP = {
    "rrf": "Reciprocal-rank fusion: weight / (60 + rank) summed over the lists (ranks only).",
    "zscore": "Z-score fusion: each list's scores standardised over its candidates, then w x dense + (1 - w) x BM25.",
    "minmax": "Min-max fusion: each list's scores scaled to 0..1 over its candidates, then w x dense + (1 - w) x BM25.",
}
_PARENT_HELP = ("What the LLM reads for each hit. none: the chunk. section: the section it sits in (from one "
                "heading to the next; a document without headings is one section). window: the chunk and N "
                "neighbouring chunks on each side. Hits that share a parent are sent once, and the next "
                "candidate takes the freed place. Metrics on Evaluate are measured on what the LLM reads.")


def settings(current: RetrievalConfig, method: str) -> dict:
    """Fusion, dense weight and parent widgets; returns the RetrievalConfig fields they set."""
    mode = current.parent_mode()
    for key, value in (("retrieval_fusion", current.fusion), ("retrieval_dense_weight", current.dense_weight),
                       ("retrieval_parent", mode.kind), ("retrieval_parent_n", max(mode.n, 1)),
                       ("retrieval_parent_budget", current.parent_budget)):
        state.keep_widget(key, value)
    fuses = len(METHODS[method].sources) > 1
    with st.expander("Fusion and parent-document retrieval", expanded=False):
        c1, c2 = st.columns(2)
        fusion = c1.selectbox("Fusion", list(FUSIONS), key="retrieval_fusion", disabled=not fuses,
                              format_func=lambda f: FUSIONS[f][0], help="\n\n".join(_FUSION_HELP.values()))
        weight = c2.slider("Dense weight", 0.0, 1.0, step=0.05, key="retrieval_dense_weight", disabled=not fuses,
                           help="0: BM25 alone decides; 1: dense alone decides; in between, both. The hit cards "
                                "show the arithmetic.")
        if not fuses:
            st.caption(f"{METHODS[method].label} has one ranking: there is nothing to fuse.")
        c3, c4, c5 = st.columns(3)
        kind = c3.selectbox("LLM reads", list(PARENT_MODES), key="retrieval_parent", help=_PARENT_HELP,
                            format_func=lambda p: {"none": "the chunk", "section": "its section",
                                                   "window": "a window of chunks"}[p])
        n = c4.number_input("Neighbours each side", 1, MAX_WINDOW, key="retrieval_parent_n",
                            disabled=kind != "window")
        budget = c5.number_input("Parent budget (tokens)", 64, 32768, step=64, key="retrieval_parent_budget",
                                 disabled=kind == "none",
                                 help="The largest parent sent for one hit. A larger one (a long section, a "
                                      "document with no headings) falls back to the widest window of "
                                      "neighbouring chunks that fits, and the hit says so.")
    parent = f"window:{int(n)}" if kind == "window" else kind
    return {"fusion": fusion, "dense_weight": float(weight), "parent": parent, "parent_budget": int(budget)}


def parent_view(hit: Hit) -> None:
    """On a hit card: what the LLM reads instead of the chunk, when a parent mode is on."""
    p = hit.parent
    if p is None:
        return
    note = f" :orange[{md(p.note)}.]" if p.note else ""
    st.caption(f"The LLM reads **{md(p.label)}** (chars {p.start:,}-{p.end:,}, {p.tokens:,} tokens).{note}")
    with st.expander(f"Parent text ({p.tokens:,} tokens)", expanded=False, key=f"parent_{hit.rank}"):
        st.text(p.text)


def prompt_note(hits: list[Hit], context_tokens: int) -> None:
    """Under the prompt preview: the cost of parents next to the matched chunks alone."""
    if not any(h.parent is not None for h in hits):
        return
    chunks_only = sum(h.chunk.n_tokens for h in hits)
    fell_back = sum(1 for h in hits if h.parent is not None and h.parent.note)
    st.markdown(f"Parent-document retrieval: the LLM reads **{len(hits)} parents, {context_tokens:,} context "
                f"tokens**, where the matched chunks alone would be {chunks_only:,} tokens "
                f"({context_tokens / max(chunks_only, 1):.1f}×).")
    if fell_back:
        st.warning(f"{fell_back} parent(s) were over the parent budget and were replaced by the widest window "
                   "of neighbouring chunks that fits (see the hit cards). Raise the budget to send whole "
                   "sections, if your model's context window allows.")


_WEIGHT_OPTIONS = [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0]
_PARENT_OPTIONS = ["none", "section", "window:1", "window:2", "window:3"]


def sweep_axes() -> dict:
    """The Evaluate sweep's strategy axes (contextual headers, fusion, dense weight, parent mode):
    SweepGrid fields. The semantic splitter is one of the splitters above."""
    from core.chunking import DEFAULT_HEADERS
    from core.retrieval import DEFAULT_DENSE_WEIGHT, DEFAULT_FUSION

    with st.expander("Strategy axes: contextual headers, fusion, dense weight, parent", expanded=False):
        c1, c2, c3, c4 = st.columns(4)
        headers = c1.multiselect("Contextual headers", ["off", "on"], default=["on" if DEFAULT_HEADERS else "off"],
                                 key="eval_sw_headers", help="Embed and index each chunk with its title and "
                                                             "section path (fast mode approximates it).")
        fusions = c2.multiselect("Fusions", list(FUSIONS), default=[DEFAULT_FUSION], key="eval_sw_fusions",
                                 format_func=lambda f: FUSIONS[f][0], help="\n\n".join(_FUSION_HELP.values()))
        weights = c3.multiselect("Dense weights", _WEIGHT_OPTIONS, default=[DEFAULT_DENSE_WEIGHT],
                                 key="eval_sw_weights", help="0: BM25 alone; 1: dense alone. Fusions and weights "
                                                             "apply to methods with several rankings (hybrid).")
        parents = c4.multiselect("LLM reads", _PARENT_OPTIONS, default=["none"], key="eval_sw_parents",
                                 help=_PARENT_HELP)
    return {"headers": tuple(h == "on" for h in headers), "fusions": tuple(fusions),
            "dense_weights": tuple(sorted(weights)), "parents": tuple(parents)}
