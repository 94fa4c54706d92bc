"""Embedders: the bundled sentence-transformers model, and an on-disk vector cache around any.

Vectors are L2-normalised float32, so an inner product is a cosine. The cache is keyed by the
embedder's id and the exact text, so unchanged chunks are never embedded twice, even across app
restarts, and a different model or backend can never reuse another's vectors.
"""
from __future__ import annotations

import copy
import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import numpy as np

from core import model

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total)
BACKENDS = ("torch", "torch-int8")


class Embedder(Protocol):
    """Anything that turns texts into normalised vectors."""

    model_id: str  # identifies model *and* backend: it is part of every cache key
    dimensions: int

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2, loaded from its package directory (never from a hub).

    backend="torch-int8" quantises the transformer's linear layers to int8 (per output channel,
    dynamic activations) except each layer's feed-forward output projection, whose post-GELU
    inputs carry the outliers that int8 handles worst. Measured here on 2 cores: about 1.5x the
    fp32 speed with mean cosine ~0.99 to the fp32 vectors (bench/indexing.py reports both, with
    hit@5 on the sample questions).
    """

    batch_size = 32  # texts per progress step

    def __init__(self, *, backend: str = "torch") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"Unknown backend '{backend}'. Choose one of: {', '.join(BACKENDS)}.")
        model.go_offline()
        from sentence_transformers import SentenceTransformer

        self.backend = backend
        self.model_id = f"{model.MODEL_ID}/{backend}"
        self.dimensions = model.DIMENSIONS
        self._model = SentenceTransformer(str(model.model_path()), device="cpu")
        self._model.max_seq_length = model.MAX_TOKENS
        # Texts per forward pass. Dynamic int8 quantisation scales activations per batch tensor,
        # so a text's vector would depend on its batch-mates (cosine ~0.99 between batchings):
        # one text per pass keeps vectors deterministic, so cached, fresh and query vectors
        # agree; it costs nothing measurable here, since sorted batches of one carry no padding.
        self.encode_batch = 32
        if backend == "torch-int8":
            self._model = _quantise_int8(self._model)
            self.encode_batch = 1

    def batched(self) -> SentenceTransformerEmbedder:
        """A twin sharing this model that encodes 32 texts per pass, for bulk work (indexing a
        corpus, a sentence bank), where throughput matters and the same corpus is always cut
        into the same length-sorted batches.

        For int8 that doubles throughput on short texts (sentences: 147 -> 310/s here) at the
        price of the batch-mate effect above (cosine ~0.99, the size of int8's own error), so it
        gets its own model_id: the cache never mixes the two. Queries and answer sentences use
        the one-text-per-pass embedder, whose vectors never depend on what else is embedded.
        """
        if self.encode_batch == 32:
            return self
        twin = copy.copy(self)
        twin.encode_batch = 32
        twin.model_id = f"{self.model_id}+batched"
        return twin

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        # Longest first in fixed batches: little padding per batch, and a progress bar that moves.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for lo in range(0, len(order), self.batch_size):
            batch = order[lo : lo + self.batch_size]
            out[batch] = self._model.encode(
                [texts[i] for i in batch],
                batch_size=self.encode_batch,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            if progress:
                progress(min(lo + self.batch_size, len(texts)), len(texts))
        return out


def _quantise_int8(st_model):
    import re
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    ffn_out = re.compile(r"layer\.\d+\.output\.dense$")
    names = {
        name: per_channel_dynamic_qconfig
        for name, module in st_model.named_modules()
        if isinstance(module, torch.nn.Linear) and not ffn_out.search(name)
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's migration notice, not actionable here
        return quantize_dynamic(st_model, names, dtype=torch.qint8)


class VectorCache:
    """SQLite store of vectors keyed by (embedder id, text).

    SQLite gives atomic writes and safe concurrent readers. A truncated or corrupted file is
    detected (the open check or any later query fails) and rebuilt empty: the price is
    re-embedding, never a crash.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.rebuilds = 0
        with self._lock:
            self._open_checked()

    @staticmethod
    def key(model_id: str, text: str) -> str:
        return hashlib.sha256(f"{model_id}\x00{text}".encode()).hexdigest()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One short-lived connection: committed on success, always closed (sqlite3's own context
        manager commits but leaves closing to the garbage collector)."""
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, dim INTEGER, vec BLOB)")
            with conn:
                yield conn
        finally:
            conn.close()

    def _open_checked(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self._connect() as conn:
                ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise sqlite3.DatabaseError(ok)
        except sqlite3.Error as exc:
            self._rebuild(exc)

    def _rebuild(self, exc: Exception) -> None:
        log.warning("Vector cache %s is unreadable (%s); rebuilding it empty.", self.path, exc)
        self.rebuilds += 1
        try:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect():
                pass
        except (OSError, sqlite3.Error) as again:
            # Unwritable location: carry on uncached rather than fail the user's indexing.
            log.warning("Vector cache %s cannot be recreated (%s); continuing without it.", self.path, again)

    def get_many(self, keys: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            try:
                with self._connect() as conn:
                    for lo in range(0, len(keys), 500):
                        part = list(keys[lo : lo + 500])
                        marks = ",".join("?" * len(part))
                        rows = conn.execute(
                            f"SELECT key, dim, vec FROM vectors WHERE key IN ({marks})", part
                        ).fetchall()
                        for key, d, blob in rows:
                            # A row of the wrong size is damage, not a vector: treat as missing.
                            if d == dim and len(blob) == dim * 4:
                                found[key] = np.frombuffer(blob, dtype=np.float32)
            except sqlite3.Error as exc:
                self._rebuild(exc)
                return {}
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        if not items:
            return
        rows = [(k, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()]
        with self._lock:
            try:
                with self._connect() as conn:
                    conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
            except sqlite3.Error as exc:
                self._rebuild(exc)

    def __len__(self) -> int:
        with self._lock:
            try:
                with self._connect() as conn:
                    return conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
            except sqlite3.Error as exc:
                self._rebuild(exc)
                return 0


class CachedEmbedder:
    """Wraps an embedder: texts already in the cache are read, only new ones are embedded."""

    def __init__(self, inner: Embedder, cache: VectorCache) -> None:
        self.inner = inner
        self.cache = cache
        self.model_id = inner.model_id
        self.dimensions = inner.dimensions
        self.last_hits = 0
        self.last_misses = 0
        self._bulk: CachedEmbedder | None = None

    def bulk(self) -> CachedEmbedder:
        """The throughput variant of this embedder (see SentenceTransformerEmbedder.batched);
        one twin per embedder, so its hit/miss counts stay readable after a build."""
        if self._bulk is None:
            batched = getattr(self.inner, "batched", None)
            twin = batched() if batched else self.inner
            self._bulk = self if twin is self.inner else CachedEmbedder(twin, self.cache)
        return self._bulk

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        texts = list(texts)
        keys = [VectorCache.key(self.model_id, t) for t in texts]
        found = self.cache.get_many(list(dict.fromkeys(keys)), self.dimensions)
        # Each distinct missing text is embedded once, however often it repeats.
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys) if k not in found))
        self.last_hits, self.last_misses = len(texts) - len(missing), len(missing)
        if missing:
            fresh = self.inner.embed(missing, progress=progress)
            new = {VectorCache.key(self.model_id, t): v for t, v in zip(missing, fresh)}
            self.cache.put_many(new)
            found.update(new)
        elif progress:
            progress(len(texts), len(texts))
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = found[key]
        return out


def for_bulk(embedder: Embedder) -> Embedder:
    """The embedder's throughput variant for a whole corpus, if it has one."""
    bulk = getattr(embedder, "bulk", None)
    return bulk() if bulk else embedder


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "rag-explorer"


def default_embedder(*, backend: str = "torch-int8", cache_dir: Path | str | None = None) -> CachedEmbedder:
    """The app's embedder: the bundled model behind the on-disk cache."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return CachedEmbedder(
        SentenceTransformerEmbedder(backend=backend),
        VectorCache(cache_dir / "vectors.sqlite"),
    )
