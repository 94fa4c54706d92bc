"""Publish & serve: take the tuned index to PostgreSQL + pgvector, and query it from there (issue 14)."""
from __future__ import annotations

import streamlit as st

from ui.production import collections_section, connection_section, publish_section, serve_section, snippet_section

st.title("Publish & serve")
st.caption(
    "Write the index you tuned (chunks, vectors and the settings that made them) to PostgreSQL with pgvector, "
    "answer Retrieval and Evaluate from it, and take the code that queries it into your own app."
)

conn = connection_section()
if conn is None:
    st.stop()
publish_section(conn)
infos = collections_section(conn)
serve_section()
snippet_section(infos)
