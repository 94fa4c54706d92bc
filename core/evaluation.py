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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from core.chunking import Chunk
from core.documents import Document
from core.retrieval import RetrievalConfig, Retriever
from core.stats import Interval, intervals, resampler

METRICS = ("hit", "mrr", "recall", "ndcg")
METRIC_LABELS = {"hit": "hit@K", "mrr": "MRR@K", "recall": "recall@K", "ndcg": "nDCG@K"}


ORIGINS = ("curated", "labelled", "generated")
ORIGIN_LABELS = {"curated": "curated (a file or typed)", "labelled": "labelled on the Retrieval page",
                 "generated": "generated"}


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

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise ValueError(f"Unknown origin '{self.origin}': use one of {', '.join(ORIGINS)}.")

    def as_json(self) -> dict:
        """The DESIGN.md JSONL object (plus its origin), as export writes it."""
        out: dict = {"question": self.question, "answers": list(self.answers), "source": self.source}
        if self.context:
            out["context"] = self.context
        out["origin"] = self.origin
        return out


@dataclass(frozen=True)
class QuestionSet:
    questions: tuple[Question, ...]
    errors: tuple[tuple[int, str], ...] = ()  # (line number, message)
    documents: tuple[Document, ...] = ()  # SQuAD files bring their own documents
    notes: tuple[str, ...] = ()  # things skipped on purpose, said once (e.g. an empty SQuAD article)


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
    origin = obj.get("origin") or "curated"
    if origin not in ORIGINS:
        raise ValueError(f"'origin' must be one of {', '.join(ORIGINS)} when given")
    return Question(q.strip(), tuple(a.strip() for a in answers), source.strip(), context.strip(), line, origin)


def dump_questions(questions: Sequence[Question]) -> bytes:
    """JSONL, one question a line, in the format load_questions reads back (origin included)."""
    return "".join(json.dumps(q.as_json(), ensure_ascii=False) + "\n" for q in questions).encode("utf-8")


def _is_squad(obj: object) -> bool:
    """A whole-file JSON object is SQuAD when its "data" is a list and it is not itself a question.

    A one-line JSONL file whose question object happens to carry a "data" key is a question."""
    return isinstance(obj, dict) and "question" not in obj and isinstance(obj.get("data"), list)


def load_questions(data: bytes, name: str) -> QuestionSet:
    """JSONL or CSV in the DESIGN.md format, or a SQuAD v1.1 JSON file.

    Malformed lines are reported by line number; valid ones still load. Never raises on bad input.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return QuestionSet((), ((0, "the file is not UTF-8 text"),))
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        return _load_csv(text)
    stripped = text.lstrip()
    if suffix == ".json" or stripped.startswith("{"):
        # A whole-file JSON object with a "data" list is SQuAD; JSONL fails to parse as one document
        # (at its second line) and falls through to line-by-line reading.
        try:
            obj = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            obj = None
        if _is_squad(obj):
            return load_squad(obj)
        if isinstance(obj, dict) and "data" in obj and "question" not in obj:
            return QuestionSet((), ((1, "this looks like SQuAD but its 'data' is not a list of articles"),))
        if suffix == ".json" and obj is not None and not isinstance(obj, dict):
            return QuestionSet((), ((1, "expected SQuAD v1.1 (an object with a 'data' list) or JSONL, one object a line"),))
    questions, errors = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            questions.append(_question_from(json.loads(raw), number))
        except json.JSONDecodeError as exc:
            errors.append((number, f"not valid JSON ({exc.msg})"))
        except RecursionError:
            errors.append((number, "nested too deeply to read"))
        except ValueError as exc:
            errors.append((number, str(exc)))
    return QuestionSet(tuple(questions), tuple(errors))


def _load_csv(text: str) -> QuestionSet:
    questions, errors = [], []
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"question", "answers", "source"} <= set(reader.fieldnames):
        return QuestionSet((), ((1, "CSV needs the columns question, answers, source (and optionally context, origin)"),))
    try:
        for number, row in enumerate(reader, start=2):
            try:
                answers = [a for a in (row.get("answers") or "").split("|") if a.strip()]
                questions.append(_question_from({**row, "answers": answers}, number))
            except ValueError as exc:
                errors.append((number, str(exc)))
    except csv.Error as exc:  # e.g. a NUL byte or an unterminated quote
        errors.append((reader.line_num, f"not valid CSV ({exc})"))
    return QuestionSet(tuple(questions), tuple(errors))


def _unique_name(title: str, taken: set[str]) -> str:
    """A document name for a SQuAD title: whitespace (blank lines included) collapsed, and a
    number added when two articles share a title, so neither overwrites the other."""
    base = " ".join(title.split())[:120] or "article"
    name, n = f"{base}.txt", 1
    while name in taken:
        n += 1
        name = f"{base} ({n}).txt"
    taken.add(name)
    return name


def load_squad(obj: Mapping) -> QuestionSet:
    """SQuAD v1.1: each article becomes one document (its paragraphs joined), each QA a question.

    Every malformed piece is reported by where it is (article, paragraph, question) and skipped;
    an article without text is skipped with a note, since an empty document cannot be chunked."""
    docs: list[Document] = []
    questions: list[Question] = []
    errors: list[tuple[int, str]] = []
    notes: list[str] = []
    taken: set[str] = set()
    articles = obj.get("data")
    if not isinstance(articles, list):
        return QuestionSet((), ((0, "SQuAD: 'data' must be a list of articles"),))
    for a_i, article in enumerate(articles):
        where = f"article {a_i + 1}"
        if not isinstance(article, dict):
            errors.append((0, f"SQuAD {where}: expected an object with 'title' and 'paragraphs'"))
            continue
        title = article.get("title")
        title = title if isinstance(title, str) and title.strip() else where
        paragraphs = article.get("paragraphs", [])
        if not isinstance(paragraphs, list):
            errors.append((0, f"SQuAD {where} ({title}): 'paragraphs' must be a list"))
            continue
        good = []
        for p_i, paragraph in enumerate(paragraphs):
            if not isinstance(paragraph, dict) or not isinstance(paragraph.get("context", ""), str):
                errors.append((0, f"SQuAD {where} ({title}), paragraph {p_i + 1}: expected an object with a 'context' string"))
                continue
            if paragraph.get("context", "").strip():
                good.append(paragraph)
        n_qas = sum(len(p.get("qas") or []) if isinstance(p.get("qas"), list) else 0
                    for p in paragraphs if isinstance(p, dict))
        if not good:
            notes.append(f"SQuAD article '{' '.join(title.split())}' has no text: skipped"
                         + (f", with its {n_qas} question(s)." if n_qas else "."))
            continue
        name = _unique_name(title, taken)
        docs.append(Document(name=name, text="\n\n".join(p["context"] for p in good), kind="text"))
        for p_i, paragraph in enumerate(good):
            qas = paragraph.get("qas", [])
            if not isinstance(qas, list):
                errors.append((0, f"SQuAD {where} ({title}), paragraph {p_i + 1}: 'qas' must be a list"))
                continue
            for qa in qas:
                label = f"{title}: question {qa.get('id', '?') if isinstance(qa, dict) else '?'}"
                if not isinstance(qa, dict) or not isinstance(qa.get("question"), str) or not qa["question"].strip():
                    errors.append((0, f"{label} has no question text"))
                    continue
                raw = qa.get("answers", [])
                answers = [x["text"].strip() for x in raw if isinstance(x, dict) and isinstance(x.get("text"), str)
                           and x["text"].strip()] if isinstance(raw, list) else []
                if not answers:
                    errors.append((0, f"{label} has no answer text"))
                    continue
                questions.append(Question(qa["question"].strip(), tuple(dict.fromkeys(answers)), name,
                                          paragraph["context"].strip(), 0))
    return QuestionSet(tuple(questions), tuple(errors), tuple(docs), tuple(notes))


# -- relevance ------------------------------------------------------------------------------


def gold_span(question: Question, doc: Document | None) -> tuple[int, int] | None:
    """Character span of the gold context in its document (None when not given or not found)."""
    if doc is None or not question.context:
        return None
    at = doc.text.find(question.context)
    if at < 0:
        at = doc.text.lower().find(question.context.lower())
    return None if at < 0 else (at, at + len(question.context))


def passage_span(question: Question, doc: Document | None) -> tuple[int, int] | None:
    """The gold passage the token-level metrics measure: the `context` span when it is given and
    found, else the first occurrence of an answer (answers in their listed order, case-insensitive)."""
    span = gold_span(question, doc)
    if span is not None or doc is None:
        return span
    text = doc.text.lower()
    for answer in question.answers:
        at = text.find(answer.lower())
        if at >= 0:
            return at, at + len(answer)
    return None


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


# -- what the LLM sees ----------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One span of a document that goes into the prompt, and what it costs in tokens."""

    doc: str
    start: int
    end: int
    tokens: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"A seen span needs 0 <= start <= end, got {self.start}-{self.end}.")


SeenFn = Callable[[Chunk], Sequence[Seen]]


def seen_by_llm(chunk: Chunk) -> tuple[Seen, ...]:
    """The character span(s) the LLM reads when `chunk` is retrieved: by default the chunk itself.

    The one hook for strategies that hand the LLM more than the matched chunk (parent-document
    retrieval): pass another SeenFn to `evaluate(seen=...)` and the token-level metrics and the
    prompt size are measured on what the LLM would actually read.
    """
    return (Seen(chunk.doc, chunk.start, chunk.end, chunk.n_tokens),)


# -- metrics --------------------------------------------------------------------------------

METRIC_HELP = {
    "hit": "Share of questions with at least one answering chunk in the top K.",
    "mrr": "Mean of 1/rank of the first answering chunk (0 when none is in the top K).",
    "recall": "Share of all answering chunks that made the top K, averaged over questions.",
    "ndcg": "Rank-discounted gain of the answering chunks in the top K, against the best possible order.",
    "token_recall": "Share of the gold passage's characters that the top-K chunks cover (overlapping chunks "
                    "counted once). The gold passage is the question's context, else the answer's first occurrence.",
    "token_precision": "Share of the characters sent to the LLM that are gold. A span is sent once however many "
                       "chunks lead to it, but text two overlapping chunks share is sent (and counted) twice.",
    "iou": "Gold characters retrieved / characters in either the gold passage or the retrieved spans.",
    "tokens": "Word-piece tokens of the top-K context the LLM reads (the model's tokenizer; an approximation "
              "of an LLM's own), averaged over questions.",
}
TOKEN_METRIC_LABELS = {"token_recall": "token recall", "token_precision": "token precision", "iou": "token IoU",
                       "tokens": "prompt tokens"}
TOKEN_METRICS = ("token_recall", "token_precision", "iou")
# Everything a question is scored on, in display order; "tokens" is a cost, not a quality.
ALL_METRICS = (*METRICS, *TOKEN_METRICS, "tokens")


@dataclass(frozen=True)
class Scores:
    hit: float
    mrr: float
    recall: float
    ndcg: float
    token_recall: float = 0.0
    token_precision: float = 0.0
    iou: float = 0.0
    tokens: float = 0.0  # prompt context tokens at K

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


def _merge(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of half-open spans as sorted, disjoint spans."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


@dataclass(frozen=True)
class TokenScores:
    recall: float
    precision: float
    iou: float
    tokens: int


def token_scores(seen: Sequence[Seen], gold: tuple[int, int] | None, source: str) -> TokenScores:
    """Token-level (character) recall, precision and IoU of what the LLM reads against the gold passage.

    Recall and IoU use the union of the retrieved spans, so overlapping chunks are not counted twice.
    Precision is measured on the prompt as sent: identical spans are sent once (a parent reached
    through two children), but two overlapping chunks are both sent whole, so their shared text is
    counted twice, gold or not: the prompt pays for it twice.
    """
    sent = list(dict.fromkeys(seen))
    tokens = sum(s.tokens for s in sent)
    sent_chars = sum(s.end - s.start for s in sent)
    if gold is None or gold[1] <= gold[0]:
        return TokenScores(0.0, 0.0, 0.0, tokens)
    in_source = _merge([(s.start, s.end) for s in sent if s.doc == source])
    covered = sum(_overlap(span, gold) for span in in_source)
    gold_sent = sum(_overlap((s.start, s.end), gold) for s in sent if s.doc == source)
    retrieved = 0  # characters of every document the prompt quotes, overlaps counted once
    for doc in {s.doc for s in sent}:
        retrieved += sum(end - start for start, end in _merge([(x.start, x.end) for x in sent if x.doc == doc]))
    union = retrieved + (gold[1] - gold[0]) - covered
    return TokenScores(recall=covered / (gold[1] - gold[0]),
                       precision=gold_sent / sent_chars if sent_chars else 0.0,
                       iou=covered / union if union else 0.0, tokens=tokens)


def mean_scores(scores: Sequence[Scores]) -> Scores:
    if not scores:
        return Scores(0.0, 0.0, 0.0, 0.0)
    n = len(scores)
    return Scores(*(sum(s.get(m) for s in scores) / n for m in ALL_METRICS))


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    scores: Scores
    retrieved: tuple[int, ...]  # chunk ids of the top-K, in order
    relevant: frozenset[int]  # every chunk that answers it
    first_rank: int | None  # rank of the first relevant chunk within the top-K
    best_rank: int | None  # rank of the best relevant chunk in the full ranking (for misses)
    # What the LLM reads for each retrieved rank and the gold passage: enough to rescore the
    # token-level metrics at a smaller k without the chunks.
    seen: tuple[tuple[Seen, ...], ...] = ()
    gold: tuple[int, int] | None = None


@dataclass(frozen=True)
class QuestionScore:
    """One question's scores at one setting: what the statistics resample (grouped by source)."""

    question: str
    source: str
    origin: str
    scores: Scores


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

    def values(self, metric: str) -> np.ndarray:
        """Per-question values of `metric`, in the order of `results`."""
        return np.array([r.scores.get(metric) for r in self.results], dtype=float)

    def sources(self) -> list[str]:
        return [r.question.source for r in self.results]


def _score_at(r: QuestionResult, k: int) -> Scores:
    base = score_ranking(r.retrieved, set(r.relevant), k)
    t = token_scores([s for spans in r.seen[:k] for s in spans], r.gold, r.question.source)
    return replace(base, token_recall=t.recall, token_precision=t.precision, iou=t.iou, tokens=float(t.tokens))


class EvaluationStopped(Exception):
    """evaluate() was asked to stop (`should_stop`): a Cancel, or the session ended."""


def evaluate(retriever: Retriever, questions: Sequence[Question], docs: Mapping[str, Document], *,
             config: RetrievalConfig, drill_down: bool = True, seen: SeenFn = seen_by_llm,
             progress: Callable[[int, int], None] | None = None,
             should_stop: Callable[[], bool] | None = None) -> EvalRun:
    """Score every question whose source is loaded; the rest are listed as skipped.

    `seen` maps a retrieved hit's `seen_chunk` (its parent passage under parent-document retrieval,
    else the chunk) to the span(s) the LLM reads (see seen_by_llm). Questions are embedded
    in blocks, so `progress(done, total)` (questions scored) moves evenly and `should_stop()` is
    asked after every question: when it says yes, EvaluationStopped is raised and nothing more is
    computed (a 12,000-question run must not outlive the person who started it).
    """
    usable = [q for q in questions if q.source in docs]
    skipped = tuple(q.question for q in questions if q.source not in docs)
    started = time.perf_counter()

    def vectors():  # one block of questions embedded at a time, scored before the next
        for lo in range(0, len(usable), 256):
            if should_stop and should_stop():
                raise EvaluationStopped
            yield from zip(usable[lo : lo + 256], retriever.embed_queries([q.question for q in usable[lo : lo + 256]]))

    results = []
    # What the LLM reads for each chunk id (its parent under parent-document retrieval, issue 13):
    # relevance and the token metrics are judged on it.
    view = retriever.llm_view(config)
    for q, qv in vectors():
        if should_stop and should_stop():
            raise EvaluationStopped
        hits = retriever.search(q.question, config=config, query_vector=qv)
        ids = [retriever.position(h.chunk) for h in hits]
        rel = relevant_ids(view, q, docs)
        for i, h in zip(ids, hits):  # a hit's parent may be widened (core.retrieval): judge what it reads
            if h.parent is not None:
                (rel.add if is_relevant(h.seen_chunk, q, docs) else rel.discard)(i)
        first = next((r for r, i in enumerate(ids, start=1) if i in rel), None)
        best = None
        if drill_down and first is None and rel:
            order = retriever.ranking(q.question, qv, config=config)
            best = next((r for r, i in enumerate(order, start=1) if i in rel), None)
        partial = QuestionResult(q, Scores(0.0, 0.0, 0.0, 0.0), tuple(ids), frozenset(rel), first, best,
                                 tuple(tuple(seen(h.seen_chunk)) for h in hits), passage_span(q, docs.get(q.source)))
        results.append(replace(partial, scores=_score_at(partial, config.k)))
        if progress:
            progress(len(results), len(usable))
    elapsed = (time.perf_counter() - started) * 1000
    return EvalRun(config, tuple(results), mean_scores([r.scores for r in results]), len(retriever.chunks),
                   elapsed / max(len(usable), 1), skipped)


def rescore_questions(run: EvalRun, k: int) -> tuple[QuestionScore, ...]:
    """Each question's scores in an existing run cut at a smaller k (the top-k of a top-K list)."""
    if k > run.config.k:
        raise ValueError(f"Cannot rescore at k={k}: the run only retrieved {run.config.k}.")
    return tuple(QuestionScore(r.question.question, r.question.source, r.question.origin, _score_at(r, k))
                 for r in run.results)


def rescore(run: EvalRun, k: int) -> Scores:
    """Mean metrics of an existing run cut at a smaller k (the top-k of a top-K list)."""
    return mean_scores([q.scores for q in rescore_questions(run, k)])


def run_intervals(run: EvalRun, *, n_boot: int = 2000, seed: int = 12) -> dict[str, Interval]:
    """Every metric of `run` with its 95% cluster-bootstrap interval (questions grouped by source)."""
    if not run.results:
        return {}
    rs = resampler(run.sources(), n_boot=n_boot, seed=seed)
    values = np.vstack([run.values(m) for m in ALL_METRICS])
    return dict(zip(ALL_METRICS, intervals(values, rs)))
