"""Home: what the app is for, the pipeline, where to start, and this session's state."""
from __future__ import annotations

import streamlit as st

from core import model
from ui import state
from ui.widgets import load_samples

# Two rows, short wrapped labels: Streamlit draws graphviz text at 9.6 SVG units (its CSS) and
# scales the SVG to the column, so a narrow layout at that font size is what makes the text
# large enough to read on a projector (>= 12 px at 1280 px wide).
PIPELINE = """
digraph {
  graph [rankdir=TB, bgcolor="transparent", nodesep=0.22, ranksep=0.3, margin=0];
  node [shape=box, style="rounded,filled", fillcolor="#eff6ff", color="#94a3b8", fontname="Helvetica",
        fontsize=10, margin="0.08,0.04", width=0, height=0];
  edge [color="#64748b", arrowsize=0.6];
  docs [label=<<B>Documents</B><BR/>PDF, HTML, MD,<BR/>TXT, DOCX>];
  chunks [label=<<B>Chunks</B><BR/>splitter, size,<BR/>overlap>];
  index [label=<<B>Index</B><BR/>FAISS + BM25>];
  retrieval [label=<<B>Retrieval</B><BR/>dense, BM25,<BR/>hybrid>];
  answer [label=<<B>Answer</B><BR/>prompt +<BR/>citations>];
  evaluate [label=<<B>Evaluate</B><BR/>hit@K, MRR,<BR/>sweeps>, fillcolor="#f0fdf4"];
  decide [label=<<B>Decide</B><BR/>RAG vs<BR/>fine-tuning>, fillcolor="#fefce8"];
  costs [label=<<B>Costs</B><BR/>RAG, FT,<BR/>hybrid>, fillcolor="#fefce8"];
  { rank=same; docs -> chunks -> index -> retrieval -> answer; }
  { rank=same; evaluate -> decide -> costs; }
  retrieval -> evaluate;
  evaluate -> chunks [style=dashed, constraint=false];
}
"""

st.title("RAG Explorer")
st.markdown(
    "Decide how to ground an LLM in **your own documents**, with evidence. Load documents, chunk "
    "them, index them locally, and see exactly which passages come back for a question and why. "
    "Then measure retrieval quality across settings and take the result to stakeholders with a "
    "RAG-vs-fine-tuning decision and a cost comparison. Everything runs offline on this machine: "
    f"the embedding model ({model.MODEL_ID}) ships with the app, and no API key is needed."
)

st.subheader("The pipeline")
st.graphviz_chart(PIPELINE, width="stretch")

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
# Short values: a metric's value is one line and is cut off with "…" when it is wider than its
# column (a quarter of the page). The detail goes in the grey line under it and in the help.
cc = state.chunk_config()
m1.metric("Documents loaded", len(docs))
m2.metric("Chunk size / overlap", f"{cc.size}/{cc.overlap}", f"{cc.unit}, {cc.splitter} splitter",
          delta_color="off", delta_arrow="off", help=f"Current chunking: {cc.label()}. Change it on the Chunking page.")
m3.metric("Chunks", f"{stats.n_chunks:,}" if stats else 0)
built = state.built_index()
index_note = "built" if built else ("out of date" if state.index_is_stale() else "not built yet")
m4.metric("Vectors indexed", f"{built.retriever.store.size:,}" if built else 0, index_note, delta_color="off",
          delta_arrow="off", help="The index is built on the Index & Retrieval page, from the current chunks.")
