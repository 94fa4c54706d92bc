"""Building indexes with visible progress: the session's index, or one for another chunking.

Embed through the cached embedder, show progress with an estimate of the time left, report a
failure with st.error and return None instead of raising into the page. Progress updates are also
where Streamlit interrupts a long run: any click reruns the script. That is how Cancel works. The
vector cache keeps what was embedded before the click, so "Continue" resumes where it stopped.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import streamlit as st

from core.chunking import ChunkConfig, index_texts, needs_sentences, split_corpus
from core.documents import Document
from core.embedding import Embedder, Progress, SessionEmbedder
from core.retrieval import Retriever
from core.sentences import SentenceBank
from ui import state
from ui.documents_index import confirm_long_build, note_build
from ui.resources import embedder, settings
from ui.text import md


class Eta:
    """Progress text with the time left, estimated from the rate so far.

    `every_s` > 0 updates the bar at most that often (and at the end): each update is a message to
    the browser, and a 12,000-question evaluation must not send 12,000 of them. An update is also
    where a Cancel click interrupts the script, so Cancel still takes effect within `every_s`."""

    def __init__(self, bar, what: str, *, every_s: float = 0.0) -> None:
        self.bar, self.what, self.every_s = bar, what, every_s
        self.started = self.last = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if self.every_s and now - self.last < self.every_s and done < total:
            return
        self.last = now
        elapsed = now - self.started
        left = ""
        if 0 < done < total and elapsed > 0.5:
            seconds = elapsed / done * (total - done)
            left = f" · about {seconds:.0f} s left" if seconds < 90 else f" · about {seconds / 60:.0f} min left"
        self.bar.progress(min(done / max(total, 1), 1.0), text=f"{self.what}: {done:,} / {total:,}{left}")


def session_embedder() -> SessionEmbedder:
    """The shared embedder as this session sees it: what it shows depends on this session's work
    only, what it writes is recorded (for "Clear my data"), and its queries never reach the disk."""
    return SessionEmbedder(embedder(), state.cache_ledger())


def sentence_bank(docs: Sequence[Document], *, progress: Progress | None = None) -> tuple[SentenceBank, int]:
    """The loaded corpus's sentence vectors, built once per corpus and model; the count of texts
    that needed the model."""
    bank = state.sentence_bank()
    if bank is not None:
        return bank, 0
    counting = _Counting(session_embedder())
    bank = SentenceBank(docs, embedder=counting, progress=progress)
    state.store_sentence_bank(bank)
    return bank, counting.embedded


def build_index() -> state.BuiltIndex | None:
    """The session's index for its current chunks: reused when fresh, otherwise built now."""
    built = state.built_index()
    if built is not None:
        return built
    if state.index_build_paused():
        st.info("Index build cancelled. Vectors embedded so far are kept, so continuing starts where it stopped.")
        st.button("Continue building the index", key="index_continue", type="primary",
                  on_click=state.resume_index_build)
        return None
    if needs_sentences(state.chunk_config().splitter):  # issue 13: the semantic splitter reads the bank
        from ui.chunking_strategy import ensure_sentences

        if not ensure_sentences(state.chunk_config()):
            return None
    try:
        chunks = state.chunks()
    except Exception as exc:  # a splitter failure must not lose the session
        st.error(f"Chunking failed: {md(str(exc))}")
        return None
    if not chunks:
        st.info("There is no text to index: the loaded documents have no chunks.")
        return None
    if not confirm_long_build(chunks, state.index_key()):  # many minutes ahead: ask first
        return None
    started = time.perf_counter()
    slot = st.empty()  # the progress bar and Cancel go once the index is there
    with slot.container(key="index_build"):
        bar = st.progress(0.0, text=f"Building the index of {len(chunks):,} chunks...")
        st.button("Cancel", key="index_cancel", on_click=state.pause_index_build,
                  help="Stops the build; what is embedded so far is kept.")
        try:
            emb = session_embedder()  # waits for the background load, with its own spinner, if it is not done
            vectors, embedded = emb.embed_counted(index_texts(chunks), progress=Eta(bar, "Embedding chunks"))
            retriever = Retriever.from_vectors(chunks, vectors, embedder=emb.queries(), store=settings().store,
                                               documents=state.documents())
            bank, more = sentence_bank(list(state.documents().values()),
                                       progress=Eta(bar, "Embedding sentences (for answers and grounding)"))
        except Exception as exc:
            bar.empty()
            st.error(f"Building the index failed: {md(str(exc))}")
            return None
    built = state.BuiltIndex(state.index_key(), retriever, bank, time.perf_counter() - started, embedded, more)
    state.store_index(built)
    note_build(chunks, embedded=embedded, seconds=built.seconds)
    slot.empty()
    return built


def build_retriever(docs: Sequence[Document], config: ChunkConfig) -> Retriever | None:
    """An index of `docs` under another chunking (exact vectors), without touching the session's."""
    bar = st.progress(0.0, text=f"Chunking with {config.label()}...")
    try:
        chunks = split_corpus(docs, config=config,
                              sentences=state.sentence_bank() if needs_sentences(config.splitter) else None)
        emb = session_embedder()
        vectors = emb.embed(index_texts(chunks), progress=Eta(bar, f"Embedding chunks ({config.label()})"))
        retriever = Retriever.from_vectors(chunks, vectors, embedder=emb.queries(), store=settings().store,
                                           documents=docs)
    except Exception as exc:
        bar.empty()
        st.error(f"Building the index for {config.label()} failed: {md(str(exc))}")
        return None
    bar.empty()
    return retriever


class _Counting:
    """An embedder that counts the texts its cached inner embedder had to compute."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimensions = inner.dimensions
        self.embedded = 0

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        vectors, fresh = self.inner.embed_counted(texts, progress=progress)
        self.embedded += fresh
        return vectors


class ReportingEmbedder:
    """Wraps an embedder so every long embed call reports progress (and so can be interrupted)."""

    def __init__(self, inner: Embedder, report: Callable[[int, int], None], *, min_texts: int = 16) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimensions = inner.dimensions
        self._report = report
        self._min = min_texts

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        def both(done: int, total: int) -> None:
            if progress:
                progress(done, total)
            if total >= self._min:  # skip query batches: they are quick and would make the bar flicker
                self._report(done, total)

        return self.inner.embed(texts, progress=both)
