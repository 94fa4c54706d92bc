"""Widgets several pages share."""
from __future__ import annotations

import streamlit as st

from core import model
from ui import state
from ui.resources import SAMPLE_DIR, model_status, settings
from ui.text import md

_SLOT = "_sidebar_slot"


def session_sidebar() -> None:
    """What this session holds, on every page.

    Drawn before the page (a page that calls st.stop() ends the script, so nothing after it
    could draw) into a slot that is redrawn whenever the page changes the session's state.
    """
    slot = st.sidebar.empty()
    st.session_state[_SLOT] = slot
    state.on_change(_redraw_sidebar)
    _draw_sidebar(slot)
    clear_my_data_button()


def _redraw_sidebar() -> None:
    slot = st.session_state.get(_SLOT)
    if slot is not None:
        _draw_sidebar(slot)


def _draw_sidebar(slot) -> None:
    with slot.container():
        st.caption("THIS SESSION")
        docs = state.documents()
        st.markdown(f"**Documents:** {len(docs)}")
        st.markdown(f"**Chunking:** {state.chunk_config().label()}")
        rc = state.retrieval_config()
        st.markdown(f"**Retrieval:** {rc.method}, top-{rc.k}")
        built = state.built_index()
        if built:
            st.markdown(f"**Index:** :green[built] ({built.retriever.store.size} chunks)")
        elif state.index_is_stale():
            st.markdown("**Index:** :orange[out of date]")
        else:
            st.markdown("**Index:** not built")
        st.caption(f"Model: {model.MODEL_ID} ({settings().backend}), offline · {model_status()}")


_CLEARED = "_cleared_my_data"  # what "Clear my data" removed, shown once after the rerun


def clear_my_data() -> None:
    """Everything this session holds, and the rows it wrote to the shared vector cache, deleted.

    Cache rows go first (the session's ledger lists them), then every session value: documents,
    chunks, index, sentence vectors, question sets, evaluations, sweeps, answers, typed questions
    and settings. Rows another session also wrote stay: they are that session's too. The ids of
    files already uploaded stay marked as read, so the uploader's file list does not load them again.
    """
    from ui.documents_upload import SEEN
    from ui.indexing import session_embedder

    ledger = state.cache_ledger()
    n_docs = len(state.documents())
    rows = session_embedder().forget() if (ledger.written or ledger.seen or ledger.queries) else 0
    seen = st.session_state.get(SEEN)
    for key in list(st.session_state):
        try:
            del st.session_state[key]
        except Exception:  # a widget Streamlit will not let go of keeps its value; nothing of ours
            pass
    if seen is not None:
        st.session_state[SEEN] = seen
    st.session_state[_CLEARED] = (n_docs, rows)


def clear_my_data_button() -> None:
    """The sidebar's "Clear my data", behind a popover that says exactly what it deletes."""
    done = st.session_state.pop(_CLEARED, None)
    if done is not None:
        n_docs, rows = done
        st.sidebar.success(f"Cleared: {n_docs} document(s), this session's index, questions and results, and "
                           f"{rows:,} vector(s) it had written to the shared cache.", icon=":material/check:")
    with st.sidebar.popover("Clear my data", icon=":material/delete:", key="clear_my_data_popover"):
        st.markdown("Deletes, for this browser session only:\n"
                    "- the documents, chunks, index and sentence vectors;\n"
                    "- question sets, evaluations, sweeps, answers and typed questions;\n"
                    "- the vectors this session wrote to the server's vector cache "
                    "(vectors another session also computed stay theirs).\n\n"
                    "Settings go back to their defaults. Uploaded files are not read again.")
        st.button("Clear my data now", key="clear_my_data", type="primary", on_click=clear_my_data)


def load_samples() -> None:
    """Load the bundled sample documents into this session (replacing same-named ones)."""
    from core.documents import load_directory

    report = load_directory(SAMPLE_DIR)
    state.add_documents(list(report.documents))
    for _, message in report.errors:
        st.error(md(message))


def need_documents(where: str) -> bool:
    """True when documents are loaded; otherwise explain and offer the samples."""
    if state.documents():
        return True
    st.info(f"Load documents first to {where}.")
    c1, c2 = st.columns([1, 3])
    if c1.button("Load sample documents", key=f"load_samples_{where[:12].replace(' ', '_')}", type="primary"):
        with st.spinner("Loading samples..."):
            load_samples()
        st.rerun()
    c2.page_link("pages/documents.py", label="or upload your own on the Documents page", icon=":material/upload:")
    return False
