"""The question set every Evaluate tab scores: the session's working set (ui.state.WorkingSet).

Above the tabs: import (the bundled sample set or a JSONL, CSV or SQuAD file), counts per origin,
which origins are scored, and how many questions are left out and why. The "Question set" tab
(`workbench_tab`) holds the editor: add, edit, delete, export, with every row checked against the
loaded documents (core.questions). Invalid rows stay in the set, flagged, and are not scored.

Every edit is written to the working set by the editor's on_change callback, so nothing typed is
lost on a rerun or a page switch; the editor's key carries the set's revision, so after a commit
it redraws from the set itself.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd
import streamlit as st

from core.documents import Document
from core.evaluation import ORIGINS, Question, QuestionSet, dump_questions, load_questions
from core.questions import CheckCache, SetCheck, apply_edits, check_questions, origin_counts, to_row
from ui import state
from ui.evaluate.common import flash
from ui.evaluate.generated import generated_section
from ui.resources import SAMPLE_DIR
from ui.text import md

QUESTION_FORMAT = (
    'JSONL, one object a line: `{"question": "...", "answers": ["..."], "source": "file name", '
    '"context": "optional gold passage", "origin": "optional: curated, labelled or generated"}`. CSV: columns '
    "question, answers (several separated by |), source, context. SQuAD v1.1 JSON: its articles become documents "
    "you can load."
)
PAGE_SIZE = 100  # editor rows drawn at once: 10,000 questions stay responsive, a page at a time
_CHECKS = "_eval_q_checks"  # (revision, corpus key) -> SetCheck, plus the per-question cache
_IMPORT = "_eval_q_import"  # ImportReport of the last file read, shown until the next one
_EDITOR = "eval_q_editor"


@dataclass(frozen=True)
class ChosenQuestions:
    questions: tuple[Question, ...]  # the valid questions of the scored origins
    key: str  # identity of exactly these questions ("" when there are none): tells results are stale
    counts: Mapping[str, int] = field(default_factory=dict)  # scored questions per origin


NONE = ChosenQuestions((), "")


@dataclass(frozen=True)
class ImportReport:
    name: str
    errors: tuple[tuple[int, str], ...]
    notes: tuple[str, ...]
    n_questions: int
    documents: tuple[Document, ...]  # a SQuAD file's articles


# -- the working set and its checks -----------------------------------------------------------


def _sample_set() -> QuestionSet:
    path = SAMPLE_DIR / "questions.jsonl"
    return load_questions(path.read_bytes(), path.name) if path.exists() else QuestionSet(())


def seed_from_samples(docs: Mapping[str, Document]) -> state.WorkingSet:
    """A new session starts from the bundled sample set, once, when sample documents are loaded."""
    ws = state.working_set()
    if ws.seeded or ws.questions or not docs:
        return ws
    sample_names = {p.name for p in SAMPLE_DIR.iterdir()} if SAMPLE_DIR.exists() else set()
    if not sample_names & set(docs):
        return ws
    return state.update_questions(_sample_set().questions, seeded=True)


def checked(ws: state.WorkingSet, docs: Mapping[str, Document]) -> SetCheck:
    """The set's checks, recomputed only when the set or the corpus changed (and then only the
    rows whose question or document changed: the per-question cache)."""
    held = st.session_state.setdefault(_CHECKS, {"key": None, "result": None, "cache": {}})
    key = (ws.revision, state.corpus_key())
    if held["key"] != key:
        cache: CheckCache = held["cache"]
        if len(cache) > 4 * max(len(ws.questions), 1000):  # old rows pile up after many edits
            cache.clear()
        held["result"] = check_questions(ws.questions, docs, cache=cache)
        held["key"] = key
    return held["result"]


def chosen_questions(ws: state.WorkingSet, check: SetCheck) -> ChosenQuestions:
    scored = tuple(ws.questions[i] for i in check.valid if ws.questions[i].origin in ws.origins)
    if not scored:
        return NONE
    digest = hashlib.sha256(repr(scored).encode()).hexdigest()[:16]
    return ChosenQuestions(scored, digest, origin_counts(scored))


# -- above the tabs -----------------------------------------------------------------------------


def question_set(docs: Mapping[str, Document]) -> ChosenQuestions:
    """Import, origin choice and counts; returns the questions the tabs score."""
    st.subheader("Question set")
    ws = seed_from_samples(docs)
    _import_controls(docs)
    ws = state.working_set()
    if not ws.questions:
        st.info("The question set is empty. Import a file above, load the bundled sample set, type questions in the "
                "**Question set** tab, label them from the Index & Retrieval page, or generate them.")
        return NONE
    check = checked(ws, docs)
    counts = origin_counts(ws.questions)
    ws = _origin_choice(ws, counts)
    chosen = chosen_questions(ws, check)
    in_scope = [i for i, q in enumerate(ws.questions) if q.origin in ws.origins]
    bad = [i for i in in_scope if not check.rows[i].ok]
    not_loaded = [i for i in bad if "is not loaded" in check.rows[i].problems[0]]
    if not_loaded:
        (st.warning if not chosen.questions else st.info)(
            f"{len(not_loaded)} of {len(in_scope)} question(s) are skipped: their source document is not loaded.")
        with st.expander(f"Skipped questions ({len(not_loaded)})"):
            _limited_table(pd.DataFrame({"line": pd.array([ws.questions[i].line or None for i in not_loaded], dtype="Int64"),
                                         "question": [ws.questions[i].question for i in not_loaded],
                                         "source (not loaded)": [ws.questions[i].source for i in not_loaded]}),
                           key="eval_q_skipped")
    other = len(bad) - len(not_loaded)
    if other:
        reasons = Counter(_kind(check.rows[i].problems[0]) for i in bad if i not in set(not_loaded))
        st.warning(f"{other} question(s) have a problem and are not scored ("
                   + "; ".join(f"{md(r)}: {n}" for r, n in reasons.most_common()) + "). They are kept: fix or delete "
                   "them in the **Question set** tab (turn on *only rows with problems*).")
    if chosen.questions:
        per = ", ".join(f"{n} {o}" for o, n in chosen.counts.items() if n)
        st.caption(f"{len(chosen.questions)} question(s) will be scored ({per}), over "
                   f"{len({q.source for q in chosen.questions})} document(s). Edit, label or generate questions in "
                   "the **Question set** tab.")
    elif in_scope:
        st.error("None of the chosen questions can be scored: see the reasons above.")
    elif not ws.origins:
        st.warning("No origin is chosen, so nothing is scored: pick at least one above.")
    return chosen


def _kind(problem: str) -> str:
    """A problem without its row-specific details, for counting reasons."""
    return "duplicate" if problem.startswith("duplicate") else problem


def _origin_choice(ws: state.WorkingSet, counts: Mapping[str, int]) -> state.WorkingSet:
    """Which origins are scored: the user picks, and every count is shown per origin."""
    key = "eval_q_origins"
    if key not in st.session_state:
        st.session_state[key] = [o for o in ws.origins if o in ORIGINS]
    picked = st.multiselect(
        "Score questions of these origins", list(ORIGINS), key=key,
        format_func=lambda o: f"{o} ({counts.get(o, 0)})",
        help="Curated: imported or typed. Labelled: marked on the Index & Retrieval page. Generated: made by a "
             "question generator. Generated questions are only scored when you pick them here.")
    if tuple(picked) != ws.origins:
        ws = replace(ws, origins=tuple(picked))
        state.set_working_set(ws)
    if counts.get("generated") and "generated" in picked and (counts.get("curated") or counts.get("labelled")):
        st.caption(":orange[Generated and real questions are scored together: the metrics mix both. "
                   "Untick one origin to see each alone.]")
    return ws


def _import_controls(docs: Mapping[str, Document]) -> None:
    source = st.radio("Import questions from", ["sample", "upload"], horizontal=True, key="eval_q_source",
                      format_func=lambda s: {"sample": "the bundled sample set",
                                             "upload": "a file (JSONL, CSV or SQuAD JSON)"}[s])
    mode_help = ("Replace: the file's questions take the place of the set's curated questions; labelled and "
                 "generated ones stay. Add: the file's questions join the set.")
    if source == "sample":
        c1, c2 = st.columns([2, 3])
        if c1.button("Load the bundled sample set", key="eval_q_sample",
                     help="Replaces the curated questions with the bundled sample set (labelled and generated stay)."):
            qs = _sample_set()
            if not qs.questions:
                st.info("The bundled sample question set is empty. Upload a question file instead.")
            else:
                _import(qs, "questions.jsonl", replace_curated=True)
                flash(f"Loaded the bundled sample set: {len(qs.questions)} question(s).")
                st.rerun()
    else:
        mode = st.radio("When a file is uploaded", ["replace", "add"], horizontal=True, key="eval_q_import_mode",
                        format_func=lambda m: {"replace": "replace the curated questions",
                                               "add": "add to the set"}[m], help=mode_help)
        upload = st.file_uploader("Question file", type=["jsonl", "csv", "json"], key="eval_q_upload", help=QUESTION_FORMAT)
        if upload is None:
            st.caption(QUESTION_FORMAT)
        else:
            data = upload.getvalue()
            digest = hashlib.sha256(data).hexdigest()[:16]
            if digest != state.working_set().imported:  # a file still in the uploader is imported once
                try:
                    qs = load_questions(data, upload.name)
                except Exception as exc:  # a parser bug must not cost the page or the set
                    st.error(f"{md(upload.name)} could not be read: {md(str(exc))}")
                    qs = None
                if qs is not None:
                    _import(qs, upload.name, replace_curated=mode == "replace", digest=digest)
    _show_import_report(docs)


def _import(qs: QuestionSet, name: str, *, replace_curated: bool, digest: str = "") -> None:
    ws = state.working_set()
    kept = [q for q in ws.questions if q.origin != "curated"] if replace_curated else list(ws.questions)
    st.session_state[_IMPORT] = ImportReport(name, qs.errors, qs.notes, len(qs.questions), qs.documents)
    if not qs.questions:
        state.set_working_set(replace(ws, imported=digest or ws.imported))
        return
    state.update_questions([*qs.questions, *kept] if replace_curated else [*kept, *qs.questions],
                           imported=digest or ws.imported, seeded=True)


def _show_import_report(docs: Mapping[str, Document]) -> None:
    report: ImportReport | None = st.session_state.get(_IMPORT)
    if report is None:
        return
    if report.errors:
        st.warning(f"{len(report.errors)} line(s) of {md(report.name)} could not be read; the {report.n_questions} "
                   "valid question(s) are loaded. Fix the lines below and upload again to include them.")
        with st.expander(f"Lines that could not be read ({len(report.errors)})", expanded=True):
            _limited_table(pd.DataFrame({"line": pd.array([n or None for n, _ in report.errors], dtype="Int64"),
                                         "problem": [m for _, m in report.errors]}), key="eval_q_errors")
    for note in report.notes:
        st.info(md(note))
    if not report.n_questions:
        st.error(f"{md(report.name)} has no valid question. Expected format: {QUESTION_FORMAT}")
    if report.documents:
        _offer_squad_articles(report.documents, report.name, docs)


def _limited_table(df: pd.DataFrame, *, key: str, limit: int = 1000) -> None:
    if len(df) > limit:
        st.caption(f"Showing the first {limit:,} of {len(df):,} rows.")
        df = df.head(limit)
    st.dataframe(df, hide_index=True, key=key, width="stretch")


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


# -- the "Question set" tab: the editor -----------------------------------------------------------


def workbench_tab(docs: Mapping[str, Document]) -> None:
    ws = state.working_set()
    check = checked(ws, docs)
    counts = origin_counts(ws.questions)
    cols = st.columns(len(ORIGINS) + 1)
    cols[0].metric("Questions", f"{len(ws.questions):,}", help="Every question in the set, valid or not.")
    for col, origin in zip(cols[1:], ORIGINS):
        col.metric(origin.capitalize(), f"{counts[origin]:,}")
    st.caption(f"{len(ws.questions) - check.n_invalid:,} valid, {check.n_invalid:,} with a problem (kept, not "
               "scored). A row is valid when its source is loaded, an answer occurs in it, and a given context "
               "occurs in it with an answer inside. Several answers go in one cell, separated by |.")
    _editor(ws, check, docs)
    c1, c2, c3 = st.columns([1, 1, 2])
    c1.download_button("Export JSONL", dump_questions(ws.questions), file_name="questions.jsonl",
                       mime="application/jsonl", key="eval_q_export", disabled=not ws.questions,
                       help="Every question, with its origin; problems included, so nothing is lost.")
    if counts["generated"] and c2.button(f"Delete the {counts['generated']} generated", key="eval_q_drop_generated"):
        state.update_questions([q for q in ws.questions if q.origin != "generated"])
        flash(f"Deleted {counts['generated']} generated question(s).")
        st.rerun()
    st.divider()
    generated_section(docs, check)


def _view(ws: state.WorkingSet, check: SetCheck) -> list[int]:
    """Positions of the rows the filters let through."""
    c1, c2, c3 = st.columns([2, 1, 2])
    origins = c1.multiselect("Show origins", list(ORIGINS), default=list(ORIGINS), key="eval_q_show_origins")
    only_bad = c2.toggle("Only rows with problems", key="eval_q_only_problems")
    search = c3.text_input("Find", key="eval_q_find", placeholder="text in the question or source").strip().lower()
    positions = []
    for i, q in enumerate(ws.questions):
        if q.origin not in origins or (only_bad and check.rows[i].ok):
            continue
        if search and search not in q.question.lower() and search not in q.source.lower():
            continue
        positions.append(i)
    return positions


def _editor(ws: state.WorkingSet, check: SetCheck, docs: Mapping[str, Document]) -> None:
    positions = _view(ws, check)
    pages = max(1, -(-len(positions) // PAGE_SIZE))
    page = 1
    if pages > 1:
        page = int(st.number_input(f"Page (of {pages}, {PAGE_SIZE} rows each)", 1, pages, key="eval_q_page"))
        st.caption(f"{len(positions):,} rows match; showing rows {(page - 1) * PAGE_SIZE + 1:,}-"
                   f"{min(page * PAGE_SIZE, len(positions)):,}. Use the filters to find a row faster.")
    shown = positions[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    rows = [to_row(ws.questions[i]) for i in shown]
    table = pd.DataFrame(rows, columns=["question", "answers", "source", "context", "origin"])
    table.insert(0, "#", [i + 1 for i in shown])
    table["status"] = [check.rows[i].reason() for i in shown]
    sources = sorted(set(docs) | {q.source for q in ws.questions if q.source})
    key = f"{_EDITOR}_{ws.revision}"
    st.data_editor(
        table, key=key, num_rows="dynamic", hide_index=True, width="stretch", height=min(400, 38 + 35 * (len(rows) + 1)),
        on_change=_commit, args=(key, tuple(shown)),
        column_config={
            "#": st.column_config.NumberColumn("#", disabled=True, help="Row number in the whole set"),
            "question": st.column_config.TextColumn("question", width="large", required=True),
            "answers": st.column_config.TextColumn("answers", help="Several answers separated by |"),
            "source": st.column_config.SelectboxColumn("source", options=sources, help="The document the answer is in"),
            "context": st.column_config.TextColumn("context", help="Optional gold passage, copied from the document"),
            "origin": st.column_config.TextColumn("origin", disabled=True,
                                                  help="curated (imported or typed), labelled or generated"),
            "status": st.column_config.TextColumn("status", disabled=True, width="medium"),
        },
    )


def _commit(key: str, shown: tuple[int, ...]) -> None:
    """The editor's on_change: write its edits into the working set at once (then drop its state;
    the next run draws a fresh editor, keyed by the new revision, from the set)."""
    edits = st.session_state.get(key) or {}
    ws = state.working_set()
    new = apply_edits(ws.questions, shown, edits)
    st.session_state.pop(key, None)
    state.update_questions(new)
