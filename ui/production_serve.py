"""Serving Retrieval and Evaluate from a published collection (issue 14): the connection, the
"serve from" choice and the served retriever, for any page.

Pages call `serving(built)`: with "in memory" chosen it returns the session's index unchanged;
with a published collection it returns the same `BuiltIndex` with its retriever replaced by a
`core.pgserve.ServedRetriever`, so hits, evidence and evaluation are the usual objects. Failures
(server gone, collection dropped or from another model) become a visible message and the page
falls back to the in-memory index: nothing the user built is lost.
"""
from __future__ import annotations

from dataclasses import replace

import psycopg
import streamlit as st

from core import pg
from core.pgserve import LEXICAL_DIFFERENCE, ServeConfig, ServedRetriever
from core.pgstore import EF_SEARCH_MAX, list_collections
from core.retrieval import RetrievalConfig
from ui import state
from ui.indexing import session_embedder
from ui.text import md

_CONN = "_pg_connection"      # (url, psycopg.Connection) of this session
_SERVED = "_pg_served"        # (key, ServedRetriever)
IN_MEMORY = "In memory (FAISS + BM25)"


def connection() -> psycopg.Connection | None:
    """This session's open connection to its database, reopened if it dropped; None if none chosen.
    Raises PgError (message safe to show) when the server cannot be reached."""
    target = state.pg_target()
    if target is None:
        return None
    held = st.session_state.get(_CONN)
    if held is not None and held[0] == target.url and not held[1].closed and not held[1].broken:
        return held[1]
    if held is not None:
        held[1].close()
    conn = pg.connect(target.url)
    st.session_state[_CONN] = (target.url, conn)
    return conn


def disconnect() -> None:
    held = st.session_state.pop(_CONN, None)
    if held is not None:
        held[1].close()
    st.session_state.pop(_SERVED, None)
    state.set_pg_target(None)


def collection_names() -> list[str]:
    try:
        conn = connection()
        return [c.name for c in list_collections(conn)] if conn is not None else []
    except (pg.PgError, psycopg.Error):
        return []


def serve_from_picker(*, where: str) -> state.ServeFrom:
    """The "serve from" choice (a select box and ef_search), drawn on any page; `where` makes the keys unique."""
    names = collection_names()
    current = state.serve_from()
    if state.pg_target() is None or not names:
        if current.collection is not None:
            state.set_serve_from(state.ServeFrom())
        return state.ServeFrom()
    options = [IN_MEMORY, *names]
    key, ef_key = f"serve_from_{where}", f"serve_ef_{where}"
    # Seeded from the session's choice when the widget is new (first visit, or back from another page).
    if st.session_state.get(key) not in options:
        st.session_state[key] = current.collection if current.collection in names else IN_MEMORY
    if ef_key not in st.session_state:
        st.session_state[ef_key] = current.ef_search
    c1, c2 = st.columns([3, 1])
    pick = c1.selectbox("Serve retrieval from", options, key=key,
                        format_func=lambda o: o if o == IN_MEMORY else f"PostgreSQL collection '{o}'",
                        help="A published collection answers the Retrieval and Evaluate pages from PostgreSQL: "
                             "dense from pgvector, lexical from full-text search, in one SQL round trip.")
    ef = c2.number_input("ef_search", 1, EF_SEARCH_MAX, key=ef_key, step=10, disabled=pick == IN_MEMORY,
                         help="HNSW breadth: higher finds the exact nearest neighbours more often, a little slower. "
                              "Raised to the candidate depth when that is deeper.")
    choice = state.ServeFrom(None if pick == IN_MEMORY else pick, int(ef))
    state.set_serve_from(choice)
    return choice


def served_retriever(choice: state.ServeFrom) -> ServedRetriever:
    """The session's retriever for `choice` (reopened when the collection was published again)."""
    conn = connection()
    assert conn is not None and choice.collection is not None
    target = state.pg_target()
    key = (target.url if target else "", choice)
    held = st.session_state.get(_SERVED)
    if held is not None and held[0] == key:
        r: ServedRetriever = held[1]
        current = pg_table(conn, choice.collection)
        if current == r.info.table and not r.conn.closed and not r.conn.broken:
            return r
    r = ServedRetriever(conn, choice.collection, embedder=session_embedder().queries(),
                        serve=ServeConfig(ef_search=choice.ef_search))
    r.attach_documents(state.documents())  # section parents are cut from the session's documents
    st.session_state[_SERVED] = (key, r)
    return r


def pg_table(conn: psycopg.Connection, name: str) -> str | None:
    from core.pgstore import get_collection

    info = get_collection(conn, name)
    return info.table if info else None


def serving(built: state.BuiltIndex, *, config: RetrievalConfig | None = None) -> state.BuiltIndex:
    """`built`, or the same index answered by the chosen published collection (see module doc)."""
    choice = state.serve_from()
    if choice.collection is None or state.pg_target() is None:
        return built
    try:
        served = served_retriever(choice)
    except (pg.PgError, psycopg.Error) as exc:
        st.error(f"Cannot serve from PostgreSQL: {md(pg.redact(str(exc)))} Using the in-memory index instead.")
        return built
    st.info(f"Serving from PostgreSQL, {md(served.describe())}: {len(served.chunks):,} chunks. "
            "Choose *In memory* on the Publish & serve page to go back.", icon=":material/database:")
    if config is not None and config.mmr:
        st.caption("MMR needs every vector in memory; it is off while serving from PostgreSQL.")
    return replace(built, retriever=served)


def served_config(config: RetrievalConfig) -> RetrievalConfig:
    """`config` as a served collection can run it (MMR off: it needs the vectors in memory)."""
    if state.serve_from().collection is None or not config.mmr:
        return config
    return replace(config, mmr=False)


def lexical_note() -> str:
    return LEXICAL_DIFFERENCE
