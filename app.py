"""RAG Explorer: the router and the sidebar every page shares. No logic lives here."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.resources import warm_up
from ui.widgets import session_sidebar

# A file of our own, served by this app: a ":material/...:" page icon makes the browser fetch the
# favicon from fonts.gstatic.com, which fails offline and leaks a request off the machine.
ICON = Path(__file__).resolve().parent / "assets" / "icon.png"
st.set_page_config(page_title="RAG Explorer", page_icon=str(ICON), layout="wide")

PAGES = {
    "Explore": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/documents.py", title="Documents", icon=":material/description:"),
        st.Page("pages/chunking.py", title="Chunking", icon=":material/view_agenda:"),
        st.Page("pages/retrieval.py", title="Index & Retrieval", icon=":material/search:"),
        st.Page("pages/evaluate.py", title="Evaluate", icon=":material/monitoring:"),
        st.Page("pages/production.py", title="Publish & serve", icon=":material/database:"),
    ],
    "Decide": [
        st.Page("pages/decide.py", title="Decide", icon=":material/account_tree:"),
        st.Page("pages/costs.py", title="Costs", icon=":material/payments:"),
        st.Page("pages/readiness.py", title="Fine-tuning readiness", icon=":material/fact_check:"),
    ],
}

warm_up()  # the embedding model loads in the background while the user looks around
nav = st.navigation(PAGES)

session_sidebar()  # before the page; it redraws itself when the page changes the session
nav.run()
