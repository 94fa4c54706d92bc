"""Resources shared by every session of the process: loaded once, read-only afterwards."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.embedding import CachedEmbedder, default_embedder
from core.settings import AppSettings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "sample_docs"


@st.cache_resource(show_spinner=False)
def settings() -> AppSettings:
    """The process's settings, read from the environment once."""
    return AppSettings.from_env()


def index_identity() -> str:
    """What an index depends on besides corpus and chunking: model, backend and vector store.
    Known without loading the model, so pages can tell a stale index cheaply."""
    s = settings()
    return f"{s.model_id}@{s.store}"


@st.cache_resource(show_spinner="Loading the embedding model (once per server)...")
def embedder() -> CachedEmbedder:
    s = settings()
    return default_embedder(backend=s.backend, cache_dir=s.cache_dir)
