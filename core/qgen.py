"""Generated question sets: an offline cloze generator, an LLM generator, and a check of whether a
generated set ranks retrieval settings the way real questions do.

Offline ("cloze"): pick sentences of each document that hold a number, a name or a rare term
(rarest by IDF over the corpus's sentences), take that term out as the answer, and turn the rest
into a question by putting a question word where the term was ("The device code is valid for
10 minutes." -> "The device code is valid for how long?", answer "10 minutes", context the
sentence). It needs no key and no network, and it is seeded, so the same corpus gives the same
set. What it cannot do: paraphrase (its questions reuse the sentence's words, which flatters
lexical search), ask about anything spread over several sentences, or judge whether a question is
worth asking. Measured on the bundled samples (bench.question_generation, 24 settings): BM25 finds
every cloze question at every chunking (hit@5 = 1.0) and dense does best on the smallest chunks,
while the curated questions favour dense and larger chunks, so the two rankings run opposite
(Kendall's tau about -0.4 to -0.5, different best settings). Use it to smoke-test a corpus, not to
choose settings; label or curate real questions for that.

LLM: sample passages (a few consecutive sentences), ask the chat model for one question and a
short answer phrase copied from the passage, and keep a question only when its answer really
occurs in the passage (the others are listed as rejected, with the reason). A provider error or
timeout stops the run and keeps what was generated before it.

Every generated question has origin "generated", and its context is text of its document.
"""
from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from core.documents import Document
from core.evaluation import Question
from core.sentences import sentence_spans
from core.sweep import SweepGrid, SweepRow, best_first

OFFLINE_METHOD = "offline cloze"
OFFLINE_EXPLANATION = (
    "Offline cloze questions: each comes from one sentence of your documents that holds a number, a name "
    "or a rare word (rare across your corpus); that term is the answer, and the question is the sentence "
    "with a question word in its place."
)
MAX_PER_DOC = 500

Progress = Callable[[int, int, str], None]
StopCheck = Callable[[], bool]


@dataclass(frozen=True)
class GenConfig:
    per_doc: int = 10
    seed: int = 0
    min_chars: int = 40  # a shorter sentence rarely says enough to ask about
    max_chars: int = 360  # a longer one makes a question nobody would type

    def __post_init__(self) -> None:
        if not 1 <= self.per_doc <= MAX_PER_DOC:
            raise ValueError(f"Questions per document must be between 1 and {MAX_PER_DOC}; got {self.per_doc}.")
        if not 10 <= self.min_chars < self.max_chars:
            raise ValueError("The sentence length range must satisfy 10 <= min_chars < max_chars.")


@dataclass(frozen=True)
class Rejected:
    source: str
    question: str
    answer: str
    reason: str


@dataclass(frozen=True)
class GenResult:
    method: str
    questions: tuple[Question, ...]
    requested: int
    per_doc: Mapping[str, int] = field(default_factory=dict)
    rejected: tuple[Rejected, ...] = ()
    shortfall: tuple[str, ...] = ()  # "doc: asked for N, only M possible"
    error: str = ""  # a provider failure that stopped the run (what came before it is kept)
    cancelled: bool = False

    def message(self) -> str:
        """One sentence a person reads: how many, and why fewer than asked when so."""
        parts = [f"{len(self.questions)} of {self.requested} requested question(s) generated ({self.method})"]
        if self.rejected:
            parts.append(f"{len(self.rejected)} rejected")
        if self.shortfall:
            parts.append(f"{len(self.shortfall)} document(s) had fewer usable passages than asked")
        if self.cancelled:
            parts.append("cancelled: the questions generated before it are kept")
        if self.error:
            parts.append(f"stopped by an error ({self.error}); the questions generated before it are kept")
        return "; ".join(parts) + "."


# -- offline cloze ----------------------------------------------------------------------------

_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9'_-]*")
_UNIT = (r"(?:%|percent|per cent|minutes?|mins?|hours?|days?|weeks?|months?|years?|seconds?|ms|"
         r"[KMGT]i?B|bytes?|requests?|calls?|users?|seats?|members?|versions?|times?|characters?|"
         r"tokens?|items?|attempts?|workspaces?|flows?|runs?|steps?|retries|events?|connections?)")
# Not a number glued to a word ("AES-256", "UTF-8", "ISO/IEC 27001" stays whole as a name).
_NUMBER = re.compile(r"(?<![\w.$€£/:-])(?:[$€£]\s?)?\d[\d,]*(?:\.\d+)?(?:\s?" + _UNIT + r")?(?![\w/:-])")
_NAME = re.compile(r"(?<![\w.])(?:[A-Z][a-zA-Z0-9]+(?:[ -][A-Z][a-zA-Z0-9]+)*|[A-Z]{2,}[\w-]*)(?![\w])")
_DURATION = re.compile(r"(?:minutes?|mins?|hours?|days?|weeks?|months?|years?|seconds?|ms)$", re.IGNORECASE)
_MONEY = re.compile(r"^[$€£]|percent|%$")
_MARKERS = r"(?:[-*+•>|#\s]|\d{1,3}[.)]\s|\*\*)+"  # list markers, headings, bold
_LEAD = re.compile("^" + _MARKERS)
_LEAD_AT = re.compile(_MARKERS)  # for match(text, pos): "^" would only match at the string's start
_COMMON = frozenset(
    """a an and are as at be but by can do does for from has have how i if in into is it its of on or our so that
    the their them then there these they this to up was we what when where which who why will with you your
    not no all any each every more most other some such than too very can't cannot must may might should would
    could also only just one two been being were had after before over under about above below between both
    same own out off again further once here new use used using set sets get gets make makes see".""".split()
)


@dataclass(frozen=True)
class _Candidate:
    source: str
    start: int  # the sentence, in its document
    end: int
    answer_at: int  # the answer, in its document
    answer_end: int
    kind: str  # "number" | "name" | "term"


def _clean_sentence(text: str) -> str:
    return _LEAD.sub("", text).replace("**", "").replace("`", "").strip()


def _sentence_words(text: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(text)]


def corpus_idf(docs: Sequence[Document]) -> dict[str, float]:
    """IDF of each word over the corpus's sentences (a sentence is the unit a cloze question is about)."""
    df: Counter[str] = Counter()
    n = 0
    for doc in docs:
        for a, b in sentence_spans(doc.text):
            n += 1
            df.update(set(_sentence_words(doc.text[a:b])))
    return {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()}


def _answer_in(doc: Document, a: int, b: int, idf: Mapping[str, float]) -> tuple[int, int, str] | None:
    """The one term of sentence [a, b) to ask about: a number, else a name, else its rarest word."""
    text = doc.text[a:b]
    # Skip the sentence's first word for names: it is capitalised because it starts the sentence.
    first = _WORDS.search(text)
    skip_to = first.end() if first else 0
    for m in _NUMBER.finditer(text):
        if any(ch.isdigit() for ch in m.group()) and not re.fullmatch(r"[12]\d{3}", m.group()):
            return a + m.start(), a + m.end(), "number"
    for m in _NAME.finditer(text):
        if m.start() >= skip_to and m.group().lower() not in _COMMON and len(m.group()) > 2:
            return a + m.start(), a + m.end(), "name"
    best: tuple[float, int, int] | None = None
    for m in _WORDS.finditer(text):
        word = m.group().lower()
        if len(word) < 5 or word in _COMMON:
            continue
        score = idf.get(word, 0.0)
        if best is None or score > best[0]:
            best = (score, m.start(), m.end())
    if best is None or best[0] < 2.5:  # a common word makes a guessing game, not a question
        return None
    return a + best[1], a + best[2], "term"


def _candidates(doc: Document, idf: Mapping[str, float], config: GenConfig) -> list[_Candidate]:
    out = []
    for a, b in sentence_spans(doc.text):
        lead = _LEAD_AT.match(doc.text, a, b)  # a list marker ("4. ", "- ") is not part of what is said
        a = lead.end() if lead else a
        sentence = doc.text[a:b]
        if not config.min_chars <= len(sentence) <= config.max_chars or len(_sentence_words(sentence)) < 6:
            continue
        if "|" in sentence or sentence.rstrip()[-1:] not in ".!?:)\"'":  # table rows and headings
            continue
        found = _answer_in(doc, a, b, idf)
        if found is not None:
            out.append(_Candidate(doc.name, a, b, *found))
    return out


_PRIORITY = {"number": 0, "name": 1, "term": 2}


def _question_text(doc: Document, c: _Candidate) -> str:
    answer = doc.text[c.answer_at:c.answer_end]
    before = doc.text[c.start:c.answer_at]
    after = doc.text[c.answer_end:c.end]
    if c.kind == "number":
        word = "how long" if _DURATION.search(answer) else ("how much" if _MONEY.search(answer) else "how many")
    elif c.kind == "name":
        word = "which name"
    else:
        word = "what"
    text = _clean_sentence(f"{before}{word}{after}")
    text = re.sub(r"\s+", " ", text).rstrip(" .!:;,")
    return (text[:1].upper() + text[1:] + "?") if text else ""


def generate_offline(docs: Sequence[Document], *, config: GenConfig, progress: Progress | None = None,
                     should_stop: StopCheck | None = None,
                     on_question: Callable[[Question], None] | None = None) -> GenResult:
    """`config.per_doc` cloze questions per document, fewer where a document has fewer usable
    sentences (said in `shortfall`). Seeded: the same corpus and seed give the same set."""
    idf = corpus_idf(docs)
    questions: list[Question] = []
    per_doc: dict[str, int] = {}
    shortfall: list[str] = []
    rejected: list[Rejected] = []
    for n, doc in enumerate(docs):
        if should_stop and should_stop():
            return GenResult(OFFLINE_METHOD, tuple(questions), config.per_doc * len(docs), per_doc,
                             tuple(rejected), tuple(shortfall), cancelled=True)
        if progress:
            progress(n, len(docs), doc.name)
        cands = _candidates(doc, idf, config)
        rng = random.Random(f"{config.seed}:{doc.name}")
        rng.shuffle(cands)
        # Numbers and names first: they make the questions a person would ask; rare terms fill up.
        cands.sort(key=lambda c: _PRIORITY[c.kind])
        made = 0
        seen: set[str] = set()
        for c in cands:
            if made >= config.per_doc:
                break
            text = _question_text(doc, c)
            answer = doc.text[c.answer_at:c.answer_end]
            context = doc.text[c.start:c.end]
            if not text or text.lower() in seen:
                continue
            if answer.lower() not in context.lower():  # by construction it is; the check keeps it true
                rejected.append(Rejected(doc.name, text, answer, "the answer is not in its passage"))
                continue
            seen.add(text.lower())
            questions.append(Question(text, (answer,), doc.name, context, 0, "generated"))
            if on_question:
                on_question(questions[-1])
            made += 1
        per_doc[doc.name] = made
        if made < config.per_doc:
            shortfall.append(f"{doc.name}: asked for {config.per_doc}, only {made} usable sentence(s)")
    if progress:
        progress(len(docs), len(docs), "done")
    return GenResult(OFFLINE_METHOD, tuple(questions), config.per_doc * len(docs), per_doc, tuple(rejected),
                     tuple(shortfall))


# -- LLM --------------------------------------------------------------------------------------

PROMPT = """You write test questions for a search system.
Read the passage and write ONE question that a user of this product might ask, answered by the passage.
Give the answer as a SHORT phrase (1 to 8 words) copied exactly from the passage.
Reply with JSON only: {{"question": "...", "answer": "..."}}

Passage (from {source}):
\"\"\"
{passage}
\"\"\""""
PASSAGE_CHARS = 700


def passages(doc: Document, *, max_chars: int = PASSAGE_CHARS) -> list[tuple[int, int]]:
    """Consecutive sentences of one paragraph grouped into passages of up to `max_chars`, exact offsets."""
    out: list[tuple[int, int]] = []
    start = end = None
    for a, b in sentence_spans(doc.text):
        if start is None:
            start, end = a, b
        elif b - start <= max_chars and "\n\n" not in doc.text[end:a]:  # a blank line ends a passage
            end = b
        else:
            out.append((start, end))  # type: ignore[arg-type]
            start, end = a, b
    if start is not None:
        out.append((start, end))  # type: ignore[arg-type]
    return [(a, b) for a, b in out if len(doc.text[a:b].split()) >= 8]


def parse_reply(text: str) -> tuple[str, str]:
    """(question, answer) from a model's reply; ValueError with a reason when it has neither."""
    m = re.search(r"\{.*\}", text, re.DOTALL)
    if not m:
        raise ValueError("the reply held no JSON object")
    try:
        obj = json.loads(m.group())
    except json.JSONDecodeError:
        raise ValueError("the reply's JSON could not be read") from None
    q, a = obj.get("question") if isinstance(obj, dict) else None, obj.get("answer") if isinstance(obj, dict) else None
    if not isinstance(q, str) or not q.strip() or not isinstance(a, str) or not a.strip():
        raise ValueError("the reply lacked a question or an answer")
    return q.strip(), a.strip()


def _reply_text(message: object) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, list):
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content)


def generate_llm(docs: Sequence[Document], *, chat_model, config: GenConfig, label: str = "LLM",
                 progress: Progress | None = None, should_stop: StopCheck | None = None,
                 classify: Callable[[BaseException], str] | None = None,
                 on_question: Callable[[Question], None] | None = None) -> GenResult:
    """One question per sampled passage, `config.per_doc` passages per document.

    An answer that does not occur in its passage is rejected (models paraphrase); a provider
    failure ends the run with `error` set and every question made before it kept."""
    method = f"LLM ({label})"
    plan: list[tuple[Document, tuple[int, int]]] = []
    shortfall: list[str] = []
    for doc in docs:
        spans = passages(doc)
        rng = random.Random(f"{config.seed}:{doc.name}")
        picked = sorted(rng.sample(spans, min(config.per_doc, len(spans))))
        if len(picked) < config.per_doc:
            shortfall.append(f"{doc.name}: asked for {config.per_doc}, only {len(picked)} passage(s)")
        plan.extend((doc, span) for span in picked)
    questions: list[Question] = []
    rejected: list[Rejected] = []
    per_doc: dict[str, int] = dict.fromkeys((d.name for d in docs), 0)
    requested = config.per_doc * len(docs)
    for n, (doc, (a, b)) in enumerate(plan):
        if should_stop and should_stop():
            return GenResult(method, tuple(questions), requested, per_doc, tuple(rejected), tuple(shortfall),
                             cancelled=True)
        if progress:
            progress(n, len(plan), doc.name)
        passage = doc.text[a:b]
        try:
            reply = chat_model.invoke(PROMPT.format(source=doc.name, passage=passage))
        except Exception as exc:  # any provider failure: stop, keep what exists, say why
            reason = classify(exc) if classify else f"{type(exc).__name__}: {exc}"
            return GenResult(method, tuple(questions), requested, per_doc, tuple(rejected), tuple(shortfall),
                             error=reason)
        try:
            question, answer = parse_reply(_reply_text(reply))
        except ValueError as exc:
            rejected.append(Rejected(doc.name, "", "", str(exc)))
            continue
        at = passage.lower().find(answer.lower())
        if at < 0:
            rejected.append(Rejected(doc.name, question, answer, "the answer does not occur in the passage"))
            continue
        questions.append(Question(question, (passage[at:at + len(answer)],), doc.name, passage, 0, "generated"))
        if on_question:  # the caller may be interrupted (a click in the UI): it keeps each one as it comes
            on_question(questions[-1])
        per_doc[doc.name] += 1
    if progress:
        progress(len(plan), len(plan), "done")
    return GenResult(method, tuple(questions), requested, per_doc, tuple(rejected), tuple(shortfall))


# -- does the generated set rank settings like real questions? ------------------------------------

AGREEMENT_GRID = SweepGrid(splitters=("recursive",), sizes=(64, 100, 150, 200, 300, 400), overlaps=(0, 50),
                           ks=(5,), methods=("dense", "bm25"))


def setting_label(row: SweepRow) -> str:
    return f"{row.splitter} {row.size}/{row.overlap} {row.unit}, {row.method}"


@dataclass(frozen=True)
class Agreement:
    metric: str
    k: int
    n_settings: int
    tau: float | None  # Kendall's tau-b; None when one set scores every setting the same
    p_value: float | None
    same_best: bool
    best_curated: str
    best_generated: str
    points: tuple[tuple[str, float, float], ...]  # (setting, curated score, generated score)

    def verdict(self) -> str:
        if self.tau is None:
            return "No rank agreement can be computed: one set scores every setting the same."
        strength = ("strong agreement" if self.tau >= 0.6 else "moderate agreement" if self.tau >= 0.3 else
                    "weak or no agreement" if self.tau > -0.3 else "the two sets rank settings in opposite orders")
        best = ("both pick the same best setting" if self.same_best
                else f"they pick different best settings ({self.best_curated} vs {self.best_generated})")
        return f"Kendall's tau = {self.tau:.2f} over {self.n_settings} settings ({strength}); {best}."


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> tuple[float | None, float | None]:
    """Kendall's tau-b with its p-value (scipy), None when either side is constant."""
    from scipy.stats import kendalltau

    if len(x) < 2 or len(set(x)) < 2 or len(set(y)) < 2:
        return None, None
    result = kendalltau(x, y)
    return float(result.statistic), float(result.pvalue)


def rank_agreement(curated: Iterable[SweepRow], generated: Iterable[SweepRow], *, metric: str = "hit",
                   k: int = 5) -> Agreement:
    """How alike two question sets rank the same settings: tau over `metric`@k, and the best of each."""
    def key(r: SweepRow) -> tuple:
        return (r.splitter, r.unit, r.size, r.overlap, r.method)

    cur = {key(r): r for r in curated if r.k == k}
    gen = {key(r): r for r in generated if r.k == k}
    common = [s for s in cur if s in gen]
    if not common:
        raise ValueError(f"The two sweeps share no setting at k={k}.")
    xs = [getattr(cur[s], metric) for s in common]
    ys = [getattr(gen[s], metric) for s in common]
    tau, p = kendall_tau(xs, ys)
    best_c = best_first([cur[s] for s in common], metric)[0]
    best_g = best_first([gen[s] for s in common], metric)[0]
    return Agreement(metric, k, len(common), tau, p, key(best_c) == key(best_g), setting_label(best_c),
                     setting_label(best_g),
                     tuple((setting_label(cur[s]), float(x), float(y)) for s, x, y in zip(common, xs, ys)))
