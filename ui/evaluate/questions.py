"""The question set every Evaluate tab scores: the bundled samples or an uploaded file.

Every problem with the file is reported here (unreadable lines by number, questions whose source
document is not loaded), so the tabs only ever see usable questions.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.documents import Document
from core.evaluation import Question, load_questions
from ui import state
from ui.evaluate.common import flash
from ui.resources import SAMPLE_DIR
from ui.text import md

QUESTION_FORMAT = (
    'JSONL, one object a line: `{"question": "...", "answers": ["..."], "source": "file name", '
    '"context": "optional gold passage"}`. CSV: columns question, answers (several separated by |), source, '
    "context. SQuAD v1.1 JSON: its articles become documents you can load."
)


@dataclass(frozen=True)
class ChosenQuestions:
    questions: tuple[Question, ...]  # only those whose source document is loaded
    key: str  # identity of the file they came from ("" when there is none): tells results are stale


NONE = ChosenQuestions((), "")


def question_set(docs: Mapping[str, Document]) -> ChosenQuestions:
    """The usable questions and an identity of the set; reports every problem."""
    st.subheader("Question set")
    source = st.radio("Questions from", ["sample", "upload"], horizontal=True, key="eval_q_source",
                      format_func=lambda s: {"sample": "the bundled sample set", "upload": "a file (JSONL, CSV or SQuAD JSON)"}[s])
    if source == "sample":
        path = SAMPLE_DIR / "questions.jsonl"
        data, name = (path.read_bytes() if path.exists() else b""), path.name
        if not data.strip():
            st.info("The bundled sample question set is empty. Upload a question file instead.")
            return NONE
    else:
        upload = st.file_uploader("Question file", type=["jsonl", "csv", "json"], key="eval_q_upload", help=QUESTION_FORMAT)
        if upload is None:
            st.caption(QUESTION_FORMAT)
            return NONE
        data, name = upload.getvalue(), upload.name
    try:
        qs = load_questions(data, name)
    except Exception as exc:  # a parser bug must not cost the page
        st.error(f"{md(name)} could not be read: {exc}")
        return NONE
    if qs.errors:
        st.warning(f"{len(qs.errors)} line(s) of {md(name)} could not be read; the {len(qs.questions)} valid "
                   "question(s) are loaded. Fix the lines below and upload again to include them.")
        with st.expander(f"Lines that could not be read ({len(qs.errors)})", expanded=True):
            st.dataframe(pd.DataFrame({"line": pd.array([n or None for n, _ in qs.errors], dtype="Int64"),
                                       "problem": [m for _, m in qs.errors]}),
                         hide_index=True, key="eval_q_errors", width="stretch")
    if not qs.questions:
        st.error(f"{md(name)} has no valid question. Expected format: {QUESTION_FORMAT}")
        return NONE
    if qs.documents:
        _offer_squad_articles(qs.documents, name, docs)
    usable = [q for q in qs.questions if q.source in docs]
    skipped = [q for q in qs.questions if q.source not in docs]
    if skipped:
        (st.warning if not usable else st.info)(
            f"{len(skipped)} of {len(qs.questions)} question(s) are skipped: their source document is not loaded.")
        with st.expander(f"Skipped questions ({len(skipped)})"):
            st.dataframe(pd.DataFrame({"line": pd.array([q.line or None for q in skipped], dtype="Int64"),
                                       "question": [q.question for q in skipped],
                                       "source (not loaded)": [q.source for q in skipped]}),
                         hide_index=True, key="eval_q_skipped", width="stretch")
    if usable:
        st.caption(f"{len(usable)} question(s) from {md(name)} will be scored, over "
                   f"{len({q.source for q in usable})} document(s).")
    return ChosenQuestions(tuple(usable), hashlib.sha256(data).hexdigest()[:16])


def _offer_squad_articles(articles: Sequence[Document], name: str, docs: Mapping[str, Document]) -> None:
    """A SQuAD file carries its own articles: offer to load the ones the session lacks."""
    missing = [d for d in articles if d.name not in docs or docs[d.name].digest != d.digest]
    if not missing:
        st.caption(f"All {len(articles)} SQuAD article(s) of {md(name)} are loaded as documents.")
        return
    st.info(f"{md(name)} is a SQuAD file: its questions are about {len(articles)} article(s), "
            f"{len(missing)} of them not loaded as documents yet.")
    if st.button(f"Load its {len(missing)} article(s) as documents", key="eval_squad_load", type="primary"):
        state.add_documents(missing)
        flash(f"Loaded {len(missing)} SQuAD article(s) as documents.")
        st.rerun()
