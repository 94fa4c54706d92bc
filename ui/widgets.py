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
