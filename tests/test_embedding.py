"""The on-disk vector cache: hits, misses, model separation, and recovery from damage."""
from __future__ import annotations

import numpy as np
import pytest

from core.embedding import CachedEmbedder, SentenceTransformerEmbedder, VectorCache


class CountingEmbedder:
    def __init__(self, model_id="fake/a"):
        self.model_id, self.dimensions, self.calls = model_id, 4, []

    def embed(self, texts, *, progress=None):
        self.calls.append(list(texts))
        out = np.array([[len(t), t.count("a"), 1, 0] for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_unchanged_texts_are_never_embedded_twice_even_after_restart(tmp_path):
    inner = CountingEmbedder()
    first = CachedEmbedder(inner, VectorCache(tmp_path / "v.sqlite"))
    a = first.embed(["alpha", "beta", "alpha"])
    assert inner.calls == [["alpha", "beta"]]  # the duplicate is embedded once
    # A new process: new objects over the same file.
    inner2 = CountingEmbedder()
    second = CachedEmbedder(inner2, VectorCache(tmp_path / "v.sqlite"))
    b = second.embed(["beta", "alpha", "gamma"])
    assert inner2.calls == [["gamma"]]
    assert np.allclose(b[0], a[1]) and np.allclose(b[1], a[0])
    assert (second.last_hits, second.last_misses) == (2, 1)


def test_a_different_model_never_reuses_vectors(tmp_path):
    cache = VectorCache(tmp_path / "v.sqlite")
    CachedEmbedder(CountingEmbedder("fake/a"), cache).embed(["alpha"])
    other = CountingEmbedder("fake/b")
    CachedEmbedder(other, cache).embed(["alpha"])
    assert other.calls == [["alpha"]]


@pytest.mark.parametrize("damage", ["garbage", "truncate"])
def test_a_damaged_cache_file_is_rebuilt_not_fatal(tmp_path, damage):
    path = tmp_path / "v.sqlite"
    CachedEmbedder(CountingEmbedder(), VectorCache(path)).embed([f"text {i}" for i in range(200)])
    raw = path.read_bytes()
    path.write_bytes(b"this is not a database" * 100 if damage == "garbage" else raw[: len(raw) // 3])
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"v.sqlite{suffix}").unlink(missing_ok=True)
    cache = VectorCache(path)
    inner = CountingEmbedder()
    out = CachedEmbedder(inner, cache).embed(["text 1", "text 2"])
    assert out.shape == (2, 4)
    assert cache.rebuilds >= 1 or len(inner.calls) == 1  # rebuilt, or the damaged rows were missed
    assert len(cache) >= 2


@pytest.mark.model
def test_int8_backend_stays_close_to_fp32(sample_docs):
    texts = [d.text[:600] for d in sample_docs]
    fp32 = SentenceTransformerEmbedder(backend="torch").embed(texts)
    int8 = SentenceTransformerEmbedder(backend="torch-int8").embed(texts)
    cosines = (fp32 * int8).sum(axis=1)
    assert cosines.mean() > 0.97, cosines
    with pytest.raises(ValueError, match="Unknown backend"):
        SentenceTransformerEmbedder(backend="onnx")


@pytest.mark.model
def test_int8_vectors_do_not_depend_on_batch_mates(sample_docs):
    embedder = SentenceTransformerEmbedder(backend="torch-int8")
    texts = [d.text[i:i + 400] for d in sample_docs for i in (0, 800, 1600)]
    together = embedder.embed(texts)
    alone = embedder.embed(texts[:3])
    assert np.allclose(together[:3], alone, atol=1e-5)


@pytest.mark.model
def test_bulk_variant_shares_the_model_but_not_the_cache_entries(tmp_path):
    from core.embedding import default_embedder

    exact = default_embedder(backend="torch-int8", cache_dir=tmp_path)
    bulk = exact.bulk()
    assert bulk.inner._model is exact.inner._model and bulk.cache is exact.cache
    assert bulk.model_id != exact.model_id and bulk.inner.encode_batch == 32 and exact.inner.encode_batch == 1
    texts = ["Refunds take thirty days.", "Backups run nightly at 02:00 UTC."]
    a, b = exact.embed(texts), bulk.embed(texts)
    assert (a * b).sum(axis=1).min() > 0.97
    assert len(exact.cache) == 4  # each variant stored under its own key
    assert exact.bulk() is bulk  # one twin, so its hit/miss counts can be read after a build
