"""Chunking page sections for issue 13: contextual headers, the semantic splitter's settings, and
its distance curve with the chosen breakpoints."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.chunking import BREAKPOINT_LABELS, BREAKPOINTS, Chunk, ChunkConfig, doc_sentences, needs_sentences
from core.documents import Document
from core.semantic import SemanticTrace, trace
from ui import state
from ui.text import md

_AMOUNT_RANGE = {"percentile": (50.0, 99.0, 1.0), "gradient": (50.0, 99.0, 1.0),
                 "standard_deviation": (0.5, 5.0, 0.1), "interquartile": (0.5, 5.0, 0.1)}


def controls(splitter: str, unit: str, size: int, current: ChunkConfig) -> dict:
    """The headers toggle, and for the semantic splitter its threshold and smallest chunk. Returns
    the ChunkConfig fields they set."""
    state.keep_widget("chunk_headers", current.headers)
    state.keep_widget("chunk_breakpoint", current.breakpoint)
    headers = st.toggle(
        "Contextual chunk headers", key="chunk_headers",
        help="Embed and BM25-index each chunk with its document's title and section path (\"Guide > "
             "Billing > Refunds\"). The chunk's text, offsets, token count and the metrics' gold spans "
             "stay as they are; only what the retrievers read changes. A document with no headings "
             "gets its title alone.")
    if splitter != "semantic":
        return {"headers": headers}
    c1, c2, c3 = st.columns(3)
    kind = c1.selectbox("Breakpoint threshold", list(BREAKPOINTS), key="chunk_breakpoint",
                        format_func=lambda b: f"{b.replace('_', ' ')}: {BREAKPOINT_LABELS[b]}",
                        help="As LangChain's SemanticChunker: a gap between neighbouring sentences is a "
                             "breakpoint when its cosine distance is above this threshold.")
    lo, hi, step = _AMOUNT_RANGE[kind]
    amount_key = f"chunk_breakpoint_amount_{kind}"  # one slider per type: their scales differ
    state.keep_widget(amount_key, BREAKPOINTS[kind] if current.breakpoint != kind else current.breakpoint_amount)
    amount = c2.slider("Threshold amount", lo, hi, step=step, key=amount_key,
                       help=f"LangChain's default for {kind.replace('_', ' ')} is {BREAKPOINTS[kind]:g}. Higher: "
                            "fewer breakpoints, longer chunks.")
    state.keep_widget("chunk_min_size", min(current.min_size, size - 1))
    st.session_state["chunk_min_size"] = min(st.session_state["chunk_min_size"], size - 1)
    min_size = c3.slider(f"Smallest chunk ({unit})", 0, size - 1, key="chunk_min_size",
                         help="A piece smaller than this is merged into the neighbour across the narrower "
                              "gap. The chunk size above is the largest chunk.")
    st.caption("Semantic chunks never overlap: the overlap setting does not apply.")
    return {"headers": headers, "breakpoint": kind, "breakpoint_amount": float(amount), "min_size": int(min_size)}


def ensure_sentences(config: ChunkConfig) -> bool:
    """For a splitter that reads sentence vectors, build the corpus's sentence bank (once, with a
    progress bar). False when it could not be built (the error is shown)."""
    if not needs_sentences(config.splitter) or state.sentence_bank() is not None:
        return True
    from ui.indexing import Eta, sentence_bank  # the index build's own bank, shared with answers

    bar = st.progress(0.0, text="Embedding every sentence once (the semantic splitter reads them)...")
    try:
        sentence_bank(list(state.documents().values()), progress=Eta(bar, "Embedding sentences"))
    except Exception as exc:
        bar.empty()
        st.error(f"Could not embed the sentences the semantic splitter needs: {md(str(exc))}")
        return False
    bar.empty()
    return True


def header_note(chunks: list[Chunk]) -> None:
    """What the retrievers read for the first chunk with a header."""
    first = next((c for c in chunks if c.header), None)
    if first is not None:
        st.caption(f"Embedded and indexed as the header **{md(first.header)}**, a blank line, then the chunk's "
                   "text. Shown, counted and scored: the chunk's text alone.")


def distance_figure(t: SemanticTrace, config: ChunkConfig) -> go.Figure:
    x = list(range(1, len(t.distances) + 1))
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=list(t.distances), mode="lines+markers", name="cosine distance",
                             marker={"size": 4}, line={"width": 1.5},
                             hovertemplate="gap after sentence %{x}<br>distance %{y:.3f}<extra></extra>"))
    if config.breakpoint == "gradient":
        fig.add_trace(go.Scatter(x=x, y=list(t.scores), mode="lines", name="gradient (thresholded)",
                                 line={"width": 1, "dash": "dot"}))
    if t.threshold is not None:
        fig.add_hline(y=t.threshold, line={"color": "firebrick", "dash": "dash"},
                      annotation_text=f"threshold {t.threshold:.3f}", annotation_position="top left")
    cuts = set(t.cuts)
    breaks = set(t.breakpoints)
    for label, gaps, color, symbol in (
        ("breakpoint (above threshold)", sorted(breaks & cuts), "firebrick", "x"),
        ("breakpoint merged away (smallest chunk)", sorted(breaks - cuts), "gray", "x-open"),
        ("cut to respect the largest chunk", sorted(cuts - breaks), "darkorange", "triangle-down"),
    ):
        if gaps:
            fig.add_trace(go.Scatter(x=[g + 1 for g in gaps], y=[t.distances[g] for g in gaps], mode="markers",
                                     name=label, marker={"color": color, "size": 10, "symbol": symbol}))
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title="gap between sentence n and n + 1", yaxis_title="cosine distance",
                      legend={"orientation": "h", "y": -0.3})
    return fig


def semantic_curve(doc: Document, config: ChunkConfig) -> None:
    """The distance curve of `doc` with the breakpoints the semantic splitter chose."""
    if config.splitter != "semantic":
        return
    bank = state.sentence_bank()
    if bank is None:
        return
    try:
        t = trace(doc.text, config, doc_sentences(bank, doc))
    except ValueError as exc:
        st.info(md(str(exc)))
        return
    st.markdown(f"**Where meaning shifts in {md(doc.name)}**")
    if t.fallback:
        st.info(f"No distance curve: {t.fallback}.")
        return
    st.plotly_chart(distance_figure(t, config), width="stretch", key="semantic_curve")
    st.caption(f"{len(t.sentences)} sentences, {len(t.breakpoints)} gaps above the threshold, "
               f"{len(t.spans)} chunks. Each sentence's vector is averaged with its neighbours' before the "
               "distance is taken, as LangChain does.")
