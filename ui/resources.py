"""Resources shared by every session of the process: loaded once, read-only afterwards.

The embedding model starts loading in a background thread the first time the app runs
(`warm_up()`, called by app.py), and runs one small batch so the first real request finds the
kernels ready. Pages that need the model call `embedder()`, which waits for that load rather than
starting its own: by the time a user has loaded documents and opened a page, it is usually done.
"""
from __future__ import annotations

import gc
import threading
from pathlib import Path

import streamlit as st

from core.embedding import CachedEmbedder, default_embedder
from core.settings import AppSettings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "sample_docs"

_loads: dict[AppSettings, _Load] = {}
_loads_lock = threading.Lock()


class _Load:
    """One background load of the embedder for one set of settings."""

    def __init__(self, settings: AppSettings) -> None:
        self.settings = settings
        self.embedder: CachedEmbedder | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="rag-explorer-model-load", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            emb = default_embedder(backend=self.settings.backend, cache_dir=self.settings.cache_dir,
                                   cache_mb=self.settings.cache_mb)
            emb.inner.embed(["warm up the kernels", "and a second, longer text to warm them up"])
            self.embedder = emb
            # The model, torch and every library are loaded for good now: move them out of the
            # garbage collector's sight, so its full collections walk only what requests create.
            gc.freeze()
        except BaseException as exc:  # re-raised in the session that asks for the model
            self.error = exc

    def result(self) -> CachedEmbedder:
        self.thread.join()
        if self.error is not None:
            raise RuntimeError(f"The embedding model could not be loaded: {self.error}") from self.error
        assert self.embedder is not None
        return self.embedder


@st.cache_resource(show_spinner=False)
def settings() -> AppSettings:
    """The process's settings, read from the environment once."""
    return AppSettings.from_env()


def index_identity() -> str:
    """What an index depends on besides corpus and chunking: model, backend and vector store.
    Known without loading the model, so pages can tell a stale index cheaply."""
    s = settings()
    return f"{s.model_id}@{s.store}"


def warm_up(*, force: bool = False) -> None:
    """Start loading the model in the background (once per process and settings); returns at once.
    Does nothing when preloading is switched off, unless `force`d by a page that needs the model."""
    s = settings()
    if not (s.preload or force):
        return
    with _loads_lock:
        if s not in _loads:
            _loads[s] = _Load(s)


@st.cache_resource(show_spinner="Loading the embedding model (once per server)...")
def embedder() -> CachedEmbedder:
    warm_up(force=True)
    return _loads[settings()].result()


def model_status() -> str:
    """Where the model's load stands, in words for the sidebar."""
    load = _loads.get(settings())
    if load is None:
        return "loads when first needed"
    if load.thread.is_alive():
        return "loading in the background"
    return "ready" if load.error is None else "failed to load"
