"""Building indexes with a visible progress bar: the session's index, or one for another chunking.

The same pattern as the Index & Retrieval page: embed through the cached embedder, show
progress, report a failure with st.error and return None instead of raising into the page.
Progress updates are also where Streamlit can interrupt a long run (any click reruns the script).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import streamlit as st

from core.chunking import ChunkConfig, split_corpus
from core.documents import Document
from core.embedding import Embedder, Progress, for_bulk
from core.retrieval import Retriever
from ui import state
from ui.resources import embedder, settings


def build_index() -> state.BuiltIndex | None:
    """The session's index for its current chunks: reused when fresh, otherwise built now."""
    built = state.built_index()
    if built is not None:
        return built
    try:
        chunks = state.chunks()
    except Exception as exc:  # a splitter failure must not lose the session
        st.error(f"Chunking failed: {exc}")
        return None
    emb = embedder()
    bar = st.progress(0.0, text=f"Embedding {len(chunks):,} chunks...")
    started = time.perf_counter()
    try:
        retriever = Retriever.build(
            chunks, embedder=emb, store=settings().store,
            progress=lambda done, total: bar.progress(done / total, text=f"Embedding chunks: {done:,} / {total:,}"),
        )
    except Exception as exc:
        bar.empty()
        st.error(f"Building the index failed: {exc}")
        return None
    built = state.BuiltIndex(state.index_key(), retriever, time.perf_counter() - started,
                             for_bulk(emb).last_misses)
    state.store_index(built)
    bar.empty()
    return built


def build_retriever(docs: Sequence[Document], config: ChunkConfig) -> Retriever | None:
    """An index of `docs` under another chunking (exact vectors), without touching the session's."""
    bar = st.progress(0.0, text=f"Chunking with {config.label()}...")
    try:
        chunks = split_corpus(docs, config=config)
        retriever = Retriever.build(
            chunks, embedder=embedder(), store=settings().store,
            progress=lambda done, total: bar.progress(done / total, text=f"Embedding chunks ({config.label()}): {done:,} / {total:,}"),
        )
    except Exception as exc:
        bar.empty()
        st.error(f"Building the index for {config.label()} failed: {exc}")
        return None
    bar.empty()
    return retriever


class ReportingEmbedder:
    """Wraps an embedder so every long embed call reports progress (and so can be interrupted)."""

    def __init__(self, inner: Embedder, report: Callable[[int, int], None], *, min_texts: int = 16) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimensions = inner.dimensions
        self._report = report
        self._min = min_texts

    def bulk(self) -> ReportingEmbedder:
        """The inner embedder's throughput variant, still reporting progress."""
        return ReportingEmbedder(for_bulk(self.inner), self._report, min_texts=self._min)

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        def both(done: int, total: int) -> None:
            if progress:
                progress(done, total)
            if total >= self._min:  # skip query batches: they are quick and would make the bar flicker
                self._report(done, total)

        return self.inner.embed(texts, progress=both)
