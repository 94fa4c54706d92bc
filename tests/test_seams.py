"""The extension seams hold: a vector store and a re-ordering stage defined here, in test code
only, run through retrieval, evaluation and the Index & Retrieval page without any change there."""
from __future__ import annotations

import numpy as np
import pytest

from core import retrieval, stores
from core.chunking import Chunk
from core.documents import Document
from core.evaluation import Question, evaluate
from core.retrieval import (
    DEFAULT_FUSION,
    FUSIONS,
    REORDERS,
    Method,
    Ranking,
    RetrievalConfig,
    Retriever,
    register_method,
)
from core.stores import StoreFacts, register_store
from tests.fakes import WordEmbedder


class ToyStore:
    """A brute-force store that, like a database, keeps no vectors for the app to read."""

    name = "toy"

    def __init__(self, dimensions: int) -> None:
        self._dimensions = dimensions
        self._chunks: list[Chunk] = []
        self._rows: list[np.ndarray] = []
        self.searches = 0

    @property
    def size(self) -> int:
        return len(self._chunks)

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def chunks(self):
        return self._chunks

    def add(self, chunks, vectors):
        self._chunks.extend(chunks)
        self._rows.extend(np.asarray(vectors, dtype=np.float32))

    def search(self, query, n):
        self.searches += 1
        sims = np.array([row @ query for row in self._rows], dtype=np.float32)
        ids = np.argsort(-sims, kind="stable")[:n]
        return sims[ids], ids

    def similarity(self, query, ids):
        return np.array([self._rows[i] @ query for i in ids], dtype=np.float32)

    def replace_document(self, doc, chunks, vectors):
        keep = [i for i, c in enumerate(self._chunks) if c.doc != doc]
        self._chunks = [self._chunks[i] for i in keep] + list(chunks)
        self._rows = [self._rows[i] for i in keep] + list(np.asarray(vectors, dtype=np.float32))

    def vectors(self):
        return None

    def facts(self):
        return StoreFacts("Toy brute-force store", self.size, self._dimensions, None, exact=True)


class ShortestFirst:
    """A toy re-ordering stage: the top K, shortest chunk first."""

    name = "shortest"
    label = "Shortest first"

    def apply(self, query, order, config):
        top, rest = list(order.ids[: config.k]), list(order.ids[config.k:])
        score = dict(zip(order.ids, order.scores))
        chunks = query.retriever.chunks
        moved = sorted(top, key=lambda i: (len(chunks[i].text), i))
        notes = {i: "toy stage put shorter chunks first" for i, j in zip(moved, top) if i != j}
        ids = moved + rest
        return Ranking(tuple(ids), tuple(score[i] for i in ids)), notes


@pytest.fixture
def toy_seams():
    register_store("toy", ToyStore)
    REORDERS["shortest"] = ShortestFirst()
    register_method(Method("toy-hybrid", "Toy hybrid", "Hybrid, then shortest chunk first (test only)",
                           "RRF score", ("dense", "bm25"), fusion="rrf", reorders=("shortest",)))
    yield
    retrieval.unregister_method("toy-hybrid")
    REORDERS.pop("shortest", None)
    stores.unregister_store("toy")


TEXT = ("Refund requests are accepted within 30 days, and a refund is paid to the card. "
        "Backups run nightly. Storage is replicated. "
        "A seat is one named user; the invoice lists every seat and every refund issued that month.")


def test_toy_store_and_stage_run_through_retrieval_and_evaluation(toy_seams):
    doc = Document(name="d.txt", text=TEXT, kind="txt")
    cuts = [0, 82, 102, 126, len(TEXT)]
    chunks = [Chunk("d.txt", i, a, b, TEXT[a:b], 10) for i, (a, b) in enumerate(zip(cuts, cuts[1:]))]
    r = Retriever.build(chunks, embedder=WordEmbedder(), store="toy")
    assert isinstance(r.store, ToyStore) and r.vectors is None

    plain = r.search("refund seat", config=RetrievalConfig(method="hybrid", k=2))
    toy = r.search("refund seat", config=RetrievalConfig(method="toy-hybrid", k=2))
    assert r.store.searches == 2  # the dense stage asked the store, once per query
    assert {h.chunk for h in toy} == {h.chunk for h in plain}
    assert [len(h.chunk.text) for h in toy] == sorted(len(h.chunk.text) for h in toy)
    assert [h.chunk for h in toy] != [h.chunk for h in plain]  # the stage really re-ordered them
    assert "toy stage put shorter chunks first" in toy[0].why()
    assert toy[0].evidence_of("shortest").label == "Shortest first"

    question = Question("How are refunds paid?", ("paid to the card",), "d.txt")
    run = evaluate(r, [question], {"d.txt": doc}, config=RetrievalConfig(method="toy-hybrid", k=2))
    assert run.summary.hit == 1.0 and run.n_chunks == 4

    with pytest.raises(ValueError, match="keeps them elsewhere"):
        r.search("refund", config=RetrievalConfig(method="hybrid", k=2, mmr=True))


def test_a_method_naming_an_unknown_stage_is_refused():
    with pytest.raises(ValueError, match="unknown stage 'nope'"):
        register_method(Method("bad", "Bad", "", "x", ("dense",), reorders=("nope",)))
    with pytest.raises(ValueError, match="needs a fusion step"):
        Method("bad", "Bad", "", "x", ("dense", "bm25"))


@pytest.mark.model
def test_retrieval_page_runs_on_the_toy_store_and_stage_unchanged(toy_seams, app_test, monkeypatch):
    import streamlit as st

    monkeypatch.setenv("RAG_EXPLORER_STORE", "toy")
    st.cache_resource.clear()  # settings are read once per process: read them again
    try:
        at = app_test(timeout=300)
        at.run()
        at.button(key="home_load_samples").click().run()
        at.switch_page("pages/retrieval.py").run()
        assert not at.exception
        assert any("Toy brute-force store" in c.value for c in at.caption)
        at.radio(key="retrieval_method").set_value("toy-hybrid").run()
        at.text_input(key="query").input("How long are backups kept?").run()
        assert not at.exception
        whys = [c.value for c in at.caption if c.value.startswith("Why here")]
        assert len(whys) == 5 and any("toy stage put shorter chunks first" in w for w in whys)
        # A method with several sources fuses them with the user's fusion setting (z-score by default),
        # whatever fusion it was registered with; every card shows that arithmetic.
        assert sum(FUSIONS[DEFAULT_FUSION][0] in w for w in whys) == 5
    finally:
        monkeypatch.delenv("RAG_EXPLORER_STORE")
        st.cache_resource.clear()
