"""BM25, the FAISS index, dense/BM25/hybrid retrieval and MMR; some with the real model."""
from __future__ import annotations

import numpy as np
import pytest

from core.chunking import Chunk, ChunkConfig, split_corpus
from core.lexical import BM25, tokenize
from core.prompt import build_prompt
from core.retrieval import RetrievalConfig, Retriever
from core.stores import FaissStore, VectorStore, make_store


class OneHotEmbedder:
    """Deterministic fake: one dimension per known word, so similarity is word overlap."""

    model_id = "fake/one-hot"
    vocab = ["refund", "price", "backup", "error", "seat", "storage", "password", "invoice"]
    dimensions = len(vocab)

    def embed(self, texts, *, progress=None):
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for i, text in enumerate(texts):
            for j, word in enumerate(self.vocab):
                out[i, j] = text.lower().count(word)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1
        return out / norms


def chunks_of(texts):
    return [Chunk(doc="d.txt", index=i, start=i * 100, end=i * 100 + len(t), text=t, n_tokens=len(t.split()))
            for i, t in enumerate(texts)]


TEXTS = [
    "Refund requests are accepted within 30 days of purchase.",
    "The price per seat is twelve dollars; a seat is one named user.",
    "Backups run nightly and storage is replicated to two regions.",
    "Error LF-413 means the upload is larger than the storage limit.",
    "Reset a forgotten password from the sign-in page.",
    "Invoices are emailed on the first day of each month; an invoice lists every seat.",
]


def test_tokenize_keeps_identifiers_whole_and_by_parts():
    assert tokenize("What does error LF-413 mean?") == ["error", "lf-413", "lf", "413", "mean"]
    assert tokenize("The plans") == ["plan"]


def test_bm25_ranks_the_chunk_with_the_rare_term_first():
    bm25 = BM25(TEXTS)
    scores = bm25.scores("what is LF-413")
    assert int(np.argmax(scores)) == 3
    assert scores[0] == 0.0
    # A term in fewer chunks weighs more: 'invoice' (1 chunk) vs 'seat' (2 chunks).
    assert bm25.idf["invoice"] > bm25.idf["seat"]


def test_faiss_store_finds_a_known_neighbour_by_cosine():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = make_store("faiss", 16)
    assert isinstance(store, VectorStore)
    store.add(chunks_of([f"t{i}" for i in range(50)]), vectors)
    query = vectors[17] + 0.01 * rng.normal(size=16).astype(np.float32)
    query /= np.linalg.norm(query)
    scores, ids = store.search(query, 3)
    assert ids[0] == 17 and scores[0] == pytest.approx(float(vectors[17] @ query), abs=1e-5)
    assert store.similarity(query, [17, 3]) == pytest.approx([vectors[17] @ query, vectors[3] @ query], abs=1e-5)
    assert store.search(query, 500)[1].shape == (50,)  # n is capped at the store size
    facts = store.facts()
    assert (facts.size, facts.dimensions, facts.memory_bytes, facts.exact) == (50, 16, 50 * 16 * 4, True)


def test_faiss_store_replaces_one_documents_chunks():
    store = FaissStore(3)
    a = [Chunk("a.txt", i, i, i + 1, f"a{i}", 1) for i in range(2)]
    b = [Chunk("b.txt", 0, 0, 1, "b0", 1)]
    store.add(a + b, np.eye(3, dtype=np.float32))
    new_a = [Chunk("a.txt", 0, 0, 5, "a-new", 1)]
    store.replace_document("a.txt", new_a, np.array([[0, 1, 0]], dtype=np.float32))
    assert [c.text for c in store.chunks()] == ["b0", "a-new"] and store.size == 2
    scores, ids = store.search(np.array([0, 1, 0], dtype=np.float32), 1)
    assert store.chunks()[ids[0]].text == "a-new" and scores[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one vector per chunk"):
        store.add(b, np.zeros((2, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="3-dimensional"):
        store.add(b, np.zeros((1, 4), dtype=np.float32))


@pytest.fixture
def retriever():
    return Retriever.build(chunks_of(TEXTS), embedder=OneHotEmbedder())


def test_dense_bm25_and_hybrid_ranks(retriever):
    dense = retriever.search("refund", config=RetrievalConfig(method="dense", k=2))
    assert dense[0].chunk.index == 0 and dense[0].rank_in("dense") == 1
    bm25 = retriever.search("LF-413 storage", config=RetrievalConfig(method="bm25", k=3))
    assert bm25[0].chunk.index == 3 and bm25[0].score == pytest.approx(bm25[0].score_of("bm25"))
    hybrid = retriever.search("seat invoice", config=RetrievalConfig(method="hybrid", k=3, fusion="rrf",
                                                                      dense_weight=0.5))
    top = hybrid[0]
    # The invoice chunk is first in both lists, so it wins the fusion with 2/(60+1).
    assert top.chunk.index == 5 and top.rank_in("dense") == 1 and top.rank_in("bm25") == 1
    assert top.score == pytest.approx(2 / 61)
    assert [h.rank for h in hybrid] == [1, 2, 3]
    assert "RRF = 1/(60+1) [Dense (cosine)] + 1/(60+1) [BM25]" in top.why()


@pytest.mark.parametrize("fusion", ["rrf", "zscore", "minmax"])
def test_hybrid_rewards_agreement_over_a_single_strong_list(retriever, fusion):
    hits = retriever.search("storage backup", config=RetrievalConfig(method="hybrid", k=6, fusion=fusion))
    ids = [h.chunk.index for h in hits]
    assert ids[0] == 2  # both words, both lists
    assert set(ids[:2]) == {2, 3}


def test_mmr_drops_an_exact_duplicate():
    vectors = np.array([[1, 0, 0], [1, 0, 0], [0.6, 0.8, 0], [0, 0, 1]], dtype=np.float32)
    r = Retriever.from_vectors(chunks_of(["a", "a copy", "c", "d"]), vectors, embedder=OneHotEmbedder())
    q = np.array([0.8, 0.6, 0], dtype=np.float32)  # cosines: .8, .8, .96, 0
    plain = r.search("q", config=RetrievalConfig(method="dense", k=3), query_vector=q)
    diverse = r.search("q", config=RetrievalConfig(method="dense", k=3, mmr=True, mmr_lambda=0.5), query_vector=q)
    assert [h.chunk.index for h in plain][0] == 2 and {h.chunk.index for h in plain} == {0, 1, 2}
    # After c and one of the twins, the other twin's redundancy (cosine 1) outweighs its relevance.
    ids = [h.chunk.index for h in diverse]
    assert ids[0] == 2 and ids[1] in (0, 1) and ids[2] == 3
    assert [h.evidence_of("mmr") is not None for h in diverse] == [False, False, True]
    assert "MMR moved it" in diverse[2].why()


def test_retrieval_config_validation():
    with pytest.raises(ValueError, match="Top-K"):
        RetrievalConfig(k=0)
    with pytest.raises(ValueError, match="Unknown method"):
        RetrievalConfig(method="sparse")


def test_prompt_counts_tokens_and_keeps_braces(retriever):
    hits = retriever.search("refund {policy}", config=RetrievalConfig(k=2))
    prompt = build_prompt("refund {policy}?", hits)
    assert "[1] d.txt" in prompt.text and "refund {policy}?" in prompt.text
    assert prompt.n_tokens > prompt.context_tokens > 0
    with pytest.raises(ValueError, match="context"):
        build_prompt("q", hits, template="no placeholders {question}")


@pytest.mark.model
def test_real_model_finds_paraphrased_questions(real_embedder, sample_docs):
    chunks = split_corpus(sample_docs, config=ChunkConfig())
    r = Retriever.build(chunks, embedder=real_embedder)
    assert r.store.dimensions == 384 and r.store.size == len(chunks)
    norms = np.linalg.norm(r.vectors, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-4)
    # A chunk's own text is its nearest neighbour.
    hits = r.search(chunks[7].text, config=RetrievalConfig(method="dense", k=1))
    assert hits[0].chunk == chunks[7] and hits[0].score_of("dense") > 0.99


def test_langchain_adapter_returns_documents_with_offsets(retriever):
    from core.langchain_retriever import ExplorerRetriever

    lc = ExplorerRetriever(retriever=retriever, config=RetrievalConfig(method="bm25", k=2))
    docs = lc.invoke("LF-413 storage")
    assert len(docs) == 2
    top = docs[0]
    assert top.page_content == TEXTS[3] and top.metadata["source"] == "d.txt"
    assert (top.metadata["start_index"], top.metadata["rank"]) == (300, 1)
