"""Embedders: the same text gets the same vector whatever it is batched with; the on-disk vector
cache (hits, misses, model separation, recovery from damage)."""
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
        if progress:
            progress(len(texts), len(texts))
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_unchanged_texts_are_never_embedded_twice_even_after_restart(tmp_path):
    inner = CountingEmbedder()
    first = CachedEmbedder(inner, VectorCache(tmp_path / "v.sqlite"))
    a = first.embed(["alpha", "beta", "alpha"])
    assert inner.calls == [["alpha", "beta"]]  # the duplicate is embedded once
    # A new process: new objects over the same file.
    inner2 = CountingEmbedder()
    second = CachedEmbedder(inner2, VectorCache(tmp_path / "v.sqlite"))
    b, embedded = second.embed_counted(["beta", "alpha", "gamma"])
    assert inner2.calls == [["gamma"]]
    assert np.allclose(b[0], a[1]) and np.allclose(b[1], a[0])
    assert embedded == 1


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


def test_new_vectors_reach_the_cache_as_they_are_made_so_a_cancel_keeps_them(tmp_path):
    class Interrupted(Exception):
        pass

    cache = VectorCache(tmp_path / "v.sqlite")
    embedder = CachedEmbedder(CountingEmbedder(), cache)
    embedder.block_chars = 18  # blocks of three 6-character texts
    texts = [f"text {i}" for i in range(7)]

    def cancel_at_the_first_report(done, total):
        raise Interrupted  # what a click does to a running Streamlit script, at a progress update

    with pytest.raises(Interrupted):
        embedder.embed(texts, progress=cancel_at_the_first_report)
    assert len(cache) == 3  # everything reported was already stored
    _, embedded = embedder.embed_counted(texts)
    assert embedded == 4  # the next build starts where the cancelled one stopped


@pytest.fixture(scope="module")
def texts_of_many_lengths(sample_docs):
    from core.sentences import sentence_spans

    sentences = [d.text[a:b] for d in sample_docs for a, b in sentence_spans(d.text)][:120]
    long = [d.text[:3000] for d in sample_docs[:3]]  # past the model's window: truncated
    return sentences + long


@pytest.mark.model
@pytest.mark.parametrize("backend", ["torch-bf16", "torch"])
def test_same_text_same_vector_whatever_the_batch(backend, texts_of_many_lengths):
    """Embedded alone, with all the others, or in batches cut another way, a text gets the same
    vector: bit for bit with bf16, to rounding with fp32."""
    texts = texts_of_many_lengths
    embedder = SentenceTransformerEmbedder(backend=backend)
    together = embedder.embed(texts)
    embedder.token_budget = 300  # other batch boundaries, other batch-mates
    regrouped = embedder.embed(list(reversed(texts)))[::-1]
    alone = np.vstack([embedder.embed([t]) for t in texts[::7]])
    worst = min(float((together[::7] * alone).sum(axis=1).min()), float((together * regrouped).sum(axis=1).min()))
    if backend == "torch-bf16":
        assert np.array_equal(together[::7], alone) and np.array_equal(together, regrouped), worst
    assert worst > 0.99999


@pytest.mark.model
def test_vectors_match_sentence_transformers_and_bf16_stays_close_to_fp32(texts_of_many_lengths):
    """Our batching (no padding) and pooling reproduce sentence-transformers' own encode."""
    from sentence_transformers import SentenceTransformer

    from core import model

    texts = texts_of_many_lengths
    reference = SentenceTransformer(str(model.model_path()), device="cpu")
    reference.max_seq_length = model.MAX_TOKENS
    expected = reference.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    fp32 = SentenceTransformerEmbedder(backend="torch").embed(texts)
    bf16 = SentenceTransformerEmbedder(backend="torch-bf16").embed(texts)
    assert (fp32 * expected).sum(axis=1).min() > 0.99999
    cosines = (bf16 * fp32).sum(axis=1)
    assert cosines.mean() > 0.9999 and cosines.min() > 0.999, (cosines.mean(), cosines.min())
    with pytest.raises(ValueError, match="Unknown backend"):
        SentenceTransformerEmbedder(backend="torch-int8")
