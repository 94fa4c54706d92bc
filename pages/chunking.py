"""Chunking: choose splitter, size and overlap; see every boundary, overlap and length."""
from __future__ import annotations

import streamlit as st

from core import model
from core.chunking import SPLITTERS, UNITS, ChunkConfig
from core.plots.chunks import length_histogram
from core.render import chunk_map_html
from ui import chunking_strategy, state
from ui.chunk_list import chunk_list
from ui.resources import settings
from ui.text import md
from ui.widgets import need_documents

st.title("Chunking")
if not need_documents("chunk them"):
    st.stop()

current = state.chunk_config()
for key, value in (("chunk_splitter", current.splitter), ("chunk_unit", current.unit),
                   ("chunk_size", current.size), ("chunk_overlap", current.overlap)):
    state.keep_widget(key, value)

c1, c2, c3, c4 = st.columns([2, 1, 2, 2])
splitter = c1.selectbox("Splitter", list(SPLITTERS), format_func=lambda s: f"{s}: {SPLITTERS[s]}", key="chunk_splitter")
if splitter == "tokens":
    st.session_state["chunk_unit"] = "tokens"
unit = c2.radio("Unit", list(UNITS), key="chunk_unit", disabled=splitter == "tokens",
                help="Token counts use the embedding model's own tokenizer.")
# Keep the sliders' values inside the new unit's range when the unit changes.
lo, hi = settings().chunk_size_range(unit)
st.session_state["chunk_size"] = min(max(st.session_state["chunk_size"], lo), hi)
st.session_state["chunk_overlap"] = min(st.session_state["chunk_overlap"], hi - 1)
size = c3.slider(f"Chunk size ({unit})", lo, hi, key="chunk_size", step=1 if unit == "tokens" else 10)
overlap = c4.slider(f"Overlap ({unit})", 0, hi - 1, key="chunk_overlap", step=1 if unit == "tokens" else 10,
                    disabled=splitter == "semantic")
strategy = chunking_strategy.controls(splitter, unit, size, current)  # headers; semantic thresholds (issue 13)

try:
    config = ChunkConfig(size=size, overlap=overlap, splitter=splitter, unit=unit, **strategy)
except ValueError as exc:
    st.error(f"{exc} Showing the last valid setting ({current.label()}).")
    config = current
state.set_chunk_config(config)
if not chunking_strategy.ensure_sentences(config):  # the semantic splitter reads sentence vectors
    st.stop()

try:
    chunks = state.chunks()
except Exception as exc:  # a splitter failure must not lose the session
    st.error(f"Chunking failed: {md(str(exc))}")
    st.stop()

stats = state.chunk_stats()
m1, m2, m3, m4 = st.columns(4)
m1.metric("Chunks", f"{stats.n_chunks:,}")
m2.metric("Mean length", f"{stats.mean_tokens:.0f} tokens")
m3.metric("Longest", f"{stats.max_tokens} tokens")
share = stats.n_truncated / stats.n_chunks
m4.metric("Truncated when embedded", f"{stats.n_truncated} ({share:.0%})")
if stats.n_truncated:
    # A trade-off the user chose, not a mistake to correct: say what each side gains and loses.
    st.warning(
        f"{stats.n_truncated} of {stats.n_chunks} chunks ({share:.0%}) are longer than the model's "
        f"{model.MAX_TOKENS}-token window ({model.TEXT_WINDOW} tokens of text plus two markers). "
        f"The dense side embeds only the first {model.TEXT_WINDOW} tokens of each, so a question about "
        "a chunk's tail can only be found by BM25. BM25 reads every chunk whole, and longer chunks give "
        "it more words to match in one place: in hybrid search that can be worth the trade. Chunks of "
        f"{model.TEXT_WINDOW} tokens or fewer are embedded whole."
    )

st.plotly_chart(length_histogram(chunks), width="stretch", key="length_hist")

st.subheader("Chunk map")
st.caption("Each chunk's span is coloured from its real character offsets; :red[red] marks text shared by two chunks (overlap), grey text belongs to no chunk. [n] marks where chunk n starts.")
docs = state.documents()
name = st.selectbox("Document", list(docs), key="chunk_map_doc")
doc_chunks = [c for c in chunks if c.doc == name]
st.html(chunk_map_html(docs[name].text, doc_chunks))
chunking_strategy.semantic_curve(docs[name], config)
chunking_strategy.header_note(doc_chunks)

chunk_list(doc_chunks, name)  # paged, name escaped (issue 16)
