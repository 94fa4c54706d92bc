"""AppSettings: every setting that comes from the environment, read once into a frozen object.

No module reads the environment at import time: the app builds one AppSettings at start-up
(`AppSettings.from_env()`, cached by ui/resources.py), benchmarks and tests build their own, and
everything downstream receives values, not variable names. Variables:

- RAG_EXPLORER_BACKEND: `torch-bf16` (the default where the CPU multiplies bfloat16 natively) or
  `torch` (full fp32, the default elsewhere)
- RAG_EXPLORER_STORE: the vector store, by registered name (default `faiss`)
- RAG_EXPLORER_CACHE: folder of the on-disk vector cache (default ~/.cache/rag-explorer)
- RAG_EXPLORER_CACHE_MB: the vector cache's size cap; least recently used vectors go first
  (default 1024, about 600k vectors; 0 keeps no cache on disk at all)
- RAG_EXPLORER_MAX_FILE_MB: the Documents page's default per-file limit (default 25)
- The budget every uploaded file is read within (core/limits.py says why each default):
  RAG_EXPLORER_MAX_CHARS (extracted characters per file, default 30,000,000),
  RAG_EXPLORER_MAX_SECONDS (time to read one file, default 120),
  RAG_EXPLORER_MAX_MEMORY_MB (memory of the worker reading one file, default 2048),
  RAG_EXPLORER_MAX_UNZIPPED_MB (a DOCX archive's content unpacked, default 100),
  RAG_EXPLORER_MAX_ZIP_ENTRIES (files inside a DOCX, default 5000),
  RAG_EXPLORER_READ_WORKERS (files read at once over all sessions, default 4)
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
from core.embedding import BACKENDS, DEFAULT_CACHE_MB, default_backend, default_cache_dir
from core.limits import MB, Limits
from core.stores import store_names

# .streamlit/config.toml's server.maxUploadSize: Streamlit refuses anything larger before we see it.
SERVER_UPLOAD_MB = 50


# (variable, AppSettings field, type) of the reading budget.
_LIMIT_VARIABLES = (
    ("RAG_EXPLORER_MAX_CHARS", "max_chars", int),
    ("RAG_EXPLORER_MAX_SECONDS", "max_seconds", float),
    ("RAG_EXPLORER_MAX_MEMORY_MB", "max_memory_mb", int),
    ("RAG_EXPLORER_MAX_UNZIPPED_MB", "max_unzipped_mb", int),
    ("RAG_EXPLORER_MAX_ZIP_ENTRIES", "max_zip_entries", int),
    ("RAG_EXPLORER_READ_WORKERS", "read_workers", int),
)


@dataclass(frozen=True)
class AppSettings:
    backend: str = field(default_factory=default_backend)
    store: str = "faiss"
    cache_dir: Path = field(default_factory=default_cache_dir)
    cache_mb: int = DEFAULT_CACHE_MB
    max_file_mb: int = 25
    preload: bool = True
    max_chars: int = Limits.max_chars
    max_seconds: float = Limits.max_seconds
    max_memory_mb: int = Limits.max_memory_mb
    max_unzipped_mb: int = Limits.max_unzipped_mb
    max_zip_entries: int = Limits.max_zip_entries
    read_workers: int = Limits.workers

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"Unknown embedding backend '{self.backend}'. Choose one of: {', '.join(BACKENDS)}.")
        if self.store not in store_names():
            raise ValueError(f"Unknown vector store '{self.store}'. Choose one of: {', '.join(store_names())}.")
        if not 1 <= self.max_file_mb <= SERVER_UPLOAD_MB:
            raise ValueError(f"The per-file limit must be between 1 and {SERVER_UPLOAD_MB} MB (the server's "
                             f"upload limit); got {self.max_file_mb}.")
        if self.cache_mb < 0:
            raise ValueError(f"The vector cache cap must be 0 MB (no cache) or more; got {self.cache_mb}.")
        _ = self.limits  # validates the reading budget, with its own messages

    @property
    def limits(self) -> Limits:
        """The budget an uploaded file is read within (the Documents page may lower max_bytes)."""
        return Limits(max_bytes=self.max_file_mb * MB, max_chars=self.max_chars, max_seconds=self.max_seconds,
                      max_memory_mb=self.max_memory_mb, max_unzipped_mb=self.max_unzipped_mb,
                      max_zip_entries=self.max_zip_entries, workers=self.read_workers)

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
        if env.get("RAG_EXPLORER_CACHE_MB"):
            try:
                kwargs["cache_mb"] = int(env["RAG_EXPLORER_CACHE_MB"])
            except ValueError:
                raise ValueError("RAG_EXPLORER_CACHE_MB must be a whole number of megabytes.") from None
        if env.get("RAG_EXPLORER_MAX_FILE_MB"):
            try:
                kwargs["max_file_mb"] = int(env["RAG_EXPLORER_MAX_FILE_MB"])
            except ValueError:
                raise ValueError("RAG_EXPLORER_MAX_FILE_MB must be a whole number of megabytes.") from None
        for variable, name, kind in _LIMIT_VARIABLES:
            if env.get(variable):
                try:
                    kwargs[name] = kind(env[variable].replace("_", "").replace(",", ""))
                except ValueError:
                    what = "a whole number" if kind is int else "a number"
                    raise ValueError(f"{variable} must be {what}; got {env[variable]!r}.") from None
        if env.get("RAG_EXPLORER_PRELOAD"):
            kwargs["preload"] = env["RAG_EXPLORER_PRELOAD"].strip().lower() not in ("0", "false", "no", "off")
        return cls(**kwargs)
