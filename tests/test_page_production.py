"""AppTest runs of the Publish & serve page, against the real embedded PostgreSQL of the pg tests.

Fast tier: connecting (a bad URL with a password in it; the test server), the collections table,
the serve choice and the snippets, with a collection published by the test. Model tier: publish
the samples from the page, then serve Index & Retrieval and Evaluate from the collection.
"""
from __future__ import annotations

import numpy as np
import pytest

from core import pg
from core.chunking import Chunk
from core.pgstore import get_collection, publish
from tests.test_pgstore import embedded_url
from ui import state

SECRET = "Pa55-w0rd-in-url"


def target() -> state.PgTarget:
    url = embedded_url()
    with pg.connect(url) as conn:
        info = pg.server_info(conn, url=url, embedded=True)
    return state.PgTarget(url, True, info.where, info.postgres_version, info.pgvector_version)


def open_page(app_test, *, connected: bool):
    at = app_test()
    if connected:
        at.session_state[state.PG_TARGET] = target()
    at.run()
    at.switch_page("pages/production.py").run()
    assert not at.exception
    return at


def test_a_bad_url_says_what_to_do_and_never_shows_the_password(app_test):
    at = open_page(app_test, connected=False)
    assert at.text_input(key="pg_url").proto.type == at.text_input(key="pg_url").proto.PASSWORD
    assert at.button(key="pg_start_embedded") is not None
    at.text_input(key="pg_url").input(f"postgresql://app:{SECRET}@127.0.0.1:1/rag").run()
    at.button(key="pg_connect").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "Could not reach PostgreSQL at 127.0.0.1:1" in errors[0]
    shown = " ".join(str(e.value) for kind in (at.error, at.markdown, at.caption, at.info) for e in kind)
    assert SECRET not in shown
    at.text_input(key="pg_url").input("not a url at all").run()
    at.button(key="pg_connect").click().run()
    assert "not a PostgreSQL connection URL" in at.error[0].value


def test_connected_page_lists_collections_serves_and_writes_the_snippet(app_test):
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [Chunk("a.md", i, 0, 5, f"text {i}", 2) for i in range(3)]
    settings = {"splitter": "recursive", "size": 254, "overlap": 50, "unit": "tokens", "headers": False,
                "model_id": "all-MiniLM-L6-v2/torch-bf16", "method": "hybrid", "k": 5, "fusion": "rrf"}
    with pg.connect(embedded_url()) as conn:
        publish(conn, "page 'test'", chunks, vectors, settings)
    at = open_page(app_test, connected=True)
    values = {m.label: m.value for m in at.metric}
    assert values["PostgreSQL"].startswith("16.") and values["pgvector"] == "0.6.2"
    assert values["Server"] == "Embedded (this machine)"
    table = at.dataframe[0].value
    row = table[table["collection"] == "page 'test'"].iloc[0]
    assert row["chunks"] == 3 and row["chunking"] == "recursive 254/50 tokens" and row["method"] == "hybrid"
    assert row["HNSW"] == "m=16, ef_construction=64" and row["K"] == 5
    assert any("no IDF" in m.value for m in at.markdown)

    at.selectbox(key="serve_from_production").select("page 'test'").run()
    assert not at.exception
    assert state.ServeFrom("page 'test'") == at.session_state[state.SERVE_FROM]
    at.selectbox(key="pg_snippet_collection").select("page 'test'").run()
    snippets = [c.value for c in at.code]
    assert any("COLLECTION = \"page 'test'\"" in s and "websearch_to_tsquery" in s for s in snippets)
    assert any("langchain_postgres" in s for s in snippets)

    at.selectbox(key="pg_drop_pick").select("page 'test'").run()
    assert at.button(key="pg_drop").disabled  # only once confirmed
    at.checkbox(key="pg_drop_sure").check().run()
    at.button(key="pg_drop").click().run()
    assert not at.exception
    assert any("Dropped" in s.value for s in at.success)
    with pg.connect(embedded_url()) as conn:
        assert get_collection(conn, "page 'test'") is None
    assert at.session_state[state.SERVE_FROM].collection is None  # no longer served

    at.button(key="pg_disconnect").click().run()
    assert not at.exception
    assert not at.metric and at.button(key="pg_start_embedded") is not None  # back to choosing a database


@pytest.mark.model
def test_publish_the_samples_then_serve_retrieval_and_evaluate(app_test):
    at = app_test(timeout=300)
    at.session_state[state.PG_TARGET] = target()
    at.run()
    at.button(key="home_load_samples").click().run()
    at.switch_page("pages/production.py").run()
    at.text_input(key="pg_collection_name").input("samples from the page").run()
    at.button(key="pg_publish").click().run()
    assert not at.exception, at.exception
    assert any("Published 'samples from the page'" in s.value for s in at.success)
    with pg.connect(embedded_url()) as conn:
        info = get_collection(conn, "samples from the page")
    assert info is not None and info.size > 50 and info.settings["splitter"] == "recursive"
    assert info.settings["model_id"].startswith("all-MiniLM-L6-v2/")
    at.selectbox(key="serve_from_production").select("samples from the page").run()

    at.switch_page("pages/retrieval.py").run()
    at.text_input(key="query").input("How long are backups kept on the Team plan?").run()
    assert not at.exception, at.exception
    assert any("Serving from PostgreSQL" in i.value for i in at.info)
    strips = [m.value for m in at.markdown if "Full-text (PostgreSQL + IDF)" in m.value]
    assert len(strips) == 5 and all("Dense (pgvector cosine)" in s and "fusion" in s.lower() for s in strips)
    assert sorted(m.value[:6] for m in at.markdown if m.value.startswith("**#")) == [f"**#{r}**" for r in range(1, 6)]

    at.switch_page("pages/evaluate.py").run()
    at.button(key="eval_run").click().run()
    assert not at.exception, at.exception
    hit = float(next(m.value for m in at.metric if m.label.startswith("hit@")))
    assert hit >= 0.85  # served hybrid on the samples (in memory: 0.958)
