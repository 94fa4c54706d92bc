"""Serving a published collection (core.pgserve), its generated snippet, and bad input, against a
real embedded PostgreSQL + pgvector (the one server of tests/test_pgstore.py; no mocks).

Fast tier: vectors come from the shared fake word embedder. The snippet is executed twice: here,
in-process with the fake model in place of sentence-transformers, and in a subprocess with the
real model (marked `model`), against the same server, comparing top K with the app.
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import types

import numpy as np
import psycopg
import psycopg.sql
import pytest

from core import model, pg, pgstore
from core.chunking import Chunk
from core.pg import PgError
from core.pgserve import LANGCHAIN_STYLE, ServeConfig, ServedRetriever, or_query
from core.pgsnippet import SnippetSettings, langchain_snippet, psycopg_snippet, url_without_password
from core.pgstore import publish
from core.retrieval import RetrievalConfig, Retriever
from tests.fakes import WordEmbedder
from tests.test_pgstore import HOSTILE, embedded_url

TEXTS = [
    "Refund requests are paid back to the card within five days.",
    "Backups run nightly and are kept for thirty days on the Team plan.",
    "Storage is replicated across two regions; backups are encrypted.",
    "A seat is one named user; the invoice lists every seat.",
    "The invoice shows refunds, seats and storage in one place.",
    "Support answers within one business day on the Team plan.",
    "The plan includes single sign-on and audit logs for admins.",
    "Every plan includes the same storage encryption.",
]


@pytest.fixture(scope="module")
def conn():
    c = pg.connect(embedded_url())
    yield c
    c.close()


@pytest.fixture(scope="module")
def corpus(conn):
    chunks = [Chunk("guide.md", i, 100 * i, 100 * i + len(t), t, 12, section=f"S{i}") for i, t in enumerate(TEXTS)]
    embedder = WordEmbedder()
    publish(conn, "serve", chunks, embedder.embed(TEXTS), {"model_id": embedder.model_id, "method": "hybrid", "k": 3})
    return chunks, embedder


QUESTIONS = ["refund to the card", "how long are backups kept on the Team plan", "who is a seat on the invoice",
             "storage encryption", "single sign-on"]


def _groups(hits, above: float) -> dict[float, set]:
    out: dict[float, set] = {}
    for h in hits:
        if h.score > above:
            out.setdefault(round(h.score, 4), set()).add(h.chunk)
    return out


def test_served_dense_matches_faiss_and_hits_are_ordinary(conn, corpus):
    chunks, embedder = corpus
    served = ServedRetriever(conn, "serve", embedder=embedder, serve=ServeConfig(exact=True))
    local = Retriever.from_vectors(chunks, embedder.embed(TEXTS), embedder=embedder)
    config = RetrievalConfig(method="dense", k=4)
    for q in QUESTIONS:
        got, want = served.search(q, config=config), local.search(q, config=config)
        np.testing.assert_allclose([h.score for h in got], [h.score for h in want], atol=1e-5)
        # The fake embedder gives many chunks the same vector, and last-bit differences order equal
        # cosines differently: compare which chunks come at each cosine above the cut.
        last = want[-1].score + 1e-4
        assert _groups(got, last) == _groups(want, last)
    hit = served.search("refund to the card", config=RetrievalConfig(method="hybrid", k=3, fusion="rrf", dense_weight=0.5))[0]
    assert hit.chunk == chunks[0] and hit.rank == 1 and hit.score_label == "RRF"
    assert [e.stage for e in hit.evidence] == ["dense", "bm25", "rrf"]
    assert hit.rank_in("dense") == 1 and hit.rank_in("bm25") == 1
    assert "matched card, refund" in hit.why() and "RRF = 1/(60+1) [Dense (pgvector" in hit.why()
    # The fusion arithmetic names the list PostgreSQL's full-text search made, not the in-memory BM25.
    assert "[Full-text (PostgreSQL" in hit.why() and "[BM25" not in hit.why()
    z = served.search("refund to the card", config=RetrievalConfig(method="hybrid", k=3, fusion="zscore"))[0]
    assert z.chunk == chunks[0] and z.score_label == "Z-score fusion" and z.evidence[-1].stage == "zscore"


def test_served_hybrid_is_the_in_memory_fusion_of_the_served_lists(conn, corpus):
    chunks, embedder = corpus
    served = ServedRetriever(conn, "serve", embedder=embedder)
    config = RetrievalConfig(method="hybrid", k=5, fusion="rrf", dense_weight=0.5)
    for q in QUESTIONS:
        v = embedder.embed([q])[0]
        dense, lexical, _ = served.fetch(q, v, dense=len(chunks), lexical=len(chunks))
        scores: dict[int, float] = {}
        for ranking in (dense, lexical):
            for rank, i in enumerate(ranking.ids, start=1):
                scores[i] = scores.get(i, 0.0) + 1 / (60 + rank)
        want = sorted(scores, key=lambda i: (-scores[i], i))[:5]
        assert [served.position(h.chunk) for h in served.search(q, config=config)] == want


def test_lexical_side_matches_any_word_and_weighs_rare_words(conn, corpus):
    chunks, embedder = corpus
    v = embedder.embed(["x"])[0]
    idf = ServedRetriever(conn, "serve", embedder=embedder)
    no_idf = ServedRetriever(conn, "serve", embedder=embedder, serve=ServeConfig(lexical="any"))
    langchain = ServedRetriever(conn, "serve", embedder=embedder, serve=LANGCHAIN_STYLE)
    # "plan" is in 4 of 8 chunks, "sign-on" in one: with IDF the rare word decides.
    assert idf.fetch("plan audit", v, dense=0, lexical=8)[1].ids[0] == 6
    # Any word is enough to be a candidate; LangChain's AND finds nothing when one word is missing.
    assert idf.fetch("refund zebra", v, dense=0, lexical=8)[1].ids == (0, 4)  # "refunds" stems to "refund"
    assert langchain.fetch("refund zebra", v, dense=0, lexical=8)[1].ids == ()
    assert set(no_idf.fetch("plan storage", v, dense=0, lexical=8)[1].ids) == {1, 2, 4, 5, 6, 7}
    # LangChain style fuses 4 candidates per side.
    dense, lexical, _ = langchain.fetch("plan", v, dense=4, lexical=4)
    assert len(dense.ids) == 4 and len(lexical.ids) == 4
    assert "4" in str(LANGCHAIN_STYLE.depth) and "every query word" in langchain.describe()
    assert or_query('x" OR -y; DROP TABLE t') == "x or OR or y or DROP or TABLE or t"


def test_hostile_names_and_hostile_queries_are_data(conn, corpus):
    chunks, embedder = corpus
    for name in HOSTILE[1:4]:
        publish(conn, name, chunks, embedder.embed(TEXTS), {"model_id": embedder.model_id})
        served = ServedRetriever(conn, name, embedder=embedder)
        for q in ["'; DROP TABLE rag_explorer_collections; --", '"quoted" -minus or', "%s %(v)s {t}", "!!!", "日本語"]:
            served.search(q, config=RetrievalConfig(method="hybrid", k=3))  # no error, no injection
    assert conn.execute("SELECT count(*) FROM rag_explorer_collections").fetchone()[0] >= 3


def test_a_collection_from_another_model_or_dimension_is_refused_with_a_message(conn, corpus):
    chunks, embedder = corpus
    publish(conn, "other", chunks, embedder.embed(TEXTS), {"model_id": "e5-small/torch"})
    with pytest.raises(PgError, match="published with model 'e5-small/torch', not 'fake/words'.*Publish it again"):
        ServedRetriever(conn, "other", embedder=embedder)

    class Wider(WordEmbedder):
        dimensions = 8

    with pytest.raises(PgError, match="holds 5-dimensional vectors, but the current model makes 8"):
        ServedRetriever(conn, "serve", embedder=Wider())
    with pytest.raises(PgError, match="MMR re-ordering needs every vector in memory"):
        ServedRetriever(conn, "serve", embedder=embedder).search("refund", config=RetrievalConfig(mmr=True))


def test_a_dropped_connection_while_serving_says_reconnect(corpus):
    chunks, embedder = corpus
    c = pg.connect(embedded_url())
    served = ServedRetriever(c, "serve", embedder=embedder)
    with pg.connect(embedded_url()) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [c.info.backend_pid])
    with pytest.raises(PgError, match="Lost the connection to PostgreSQL.*reconnect"):
        served.search("refund", config=RetrievalConfig(k=2))
    c.close()


def test_a_server_that_is_down_says_so(tmp_path):
    # A real server, started and stopped: its socket folder is there, nothing listens.
    data = tmp_path / "down"
    url = pg.start_embedded(data, delete_on_exit=False)
    with pg.connect(url) as c:
        assert pg.pgvector_version(c)
    pg.stop_embedded(data)
    with pytest.raises(PgError, match="Could not reach PostgreSQL.*Is the server running"):
        pg.connect(url, timeout=2)


def test_root_keeps_the_embedded_data_out_of_private_folders(tmp_path, monkeypatch):
    private = tmp_path / "home" / ".cache"
    private.mkdir(parents=True)
    private.chmod(0o700)
    assert private in pg.widened_by_pgserver(private / "rag-explorer" / "postgres")
    monkeypatch.setattr(pg, "_running_as_root", lambda: True)
    plan = pg.embedded_plan(private / "rag-explorer")
    assert plan.data_dir == pg.ROOT_DATA_DIR and str(private) in plan.note and plan.system_user == "pgserver"
    assert stat.S_IMODE(private.stat().st_mode) == 0o700  # nothing was changed by looking
    monkeypatch.setattr(pg, "_running_as_root", lambda: False)
    assert pg.embedded_plan(private / "rag-explorer").data_dir == private / "rag-explorer" / "postgres"


def _settings(conn, name: str, method: str = "hybrid", k: int = 3, fusion: str = "rrf",
              dense_weight: float = 0.5) -> SnippetSettings:
    info = pgstore.get_collection(conn, name)
    assert info is not None
    return SnippetSettings(info, "/path/to/model", model.MODEL_ID, method, k, candidates=8, fusion=fusion,
                           dense_weight=dense_weight)


class _FakeModel:
    """Stands in for SentenceTransformer inside the snippet (same vectors as the app's embedder)."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder

    def encode(self, texts, normalize_embeddings=True):
        return self.embedder.embed(texts)


@pytest.mark.parametrize("method, fusion, weight", [("hybrid", "rrf", 0.5), ("hybrid", "zscore", 0.5),
                                                    ("hybrid", "minmax", 0.3), ("hybrid", "rrf", 0.8),
                                                    ("dense", "zscore", 0.5), ("bm25", "zscore", 0.5)])
def test_the_psycopg_snippet_returns_the_apps_top_k(conn, corpus, method, fusion, weight, monkeypatch):
    chunks, embedder = corpus
    code = psycopg_snippet(_settings(conn, "serve", method, fusion=fusion, dense_weight=weight), url=embedded_url())
    compile(code, "snippet.py", "exec")
    monkeypatch.setitem(sys.modules, "sentence_transformers", types.SimpleNamespace(SentenceTransformer=None))
    namespace: dict = {"__name__": "snippet"}
    exec(code, namespace)
    served = ServedRetriever(conn, "serve", embedder=embedder)
    config = RetrievalConfig(method=method, k=3, candidates=8, fusion=fusion, dense_weight=weight)
    for q in QUESTIONS:
        app = [(h.chunk.doc, h.chunk.index) for h in served.search(q, config=config)]
        snippet = [(h["doc"], h["chunk"]) for h in namespace["search"](conn, _FakeModel(embedder), q)]
        assert snippet == app, q


def test_snippets_keep_the_password_out_and_the_name_as_data(conn, corpus):
    chunks, embedder = corpus
    url = "postgresql://app:S3cret-pw@db.example.com:5432/rag"
    assert "S3cret" not in url_without_password(url)
    name = HOSTILE[1]
    s = _settings(conn, name)
    for code in (psycopg_snippet(s, url=url), langchain_snippet(s, url=url)):
        assert "S3cret" not in code
        compile(code, "snippet.py", "exec")
        assert repr(name) in code
    assert "primary_top_k=8" in langchain_snippet(s, url=url)


@pytest.mark.model
def test_the_psycopg_snippet_runs_as_a_script_with_the_real_model(conn, sample_docs, tmp_path):
    from core.chunking import ChunkConfig, split_corpus
    from core.embedding import default_embedder
    from core.evaluation import load_questions
    from tests.conftest import _CACHE, SAMPLES

    # fp32, as a script without the app's bf16 kernels would run it (the snippet follows the
    # precision the collection was published with).
    real_embedder = default_embedder(backend="torch", cache_dir=_CACHE)

    chunks = split_corpus(sample_docs, config=ChunkConfig())
    publish(conn, "samples", chunks, real_embedder.embed([c.text for c in chunks]),
            {"model_id": real_embedder.model_id, "method": "hybrid", "k": 5})
    info = pgstore.get_collection(conn, "samples")
    assert info is not None
    script = tmp_path / "query_samples.py"
    app_config = RetrievalConfig(k=5)  # the app's defaults, fusion included
    script.write_text(psycopg_snippet(SnippetSettings(info, str(model.model_path()), model.MODEL_ID, "hybrid", 5,
                                                      fusion=app_config.fusion, dense_weight=app_config.dense_weight),
                                      url=embedded_url()))
    questions = load_questions((SAMPLES / "questions.jsonl").read_bytes(), "questions.jsonl").questions[:4]
    served = ServedRetriever(conn, "samples", embedder=real_embedder)
    for q in questions:
        out = subprocess.run([sys.executable, str(script), q.question], capture_output=True, text=True, timeout=180,
                             env={**os.environ, "DATABASE_URL": embedded_url()}, check=True).stdout
        got = [(h["doc"], h["chunk"]) for h in map(json.loads, out.splitlines())]
        want = [(h.chunk.doc, h.chunk.index) for h in served.search(q.question, config=app_config)]
        assert got == want, q.question


def test_psycopg_errors_never_escape_as_stack_traces(conn):
    with pytest.raises(PgError, match="no collection"):
        ServedRetriever(conn, "never published", embedder=WordEmbedder())
    assert isinstance(PgError("x"), ValueError) and not issubclass(PgError, psycopg.Error)


def test_a_collection_from_an_older_table_layout_says_publish_again(conn, corpus):
    chunks, embedder = corpus
    info = publish(conn, "old layout", chunks, embedder.embed(TEXTS), {"model_id": embedder.model_id})
    conn.execute(psycopg.sql.SQL("ALTER TABLE {} DROP COLUMN header CASCADE").format(
        psycopg.sql.Identifier(info.table)))
    with pytest.raises(PgError, match="published by an older version of this app: publish it again"):
        ServedRetriever(conn, "old layout", embedder=embedder)
