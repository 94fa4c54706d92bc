"""Embedders: the bundled sentence-transformers model, and an on-disk vector cache around any.

Vectors are L2-normalised float32, so an inner product is a cosine. The cache is keyed by the
embedder's id and the exact text, so unchanged chunks are never embedded twice, even across app
restarts, and a different model or backend can never reuse another's vectors.
"""
from __future__ import annotations

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
BACKENDS = ("torch", "torch-bf16")


class Embedder(Protocol):
    """Anything that turns texts into normalised vectors."""

    model_id: str  # identifies model *and* backend: it is part of every cache key
    dimensions: int

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray: ...


def cpu_has_bf16() -> bool:
    """True when the CPU multiplies bfloat16 natively (AVX512-BF16 or AMX); elsewhere bf16 is
    emulated and slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def default_backend() -> str:
    """bf16 where the CPU supports it (2.4-2.7x fp32 here, cosine >= 0.9998 to fp32), else fp32."""
    return "torch-bf16" if cpu_has_bf16() else "torch"


class SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2, loaded from its package directory (never from a hub).

    Same text, same vector: texts are tokenised once and grouped by exact token length, so no
    batch carries padding, and each group runs in batches of up to `token_budget` tokens. A text's
    vector then does not depend on what it is batched with: with bf16 it is bit-identical to the
    text embedded alone (tests/test_embedding.py checks across batch sizes), and fp32 agrees to
    within rounding. Padding was the one path by which batch-mates leaked in (different summation
    lengths in attention); dynamic int8, which also scales activations per batch, was dropped for
    it: it was slower than bf16 here and its batched vectors strayed to cosine 0.92 of the text
    alone.

    Pooling is the model's own (mean over tokens, then L2 normalisation), done here in float32.
    `passes` counts forward passes, so tests and benchmarks can see that nothing is embedded one
    text per pass.
    """

    token_budget = 8192  # tokens per forward pass: large enough to amortise the per-pass overhead

    def __init__(self, *, backend: str = "torch") -> None:
        if backend not in BACKENDS:
            raise ValueError(f"Unknown backend '{backend}'. Choose one of: {', '.join(BACKENDS)}.")
        model.go_offline()
        import torch
        from sentence_transformers import SentenceTransformer

        self.backend = backend
        self.model_id = f"{model.MODEL_ID}/{backend}"
        self.dimensions = model.DIMENSIONS
        dtype = torch.bfloat16 if backend == "torch-bf16" else torch.float32
        st_model = SentenceTransformer(str(model.model_path()), device="cpu", model_kwargs={"torch_dtype": dtype})
        bert = st_model[0].auto_model  # the Hugging Face BertModel inside
        assert isinstance(bert, torch.nn.Module)
        self._bert = bert.eval()
        self.passes = 0
        self._lock = threading.Lock()  # one forward pass at a time: the CPU is the limit anyway

    def _ids(self, texts: list[str]) -> list[list[int]]:
        """Word pieces with [CLS]/[SEP], cut to the model's window as sentence-transformers does."""
        out = []
        for enc in model.encoder().encode_batch(texts, add_special_tokens=True):
            ids = enc.ids
            if len(ids) > model.MAX_TOKENS:
                ids = ids[: model.MAX_TOKENS - 1] + ids[-1:]
            out.append(ids)
        return out

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        import torch

        texts = list(texts)
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        ids = self._ids(texts)
        groups: dict[int, list[int]] = {}
        for i, piece in enumerate(ids):
            groups.setdefault(len(piece), []).append(i)
        batches: list[list[int]] = []
        for length in sorted(groups, reverse=True):  # longest first: the ETA settles early
            members = groups[length]
            per = max(1, self.token_budget // length)
            batches.extend(members[lo : lo + per] for lo in range(0, len(members), per))
        done = 0
        for batch in batches:
            tokens = torch.tensor([ids[i] for i in batch])
            with self._lock, torch.inference_mode():
                hidden = self._bert(input_ids=tokens, attention_mask=torch.ones_like(tokens),
                                    token_type_ids=torch.zeros_like(tokens)).last_hidden_state
                self.passes += 1
            pooled = torch.nn.functional.normalize(hidden.float().mean(dim=1), dim=1)
            out[batch] = pooled.numpy()
            done += len(batch)
            if progress:
                progress(done, len(texts))
        return out


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
    """Wraps an embedder: texts already in the cache are read, only new ones are embedded.

    New vectors reach the cache in blocks of about one forward pass of text, and progress is
    reported only once a block is stored: a Streamlit click interrupts the script at a progress
    update, so an interrupted build (Cancel in the app) keeps everything it reported, and the next
    build starts from there. Missing texts are taken longest first, so a block holds texts of
    neighbouring lengths and the model's same-length batches stay as full as in one big call.
    """

    block_chars = 24_000  # ~6k word pieces: one or two forward passes

    def __init__(self, inner: Embedder, cache: VectorCache) -> None:
        self.inner = inner
        self.cache = cache
        self.model_id = inner.model_id
        self.dimensions = inner.dimensions

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        return self.embed_counted(texts, progress=progress)[0]

    def embed_counted(self, texts: Sequence[str], *, progress: Progress | None = None) -> tuple[np.ndarray, int]:
        """The vectors, and how many distinct texts needed the model (the rest came from the cache).

        The count is returned, not kept on the embedder: one embedder serves every session, and a
        count left on it would tell one user what another just embedded."""
        texts = list(texts)
        keys = [VectorCache.key(self.model_id, t) for t in texts]
        found = self.cache.get_many(list(dict.fromkeys(keys)), self.dimensions)
        # Each distinct missing text is embedded once, however often it repeats.
        missing = sorted(dict.fromkeys(t for t, k in zip(texts, keys) if k not in found), key=len, reverse=True)
        hits = len(texts) - len(missing)
        done = 0
        for block in _blocks(missing, self.block_chars):
            fresh = self.inner.embed(block)
            new = {VectorCache.key(self.model_id, t): v for t, v in zip(block, fresh)}
            self.cache.put_many(new)
            found.update(new)
            done += len(block)
            if progress:
                progress(hits + done, len(texts))
        if not missing and progress:
            progress(len(texts), len(texts))
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = found[key]
        return out, len(missing)


def _blocks(texts: list[str], max_chars: int) -> Iterator[list[str]]:
    """Consecutive runs of `texts` of at most `max_chars` characters (at least one text each)."""
    block: list[str] = []
    size = 0
    for t in texts:
        if block and size + len(t) > max_chars:
            yield block
            block, size = [], 0
        block.append(t)
        size += len(t)
    if block:
        yield block


def default_cache_dir() -> Path:
    return Path.home() / ".cache" / "rag-explorer"


def default_embedder(*, backend: str | None = None, cache_dir: Path | str | None = None) -> CachedEmbedder:
    """The app's embedder: the bundled model (bf16 where the CPU has it) behind the on-disk cache."""
    backend = backend or default_backend()
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return CachedEmbedder(
        SentenceTransformerEmbedder(backend=backend),
        VectorCache(cache_dir / "vectors.sqlite"),
    )
