"""Per-session state: every value that crosses pages is a typed object owned by this module.

Each browser session has its own documents, settings and results (st.session_state); only the
model and other read-only resources are shared across sessions (see ui/resources.py). Pages read
and write cross-page values through the accessors below, never through raw session keys, and keep
their widgets' values across page switches with `keep_widget`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import streamlit as st

from core.chunking import Chunk, ChunkConfig, split_corpus
from core.costs import CostInputs
from core.documents import Document
from core.embedding import CacheLedger
from core.evaluation import EvalRun, Question
from core.pgserve import DEFAULT_EF_SEARCH, EF_SEARCH_MAX
from core.retrieval import RetrievalConfig, Retriever
from core.sentences import SentenceBank
from core.sweep import SweepGrid, SweepRow
from ui.resources import index_identity

# Keys of st.session_state owned by this module. Pages use the functions below.
DOCUMENTS = "documents"            # dict[str, Document], insertion-ordered
CHUNK_CONFIG = "chunk_config"      # ChunkConfig
RETRIEVAL_CONFIG = "retrieval_config"  # core.retrieval.RetrievalConfig
CHUNK_CACHE = "_chunks"            # (key, list[Chunk]) for the current documents + config
RETRIEVER = "_retriever"           # BuiltIndex for the current chunks, or absent
INDEX_PAUSED = "_index_paused"     # True after Cancel on an index build, until "Continue"
SENTENCES = "_sentence_bank"       # ((corpus key, model identity), SentenceBank): one per corpus
EVAL_SUMMARY = "eval_summary"      # EvalSummary of the latest evaluation, for the report
DECISION_ANSWERS = "decision_answers"  # DecisionAnswers, for the report
COST_INPUTS = "cost_inputs"        # CostReport: the cost page's current inputs, for the report
PENDING_COSTS = "costs_pending"    # PendingCosts: numbers another page sent to the Costs page
_KEPT = "_kept_widgets"            # widget key -> last value, see keep_widget


_LISTENER = "_on_change"


def on_change(callback) -> None:
    """Register this run's callback for state changes (the sidebar redraws itself with it)."""
    st.session_state[_LISTENER] = callback


def _changed() -> None:
    callback = st.session_state.get(_LISTENER)
    if callback is not None:
        callback()


def documents() -> dict[str, Document]:
    return st.session_state.setdefault(DOCUMENTS, {})


def add_documents(docs: list[Document]) -> list[str]:
    """Add or replace documents by name; returns the names that replaced an earlier version."""
    # Issue 16 (hostile files): an empty document has no chunks and broke Chunking and the index
    # build; it never enters the session, wherever it comes from, and the user is told.
    from core.documents import skip_empty
    from ui.text import md

    docs, notes = skip_empty(docs)
    for note in notes:
        st.toast(md(note), icon=":material/warning:")
    current = documents()
    replaced = [d.name for d in docs if d.name in current]
    for doc in docs:
        current[doc.name] = doc
    if docs:
        _changed()
    return replaced


def remove_document(name: str) -> None:
    if documents().pop(name, None) is not None:
        _changed()


def clear_documents() -> None:
    documents().clear()
    _changed()


def chunk_config() -> ChunkConfig:
    return st.session_state.setdefault(CHUNK_CONFIG, ChunkConfig())


def set_chunk_config(config: ChunkConfig) -> None:
    changed = st.session_state.get(CHUNK_CONFIG) != config
    st.session_state[CHUNK_CONFIG] = config
    if changed:
        _changed()


def corpus_key() -> tuple[str, ...]:
    """Identity of the loaded corpus: names and content digests, in order."""
    return tuple(f"{d.name}:{d.digest}" for d in documents().values())


def chunks() -> list[Chunk]:
    """Chunks of the loaded documents under the current config, recomputed only on change.

    The key holds every input that changes the result (corpus content and the whole frozen
    config), so a changed setting can never silently reuse old chunks.
    """
    # Issue 13: a splitter that reads sentence vectors (semantic) also depends on the model's bank.
    from core.chunking import needs_sentences

    reads = needs_sentences(chunk_config().splitter)
    key = (corpus_key(), chunk_config(), index_identity() if reads else None)
    cached = st.session_state.get(CHUNK_CACHE)
    if cached is not None and cached[0] == key:
        return cached[1]
    result = split_corpus(documents().values(), config=chunk_config(), sentences=sentence_bank() if reads else None)
    st.session_state[CHUNK_CACHE] = (key, result)
    return result


@dataclass(frozen=True)
class ChunkStats:
    n_chunks: int
    mean_tokens: float
    max_tokens: int
    n_truncated: int


def chunk_stats() -> ChunkStats | None:
    """Summary of the current chunking, or None when no documents are loaded."""
    if not documents():
        return None
    cs = chunks()
    if not cs:
        return None
    counts = [c.n_tokens for c in cs]
    return ChunkStats(
        n_chunks=len(cs),
        mean_tokens=sum(counts) / len(counts),
        max_tokens=max(counts),
        n_truncated=sum(1 for c in cs if c.truncated),
    )


def retrieval_config() -> RetrievalConfig:
    return st.session_state.setdefault(RETRIEVAL_CONFIG, RetrievalConfig())


def chosen_retrieval_config() -> RetrievalConfig | None:
    """The retrieval settings the user has set on a page, or None if they have not yet."""
    return st.session_state.get(RETRIEVAL_CONFIG)


def set_retrieval_config(config: RetrievalConfig) -> None:
    changed = st.session_state.get(RETRIEVAL_CONFIG) != config
    st.session_state[RETRIEVAL_CONFIG] = config
    if changed:
        _changed()


@dataclass(frozen=True)
class BuiltIndex:
    key: tuple  # (corpus, chunk config, model/backend/store identity) it was built from
    retriever: Retriever
    sentences: SentenceBank  # the corpus's sentence vectors, for answers and grounding
    seconds: float
    embedded: int  # chunks that needed the model (the rest came from the vector cache)
    sentences_embedded: int = 0  # likewise for the corpus's sentences


def index_key() -> tuple:
    return (corpus_key(), chunk_config(), index_identity())


def built_index() -> BuiltIndex | None:
    """The index for the current documents and chunking, or None if absent or stale."""
    built = st.session_state.get(RETRIEVER)
    return built if built is not None and built.key == index_key() else None


def index_is_stale() -> bool:
    built = st.session_state.get(RETRIEVER)
    return built is not None and built.key != index_key()


def store_index(built: BuiltIndex) -> None:
    st.session_state[RETRIEVER] = built
    st.session_state.pop(INDEX_PAUSED, None)
    _changed()


def pause_index_build() -> None:
    """The user pressed Cancel on an index build: don't start it again until they ask."""
    st.session_state[INDEX_PAUSED] = True


def resume_index_build() -> None:
    st.session_state.pop(INDEX_PAUSED, None)


def index_build_paused() -> bool:
    return bool(st.session_state.get(INDEX_PAUSED))


def sentence_bank() -> SentenceBank | None:
    """The loaded corpus's sentence vectors, if built for these documents and this model."""
    held = st.session_state.get(SENTENCES)
    return held[1] if held is not None and held[0] == (corpus_key(), index_identity()) else None


def store_sentence_bank(bank: SentenceBank) -> None:
    st.session_state[SENTENCES] = ((corpus_key(), index_identity()), bank)


# -- values the report gathers from several pages ----------------------------------------------


@dataclass(frozen=True)
class EvalSummary:
    """The latest evaluation of the session's settings, as the report quotes it."""

    label: str  # the settings it scored, e.g. "recursive 300/50 tokens, hybrid top-5"
    metrics: Mapping[str, float]  # display name ("hit@5") -> value


def eval_summary() -> EvalSummary | None:
    return st.session_state.get(EVAL_SUMMARY)


def set_eval_summary(summary: EvalSummary) -> None:
    st.session_state[EVAL_SUMMARY] = summary


@dataclass(frozen=True)
class DecisionAnswers:
    """The Decide page's answers: question id -> option id (hidden questions' answers kept)."""

    answers: Mapping[str, str] = field(default_factory=dict)


def decision_answers() -> DecisionAnswers:
    return st.session_state.get(DECISION_ANSWERS) or DecisionAnswers()


def set_decision_answers(answers: Mapping[str, str]) -> None:
    st.session_state[DECISION_ANSWERS] = DecisionAnswers(dict(answers))


@dataclass(frozen=True)
class CostReport:
    """The Costs page's inputs and where each value came from, for the report."""

    inputs: CostInputs
    sources: Mapping[str, str] = field(default_factory=dict)  # field -> where its value came from


def cost_report() -> CostReport | None:
    return st.session_state.get(COST_INPUTS)


def set_cost_report(report: CostReport) -> None:
    st.session_state[COST_INPUTS] = report


@dataclass(frozen=True)
class PendingCosts:
    """Numbers another page (Fine-tuning readiness) asks the Costs page to use, once."""

    values: Mapping[str, float]
    source: str  # shown as where those values came from


def send_costs(pending: PendingCosts) -> None:
    st.session_state[PENDING_COSTS] = pending


def has_pending_costs() -> bool:
    return PENDING_COSTS in st.session_state


def take_pending_costs() -> PendingCosts | None:
    """The pending numbers, removed so they apply once."""
    return st.session_state.pop(PENDING_COSTS, None)


# -- widgets that survive page switches -----------------------------------------------------------


def keep_widget(key: str, default: Any) -> None:
    """Call before drawing the widget `key`: its value survives a visit to another page.

    Streamlit drops a widget's state when a run does not draw it (the user is on another page).
    Each run copies the widget's value aside; when the widget comes back without state, the copy
    (or, the first time, `default`) is put back.
    """
    kept = st.session_state.setdefault(_KEPT, {})
    if key in st.session_state:
        kept[key] = st.session_state[key]
    else:
        st.session_state[key] = kept.get(key, default)


def widget_value(key: str, default: Any) -> Any:
    """A kept widget's value, whether or not the widget is drawn in this run."""
    if key in st.session_state:
        return st.session_state[key]
    return st.session_state.get(_KEPT, {}).get(key, default)


def set_widget(key: str, value: Any) -> None:
    """Set a widget's value from code (a preset, a default): the kept copy follows, so the value
    survives a page switch even if the user leaves before the next run."""
    st.session_state[key] = value
    st.session_state.setdefault(_KEPT, {})[key] = value


def forget_widgets(keys: Iterable[str]) -> None:
    """Drop widgets' values and their kept copies, so they re-seed from their defaults."""
    kept = st.session_state.setdefault(_KEPT, {})
    for key in keys:
        st.session_state.pop(key, None)
        kept.pop(key, None)


# -- the Evaluate page's runs ---------------------------------------------------------------------

EVAL_RUN = "_eval_run"          # EvalRecord of the last "Evaluate current settings"
SWEEP_JOB = "_eval_sweep"       # SweepJob of the last sweep
CONFIRM_JOB = "_eval_confirm"   # ConfirmJob: exact re-runs of that sweep's best chunkings


@dataclass(frozen=True)
class EvalRecord:
    """The last evaluation of the session's settings, with what the drill-down needs to show it."""

    key: tuple  # (index key, RetrievalConfig, question-set key) it was scored on: tells it is stale
    run: EvalRun
    chunks: Sequence[Chunk]  # the index's chunks; the run's chunk ids index them
    label: str  # the settings it scored, as settings read on the page


@dataclass
class JobProgress:
    """What a sweep has produced so far. Mutable on purpose: rows are appended while it runs, so a
    click (which interrupts the script) leaves the finished rows behind in the session."""

    rows: list[SweepRow] = field(default_factory=list)
    status: Literal["running", "done", "cancelled", "failed"] = "running"
    seconds: float = 0.0
    prep_s: float = 0.0  # of `seconds`, embedding every sentence once (pooled mode)


@dataclass(frozen=True)
class SweepJob:
    grid: SweepGrid
    mode: str  # "pooled" (approximate) or "exact"
    key: tuple  # (corpus key, question-set key) it ran on: tells it is stale
    id: float  # distinguishes sweeps, so a confirmation is shown only with its own sweep
    progress: JobProgress = field(default_factory=JobProgress)


@dataclass(frozen=True)
class ConfirmJob:
    sweep_id: float  # SweepJob.id of the sweep whose best chunkings it re-runs exactly
    configs: tuple[ChunkConfig, ...]
    progress: JobProgress = field(default_factory=JobProgress)


def eval_record() -> EvalRecord | None:
    return st.session_state.get(EVAL_RUN)


def set_eval_record(record: EvalRecord) -> None:
    st.session_state[EVAL_RUN] = record


def sweep_job() -> SweepJob | None:
    return st.session_state.get(SWEEP_JOB)


def set_sweep_job(job: SweepJob) -> None:
    """Start tracking a new sweep; the previous sweep's confirmation no longer applies."""
    st.session_state[SWEEP_JOB] = job
    st.session_state.pop(CONFIRM_JOB, None)


def confirm_job() -> ConfirmJob | None:
    return st.session_state.get(CONFIRM_JOB)


def set_confirm_job(job: ConfirmJob) -> None:
    st.session_state[CONFIRM_JOB] = job


# -- the question set (issue 12: ui/evaluate/questions.py, ui/labelling.py) ---------------------

QUESTION_SET = "question_set"  # WorkingSet: the questions Evaluate scores, as the user left them


@dataclass(frozen=True)
class WorkingSet:
    """The session's question set: every question the user imported, typed, labelled or generated.

    Every edit is written here at once (not kept in a widget), so nothing is lost on a rerun or a
    page switch. Invalid questions stay in it; they are only left out of scoring."""

    questions: tuple[Question, ...] = ()
    revision: int = 0  # bumped on every change: the editor's widget key and the set's identity
    origins: tuple[str, ...] = ("curated", "labelled")  # the origins that are scored
    seeded: bool = False  # the bundled sample set was put in once; emptying the set does not bring it back
    imported: str = ""  # digest of the last imported upload: a file still in the uploader is not re-imported


def working_set() -> WorkingSet:
    return st.session_state.setdefault(QUESTION_SET, WorkingSet())


def set_working_set(ws: WorkingSet) -> None:
    st.session_state[QUESTION_SET] = ws


def update_questions(questions: Sequence[Question], **changes: Any) -> WorkingSet:
    """Replace the set's questions (and any other field), bumping its revision."""
    from dataclasses import replace

    ws = working_set()
    new = replace(ws, questions=tuple(questions), revision=ws.revision + 1, **changes)
    set_working_set(new)
    return new



# -- Publish & serve: PostgreSQL + pgvector (issue 14; ui/production*.py owns these) ------------

PG_TARGET = "_pg_target"        # PgTarget: the database this session is connected to
SERVE_FROM = "_serve_from"      # ServeFrom: what Retrieval and Evaluate query


@dataclass(frozen=True)
class PgTarget:
    """The session's database. `url` may hold a password: pages show `info.where` (redacted)."""

    url: str = field(repr=False)
    embedded: bool
    where: str  # redacted, or "embedded (folder)"
    postgres_version: str
    pgvector_version: str


@dataclass(frozen=True)
class ServeFrom:
    """None: the in-memory index (FAISS + BM25); else a published collection, at this ef_search."""

    collection: str | None = None
    ef_search: int = DEFAULT_EF_SEARCH  # core.pgserve's measured default

    def __post_init__(self) -> None:
        if not 1 <= self.ef_search <= EF_SEARCH_MAX:
            raise ValueError(f"ef_search must be between 1 and {EF_SEARCH_MAX}; got {self.ef_search}.")


def pg_target() -> PgTarget | None:
    return st.session_state.get(PG_TARGET)


def set_pg_target(target: PgTarget | None) -> None:
    if target is None:
        st.session_state.pop(PG_TARGET, None)
        st.session_state.pop(SERVE_FROM, None)
    else:
        st.session_state[PG_TARGET] = target


def serve_from() -> ServeFrom:
    return st.session_state.get(SERVE_FROM) or ServeFrom()


def set_serve_from(choice: ServeFrom) -> None:
    changed = st.session_state.get(SERVE_FROM) != choice
    st.session_state[SERVE_FROM] = choice
    if changed:
        _changed()


# -- privacy: this session's share of the shared vector cache (issue 16) --------------------------

CACHE_LEDGER = "_cache_ledger"  # core.embedding.CacheLedger: what this session embedded and wrote


def cache_ledger() -> CacheLedger:
    """What this session embedded and wrote to the shared cache (what "from cache" counts and
    "Clear my data" deletes), and its question vectors, kept in memory only."""
    return st.session_state.setdefault(CACHE_LEDGER, CacheLedger())
