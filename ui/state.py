"""Per-session state: every key the pages share lives here, behind small accessors.

Each browser session has its own documents, settings and results (st.session_state); only the
model and other read-only resources are shared across sessions (see ui/resources.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.chunking import Chunk, ChunkConfig, split_corpus
from core.documents import Document
from core.retrieval import RetrievalConfig, Retriever

# Keys of st.session_state owned by this module. Pages read them through the functions below.
DOCUMENTS = "documents"            # dict[str, Document], insertion-ordered
CHUNK_CONFIG = "chunk_config"      # ChunkConfig
RETRIEVAL_CONFIG = "retrieval_config"  # core.retrieval.RetrievalConfig
CHUNK_CACHE = "_chunks"            # (key, list[Chunk]) for the current documents + config
RETRIEVAL_K = "retrieval_k"        # int, mirrors RETRIEVAL_CONFIG.k for the cost page
RETRIEVER = "_retriever"           # BuiltIndex for the current chunks, or absent
EVAL_SUMMARY = "eval_summary"      # {"label": str, "hit@K": float, ...} of the latest run, for the report
DECISION_ANSWERS = "decision_answers"  # dict[str, str] question id -> answer, for the report
COST_INPUTS = "cost_inputs"        # the cost page's current inputs, for the report


_LISTENER = "_on_change"


def on_change(callback) -> None:
    """Register this run's callback for state changes (the sidebar redraws itself with it)."""
    st.session_state[_LISTENER] = callback


def _changed() -> None:
    callback = st.session_state.get(_LISTENER)
    if callback is not None:
        callback()


def documents() -> dict[str, Document]:
    return st.session_state.setdefault(DOCUMENTS, {})


def add_documents(docs: list[Document]) -> list[str]:
    """Add or replace documents by name; returns the names that replaced an earlier version."""
    current = documents()
    replaced = [d.name for d in docs if d.name in current]
    for doc in docs:
        current[doc.name] = doc
    if docs:
        _changed()
    return replaced


def remove_document(name: str) -> None:
    if documents().pop(name, None) is not None:
        _changed()


def clear_documents() -> None:
    documents().clear()
    _changed()


def chunk_config() -> ChunkConfig:
    return st.session_state.setdefault(CHUNK_CONFIG, ChunkConfig())


def set_chunk_config(config: ChunkConfig) -> None:
    changed = st.session_state.get(CHUNK_CONFIG) != config
    st.session_state[CHUNK_CONFIG] = config
    if changed:
        _changed()


def corpus_key() -> tuple[str, ...]:
    """Identity of the loaded corpus: names and content digests, in order."""
    return tuple(f"{d.name}:{d.digest}" for d in documents().values())


def chunks() -> list[Chunk]:
    """Chunks of the loaded documents under the current config, recomputed only on change.

    The key holds every input that changes the result (corpus content and the whole frozen
    config), so a changed setting can never silently reuse old chunks.
    """
    key = (corpus_key(), chunk_config())
    cached = st.session_state.get(CHUNK_CACHE)
    if cached is not None and cached[0] == key:
        return cached[1]
    result = split_corpus(documents().values(), config=chunk_config())
    st.session_state[CHUNK_CACHE] = (key, result)
    return result


@dataclass(frozen=True)
class ChunkStats:
    n_chunks: int
    mean_tokens: float
    max_tokens: int
    n_truncated: int


def chunk_stats() -> ChunkStats | None:
    """Summary of the current chunking, or None when no documents are loaded."""
    if not documents():
        return None
    cs = chunks()
    if not cs:
        return None
    counts = [c.n_tokens for c in cs]
    return ChunkStats(
        n_chunks=len(cs),
        mean_tokens=sum(counts) / len(counts),
        max_tokens=max(counts),
        n_truncated=sum(1 for c in cs if c.truncated),
    )


def retrieval_config() -> RetrievalConfig:
    return st.session_state.setdefault(RETRIEVAL_CONFIG, RetrievalConfig())


def set_retrieval_config(config: RetrievalConfig) -> None:
    changed = st.session_state.get(RETRIEVAL_CONFIG) != config
    st.session_state[RETRIEVAL_CONFIG] = config
    st.session_state[RETRIEVAL_K] = config.k
    if changed:
        _changed()


@dataclass(frozen=True)
class BuiltIndex:
    key: tuple  # (corpus, chunk config, embedder id) it was built from
    retriever: Retriever
    seconds: float
    embedded: int  # chunks that needed the model (the rest came from the vector cache)


def index_key(model_id: str) -> tuple:
    return (corpus_key(), chunk_config(), model_id)


def built_index(model_id: str) -> BuiltIndex | None:
    """The index for the current documents and chunking, or None if absent or stale."""
    built = st.session_state.get(RETRIEVER)
    return built if built is not None and built.key == index_key(model_id) else None


def index_is_stale(model_id: str) -> bool:
    built = st.session_state.get(RETRIEVER)
    return built is not None and built.key != index_key(model_id)


def store_index(built: BuiltIndex) -> None:
    st.session_state[RETRIEVER] = built
    _changed()
