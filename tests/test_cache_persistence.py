"""The on-disk vector cache: it survives a restart, and a damaged file is detected and rebuilt
instead of breaking indexing. bench/restart.py measures what the restart saves in the real app.
"""
from __future__ import annotations

import gc
import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.embedding import CachedEmbedder, VectorCache

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_docs"
TEXTS = [f"Chunk {i}: Lanternfish keeps backups for {i} days." for i in range(40)]


class FakeEmbedder:
    """Deterministic unit vectors from a hash of the text; records what it was asked to embed."""

    model_id = "fake/test"
    dimensions = 16

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts, *, progress=None):
        texts = list(texts)
        self.calls.append(texts)
        out = np.array([
            np.frombuffer(hashlib.sha256(t.encode()).digest()[: self.dimensions], dtype=np.uint8).astype(np.float32) + 1
            for t in texts
        ], dtype=np.float32).reshape(len(texts), self.dimensions)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _fill(path: Path) -> np.ndarray:
    """Write TEXTS' vectors and let go of the cache, as a process that exits would."""
    inner = FakeEmbedder()
    vectors = CachedEmbedder(inner, VectorCache(path)).embed(TEXTS)
    assert len(inner.calls) == 1
    # VectorCache's `with sqlite3.connect(...)` commits but does not close: the connections (and
    # so the WAL checkpoint into the main file) go only when collected.
    gc.collect()
    return vectors


def test_vectors_survive_a_restart_of_the_process(tmp_path):
    path = tmp_path / "vectors.sqlite"
    vectors = _fill(path)
    # A new interpreter, as after a server restart: it reads what this one wrote.
    script = (
        "import json, sys, numpy as np\n"
        "from core.embedding import VectorCache\n"
        "cache = VectorCache(sys.argv[1])\n"
        "keys = [cache.key('fake/test', t) for t in json.loads(sys.argv[2])]\n"
        "found = cache.get_many(keys, 16)\n"
        "print(json.dumps({'rows': len(cache), 'rebuilds': cache.rebuilds,"
        " 'vectors': [found[k].tolist() for k in keys if k in found]}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(path), json.dumps(TEXTS)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["rows"] == len(TEXTS) and seen["rebuilds"] == 0
    np.testing.assert_array_equal(np.array(seen["vectors"], dtype=np.float32), vectors)

    inner = FakeEmbedder()  # and the embedder behind the reopened cache is not asked at all
    again = CachedEmbedder(inner, VectorCache(path)).embed(TEXTS)
    assert inner.calls == []
    np.testing.assert_array_equal(again, vectors)


def _garbage(raw: bytes) -> bytes:
    return b"this is not an sqlite database " * (len(raw) // 31 + 1)


def _truncated(raw: bytes) -> bytes:
    return raw[: len(raw) // 3]


def _scribbled_pages(raw: bytes) -> bytes:
    # A valid header and first page, garbage after: only a full check or a query finds it.
    return raw[:4096] + bytes((i * 37) % 256 for i in range(len(raw) - 4096))


@pytest.mark.parametrize("damage", [_garbage, _truncated, _scribbled_pages], ids=["garbage", "truncated", "scribbled"])
def test_a_damaged_cache_file_is_rebuilt_and_indexing_still_works(tmp_path, damage):
    path = tmp_path / "vectors.sqlite"
    vectors = _fill(path)
    raw = path.read_bytes()
    assert len(raw) > 8192, "the test needs a cache file of a few pages"
    path.write_bytes(damage(raw))
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)

    cache = VectorCache(path)
    inner = FakeEmbedder()
    again = CachedEmbedder(inner, cache).embed(TEXTS)  # never raises
    assert cache.rebuilds >= 1
    assert sum(len(c) for c in inner.calls) == len(TEXTS)  # all re-embedded: the damaged rows were not trusted
    np.testing.assert_allclose(again, vectors, rtol=0, atol=1e-6)
    with sqlite3.connect(path) as conn:  # and the file is a healthy database again, refilled
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == len(TEXTS)


def test_damage_while_the_cache_is_open_is_caught_on_the_next_read(tmp_path):
    path = tmp_path / "vectors.sqlite"
    cache = VectorCache(path)
    inner = FakeEmbedder()
    embedder = CachedEmbedder(inner, cache)
    vectors = embedder.embed(TEXTS)
    path.write_bytes(_garbage(path.read_bytes()))  # overwritten behind the running app's back
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    again = embedder.embed(TEXTS)
    assert cache.rebuilds >= 1
    np.testing.assert_allclose(again, vectors, rtol=0, atol=1e-6)
    assert len(cache) == len(TEXTS)


@pytest.mark.model
def test_the_app_builds_its_index_over_a_garbage_cache_file(app_test, tmp_path, monkeypatch):
    """AppTest: a garbage vectors.sqlite where the app keeps its cache; the index still builds."""
    import streamlit as st

    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    cache_file = cache_dir / "vectors.sqlite"
    cache_file.write_bytes(b"\x00garbage, not a database\xff" * 4000)
    monkeypatch.setenv("RAG_EXPLORER_CACHE", str(cache_dir))
    st.cache_resource.clear()  # the next embedder() opens the cache in cache_dir
    try:
        at = app_test(timeout=300)
        at.run()
        at.switch_page("pages/documents.py").run()
        at.file_uploader(key="uploader").upload("faq.md", (SAMPLES / "faq.md").read_bytes(), "text/markdown").run()
        at.switch_page("pages/retrieval.py").run()
        assert not at.exception
        assert not at.error
        metrics = {m.label: m.value for m in at.metric}
        vectors = int(metrics["Vectors"].replace(",", ""))
        assert vectors > 0
        assert metrics["Embedded now / from cache"].replace(",", "") == f"{vectors} / 0"
        at.text_input(key="query").set_value("How long are backups kept?").run()
        assert not at.exception
        assert any(" hits in " in c.value for c in at.caption), "no hits were shown"
    finally:
        st.cache_resource.clear()
    with sqlite3.connect(cache_file) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] >= vectors
