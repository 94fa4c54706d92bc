"""Embedders: the bundled sentence-transformers model, and an on-disk vector cache around any.

Vectors are L2-normalised float32, so an inner product is a cosine. The cache is keyed by the
embedder's id and the exact text, so unchanged chunks are never embedded twice, even across app
restarts, and a different model or backend can never reuse another's vectors.

The cache is private to the account that runs the app, and one server serves many people, so:
- its folder is 0700 and its files 0600 (tightened when they exist with looser modes);
- a key is HMAC-SHA256 of (model id, text) under a random secret kept beside it (0600): without
  the secret nobody can check offline whether a given text was embedded;
- what a session is shown depends only on its own work (`CacheLedger`, `SessionEmbedder`):
  "from cache" means "embedded by this session before", never "someone else embedded this";
- it is capped (least recently used rows go first), and a session can delete what it wrote;
- a busy cache (another process writing) is skipped for that write after about a second, never
  deleted; only a file SQLite calls corrupt is rebuilt, and the old file is moved aside;
- a vector read back is checked (finite, unit length); a bad row is re-embedded and overwritten.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import sqlite3
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

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


# -- the on-disk vector cache -------------------------------------------------------------------

DEFAULT_CACHE_MB = 1024  # ~600k MiniLM vectors: every chunk of a few thousand documents, a few sweeps
SECRET_NAME = "cache.key"
CACHE_NAME = "vectors.sqlite"
_ROW_OVERHEAD = 80  # bytes SQLite spends per row besides the vector: key, columns, index entry
_SCHEMA = 2  # 1: plain sha256 keys, no last-use column (dropped on open: those keys are checkable)

# SQLite's primary result codes (sqlite3.Error.sqlite_errorcode & 0xff).
_BUSY, _LOCKED, _READONLY, _CORRUPT, _CANTOPEN, _NOTADB = 5, 6, 8, 11, 14, 26


def _tighten(path: Path) -> None:
    """Drop group and other permissions from something this account owns.

    Another account's folder, or a shared sticky folder such as /tmp, is left alone (changing it
    would break other programs): the files inside are 0600 regardless."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    mode = stat.S_IMODE(st.st_mode)
    if not mode & 0o077:
        return
    if st.st_uid != os.geteuid() or (stat.S_ISDIR(st.st_mode) and mode & stat.S_ISVTX):
        log.warning("%s is readable by others (mode %o) and not ours to change; the cache files in it "
                    "are owner-only.", path, mode)
        return
    try:
        os.chmod(path, mode & 0o700)
    except OSError as exc:
        log.warning("Could not make %s owner-only: %s", path, exc)


def private_dir(path: Path) -> Path:
    """`path` created as 0700, or tightened to it when it exists with looser modes."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path)
    return path


def load_secret(directory: Path) -> bytes:
    """The cache's 32-byte HMAC secret, created on first use (owner-only, atomically).

    The new secret is written to a private temporary file and hard-linked into place: the link
    fails if another process got there first (then its secret is used), and no reader ever sees a
    half-written file. A secret of the wrong length is moved aside and replaced (the cache's rows
    then no longer match and are dropped, see VectorCache)."""
    path = directory / SECRET_NAME
    for _ in range(3):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = None
        if data is not None:
            _tighten(path)
            if len(data) == 32:
                return data
            log.warning("Cache secret %s is damaged (%d bytes); replacing it.", path, len(data))
            os.replace(path, path.with_name(SECRET_NAME + ".damaged"))
        tmp = directory / f".{SECRET_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(32))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process created it meanwhile: read theirs on the next turn
        finally:
            tmp.unlink(missing_ok=True)
    raise OSError(f"Could not create the cache secret {path}.")


def _code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _is_corrupt(exc: sqlite3.Error) -> bool:
    if _code(exc) in (_CORRUPT, _NOTADB):
        return True
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def _is_busy(exc: sqlite3.Error) -> bool:
    return _code(exc) in (_BUSY, _LOCKED) or "locked" in str(exc).lower() or "busy" in str(exc).lower()


def _is_read_only(exc: sqlite3.Error) -> bool:
    return _code(exc) == _READONLY or "readonly" in str(exc).lower()


class VectorCache:
    """SQLite store of vectors keyed by HMAC(secret, embedder id + text), capped, owner-only.

    Concurrency: WAL mode, so readers never wait for a writer; a write takes the write lock with
    `BEGIN IMMEDIATE` and waits at most `busy_wait_s` for it, then gives that write up (the vectors
    are still returned to the caller, just not kept). There is no Python lock around queries: every
    call opens its own short connection.

    Damage: only an error SQLite reports as corruption ("file is not a database", "malformed")
    rebuilds the file, and the damaged file is moved aside to `vectors.sqlite.corrupt` (one copy
    kept, owner-only), never deleted. A read-only file is still read; its writes are skipped.
    A cap of 0 MB switches the cache off (nothing is written to disk).
    """

    def __init__(self, path: Path | str, *, max_mb: float = DEFAULT_CACHE_MB, busy_wait_s: float = 1.0,
                 clock: Callable[[], float] = time.time) -> None:
        if max_mb < 0:
            raise ValueError(f"The cache cap must be 0 MB (off) or more; got {max_mb}.")
        if busy_wait_s < 0:
            raise ValueError(f"busy_wait_s must be >= 0; got {busy_wait_s}.")
        self.path = Path(path)
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.busy_wait_s = busy_wait_s
        self.clock = clock  # last-use times come from here (tests step it)
        self.rebuilds = 0          # files found corrupt and moved aside
        self.skipped_writes = 0    # writes given up because another writer held the lock
        self.bad_rows = 0          # rows read back that were not a finite unit vector
        self.evicted = 0           # rows dropped to stay under the cap
        self.read_only = False
        self.enabled = self.max_bytes > 0
        self._secret = b""
        self._immutable = False  # read-only and unable to share the write-ahead log: read as a snapshot
        self._rows_estimate = 0    # rows in the file, give or take other writers; exact when it matters
        self._rebuild_lock = threading.Lock()  # only around moving a corrupt file aside, never queries
        if self.enabled:
            self._open()

    # -- keys ------------------------------------------------------------------------------------

    def key(self, model_id: str, text: str) -> bytes:
        """HMAC-SHA256 of (model id, text) under this cache's secret: unguessable without it."""
        return hmac.new(self._secret, f"{model_id}\x00{text}".encode(), hashlib.sha256).digest()

    def _fingerprint(self) -> bytes:
        return hmac.new(self._secret, b"rag-explorer vector cache", hashlib.sha256).digest()[:16]

    # -- opening ---------------------------------------------------------------------------------

    def _files(self) -> list[Path]:
        return [Path(f"{self.path}{suffix}") for suffix in ("", "-wal", "-shm")]

    def _open(self) -> None:
        try:
            private_dir(self.path.parent)
            self._secret = load_secret(self.path.parent)
        except OSError as exc:
            try:  # a read-only folder with an existing secret: still readable
                self._secret = (self.path.parent / SECRET_NAME).read_bytes()
                if len(self._secret) != 32:
                    raise OSError("damaged secret") from None
                self.read_only = True
            except OSError:
                log.warning("Vector cache folder %s is unusable (%s); continuing without a cache.",
                            self.path.parent, exc)
                self.enabled = False
                return
        if not self.path.exists() and not self.read_only:
            try:  # created owner-only before SQLite sees it: its -wal and -shm copy this mode
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            except OSError:
                self.read_only = True
        for f in self._files():
            _tighten(f)
        if not self.read_only and not os.access(self.path, os.W_OK):
            self.read_only = True
        try:
            try:
                self._check_and_migrate()
            except sqlite3.Error as exc:
                if not (self.read_only and (_is_read_only(exc) or _code(exc) == _CANTOPEN)):
                    raise
                # A WAL file in a folder we cannot write: SQLite cannot make its shared-memory
                # index, so read the file as immutable (nobody can change it through us anyway).
                self._immutable = True
                self._check_and_migrate()
        except sqlite3.Error as exc:
            if _is_corrupt(exc):
                self._rebuild(exc)
            elif _is_read_only(exc):
                self.read_only = True
            else:  # busy at start-up, say: the schema is someone else's job right now
                log.warning("Vector cache %s could not be checked (%s); using it as it is.", self.path, exc)

    def _check_and_migrate(self) -> None:
        conn = self._connect(wait_s=max(self.busy_wait_s, 5.0))
        try:
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise sqlite3.DatabaseError(f"database disk image is malformed: {ok}")
            if self.read_only:
                self._rows_estimate = self._count(conn)
                return
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                columns = {row[1] for row in conn.execute("PRAGMA table_info(vectors)")}
                if columns and "used" not in columns:
                    # Schema 1 keyed rows by a plain hash of the text: anyone could check a guess.
                    log.warning("Vector cache %s: dropping rows keyed by plain text hashes.", self.path)
                    conn.execute("DROP TABLE vectors")
                conn.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB)")
                conn.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, dim INTEGER NOT NULL, "
                             "vec BLOB NOT NULL, used INTEGER NOT NULL)")
                conn.execute("CREATE INDEX IF NOT EXISTS vectors_used ON vectors(used)")
                row = conn.execute("SELECT value FROM meta WHERE name='keyed_by'").fetchone()
                if row is None or bytes(row[0]) != self._fingerprint():
                    if row is not None:  # keys made under another secret can never match again
                        log.warning("Vector cache %s was keyed under another secret; emptying it.", self.path)
                    conn.execute("DELETE FROM vectors")
                    conn.execute("INSERT OR REPLACE INTO meta VALUES ('keyed_by', ?)", (self._fingerprint(),))
                    conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (_SCHEMA,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._rows_estimate = self._count(conn)
        finally:
            conn.close()

    def _connect(self, *, wait_s: float | None = None) -> sqlite3.Connection:
        """A short-lived connection in autocommit mode (transactions are explicit)."""
        wait = self.busy_wait_s if wait_s is None else wait_s
        if self.read_only:
            uri = f"file:{quote(str(self.path))}?mode=ro" + ("&immutable=1" if self._immutable else "")
            conn = sqlite3.connect(uri, uri=True, timeout=wait, isolation_level=None, check_same_thread=False)
        else:
            conn = sqlite3.connect(self.path, timeout=wait, isolation_level=None, check_same_thread=False)
            # Deleted rows (eviction, "clear my data") are overwritten with zeros, not left in free pages.
            conn.execute("PRAGMA secure_delete=ON")
        return conn

    @staticmethod
    def _count(conn: sqlite3.Connection) -> int:
        try:
            return int(conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
        except sqlite3.OperationalError:  # no table yet (a read-only file never set up)
            return 0

    # -- damage and contention -------------------------------------------------------------------

    def _failed(self, exc: sqlite3.Error, what: str) -> None:
        """Decide what an error means. Only corruption rebuilds; nothing here deletes rows."""
        if _is_corrupt(exc):
            self._rebuild(exc)
        elif _is_busy(exc):
            if what == "write":
                self.skipped_writes += 1
            log.info("Vector cache %s is busy (%s); %s skipped.", self.path, exc, what)
        elif _is_read_only(exc):
            if not self.read_only:
                log.warning("Vector cache %s is read-only; it is still read, but nothing new is kept.", self.path)
            self.read_only = True
        else:
            log.warning("Vector cache %s: %s failed (%s); carrying on without it for this call.", self.path, what, exc)

    def _still_corrupt(self) -> bool:
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_wait_s)
            try:
                return conn.execute("PRAGMA quick_check").fetchone()[0] != "ok"
            finally:
                conn.close()
        except sqlite3.Error as exc:
            return _is_corrupt(exc)

    def _rebuild(self, exc: Exception) -> None:
        with self._rebuild_lock:
            if self.read_only:
                log.warning("Vector cache %s is damaged (%s) and read-only; not using it.", self.path, exc)
                self.enabled = False
                return
            if self.rebuilds and not self._still_corrupt():
                return  # another thread moved the damaged file aside already
            aside = Path(f"{self.path}.corrupt")
            log.warning("Vector cache %s is damaged (%s); moved to %s, starting a new one.", self.path, exc, aside)
            self.rebuilds += 1
            try:
                for src in self._files():
                    if src.exists():
                        os.replace(src, Path(f"{aside}{str(src)[len(str(self.path)):]}"))
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
                self._check_and_migrate()
            except (OSError, sqlite3.Error) as again:
                log.warning("Vector cache %s cannot be recreated (%s); continuing without it.", self.path, again)
                self.enabled = False

    # -- reading and writing ---------------------------------------------------------------------

    def get_many(self, keys: Sequence[bytes], dim: int) -> dict[bytes, np.ndarray]:
        """The stored vectors of `keys` that are sound; a missing, damaged or busy read is missing.

        Sound means: `dim` finite float32 values of unit length. Anything else (zeros, NaN, noise
        written by something else) is logged and left out, so the caller re-embeds and overwrites it."""
        found: dict[bytes, np.ndarray] = {}
        if not self.enabled or not keys:
            return found
        bad = 0
        try:
            conn = self._connect()
            try:
                for lo in range(0, len(keys), 500):
                    part = list(keys[lo : lo + 500])
                    marks = ",".join("?" * len(part))
                    for key, d, blob in conn.execute(f"SELECT key, dim, vec FROM vectors WHERE key IN ({marks})", part):
                        vec = np.frombuffer(blob, dtype=np.float32) if d == dim and len(blob) == dim * 4 else None
                        if vec is None or not np.all(np.isfinite(vec)) or abs(float(np.dot(vec, vec)) - 1.0) > 1e-3:
                            bad += 1
                            continue
                        found[bytes(key)] = vec
            finally:
                conn.close()
        except sqlite3.Error as exc:
            self._failed(exc, "read")
            return {}
        if bad:
            self.bad_rows += bad
            log.warning("Vector cache %s: %d stored vector(s) were not finite unit vectors; re-embedding them.",
                        self.path, bad)
        if found:
            self._touch(list(found))
        return found

    def _touch(self, keys: list[bytes]) -> None:
        """Mark rows as used now (the cap evicts the least recently used). Best effort and never
        waited for: a busy or read-only cache just keeps the older time."""
        if self.read_only:
            return
        now = int(self.clock())
        try:
            conn = self._connect(wait_s=0)
            try:
                conn.execute("BEGIN IMMEDIATE")
                for lo in range(0, len(keys), 500):
                    part = keys[lo : lo + 500]
                    conn.execute(f"UPDATE vectors SET used=? WHERE used<? AND key IN ({','.join('?' * len(part))})",
                                 [now, now - 60, *part])
                conn.execute("COMMIT")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            if not _is_busy(exc):
                self._failed(exc, "last-use update")

    def put_many(self, items: Mapping[bytes, np.ndarray]) -> bool:
        """Store vectors (replacing rows with the same key); True when they were kept.

        Waits at most `busy_wait_s` for another writer, then gives this write up. Stays under the
        cap by dropping the least recently used rows (down to 90% of it, so not every write evicts)."""
        if not items or not self.enabled or self.read_only:
            return False
        now = int(self.clock())
        rows = [(k, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes(), now) for k, v in items.items()]
        row_bytes = len(rows[0][2]) + _ROW_OVERHEAD
        try:
            conn = self._connect()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)
                    self._rows_estimate += len(rows)
                    cap = max(1, self.max_bytes // row_bytes)
                    if self._rows_estimate > cap:
                        self._rows_estimate = self._count(conn)
                        if self._rows_estimate > cap:
                            drop = self._rows_estimate - int(cap * 0.9)
                            conn.execute("DELETE FROM vectors WHERE key IN "
                                         "(SELECT key FROM vectors ORDER BY used LIMIT ?)", (drop,))
                            self.evicted += drop
                            self._rows_estimate -= drop
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            finally:
                conn.close()
        except sqlite3.Error as exc:
            self._failed(exc, "write")
            return False
        return True

    def delete_many(self, keys: Iterable[bytes]) -> int:
        """Delete rows by key (a session's "clear my data"); returns how many went. Deleted rows are
        zeroed (secure_delete) and the write-ahead log is truncated, so their bytes leave the files."""
        keys = list(keys)
        if not keys or not self.enabled or self.read_only:
            return 0
        gone = 0
        try:
            conn = self._connect(wait_s=max(self.busy_wait_s, 5.0))  # a person pressed a button: wait a bit more
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for lo in range(0, len(keys), 500):
                        part = keys[lo : lo + 500]
                        gone += conn.execute(f"DELETE FROM vectors WHERE key IN ({','.join('?' * len(part))})",
                                             part).rowcount
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                self._rows_estimate = max(0, self._rows_estimate - gone)
                try:
                    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                except sqlite3.Error:
                    pass  # a reader holds the log: it is truncated by a later checkpoint
            finally:
                conn.close()
        except sqlite3.Error as exc:
            self._failed(exc, "delete")
        return gone

    def __len__(self) -> int:
        if not self.enabled:
            return 0
        try:
            conn = self._connect()
            try:
                return self._count(conn)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            self._failed(exc, "count")
            return 0


# -- embedding through the cache ----------------------------------------------------------------


@dataclass
class CacheLedger:
    """What one session did with the shared cache. Mutable on purpose: it lives in the session
    and grows as the session embeds.

    `seen` decides what the session is told: a text counts as "from cache" only when this session
    embedded it before, so no number on a page depends on what other sessions did. `written` is
    what "clear my data" deletes. `queries` holds question vectors in memory only: what a person
    asks is never written to disk."""

    seen: set[bytes] = field(default_factory=set)
    written: set[bytes] = field(default_factory=set)
    queries: OrderedDict[str, np.ndarray] = field(default_factory=OrderedDict)
    query_cap: int = 20_000  # ~30 MB of MiniLM vectors: a large question set, re-scored for free

    def __post_init__(self) -> None:
        if self.query_cap < 0:
            raise ValueError(f"query_cap must be >= 0; got {self.query_cap}.")


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

    def embed_counted(self, texts: Sequence[str], *, progress: Progress | None = None,
                      ledger: CacheLedger | None = None) -> tuple[np.ndarray, int]:
        """The vectors, and how many distinct texts were new.

        New means: not in the cache, when no ledger is given (benchmarks, tests); not embedded by
        this session before, when the session's ledger is given. With a ledger the work and the
        progress steps are the same whether another session had cached a text or not: each block of
        new-to-this-session texts is read from the cache where it can be and embedded otherwise.
        The count is returned, not kept on the embedder: one embedder serves every session."""
        texts = list(texts)
        keys = [self.cache.key(self.model_id, t) for t in texts]
        found = self.cache.get_many(list(dict.fromkeys(keys)), self.dimensions)
        distinct = dict(zip(keys, texts))
        if ledger is None:
            work = [t for k, t in distinct.items() if k not in found]
            n_new = len(work)
        else:
            new = [t for k, t in distinct.items() if k not in ledger.seen]
            n_new = len(new)
            # Texts seen before but gone from the cache (evicted, cleared, another server's file).
            work = new + [t for k, t in distinct.items() if k in ledger.seen and k not in found]
        work.sort(key=len, reverse=True)  # each distinct text once, however often it repeats
        key_of = {t: k for k, t in distinct.items()}
        base = len(texts) - len(work)
        done = 0
        for block in _blocks(work, self.block_chars):
            block_keys = [key_of[t] for t in block]
            need = [(k, t) for k, t in zip(block_keys, block) if k not in found]
            if need:
                fresh = self.inner.embed([t for _, t in need])
                new_vectors = {k: v for (k, _), v in zip(need, fresh)}
                if self.cache.put_many(new_vectors) and ledger is not None:
                    ledger.written.update(new_vectors)
                found.update(new_vectors)
            if ledger is not None:
                ledger.seen.update(block_keys)
            done += len(block)
            if progress:
                progress(base + done, len(texts))
        if not work and progress:
            progress(len(texts), len(texts))
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = found[key]
        return out, n_new


class SessionEmbedder:
    """One session's door to the shared CachedEmbedder.

    Texts go through the on-disk cache and are recorded in the session's ledger, except private
    ones (every text when `persist` is False, e.g. for queries; or the texts in `private`, e.g. a
    question set scored in a sweep): those are embedded by the model and remembered in the
    session's memory only."""

    def __init__(self, cached: CachedEmbedder, ledger: CacheLedger, *, persist: bool = True,
                 private: Iterable[str] = ()) -> None:
        self.cached = cached
        self.ledger = ledger
        self.persist = persist
        self.private = frozenset(private)
        self.model_id = cached.model_id
        self.dimensions = cached.dimensions

    def queries(self) -> SessionEmbedder:
        """The same session's embedder for questions: nothing it sees is written to disk."""
        return SessionEmbedder(self.cached, self.ledger, persist=False)

    def keeping_private(self, texts: Iterable[str]) -> SessionEmbedder:
        return SessionEmbedder(self.cached, self.ledger, persist=self.persist, private=self.private | set(texts))

    def embed(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        return self.embed_counted(texts, progress=progress)[0]

    def embed_counted(self, texts: Sequence[str], *, progress: Progress | None = None) -> tuple[np.ndarray, int]:
        texts = list(texts)
        if self.persist and not (self.private and any(t in self.private for t in texts)):
            return self.cached.embed_counted(texts, progress=progress, ledger=self.ledger)
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        shared = [i for i, t in enumerate(texts) if self.persist and t not in self.private]
        if shared:
            vectors, _ = self.cached.embed_counted([texts[i] for i in shared], ledger=self.ledger)
            out[shared] = vectors
        mine = [i for i, t in enumerate(texts) if not (self.persist and t not in self.private)]
        memo = self.ledger.queries
        missing = list(dict.fromkeys(texts[i] for i in mine if texts[i] not in memo))
        done = len(texts) - len(missing)
        for block in _blocks(sorted(missing, key=len, reverse=True), self.cached.block_chars):
            for t, v in zip(block, self.cached.inner.embed(block)):
                memo[t] = v
            done += len(block)
            if progress:
                progress(done, len(texts))
        for i in mine:
            memo.move_to_end(texts[i])
            out[i] = memo[texts[i]]
        while len(memo) > self.ledger.query_cap:
            memo.popitem(last=False)
        if not missing and progress:
            progress(len(texts), len(texts))
        return out, len(missing)

    def forget(self) -> int:
        """Delete what this session wrote to the shared cache and forget what it embedded; returns
        the number of cache rows deleted (texts another session also wrote stay theirs)."""
        gone = self.cached.cache.delete_many(self.ledger.written)
        self.ledger.seen.clear()
        self.ledger.written.clear()
        self.ledger.queries.clear()
        return gone


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


def default_embedder(*, backend: str | None = None, cache_dir: Path | str | None = None,
                     cache_mb: float = DEFAULT_CACHE_MB) -> CachedEmbedder:
    """The app's embedder: the bundled model (bf16 where the CPU has it) behind the on-disk cache
    (`cache_mb=0`: no cache on disk at all)."""
    backend = backend or default_backend()
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return CachedEmbedder(
        SentenceTransformerEmbedder(backend=backend),
        VectorCache(cache_dir / CACHE_NAME, max_mb=cache_mb),
    )
