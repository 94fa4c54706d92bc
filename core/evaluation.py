"""Question sets and retrieval metrics whose truth is tied to the text, not to chunk ids.

A question is answered by a chunk when the chunk comes from the question's source document,
contains one of its answers (case-insensitive) and, when a gold `context` passage is given,
overlaps that passage's character span. So the same questions score every chunking fairly.
"""
from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.chunking import Chunk
from core.documents import Document
from core.retrieval import RetrievalConfig, Retriever

METRICS = ("hit", "mrr", "recall", "ndcg")
METRIC_LABELS = {"hit": "hit@K", "mrr": "MRR@K", "recall": "recall@K", "ndcg": "nDCG@K"}


@dataclass(frozen=True)
class Question:
    question: str
    answers: tuple[str, ...]
    source: str
    context: str = ""
    line: int = 0
    # Where the question came from: "curated" (a file or the editor), "labelled" (marked on the
    # Retrieval page) or "generated" (by a question generator). Generated questions never mix
    # silently with curated ones: every count and report says which is which.
    origin: str = "curated"


@dataclass(frozen=True)
class QuestionSet:
    questions: tuple[Question, ...]
    errors: tuple[tuple[int, str], ...] = ()  # (line number, message)
    documents: tuple[Document, ...] = ()  # SQuAD files bring their own documents


def _question_from(obj: object, line: int) -> Question:
    if not isinstance(obj, dict):
        raise ValueError("expected a JSON object")
    q = obj.get("question")
    if not isinstance(q, str) or not q.strip():
        raise ValueError("'question' must be a non-empty string")
    answers = obj.get("answers")
    if isinstance(answers, str):
        answers = [answers]
    if not isinstance(answers, list) or not answers or not all(isinstance(a, str) and a.strip() for a in answers):
        raise ValueError("'answers' must be a non-empty list of strings")
    source = obj.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ValueError("'source' must name the document the answer is in")
    context = obj.get("context") or ""
    if not isinstance(context, str):
        raise ValueError("'context' must be a string when given")
    return Question(q.strip(), tuple(a.strip() for a in answers), source.strip(), context.strip(), line)


def load_questions(data: bytes, name: str) -> QuestionSet:
    """JSONL or CSV in the DESIGN.md format, or a SQuAD v1.1 JSON file.

    Malformed lines are reported by line number; valid ones still load.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return QuestionSet((), ((0, "the file is not UTF-8 text"),))
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        return _load_csv(text)
    if suffix == ".json" or text.lstrip().startswith("{"):
        # A whole-file JSON object with "data" is SQuAD; JSONL fails to parse as one document
        # (at its second line) and falls through to line-by-line reading.
        try:
            obj = json.loads(text)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and "data" in obj:
            return load_squad(obj)
    questions, errors = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            questions.append(_question_from(json.loads(raw), number))
        except json.JSONDecodeError as exc:
            errors.append((number, f"not valid JSON ({exc.msg})"))
        except ValueError as exc:
            errors.append((number, str(exc)))
    return QuestionSet(tuple(questions), tuple(errors))


def _load_csv(text: str) -> QuestionSet:
    questions, errors = [], []
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"question", "answers", "source"} <= set(reader.fieldnames):
        return QuestionSet((), ((1, "CSV needs the columns question, answers, source (and optionally context)"),))
    for number, row in enumerate(reader, start=2):
        try:
            answers = [a for a in (row.get("answers") or "").split("|") if a.strip()]
            questions.append(_question_from({**row, "answers": answers}, number))
        except ValueError as exc:
            errors.append((number, str(exc)))
    return QuestionSet(tuple(questions), tuple(errors))


def load_squad(obj: Mapping) -> QuestionSet:
    """SQuAD v1.1: each article becomes one document (its paragraphs joined), each QA a question."""
    docs, questions, errors = [], [], []
    for a_i, article in enumerate(obj.get("data", [])):
        title = str(article.get("title") or f"article {a_i + 1}")
        name = f"{title}.txt"
        paragraphs = [p.get("context", "") for p in article.get("paragraphs", [])]
        docs.append(Document(name=name, text="\n\n".join(paragraphs), kind="text"))
        for paragraph in article.get("paragraphs", []):
            for qa in paragraph.get("qas", []):
                answers = [x.get("text", "") for x in qa.get("answers", []) if x.get("text", "").strip()]
                if not answers:
                    errors.append((0, f"{title}: question {qa.get('id', '?')} has no answer text"))
                    continue
                questions.append(Question(qa.get("question", "").strip(), tuple(dict.fromkeys(answers)), name,
                                          paragraph.get("context", "").strip(), 0))
    return QuestionSet(tuple(questions), tuple(errors), tuple(docs))


# -- relevance ------------------------------------------------------------------------------


def gold_span(question: Question, doc: Document | None) -> tuple[int, int] | None:
    """Character span of the gold context in its document (None when not given or not found)."""
    if doc is None or not question.context:
        return None
    at = doc.text.find(question.context)
    if at < 0:
        at = doc.text.lower().find(question.context.lower())
    return None if at < 0 else (at, at + len(question.context))


def is_relevant(chunk: Chunk, question: Question, docs: Mapping[str, Document]) -> bool:
    """DESIGN.md's definition: right source, contains an answer, overlaps the gold span."""
    if chunk.doc != question.source:
        return False
    text = chunk.text.lower()
    if not any(a.lower() in text for a in question.answers):
        return False
    span = gold_span(question, docs.get(question.source))
    return span is None or (chunk.start < span[1] and chunk.end > span[0])


def relevant_ids(chunks: Sequence[Chunk], question: Question, docs: Mapping[str, Document]) -> set[int]:
    return {i for i, c in enumerate(chunks) if c.doc == question.source and is_relevant(c, question, docs)}


# -- metrics --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    hit: float
    mrr: float
    recall: float
    ndcg: float

    def get(self, metric: str) -> float:
        return getattr(self, metric)


def score_ranking(ranked: Sequence[int], relevant: set[int], k: int) -> Scores:
    """Metrics of one ranked list of chunk ids against the relevant set, cut at k."""
    top = list(ranked[:k])
    flags = [i in relevant for i in top]
    first = next((r for r, f in enumerate(flags, start=1) if f), None)
    dcg = sum(1 / math.log2(r + 1) for r, f in enumerate(flags, start=1) if f)
    ideal = sum(1 / math.log2(r + 1) for r in range(1, min(len(relevant), k) + 1))
    return Scores(
        hit=1.0 if first else 0.0,
        mrr=1.0 / first if first else 0.0,
        recall=sum(flags) / len(relevant) if relevant else 0.0,
        ndcg=dcg / ideal if ideal else 0.0,
    )


def mean_scores(scores: Sequence[Scores]) -> Scores:
    if not scores:
        return Scores(0.0, 0.0, 0.0, 0.0)
    n = len(scores)
    return Scores(*(sum(s.get(m) for s in scores) / n for m in METRICS))


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    scores: Scores
    retrieved: tuple[int, ...]  # chunk ids of the top-K, in order
    relevant: frozenset[int]  # every chunk that answers it
    first_rank: int | None  # rank of the first relevant chunk within the top-K
    best_rank: int | None  # rank of the best relevant chunk in the full ranking (for misses)


@dataclass(frozen=True)
class EvalRun:
    config: RetrievalConfig
    results: tuple[QuestionResult, ...]
    summary: Scores
    n_chunks: int
    query_ms: float  # mean per question
    skipped: tuple[str, ...] = field(default=())  # questions whose source is not loaded

    @property
    def label(self) -> str:
        return f"{self.config.method}, top-{self.config.k}"


def evaluate(retriever: Retriever, questions: Sequence[Question], docs: Mapping[str, Document], *,
             config: RetrievalConfig, drill_down: bool = True) -> EvalRun:
    """Score every question whose source is loaded; the rest are listed as skipped."""
    usable = [q for q in questions if q.source in docs]
    skipped = tuple(q.question for q in questions if q.source not in docs)
    started = time.perf_counter()
    qvs: np.ndarray | list[np.ndarray] = retriever.embed_queries([q.question for q in usable]) if usable else []
    results = []
    for q, qv in zip(usable, qvs):
        hits = retriever.search(q.question, config=config, query_vector=qv)
        ids = [retriever.position(h.chunk) for h in hits]
        rel = relevant_ids(retriever.chunks, q, docs)
        s = score_ranking(ids, rel, config.k)
        first = next((r for r, i in enumerate(ids, start=1) if i in rel), None)
        best = None
        if drill_down and first is None and rel:
            order = retriever.ranking(q.question, qv, config=config)
            best = next((r for r, i in enumerate(order, start=1) if i in rel), None)
        results.append(QuestionResult(q, s, tuple(ids), frozenset(rel), first, best))
    elapsed = (time.perf_counter() - started) * 1000
    return EvalRun(config, tuple(results), mean_scores([r.scores for r in results]), len(retriever.chunks),
                   elapsed / max(len(usable), 1), skipped)



def rescore(run: EvalRun, k: int) -> Scores:
    """Mean metrics of an existing run cut at a smaller k (the top-k of a top-K list)."""
    if k > run.config.k:
        raise ValueError(f"Cannot rescore at k={k}: the run only retrieved {run.config.k}.")
    return mean_scores([score_ranking(r.retrieved, set(r.relevant), k) for r in run.results])
