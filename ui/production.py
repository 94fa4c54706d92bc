"""Publish & serve page sections (issue 14): connect, publish the session's index, list collections,
choose what Retrieval and Evaluate query, and the code to reuse the collection elsewhere.

A connection URL may carry a password: it goes into a password field, is kept only in this
session's state, and every message passes through `core.pg.redact`. Publishing runs in the page
run with a progress bar; Cancel is a click, which interrupts the run at the next progress update,
and the publish transaction then rolls back, leaving the previous version of the collection as it was.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import psycopg
import streamlit as st

from core import model, pg
from core.pgserve import ServeConfig
from core.pgsnippet import SnippetSettings, langchain_snippet, psycopg_snippet
from core.pgstore import HNSW_EF_CONSTRUCTION, HNSW_M, CollectionInfo, drop_collection, list_collections, publish
from core.retrieval import METHODS
from ui import state
from ui.indexing import build_index
from ui.production_serve import connection, disconnect, lexical_note, serve_from_picker
from ui.resources import settings
from ui.text import code, md

_CANCELLED = "_pg_publish_cancelled"
_FLASH = "_pg_flash"


@st.cache_resource(show_spinner=False)
def _embedded_url(data_dir: str) -> str:
    """One embedded server per process and data folder; it stops when the app's process exits."""
    return pg.start_embedded(Path(data_dir))


def _connect(url: str, *, embedded: bool) -> None:
    try:
        with pg.connect(url) as conn:
            info = pg.server_info(conn, url=url, embedded=embedded)
    except pg.PgError as exc:
        st.error(pg.redact(str(exc), url))
        return
    state.set_pg_target(state.PgTarget(url, embedded, info.where, info.postgres_version, info.pgvector_version))
    st.rerun()


def connection_section() -> psycopg.Connection | None:
    """Who we talk to: shown when connected, chosen otherwise. Returns the open connection."""
    st.subheader("1. Database")
    target = state.pg_target()
    if target is not None:
        try:
            conn = connection()
        except pg.PgError as exc:
            st.error(pg.redact(str(exc), target.url))
            st.button("Disconnect", key="pg_disconnect", on_click=disconnect)
            return None
        c1, c2, c3 = st.columns([3, 1, 1])
        c1.metric("Server", "Embedded (this machine)" if target.embedded else target.where,
                  help=None if target.embedded else "The connection URL, password hidden.")
        c2.metric("PostgreSQL", target.postgres_version)
        c3.metric("pgvector", target.pgvector_version)
        if target.embedded:
            plan = pg.embedded_plan(settings().cache_dir)
            st.caption(f"Embedded PostgreSQL from the pgserver package. Data lives in {code(str(plan.data_dir))}. "
                       f"{md(plan.note)} It stops when the app stops; the data stays.")
        st.button("Disconnect", key="pg_disconnect", on_click=disconnect)
        return conn

    left, right = st.columns(2)
    with left.container(border=True):
        st.markdown("**Your PostgreSQL** (it needs the `vector` extension, pgvector)")
        env_url = os.environ.get("DATABASE_URL", "").strip()
        if env_url:
            st.caption(f"DATABASE_URL is set: {code(pg.redact(env_url, env_url))}")
            if st.button("Connect to DATABASE_URL", key="pg_connect_env", type="primary"):
                _connect(env_url, embedded=False)
        url = st.text_input("Connection URL", key="pg_url", type="password",
                            placeholder="postgresql://user:password@host:5432/database",
                            help="Kept in this browser session only and never shown; messages hide the password.")
        if st.button("Connect", key="pg_connect", disabled=not url.strip()):
            _connect(url.strip(), embedded=False)
    with right.container(border=True):
        plan = pg.embedded_plan(settings().cache_dir)
        st.markdown("**Embedded PostgreSQL** (no install: PostgreSQL 16 + pgvector from the pgserver package)")
        st.caption(f"Data folder: {code(str(plan.data_dir))}. {md(plan.note)}")
        if st.button("Start embedded PostgreSQL", key="pg_start_embedded", type="primary" if not env_url else "secondary"):
            try:
                with st.spinner("Starting PostgreSQL (a few seconds the first time)..."):
                    url = _embedded_url(str(plan.data_dir))
            except pg.PgError as exc:
                st.error(str(exc))
            else:
                _connect(url, embedded=True)
    return None


def _settings_row(chunks, retriever) -> dict:
    cc, rc = state.chunk_config(), state.retrieval_config()
    return {"splitter": cc.splitter, "size": cc.size, "overlap": cc.overlap, "unit": cc.unit,
            "headers": cc.headers, "chunking": cc.label(), "model_id": retriever.embedder.model_id,
            "model": model.MODEL_ID, "dimensions": retriever.embedder.dimensions, "method": rc.method, "k": rc.k,
            "fusion": rc.fusion_used() or "none", "dense_weight": rc.dense_weight, "rrf_k": rc.rrf_k,
            "candidates": rc.candidates, "parent": rc.parent, "documents": sorted({c.doc for c in chunks})[:50]}


def _cancel() -> None:
    st.session_state[_CANCELLED] = True


def publish_section(conn: psycopg.Connection) -> None:
    st.subheader("2. Publish the current index")
    if st.session_state.get(_FLASH):
        kind, text = st.session_state.pop(_FLASH)
        (st.success if kind == "ok" else st.warning)(text)
    if st.session_state.pop(_CANCELLED, False):
        st.warning("Publishing was cancelled. The collection's previous version, if any, is unchanged and still served.")
    if not state.documents():
        st.info("Load documents on the Documents page first: publishing writes the session's index.")
        return
    built = build_index()
    if built is None:
        return
    vectors = built.retriever.vectors
    chunks = built.retriever.chunks
    if vectors is None:
        st.error("This index keeps its vectors outside the app, so there is nothing to copy from it.")
        return
    cc, rc = state.chunk_config(), state.retrieval_config()
    st.markdown(f"**{len(chunks):,} chunks** of {len(state.documents())} document(s), {md(cc.label())}, "
                f"{md(model.MODEL_ID)} vectors ({vectors.shape[1]} dimensions); retrieval {md(METHODS[rc.method].label)} "
                f"top-{rc.k}.")
    st.caption(f"Rows are copied with COPY in batches of 1,000, then an HNSW index is built (cosine, m={HNSW_M}, "
               f"ef_construction={HNSW_EF_CONSTRUCTION}) and a GIN index over a full-text column. Publishing "
               "over an existing name replaces it in one transaction: until it commits, readers see the old "
               "version, and a failure or Cancel leaves it untouched.")
    state.keep_widget("pg_collection_name", "rag-explorer")
    name = st.text_input("Collection name", key="pg_collection_name", max_chars=200,
                         help="Any text: it is stored as data, never as SQL.")
    if not st.button("Publish", key="pg_publish", type="primary", disabled=not name.strip()):
        return
    bar = st.progress(0.0, text="Starting...")
    st.button("Cancel", key="pg_publish_cancel", on_click=_cancel, help="Stops the publish; the previous version stays.")
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        text = (f"Copied {done:,} / {total:,} chunks" if done < total else
                f"Copied {total:,} chunks; building the HNSW and full-text indexes...")
        bar.progress(done / max(total, 1), text=text)

    try:
        info = publish(conn, name, chunks, vectors, _settings_row(chunks, built.retriever), progress)
    except pg.PgError as exc:
        bar.empty()
        st.error(str(exc))
        return
    seconds = time.perf_counter() - started
    st.session_state[_FLASH] = ("ok", f"Published '{md(info.name)}': {info.size:,} chunks in {seconds:.1f} s "
                                      f"({info.size / max(seconds, 1e-9):,.0f} chunks/s), HNSW m={info.hnsw_m}, "
                                      f"ef_construction={info.hnsw_ef_construction}.")
    st.rerun()


def _collection_rows(infos: list[CollectionInfo]) -> pd.DataFrame:
    rows = []
    for c in infos:
        s = c.settings
        rows.append({"collection": c.name, "chunks": c.size, "dimensions": c.dimensions,
                     "model": s.get("model_id", "?"),
                     "chunking": s.get("chunking") or f"{s.get('splitter', '?')} {s.get('size', '?')}/{s.get('overlap', '?')} {s.get('unit', '')}",
                     "headers": s.get("headers"), "method": s.get("method", "?"), "K": s.get("k"),
                     "fusion": s.get("fusion", "?"), "dense weight": s.get("dense_weight"), "HNSW": f"m={c.hnsw_m}, ef_construction={c.hnsw_ef_construction}",
                     "full-text": c.text_search})
    return pd.DataFrame(rows)


def collections_section(conn: psycopg.Connection) -> list[CollectionInfo]:
    st.subheader("3. Published collections")
    try:
        infos = list_collections(conn)
    except (pg.PgError, psycopg.Error) as exc:
        st.error(f"Could not list the collections: {md(pg.redact(str(exc)))}")
        return []
    if not infos:
        st.info("No collection yet: publish one above.")
        return []
    st.dataframe(_collection_rows(infos), key="pg_collections", hide_index=True, width="stretch")
    with st.expander("Drop a collection"):
        c1, c2 = st.columns([3, 1])
        pick = c1.selectbox("Collection to drop", [c.name for c in infos], key="pg_drop_pick")
        sure = c1.checkbox("Yes, delete its chunks and vectors from the database", key="pg_drop_sure")
        if c2.button("Drop", key="pg_drop", disabled=not sure) and pick is not None:
            try:
                drop_collection(conn, pick)
            except (pg.PgError, psycopg.Error) as exc:
                st.error(f"Could not drop '{md(pick)}': {md(pg.redact(str(exc)))}")
            else:
                if state.serve_from().collection == pick:
                    state.set_serve_from(state.ServeFrom())
                st.session_state[_FLASH] = ("ok", f"Dropped '{md(pick)}'.")
                st.session_state.pop("pg_drop_sure", None)
                st.rerun()
    return infos


def serve_section() -> None:
    st.subheader("4. Serve Retrieval and Evaluate from PostgreSQL")
    choice = serve_from_picker(where="production")
    st.markdown(lexical_note())
    if choice.collection is not None:
        st.caption("Index & Retrieval and Evaluate › Current settings now query this collection; hit cards show "
                   "the database's scores (pgvector cosine, full-text score) and the fusion.")


def snippet_section(infos: list[CollectionInfo]) -> None:
    st.subheader("5. Use it in your app")
    if not infos:
        st.info("Publish a collection to get code that queries it.")
        return
    names = [c.name for c in infos]
    state.keep_widget("pg_snippet_collection", state.serve_from().collection or names[0])
    if st.session_state["pg_snippet_collection"] not in names:
        st.session_state["pg_snippet_collection"] = names[0]
    pick = st.selectbox("Collection", names, key="pg_snippet_collection")
    info = next(c for c in infos if c.name == pick)
    s = info.settings
    method = s.get("method", "hybrid") if s.get("method") in ("dense", "bm25", "hybrid") else "hybrid"
    target = state.pg_target()
    url = target.url if target else ""
    fusion = str(s.get("fusion")) if s.get("fusion") in ("rrf", "zscore", "minmax") else "rrf"
    snippet = SnippetSettings(info, str(model.model_path()), model.MODEL_ID, method, int(s.get("k", 5)),
                              int(s.get("rrf_k", 60)), int(s.get("candidates", 50)),
                              ServeConfig(ef_search=state.serve_from().ef_search),
                              fusion, float(s.get("dense_weight", 0.5)))
    tab_pg, tab_lc = st.tabs(["psycopg + pgvector", "langchain-postgres"])
    with tab_pg:
        st.caption("Standalone: the same single SQL statement and the same fusion as the app, with the model and "
                   "settings filled in. The password stays out of the code: set DATABASE_URL.")
        st.code(psycopg_snippet(snippet, url=url), language="python")
    with tab_lc:
        st.caption("For a LangChain app. Not run by this app's tests: langchain-postgres pins an older pgvector "
                   "package. Its hybrid search needs every query word to match and fuses 4 candidates per side "
                   "by default; the code widens that to the app's depth.")
        st.code(langchain_snippet(snippet, url=url), language="python")
