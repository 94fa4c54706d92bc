"""Home: what the app is for, the pipeline, where to start, and this session's state."""
from __future__ import annotations

import streamlit as st

from core import model
from ui import state
from ui.widgets import load_samples

st.title("RAG Explorer")
st.markdown(
    "Decide how to ground an LLM in **your own documents**, with evidence. Load documents, chunk "
    "them, index them locally, and see exactly which passages come back for a question and why. "
    "Then measure retrieval quality across settings and take the result to stakeholders with a "
    "RAG-vs-fine-tuning decision and a cost comparison. Everything runs offline on this machine: "
    f"the embedding model ({model.MODEL_ID}) ships with the app, and no API key is needed."
)

st.subheader("The pipeline")
st.graphviz_chart(
    """
    digraph {
      rankdir=LR; node [shape=box, style="rounded,filled", fillcolor="#eff6ff", fontname="Helvetica"];
      docs [label="Documents\\nPDF, HTML, MD, TXT, DOCX"]; chunks [label="Chunks\\nsplitter, size, overlap"];
      index [label="Index\\nFAISS + BM25"]; retrieval [label="Retrieval\\ndense, BM25, hybrid"];
      answer [label="Answer\\nprompt + citations"]; evaluate [label="Evaluate\\nhit@K, MRR, sweeps", fillcolor="#f0fdf4"];
      decide [label="Decide\\nRAG vs fine-tuning", fillcolor="#fefce8"]; costs [label="Costs\\nRAG, FT, hybrid", fillcolor="#fefce8"];
      docs -> chunks -> index -> retrieval -> answer; retrieval -> evaluate -> chunks [style=dashed];
      evaluate -> decide -> costs;
    }
    """,
    width="stretch",
)

st.subheader("Where to start")
c1, c2, c3 = st.columns(3)
with c1:
    st.markdown("**1. Documents**: upload yours, or start with the bundled samples (a fictional product's docs).")
    if st.button("Load sample documents", key="home_load_samples", type="primary"):
        with st.spinner("Loading samples..."):
            load_samples()
        st.switch_page("pages/chunking.py")
    st.page_link("pages/documents.py", label="Upload documents", icon=":material/upload:")
with c2:
    st.markdown("**2. Chunk and retrieve**: tune the splitter, then ask questions and inspect the hits.")
    st.page_link("pages/chunking.py", label="Chunking", icon=":material/view_agenda:")
    st.page_link("pages/retrieval.py", label="Index & Retrieval", icon=":material/search:")
with c3:
    st.markdown("**3. Measure and decide**: sweep settings over a question set, then decide and price.")
    st.page_link("pages/evaluate.py", label="Evaluate", icon=":material/monitoring:")
    st.page_link("pages/decide.py", label="Decide", icon=":material/account_tree:")
    st.page_link("pages/costs.py", label="Costs", icon=":material/payments:")

st.subheader("This session")
docs = state.documents()
stats = state.chunk_stats()
m1, m2, m3, m4 = st.columns(4)
m1.metric("Documents loaded", len(docs))
m2.metric("Chunking", state.chunk_config().label())
m3.metric("Chunks", stats.n_chunks if stats else 0)
built = state.built_index()
m4.metric("Index", f"{built.retriever.store.size} vectors" if built else ("out of date" if state.index_is_stale() else "not built"))
