"""The shared vector cache is private, bounded and never loses itself (issue 16).

Owner-only files, keys that need the secret beside them, nothing a session sees that depends on
another session's texts, a cap with least-recently-used eviction, "clear my data", a busy cache
that is skipped rather than deleted, a read-only cache that is still read, and stored vectors that
are checked before they are trusted. All fast: a fake embedder, no model.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core.embedding import (
    SECRET_NAME,
    CachedEmbedder,
    CacheLedger,
    SessionEmbedder,
    VectorCache,
    load_secret,
)

ROOT = Path(__file__).resolve().parent.parent
DIM = 16


class FakeEmbedder:
    """Deterministic unit vectors from a hash of the text; records every text it embeds."""

    model_id = "fake/privacy"
    dimensions = DIM

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    @property
    def texts(self) -> list[str]:
        return [t for call in self.calls for t in call]

    def embed(self, texts, *, progress=None):
        texts = list(texts)
        self.calls.append(texts)
        out = np.array([np.frombuffer(hashlib.sha256(t.encode()).digest()[:DIM], dtype=np.uint8) for t in texts],
                       dtype=np.float32).reshape(len(texts), DIM) + 1
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _cache_files(d: Path) -> list[Path]:
    return [p for p in d.iterdir() if p.is_file()]


# -- permissions and keys ------------------------------------------------------------------------


def test_a_new_cache_is_owner_only(tmp_path):
    d = tmp_path / "cache"
    CachedEmbedder(FakeEmbedder(), VectorCache(d / "vectors.sqlite")).embed([f"text {i}" for i in range(20)])
    assert mode(d) == 0o700
    files = _cache_files(d)
    assert {p.name for p in files} >= {"vectors.sqlite", SECRET_NAME}
    for p in files:
        assert mode(p) == 0o600, (p.name, oct(mode(p)))


def test_a_loose_existing_cache_is_tightened(tmp_path):
    d = tmp_path / "cache"
    CachedEmbedder(FakeEmbedder(), VectorCache(d / "vectors.sqlite")).embed(["alpha", "beta"])
    os.chmod(d, 0o755)
    for p in _cache_files(d):
        os.chmod(p, 0o644)
    cache = VectorCache(d / "vectors.sqlite")
    assert len(cache) == 2  # the rows are still there: tightening is not a rebuild
    assert mode(d) == 0o700
    for p in _cache_files(d):
        assert mode(p) & 0o077 == 0, (p.name, oct(mode(p)))


def test_a_shared_sticky_folder_is_not_changed(tmp_path):
    d = tmp_path / "shared"
    d.mkdir()
    os.chmod(d, 0o1777)  # like /tmp: changing it would break everyone else
    VectorCache(d / "vectors.sqlite")
    assert mode(d) == 0o1777
    assert mode(d / "vectors.sqlite") == 0o600 and mode(d / SECRET_NAME) == 0o600


def test_keys_need_the_secret_and_plain_hashes_never_reach_the_file(tmp_path):
    text = "Project Lanternfish budget: 4.2 million"
    a = VectorCache(tmp_path / "a" / "vectors.sqlite")
    b = VectorCache(tmp_path / "b" / "vectors.sqlite")
    assert a.key("m", text) == a.key("m", text)
    assert a.key("m", text) != b.key("m", text)  # another secret, another key
    assert a.key("m", text) != a.key("n", text)  # and another model, another key
    CachedEmbedder(FakeEmbedder(), a).embed([text])
    raw = b"".join(p.read_bytes() for p in _cache_files(tmp_path / "a"))
    for plain in (text.encode(), f"{FakeEmbedder.model_id}\x00{text}".encode()):
        digest = hashlib.sha256(plain)
        assert digest.digest() not in raw and digest.hexdigest().encode() not in raw
    assert text.encode() not in raw


def test_the_secret_is_created_once_even_by_racing_processes(tmp_path):
    script = "import sys; from pathlib import Path; from core.embedding import load_secret; " \
             "print(load_secret(Path(sys.argv[1])).hex())"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True) for _ in range(4)]
    secrets = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(secrets) == 1 and len(next(iter(secrets))) == 64
    assert load_secret(tmp_path).hex() in secrets
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_NAME]  # no temporary files left behind
    assert mode(tmp_path / SECRET_NAME) == 0o600


def test_rows_of_the_old_plain_hash_schema_are_dropped(tmp_path):
    path = tmp_path / "vectors.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE vectors (key TEXT PRIMARY KEY, dim INTEGER, vec BLOB)")
    conn.execute("INSERT INTO vectors VALUES (?, 16, ?)",
                 (hashlib.sha256(b"fake/privacy\x00secret plan").hexdigest(), b"\0" * 64))
    conn.commit()
    conn.close()
    cache = VectorCache(path)
    assert len(cache) == 0
    inner = FakeEmbedder()
    CachedEmbedder(inner, cache).embed(["secret plan"])
    assert inner.texts == ["secret plan"] and len(cache) == 1


# -- what a session is shown ---------------------------------------------------------------------


def test_a_session_cannot_tell_what_another_session_embedded(tmp_path):
    cached = CachedEmbedder(FakeEmbedder(), VectorCache(tmp_path / "vectors.sqlite"))
    alice = SessionEmbedder(cached, CacheLedger())
    alice.embed_counted(["Alice's merger memo", "shared boilerplate"])

    def bob_sees(texts):
        steps = []
        _, new = SessionEmbedder(cached, CacheLedger()).embed_counted(texts, progress=lambda d, t: steps.append((d, t)))
        return new, steps

    # A right guess and a wrong guess look exactly alike to Bob: count and progress steps.
    assert bob_sees(["Alice's merger memo"]) == bob_sees(["Alice's wedding memo"]) == (1, [(1, 1)])
    # His own repeat does count as from cache.
    bob = SessionEmbedder(cached, CacheLedger())
    assert bob.embed_counted(["Bob's text", "shared boilerplate"])[1] == 2
    assert bob.embed_counted(["Bob's text", "shared boilerplate", "new"])[1] == 1


def test_queries_are_never_written_to_disk(tmp_path):
    cache = VectorCache(tmp_path / "vectors.sqlite")
    inner = FakeEmbedder()
    session = SessionEmbedder(CachedEmbedder(inner, cache), CacheLedger())
    session.embed(["a chunk of a document"])
    q = session.queries().embed(["what is the merger price?", "what is the merger price?"])
    assert len(cache) == 1
    assert np.allclose(q[0], q[1])
    again = session.queries().embed(["what is the merger price?"])  # remembered in the session's memory
    assert inner.texts.count("what is the merger price?") == 1 and np.allclose(again[0], q[0])
    # A sweep's question set is kept private the same way, while its chunks are cached.
    sweep = session.keeping_private(["how long are backups kept?"])
    sweep.embed(["another chunk", "how long are backups kept?"])
    assert len(cache) == 2


def test_clear_my_data_deletes_only_what_this_session_wrote(tmp_path):
    cache = VectorCache(tmp_path / "vectors.sqlite")
    cached = CachedEmbedder(FakeEmbedder(), cache)
    alice = SessionEmbedder(cached, CacheLedger())
    bob = SessionEmbedder(cached, CacheLedger())
    alice.embed(["alice 1", "alice 2", "both"])
    bob.embed(["bob 1", "both"])  # "both" came from the cache: Alice wrote it
    bob.queries().embed(["bob's question"])
    assert len(cache) == 4
    assert bob.forget() == 1
    assert len(cache) == 3 and not bob.ledger.seen and not bob.ledger.queries
    assert bob.embed_counted(["bob 1"])[1] == 1  # new to the cleared session again
    assert alice.forget() == 3
    assert len(cache) == 1  # only Bob's re-embedded text is left
    raw = (tmp_path / "vectors.sqlite").read_bytes()
    alice_vec = FakeEmbedder().embed(["alice 1"])[0].tobytes()
    assert alice_vec not in raw  # zeroed, not just unlinked from the table


# -- size cap ------------------------------------------------------------------------------------


def test_the_cap_evicts_the_least_recently_used_rows(tmp_path):
    now = [1_000_000.0]
    row = DIM * 4 + 80
    cache = VectorCache(tmp_path / "vectors.sqlite", max_mb=100 * row / 1024 / 1024, clock=lambda: now[0])
    cached = CachedEmbedder(FakeEmbedder(), cache)
    old = [f"old {i}" for i in range(50)]
    cached.embed(old)
    now[0] += 3600
    cached.embed([f"middle {i}" for i in range(40)])
    now[0] += 3600
    cached.embed(old[:10])  # used again: now among the most recent
    now[0] += 3600
    cached.embed([f"late {i}" for i in range(30)])  # 120 rows > cap 100: down to 90
    assert len(cache) == 90 and cache.evicted == 30
    inner = FakeEmbedder()
    CachedEmbedder(inner, cache).embed(old[:10] + [f"late {i}" for i in range(30)])
    assert inner.calls == []  # the recently used rows stayed
    CachedEmbedder(inner, cache).embed(old[10:40])
    assert len(inner.texts) == 30  # the least recently used went


def test_a_cap_of_zero_keeps_nothing_on_disk(tmp_path):
    cache = VectorCache(tmp_path / "cache" / "vectors.sqlite", max_mb=0)
    inner = FakeEmbedder()
    CachedEmbedder(inner, cache).embed(["a", "b"])
    CachedEmbedder(inner, cache).embed(["a", "b"])
    assert len(inner.texts) == 4 and not (tmp_path / "cache").exists()


# -- contention, read-only, damage ----------------------------------------------------------------

_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO vectors VALUES (x'00', 1, x'0000803f', 0)")  # committed: the other writer's row
conn.execute("COMMIT")
conn.execute("BEGIN IMMEDIATE")  # and now it holds the write lock
conn.execute("INSERT INTO vectors VALUES (x'01', 1, x'0000803f', 0)")
print("holding", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def test_a_busy_cache_is_skipped_quickly_never_deleted_and_reads_do_not_wait(tmp_path):
    path = tmp_path / "vectors.sqlite"
    texts = [f"text {i}" for i in range(200)]
    cache = VectorCache(path)
    cached = CachedEmbedder(FakeEmbedder(), cache)
    vectors = cached.embed(texts)
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        timings: dict[str, float] = {}

        def write():
            t0 = time.perf_counter()
            timings["kept"] = cache.put_many({cache.key("m", "new"): vectors[0]})
            timings["write_s"] = time.perf_counter() - t0

        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(0.2)  # the write is now waiting for the lock
        t0 = time.perf_counter()
        got = cache.get_many([cache.key(FakeEmbedder.model_id, t) for t in texts], DIM)
        read_s = time.perf_counter() - t0
        writer.join(10)
        inner = FakeEmbedder()
        again = CachedEmbedder(inner, cache).embed(texts)  # an embed during contention still works
    finally:
        holder.communicate("go\n", timeout=30)
    assert len(got) == 200 and read_s < 0.5, read_s
    assert timings["kept"] is False and timings["write_s"] < 2.0, timings
    assert cache.skipped_writes == 1 and cache.rebuilds == 0
    assert inner.calls == [] and np.allclose(again, vectors)
    with sqlite3.connect(path) as conn:  # nothing lost: ours, plus the other writer's committed row
        assert conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 201
    assert not Path(f"{path}.corrupt").exists()


_READER = """
import json, sys
from core.embedding import VectorCache
cache = VectorCache(sys.argv[1])
keys = [cache.key("fake/privacy", t) for t in json.loads(sys.argv[2])]
found = cache.get_many(keys, 16)
kept = cache.put_many({cache.key("fake/privacy", "new"): next(iter(found.values()))})
print(json.dumps({"found": len(found), "kept": kept, "read_only": cache.read_only, "rebuilds": cache.rebuilds}))
"""


def test_a_read_only_cache_is_still_read(tmp_path):
    import json

    texts = [f"text {i}" for i in range(30)]
    src = tmp_path / "cache"
    CachedEmbedder(FakeEmbedder(), VectorCache(src / "vectors.sqlite")).embed(texts)
    outer = Path(tempfile.mkdtemp(prefix="ro-cache-"))
    try:
        d = outer / "cache"
        shutil.copytree(src, d)
        kwargs: dict = {}
        if os.geteuid() == 0:  # root ignores modes: read as another account that owns the files
            os.chmod(outer, 0o711)
            for p in [d, *d.iterdir()]:
                os.chown(p, 65534, 65534)
            kwargs = {"user": 65534, "group": 65534}
        for p in d.iterdir():
            os.chmod(p, 0o400)
        os.chmod(d, 0o500)
        out = subprocess.run([sys.executable, "-c", _READER, str(d / "vectors.sqlite"), json.dumps(texts)],
                             cwd=ROOT, capture_output=True, text=True, timeout=60, **kwargs)
        assert out.returncode == 0, out.stderr
        seen = json.loads(out.stdout.strip().splitlines()[-1])
        assert seen == {"found": 30, "kept": False, "read_only": True, "rebuilds": 0}, out.stderr
        assert sorted(p.name for p in d.iterdir()) == sorted(p.name for p in src.iterdir())  # nothing moved
    finally:
        os.chmod(outer / "cache", 0o700)
        shutil.rmtree(outer)


def test_a_corrupt_file_is_moved_aside_not_deleted(tmp_path):
    path = tmp_path / "vectors.sqlite"
    CachedEmbedder(FakeEmbedder(), VectorCache(path)).embed([f"text {i}" for i in range(50)])
    garbage = b"this is not an sqlite database " * 400
    path.write_bytes(garbage)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    cache = VectorCache(path)
    assert cache.rebuilds == 1
    assert Path(f"{path}.corrupt").read_bytes() == garbage
    assert mode(Path(f"{path}.corrupt")) == 0o600
    CachedEmbedder(FakeEmbedder(), cache).embed(["fresh"])
    assert len(cache) == 1


@pytest.mark.parametrize("bad", ["zeros", "nan", "noise", "short"])
def test_bad_stored_vectors_are_re_embedded_and_overwritten(tmp_path, bad, caplog):
    path = tmp_path / "vectors.sqlite"
    texts = ["alpha", "beta", "gamma"]
    cache = VectorCache(path)
    good = CachedEmbedder(FakeEmbedder(), cache).embed(texts)
    value = {"zeros": np.zeros(DIM, np.float32), "nan": np.full(DIM, np.nan, np.float32),
             "noise": np.random.default_rng(0).normal(size=DIM).astype(np.float32) * 3,
             "short": np.ones(DIM - 1, np.float32)}[bad]
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE vectors SET vec=? WHERE key=?", (value.tobytes(), cache.key(FakeEmbedder.model_id, "beta")))
    inner = FakeEmbedder()
    with caplog.at_level("WARNING"):
        again = CachedEmbedder(inner, cache).embed(texts)
    assert inner.texts == ["beta"]
    np.testing.assert_allclose(again, good, atol=1e-6)
    assert cache.bad_rows == 1 and "not finite unit vectors" in caplog.text
    inner2 = FakeEmbedder()
    CachedEmbedder(inner2, cache).embed(texts)
    assert inner2.calls == []  # the row was overwritten with the sound vector


# -- the app: what a session sees, and "Clear my data" -------------------------------------------


def _session_script():
    """One session: load the samples, build the index on demand, ask, and the sidebar's button."""
    import streamlit as st

    from ui import state
    from ui.indexing import build_index
    from ui.widgets import clear_my_data_button, load_samples

    if st.button("Load", key="load"):
        load_samples()
    st.text_input("Query", key="query")
    if st.button("Build", key="build"):
        built = build_index()
        if built is not None:
            st.metric("Embedded now / from cache", f"{built.embedded} / {built.retriever.store.size - built.embedded}")
            if st.session_state["query"]:
                built.retriever.search(st.session_state["query"], config=state.retrieval_config())
    clear_my_data_button()
    st.metric("Documents loaded", len(state.documents()))


def _session(timeout: float = 120):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_session_script, default_timeout=timeout)
    at.run()
    return at


def _metric(at, label: str) -> str:
    return {m.label: m.value for m in at.metric}[label]


def test_clear_my_data_empties_the_session():
    """Fast: documents loaded and a question typed, nothing embedded yet; clearing needs no model."""
    at = _session()
    at.button(key="load").click().run()
    at.text_input(key="query").set_value("my private question").run()
    assert int(_metric(at, "Documents loaded")) >= 6
    at.button(key="clear_my_data").click().run()
    assert not at.exception
    assert _metric(at, "Documents loaded") == "0"
    assert at.text_input(key="query").value == ""
    assert any("Cleared:" in s.value for s in at.sidebar.success)
    at.run()  # the note is shown once
    assert not any("Cleared:" in s.value for s in at.sidebar.success)


@pytest.mark.model
def test_another_session_sees_no_cache_hits_and_clearing_deletes_what_it_wrote(tmp_path, monkeypatch):
    import streamlit as st

    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("RAG_EXPLORER_CACHE", str(cache_dir))
    st.cache_resource.clear()  # the next embedder() opens the cache in cache_dir

    def built(at):
        at.button(key="load").click().run()
        at.button(key="build").click().run()
        assert not at.exception
        now, cached = (int(x) for x in _metric(at, "Embedded now / from cache").split(" / "))
        return now, cached

    def rows():
        with sqlite3.connect(cache_dir / "vectors.sqlite") as conn:
            return conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]

    try:
        alice = _session(timeout=300)
        now, cached = built(alice)
        assert now > 0 and cached >= 0
        written = rows()
        assert written >= now
        bob = _session(timeout=300)
        assert built(bob) == (now, cached)  # every vector is in the cache now, but Bob is not told so
        assert rows() == written
        bob.button(key="clear_my_data").click().run()
        assert rows() == written  # Bob wrote nothing: nothing of Alice's goes
        alice.text_input(key="query").set_value("How long are backups kept?").run()
        alice.button(key="build").click().run()
        assert rows() == written  # a question is never written to the cache
        alice.button(key="clear_my_data").click().run()
        assert not alice.exception
        assert rows() == 0
    finally:
        st.cache_resource.clear()
    for p in [cache_dir, *cache_dir.iterdir()]:
        assert mode(p) & 0o077 == 0
