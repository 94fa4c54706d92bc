"""Resources shared by every session of the process: loaded once, read-only afterwards."""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from core import model
from core.embedding import DEFAULT_CACHE_DIR, CachedEmbedder, default_embedder

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "sample_docs"
# int8 by default: 1.52x LangChain's indexing here, sample hit@5 within a question of fp32's
# (bench/indexing.py); RAG_EXPLORER_BACKEND=torch selects full fp32.
BACKEND = os.environ.get("RAG_EXPLORER_BACKEND", "torch-int8")
# The id the embedder will have, known without loading the model (index staleness checks).
MODEL_KEY = f"{model.MODEL_ID}/{BACKEND}"


@st.cache_resource(show_spinner="Loading the embedding model (once per server)...")
def embedder(backend: str = BACKEND) -> CachedEmbedder:
    return default_embedder(backend=backend, cache_dir=Path(os.environ.get("RAG_EXPLORER_CACHE", DEFAULT_CACHE_DIR)))
