"""PgVectorStore and publishing, against a real PostgreSQL 16 + pgvector started by pgserver.

No mocks: one embedded server for the session, in a temporary folder (it starts in about a
second). Vectors are random or from a tiny fake embedder, so this stays in the fast tier.
"""
from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from core import pg, pgstore
from core.chunking import Chunk
from core.pg import PgError
from core.pgstore import PgVectorStore, list_collections, publish
from core.retrieval import RetrievalConfig, Retriever
from core.stores import FaissStore, VectorStore
from tests.fakes import WordEmbedder

DIMS = 384


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def make_chunks(n: int, doc: str = "d.txt", offset: int = 0) -> list[Chunk]:
    return [Chunk(doc, i, 10 * i, 10 * i + 9, f"chunk {offset + i} of {doc}", 4, section=f"S{i % 3}",
                  page=None if i % 2 else i // 2 + 1) for i in range(n)]


@functools.cache
def embedded_url() -> str:
    """One embedded server per test process, shared by every tests/test_pg*.py module (importing
    the fixture below makes one fixture per module; this makes them one server). pgserver stops
    it and deletes its folder when the process exits."""
    parent = Path(tempfile.mkdtemp(prefix="rag-explorer-pg-test-"))
    atexit.register(shutil.rmtree, parent, ignore_errors=True)  # runs after pgserver's own cleanup
    return pg.start_embedded(parent / "data", delete_on_exit=True)


@pytest.fixture(scope="session")
def pg_url():
    return embedded_url()


@pytest.fixture
def conn(pg_url):
    c = pg.connect(pg_url)
    yield c
    c.close()


def test_embedded_server_reports_its_versions(conn, pg_url):
    info = pg.server_info(conn, url=pg_url, embedded=True)
    assert info.postgres_version.startswith("16.")
    assert info.pgvector_version == "0.6.2"  # what pgserver 0.1.4 ships
    assert info.embedded and info.where.startswith("embedded (")


def test_exact_search_and_similarity_agree_with_faiss(conn):
    rng = np.random.default_rng(1)
    vectors, queries = unit(rng.standard_normal((2000, DIMS))), unit(rng.standard_normal((20, DIMS)))
    chunks = make_chunks(2000)
    publish(conn, "exact", chunks, vectors, {"model_id": "fake"})
    store = PgVectorStore(conn, "exact", exact=True)
    faiss = FaissStore(DIMS)
    faiss.add(chunks, vectors)
    for q in queries:
        f_scores, f_ids = faiss.search(q, 10)
        p_scores, p_ids = store.search(q, 10)
        assert list(p_ids) == list(f_ids)
        np.testing.assert_allclose(p_scores, f_scores, atol=1e-5)
        ids = [int(i) for i in f_ids[::-1]] + [0]
        np.testing.assert_allclose(store.similarity(q, ids), faiss.similarity(q, ids), atol=1e-5)


def test_hnsw_is_used_and_recalls_faiss_top10(conn):
    # Vectors with a low intrinsic dimension, like sentence embeddings. (Uniformly random
    # 384-d vectors are HNSW's worst case: recall@10 about 0.73 at ef_search 40 here.)
    rng = np.random.default_rng(2)
    latent = rng.standard_normal((2050, 16)) @ rng.standard_normal((16, DIMS))
    both = unit(latent + 0.3 * rng.standard_normal((2050, DIMS)))
    vectors, queries = both[:2000], both[2000:]
    chunks = make_chunks(2000)
    info = publish(conn, "hnsw", chunks, vectors, {})
    store = PgVectorStore(conn, "hnsw", ef_search=40)
    plan = conn.execute(sql.SQL("EXPLAIN SELECT seq FROM {} ORDER BY embedding <=> %s LIMIT 10").format(
        sql.Identifier(info.table)), [queries[0]]).fetchall()
    assert any("hnsw" in line[0] or "embedding_idx" in line[0] for line in plan), plan
    faiss = FaissStore(DIMS)
    faiss.add(chunks, vectors)
    recall = np.mean([len(set(faiss.search(q, 10)[1]) & set(store.search(q, 10)[1])) / 10 for q in queries])
    assert recall >= 0.99
    # HNSW alone returns at most ef_search rows: the store widens it for deeper requests.
    assert len(store.search(queries[0], 100)[1]) == 100
    assert len(store.search(queries[0], 1500)[1]) == 1500  # past pgvector's limit: exact scan


def test_published_collection_round_trips(conn):
    rng = np.random.default_rng(3)
    chunks = make_chunks(30, "a.md") + make_chunks(20, "b.pdf")
    settings = {"splitter": "recursive", "size": 800, "overlap": 100, "model_id": "fake/words", "k": 5}
    info = publish(conn, "round trip", chunks, unit(rng.standard_normal((50, DIMS))), settings)
    store = PgVectorStore(conn, "round trip")
    assert isinstance(store, VectorStore)
    assert list(store.chunks()) == chunks and store.size == 50 and store.dimensions == DIMS
    assert store.vectors() is None
    facts = store.facts()
    assert facts.memory_bytes is None and not facts.exact and "m=16" in facts.kind and "ef_construction=64" in facts.kind
    assert info.settings == settings and info.size == 50
    indexes = [r[0] for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [info.table])]
    assert any("hnsw" in d and "vector_cosine_ops" in d and "m='16'" in d and "ef_construction='64'" in d
               for d in indexes), indexes
    assert any("gin" in d and "(tsv)" in d for d in indexes), indexes
    rows = conn.execute(sql.SQL("SELECT idx FROM {} WHERE doc = 'b.pdf' AND tsv @@ plainto_tsquery('english', %s)"
                                ).format(sql.Identifier(info.table)), ["chunks 7"]).fetchall()
    assert [r[0] for r in rows] == [7]  # stemmed: "chunks" finds "chunk"


def test_add_and_replace_document_match_faiss(conn):
    rng = np.random.default_rng(4)
    a, b, a2 = make_chunks(12, "a.txt"), make_chunks(8, "b.txt"), make_chunks(5, "a.txt", offset=100)
    va, vb, va2 = (unit(rng.standard_normal((len(c), DIMS))) for c in (a, b, a2))
    store = PgVectorStore.create(conn, "incremental", DIMS)
    faiss = FaissStore(DIMS)
    for s in (store, faiss):
        s.add(a, va)
        s.add(b, vb)
        s.replace_document("a.txt", a2, va2)
    assert list(store.chunks()) == list(faiss.chunks()) == b + a2
    q = unit(rng.standard_normal((1, DIMS)))[0]
    assert list(store.search(q, 13)[1]) == list(faiss.search(q, 13)[1])
    assert PgVectorStore(conn, "incremental").size == 13  # a fresh reader sees the same
    with pytest.raises(PgError, match="already exists"):
        PgVectorStore.create(conn, "incremental", DIMS)


def test_retriever_runs_on_a_published_collection_like_on_faiss(conn):
    texts = ["Refund requests are paid to the card.", "Backups run nightly.", "Storage is replicated.",
             "A seat is one named user.", "The invoice lists every seat and refund."]
    chunks = [Chunk("d.txt", i, 0, len(t), t, 8) for i, t in enumerate(texts)]
    embedder = WordEmbedder()
    publish(conn, "words", chunks, embedder.embed(texts), {"model_id": embedder.model_id})
    served = Retriever(PgVectorStore(conn, "words", model_id=embedder.model_id), embedder)
    local = Retriever.from_vectors(chunks, embedder.embed(texts), embedder=embedder)
    query = "refund: a refund for every seat on the invoice"  # no two chunks tie on cosine
    for method in ("dense", "hybrid"):
        config = RetrievalConfig(method=method, k=3)
        assert [h.chunk for h in served.search(query, config=config)] == \
               [h.chunk for h in local.search(query, config=config)]


HOSTILE = [
    'x"; DROP TABLE rag_explorer_collections; --',
    "Robert'); DROP TABLE students;--",
    '"quoted"',
    "semi;colon $1 %s %(name)s {}",
    "日本語 ✓ émoji 🚀",
    "a" * 120,  # longer than PostgreSQL's 63-byte identifiers: names are data, never identifiers
    "  spaces  ",
]


def test_hostile_collection_names_are_only_data(conn):
    rng = np.random.default_rng(5)
    for i, name in enumerate(HOSTILE):
        publish(conn, name, make_chunks(3, offset=i), unit(rng.standard_normal((3, DIMS))), {"n": i})
    names = {c.name for c in list_collections(conn)}
    assert set(HOSTILE) <= names
    for i, name in enumerate(HOSTILE):
        store = PgVectorStore(conn, name)
        assert [c.text for c in store.chunks()] == [c.text for c in make_chunks(3, offset=i)]
        assert store.info.table.startswith("rag_chunks_") and store.info.table[11:].isalnum()
        assert len(store.search(rng.standard_normal(DIMS).astype(np.float32), 2)[1]) == 2
    assert pgstore.drop_collection(conn, HOSTILE[0])
    assert HOSTILE[0] not in {c.name for c in list_collections(conn)}
    assert conn.execute("SELECT to_regclass('rag_explorer_collections')").fetchone()[0] is not None
    for bad, message in [("", "Give the collection a name"), ("a\x00b", "NUL"), ("x" * 201, "at most 200")]:
        with pytest.raises(PgError, match=message):
            publish(conn, bad, make_chunks(1), unit(rng.standard_normal((1, DIMS))), {})
    with pytest.raises(PgError, match="no collection"):
        PgVectorStore(conn, "never published")


def _orphans(conn) -> set[str]:
    tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'rag_chunks_%'")}
    live = {c.table for c in list_collections(conn)}
    return tables - live - {pgstore.terms_table(t) for t in live}


def test_republish_is_atomic_when_cancelled_mid_way(conn, pg_url):
    rng = np.random.default_rng(6)
    old_chunks, new_chunks = make_chunks(10, "old.txt"), make_chunks(2500, "new.txt")
    publish(conn, "atomic", old_chunks, unit(rng.standard_normal((10, DIMS))), {"version": 1})
    seen_by_reader: list[list[str]] = []

    def cancel_after_first_batch(done: int, total: int) -> None:
        # Mid-publish, another connection still sees the old version, whole.
        with pg.connect(pg_url) as reader:
            seen_by_reader.append([c.doc for c in PgVectorStore(reader, "atomic").chunks()])
        if done >= pgstore.BATCH:
            raise KeyboardInterrupt("cancelled")

    with pytest.raises(KeyboardInterrupt):
        publish(conn, "atomic", new_chunks, unit(rng.standard_normal((2500, DIMS))), {"version": 2},
                cancel_after_first_batch)
    assert seen_by_reader == [["old.txt"] * 10]
    store = PgVectorStore(conn, "atomic")
    assert list(store.chunks()) == old_chunks and store.info.settings == {"version": 1}
    assert len(store.search(rng.standard_normal(DIMS).astype(np.float32), 3)[1]) == 3
    assert not _orphans(conn)

    old_table = store.info.table
    publish(conn, "atomic", new_chunks, unit(rng.standard_normal((2500, DIMS))), {"version": 2})
    fresh = PgVectorStore(conn, "atomic")
    assert fresh.size == 2500 and fresh.info.settings == {"version": 2} and fresh.info.table != old_table
    assert conn.execute("SELECT to_regclass(%s)", [old_table]).fetchone()[0] is None
    assert not _orphans(conn)
    with pytest.raises(PgError, match="published again or dropped since it was opened"):
        store.search(rng.standard_normal(DIMS).astype(np.float32), 3)


def test_a_dropped_connection_mid_publish_loses_nothing(conn, pg_url):
    rng = np.random.default_rng(7)
    publish(conn, "dropped", make_chunks(4, "old.txt"), unit(rng.standard_normal((4, DIMS))), {})
    writer = pg.connect(pg_url)
    pid = writer.info.backend_pid

    def kill_the_writer(done: int, total: int) -> None:
        with pg.connect(pg_url) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    with pytest.raises(PgError, match="failed while trying to publish 'dropped'; the previous version"):
        publish(writer, "dropped", make_chunks(2500, "new.txt"), unit(rng.standard_normal((2500, DIMS))), {},
                kill_the_writer)
    writer.close()
    assert [c.doc for c in PgVectorStore(conn, "dropped").chunks()] == ["old.txt"] * 4
    assert not _orphans(conn)


def test_a_collection_from_another_model_is_refused(conn):
    rng = np.random.default_rng(8)
    publish(conn, "other model", make_chunks(2), unit(rng.standard_normal((2, DIMS))), {"model_id": "m1"})
    with pytest.raises(PgError, match="384-dimensional vectors, but the current model makes 128"):
        PgVectorStore(conn, "other model", dimensions=128)
    with pytest.raises(PgError, match="published with model 'm1', not 'm2'"):
        PgVectorStore(conn, "other model", model_id="m2")


SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize("url, message", [
    (f"postgresql://app:{SECRET}@127.0.0.1:1/db", "Could not reach PostgreSQL at 127.0.0.1:1"),
    (f"postgresql://app:{SECRET}@127.0.0.1:notaport/db", "port"),
    (f"host=127.0.0.1 port=1 user=app password={SECRET}", "Could not reach PostgreSQL"),
    (f"not a url {SECRET}", "not a PostgreSQL connection URL"),
    (f"postgresql://app:{SECRET}@no-such-host.invalid/db", "Cannot find the host"),
])
def test_connection_errors_say_what_to_do_and_never_show_the_password(url, message):
    with pytest.raises(PgError, match=message) as caught:
        pg.connect(url, timeout=2)
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_redact_hides_passwords_in_every_form():
    url = "postgresql://app:p%40ss%2Fw0rd@db.example.com:5432/rag"
    text = f"failed for {url} (password p@ss/w0rd) password=p@ss/w0rd; also postgres://u:other@h/x"
    out = pg.redact(text, url)
    assert "p@ss" not in out and "p%40ss" not in out and "other" not in out
    assert "postgresql://app:***@db.example.com:5432/rag" in out
    assert pg.redact("postgresql://app@h/db") == "postgresql://app@h/db"  # nothing to hide


def test_no_permission_to_enable_pgvector_says_who_can(conn, pg_url):
    conn.execute("DROP DATABASE IF EXISTS noext")
    conn.execute("DROP ROLE IF EXISTS rag_reader")
    conn.execute("CREATE ROLE rag_reader LOGIN")
    conn.execute("CREATE DATABASE noext")
    params = conninfo_to_dict(pg_url)
    params.update(user="rag_reader", dbname="noext", password=SECRET)
    url = make_conninfo(**params)
    with pytest.raises(PgError, match=r"may not enable pgvector in database 'noext'.*CREATE EXTENSION vector") as e:
        pg.connect(url)
    assert SECRET not in str(e.value)
    with pytest.raises(PgError, match="not enabled"):
        pg.connect(url, create_extension=False)
    # Once an administrator has enabled it, the same user connects.
    with psycopg.connect(make_conninfo(**{**params, "user": "postgres", "dbname": "noext"}),
                         autocommit=True) as admin:
        admin.execute("CREATE EXTENSION vector")
    with pg.connect(url) as ok:
        assert pg.pgvector_version(ok) == "0.6.2"
        assert list_collections(ok) == []  # reading needs no privilege to create anything
        # PostgreSQL 15+ lets only the owner create tables in schema public.
        with pytest.raises(PgError, match="may not create tables here.*GRANT CREATE ON SCHEMA public"):
            publish(ok, "mine", make_chunks(1), unit(np.ones((1, DIMS))), {})
