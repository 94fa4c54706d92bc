"""Label from retrieval: on the Index & Retrieval page, turn the question just asked into a question
of the session's set, with its gold passage taken from the document's own text.

The user either marks the hit that answers the question and picks or types the answer phrase
inside that chunk (it must occur there), or says "none of these", chooses the source document and
types the answer (it must occur in that document). The gold context is the sentence holding the
answer (or, when asked, the whole marked chunk), cut from the document, so the labelled question
scores every chunking. Labelled questions have origin "labelled" and are scored on Evaluate.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

from core.documents import Document
from core.questions import CONTEXT_KINDS, label_question, normalise
from core.retrieval import Hit
from core.sentences import sentence_spans
from ui import state
from ui.evaluate.questions import seed_from_samples
from ui.text import code, md

NONE_OF_THESE = 0  # the "none of these" choice in the hit picker (hit ranks start at 1)
_FLASH = "_label_flash"


def label_section(query: str, hits: Sequence[Hit], docs: Mapping[str, Document]) -> None:
    """Draw the labelling box under the hit cards."""
    with st.expander("Add this question to the question set (label the answer)", expanded=False):
        if _FLASH in st.session_state:
            kind, message = st.session_state.pop(_FLASH)
            {"success": st.success, "warning": st.warning}.get(kind, st.error)(message)
        ws = state.working_set()
        n_labelled = sum(1 for q in ws.questions if q.origin == "labelled")
        st.caption(f"Mark where the answer is; the question joins the set on Evaluate as *labelled* "
                   f"({n_labelled} labelled so far), with its gold passage cut from the document.")
        ranks = [h.rank for h in hits]
        if st.session_state.get("label_hit") not in [*ranks, NONE_OF_THESE]:  # fewer hits than last time
            st.session_state.pop("label_hit", None)
        choice = st.radio("Which hit answers it?", [*ranks, NONE_OF_THESE], key="label_hit", horizontal=True,
                          format_func=lambda r: f"#{r}" if r else "none of these")
        if choice:
            hit = next(h for h in hits if h.rank == choice)
            sentences = [hit.chunk.text[a:b] for a, b in sentence_spans(hit.chunk.text)]
            if st.session_state.get("label_sentence") not in [None, *sentences]:  # another chunk's sentence
                st.session_state["label_sentence"] = None
            picked = st.selectbox("Pick the sentence that holds the answer (optional)", sentences, index=None,
                                  key="label_sentence", placeholder="a sentence of this chunk")
            if picked and not st.session_state.get("label_answer"):
                st.session_state["label_answer"] = picked
            st.text_input("Answer phrase, as it appears in the chunk", key="label_answer",
                          help="Shorten the sentence to the words that answer the question: they must occur in "
                               "this chunk.")
            st.radio("Gold passage", list(CONTEXT_KINDS), key="label_context", horizontal=True,
                     format_func=CONTEXT_KINDS.get,
                     help="What counts as the place of the answer: a chunk is a hit when it holds the answer and "
                          "overlaps this passage.")
        else:
            st.selectbox("Source document", list(docs), index=None, key="label_source",
                         placeholder="the document that answers it")
            st.text_input("Answer phrase, as it appears in the document", key="label_answer_doc")
            st.caption("Its gold passage is the sentence of the document that holds the first occurrence of the answer.")
        spans = {h.rank: (h.chunk.doc, h.chunk.start, h.chunk.end) for h in hits}
        st.button("Add to the question set", key="label_add", type="primary", on_click=_add, args=(query, spans, docs))


def _add(query: str, spans: Mapping[int, tuple[str, int, int]], docs: Mapping[str, Document]) -> None:
    """The button's callback: it runs before the next script run, so it may clear the inputs.

    It reads the inputs from the session (their values at the click), and leaves its outcome
    for the section to show."""
    choice = st.session_state.get("label_hit")
    within: tuple[int, int] | None = None
    kind = "sentence"
    if choice:
        name, lo, hi = spans[choice]
        within = (lo, hi)
        answer = str(st.session_state.get("label_answer") or "")
        kind = str(st.session_state.get("label_context") or "sentence")
    else:
        name = str(st.session_state.get("label_source") or "")
        answer = str(st.session_state.get("label_answer_doc") or "")
    doc = docs.get(name) if name else None
    if doc is None:
        st.session_state[_FLASH] = ("error", "Choose the source document first.")
        return
    if not answer.strip():
        st.session_state[_FLASH] = ("error", "Type the answer phrase first.")
        return
    try:
        q = label_question(query, doc, answer=answer, within=within, context=kind)
    except ValueError as exc:
        st.session_state[_FLASH] = ("error", md(str(exc)))
        return
    seed_from_samples(docs)  # a session that labels before visiting Evaluate still starts from the samples
    ws = state.working_set()
    twin = next((i for i, old in enumerate(ws.questions)
                 if normalise(old.question) == normalise(q.question) and old.source == q.source), None)
    if twin is not None:
        st.session_state[_FLASH] = ("warning", f"This question is already in the set (row {twin + 1}); edit it on "
                                               "Evaluate, in the Question set tab.")
        return
    state.update_questions([*ws.questions, q], seeded=True)
    where = "the sentence holding it" if kind == "sentence" or within is None else "the whole chunk"
    st.session_state[_FLASH] = ("success", f"Added: answer {code(q.answers[0])} in {code(q.source)}, gold passage = "
                                           f"{where}. The set now has {len(ws.questions) + 1} question(s).")
    for key in ("label_answer", "label_answer_doc"):
        st.session_state[key] = ""
    st.session_state["label_sentence"] = None
