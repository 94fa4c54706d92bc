"""Evaluate: score retrieval on a question set, sweep the settings, compare two setups, map the vectors.

UI only, and only the layout: the question set and one module per tab live in ui/evaluate/, long
runs in ui/jobs.py, and every metric, sweep, comparison and projection in core/. Any click reruns
the script and so interrupts a running sweep, which is how Cancel works: its finished rows are
kept in session state and shown, flagged as cancelled (ui/jobs.py).
"""
from __future__ import annotations

import streamlit as st

from ui import state
from ui.evaluate.common import show_flash
from ui.evaluate.compare import ab_tab
from ui.evaluate.current import evaluate_tab
from ui.evaluate.embedding_map import map_tab
from ui.evaluate.questions import question_set, workbench_tab
from ui.evaluate.sweep import sweep_tab
from ui.jobs import settle_interrupted
from ui.widgets import need_documents

st.title("Evaluate")
st.caption(
    "Measure retrieval on a question set: the truth is tied to the text (right document, contains an "
    "answer, overlaps the gold passage), so the same questions score every chunking fairly."
)
show_flash()
settle_interrupted()

has_docs = need_documents("evaluate retrieval")
docs = state.documents()
chosen = question_set(docs)
if not has_docs:
    st.stop()

tab_eval, tab_sweep, tab_ab, tab_map, tab_qs = st.tabs(
    ["Current settings", "Sweep", "A/B compare", "Embedding map", "Question set"])
with tab_eval:
    evaluate_tab(chosen, docs)
with tab_sweep:
    sweep_tab(chosen, docs)
with tab_ab:
    ab_tab(chosen, docs)
with tab_map:
    map_tab(chosen, docs)
with tab_qs:
    workbench_tab(docs)
