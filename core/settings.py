"""AppSettings: every setting that comes from the environment, read once into a frozen object.

No module reads the environment at import time: the app builds one AppSettings at start-up
(`AppSettings.from_env()`, cached by ui/resources.py), benchmarks and tests build their own, and
everything downstream receives values, not variable names. Variables:

- RAG_EXPLORER_BACKEND: `torch-bf16` (the default where the CPU multiplies bfloat16 natively) or
  `torch` (full fp32, the default elsewhere)
- RAG_EXPLORER_STORE: the vector store, by registered name (default `faiss`)
- RAG_EXPLORER_CACHE: folder of the on-disk vector cache (default ~/.cache/rag-explorer)
- RAG_EXPLORER_MAX_FILE_MB: the Documents page's default per-file limit (default 25)
- RAG_EXPLORER_PRELOAD: `0` to load the model only when a page first needs it (default `1`: start
  loading it in the background when the app starts; the test suite turns this off)
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core import model
from core.chunking import MAX_SIZE, MIN_SIZE
from core.embedding import BACKENDS, default_backend, default_cache_dir
from core.stores import store_names

# .streamlit/config.toml's server.maxUploadSize: Streamlit refuses anything larger before we see it.
SERVER_UPLOAD_MB = 50


@dataclass(frozen=True)
class AppSettings:
    backend: str = field(default_factory=default_backend)
    store: str = "faiss"
    cache_dir: Path = field(default_factory=default_cache_dir)
    max_file_mb: int = 25
    preload: bool = True

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"Unknown embedding backend '{self.backend}'. Choose one of: {', '.join(BACKENDS)}.")
        if self.store not in store_names():
            raise ValueError(f"Unknown vector store '{self.store}'. Choose one of: {', '.join(store_names())}.")
        if not 1 <= self.max_file_mb <= SERVER_UPLOAD_MB:
            raise ValueError(f"The per-file limit must be between 1 and {SERVER_UPLOAD_MB} MB (the server's "
                             f"upload limit); got {self.max_file_mb}.")

    @property
    def model_id(self) -> str:
        """The id the embedder will have, known without loading the model (staleness checks)."""
        return f"{model.MODEL_ID}/{self.backend}"

    @property
    def server_upload_mb(self) -> int:
        return SERVER_UPLOAD_MB

    @staticmethod
    def chunk_size_range(unit: str) -> tuple[int, int]:
        """The chunk sizes ChunkConfig accepts for `unit`: what every size widget offers."""
        return MIN_SIZE[unit], MAX_SIZE[unit]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AppSettings:
        env = os.environ if environ is None else environ
        kwargs: dict = {}
        if env.get("RAG_EXPLORER_BACKEND"):
            kwargs["backend"] = env["RAG_EXPLORER_BACKEND"]
        if env.get("RAG_EXPLORER_STORE"):
            kwargs["store"] = env["RAG_EXPLORER_STORE"]
        if env.get("RAG_EXPLORER_CACHE"):
            kwargs["cache_dir"] = Path(env["RAG_EXPLORER_CACHE"]).expanduser()
        if env.get("RAG_EXPLORER_MAX_FILE_MB"):
            try:
                kwargs["max_file_mb"] = int(env["RAG_EXPLORER_MAX_FILE_MB"])
            except ValueError:
                raise ValueError("RAG_EXPLORER_MAX_FILE_MB must be a whole number of megabytes.") from None
        if env.get("RAG_EXPLORER_PRELOAD"):
            kwargs["preload"] = env["RAG_EXPLORER_PRELOAD"].strip().lower() not in ("0", "false", "no", "off")
        return cls(**kwargs)
