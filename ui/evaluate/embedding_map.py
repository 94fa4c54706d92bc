"""Evaluate tab "Embedding map": the current index's chunk vectors in 2-D, with a question's results.

A picture of where retrieval looked, not a measurement: the caption says so. A vector store that
keeps its vectors elsewhere (the retriever's `vectors` is None) has nothing to draw.
"""
from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from core.documents import Document
from core.evaluation import relevant_ids
from core.plots.evaluation import embedding_map
from core.projection import METHODS as PROJECTIONS
from core.projection import available_methods, project
from ui import state
from ui.evaluate.common import CUSTOM, choose
from ui.evaluate.questions import ChosenQuestions
from ui.indexing import build_index
from ui.text import md


def map_tab(chosen: ChosenQuestions, docs: Mapping[str, Document]) -> None:
    st.caption("The current index's chunk vectors in two dimensions, one colour per document. Nearby points are "
               "similar, but a 2-D picture of 384-D space distorts distance: the ranking is the truth.")
    built = state.built_index()
    if built is None:
        st.info("The map shows the current index, which is not built for these settings yet.")
        if st.button("Build the index", key="eval_map_build", type="primary"):
            built = build_index()
        if built is None:
            return
    r, rc = built.retriever, state.retrieval_config()
    vectors = r.vectors
    if vectors is None:
        facts = r.store.facts()
        st.info(f"This vector store ({facts.kind}) does not keep vectors in memory, so there is no map to draw. "
                "Retrieval and evaluation work as usual.")
        return
    methods = available_methods()
    c1, c2 = st.columns([1, 3])
    method = choose(c1, "Projection", methods, key="eval_map_method", format_func=lambda m: m.upper(),
                    help="\n\n".join(PROJECTIONS[m] for m in methods))
    if "umap" not in methods:
        c1.caption("UMAP is offered when the umap-learn package is installed.")
    questions = chosen.questions
    asked = list(dict.fromkeys(q.question for q in questions))
    pick = choose(c2, "Question", [CUSTOM] + asked, key="eval_map_question", default=asked[0] if asked else CUSTOM)
    query = c2.text_input("Your question", key="eval_map_query") if pick == CUSTOM else pick
    question = next((q for q in questions if q.question == pick), None)
    try:
        qv = r.embed_queries([query]) if query.strip() else None
        with st.spinner("Projecting..."):
            proj = project(vectors, extra=qv, method=method)
        hits = r.search(query, config=rc, query_vector=qv[0]) if qv is not None else []
    except (ValueError, RuntimeError) as exc:
        st.error(f"The map cannot be drawn: {md(str(exc))}")
        return
    retrieved = [r.position(h.chunk) for h in hits]
    missed = sorted(relevant_ids(r.chunks, question, docs) - set(retrieved)) if question is not None else []
    st.plotly_chart(embedding_map(proj, r.chunks, retrieved=retrieved, missed=missed, query=query),
                    key="eval_map_chart", width="stretch")
    if query.strip():
        st.caption(f"Star: the question. Blue rings: its top-{rc.k} ({rc.method}), numbered by rank. "
                   + (f"Red crosses: {len(missed)} chunk(s) that answer it but were not retrieved." if question is not None
                      else "Pick a question from the set to also see the answering chunks that were missed."))
