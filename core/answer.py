"""Answers over retrieved chunks: the extractive answer, citation parsing and the grounding check.

Three jobs, all pure (no Streamlit, no network):

- An *extractive* answer needs no LLM: it quotes the sentences of the retrieved chunks that best
  answer the question, each cited as [n] where n is the hit's rank (the same numbering the prompt
  gives the passages). Sentences are scored with the embedding model the index uses (cosine of
  question vs sentence) plus cheap signals: how much of the question's rare vocabulary a sentence
  covers (IDF-weighted, the idea behind BM25), whether it carries a figure when the question asks
  for one, and the heading or FAQ question it sits under.
- A generated answer's text is split into sentences and its [n] markers parsed, so the page can
  link them to the hit cards and mark which chunks were cited.
- The grounding check scores every answer sentence against the retrieved text. It is a heuristic
  (embedding similarity + content-word and number overlap), a cheap stand-in for an LLM-judged
  faithfulness score such as RAGAS's, and is labelled as such wherever it is shown.
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.lexical import STOPWORDS, tokenize
from core.retrieval import Hit
from core.sentences import SentenceSource, Span, sentence_spans

EXTRACTIVE_LABEL = "Extractive answer: sentences quoted from the retrieved chunks, no LLM involved"
GROUNDING_LABEL = (
    "Grounding check (heuristic): each sentence's best embedding similarity to a retrieved sentence, "
    "combined with how many of its content words and figures appear there. It approximates, and is "
    "weaker than, an LLM-judged faithfulness score such as RAGAS's."
)

_WORD = re.compile(r"[A-Za-z0-9]")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
# A citation marker: [1], [1, 3], [1-3]. Public so core.render links exactly what is parsed here.
CITATION = re.compile(r"\[(\d+(?:\s*(?:[,;]|[-–])\s*\d+)*)\]")
_SPACE = re.compile(r"\s+")


# --- sentences (what a sentence is: core.sentences) --------------------------------------------


_BULLET = re.compile(r"^(?:[-*+•>]\s+)+")


def clean(text: str) -> str:
    """One line of display text: whitespace runs (wrapped lines) collapsed, a list item's bullet
    dropped (a quoted list item reads as a sentence)."""
    return _BULLET.sub("", _SPACE.sub(" ", text).strip())


@dataclass(frozen=True)
class SourceSentence:
    """A sentence of a retrieved chunk, located in its document."""

    text: str  # display text (whitespace collapsed)
    rank: int  # rank of the hit it comes from: its citation number
    doc: str
    start: int  # document offsets
    end: int
    heading: bool  # a heading, FAQ question or label line: context, not an answer by itself
    raw: str = ""  # the text as it stands in the document (what is embedded)


def _is_heading(raw: str) -> bool:
    s = clean(raw)
    if s.startswith("#") or s.endswith(("?", ":")):
        return True
    words = s.split()
    if len(words) > 8 or s.endswith((".", "!", ";", ",")) or s[:1] in "-*+•":
        return False
    # A short title line ("2. SUPPORT LEVELS", "Lanternfish 5.3.1 - 2 June 2025", "Fixed"), told
    # from a terse content line ("Reef plan -> Standard support") by its capitalised words.
    alpha = [w for w in words if w[:1].isalpha()]
    return len(words) <= 3 or bool(alpha) and all(w[0].isupper() for w in alpha)


def source_sentences(hits: Sequence[Hit], source: SentenceSource) -> list[SourceSentence]:
    """The sentences of the hits, each once, cited to the best-ranked hit that holds it whole.

    Overlapping chunks repeat sentences, and a chunk can start or end mid-sentence. Spans are
    compared in document offsets: of two overlapping spans the longer (more complete) one stays.
    """
    found: list[SourceSentence] = []
    for hit in sorted(hits, key=lambda h: h.rank):
        for span in source.sentences_in(hit.chunk):
            found.append(SourceSentence(clean(span.text), hit.rank, span.doc, span.start, span.end,
                                        _is_heading(span.text), span.text))
    kept: list[SourceSentence] = []
    # Longest first, then best rank: a complete sentence wins over the fragments that overlap it.
    for s in sorted(found, key=lambda s: (-(s.end - s.start), s.rank)):
        if any(k.doc == s.doc and k.start < s.end and s.start < k.end for k in kept):
            continue
        kept.append(s)
    return sorted(kept, key=lambda s: (s.rank, s.start))


def _spans(sources: Sequence[SourceSentence]) -> list[Span]:
    return [Span(s.doc, s.start, s.end, s.raw) for s in sources]


# --- the extractive answer -------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractiveConfig:
    max_sentences: int = 3
    # A further sentence joins the best one only when it scores within this margin of it.
    margin: float = 0.12
    dense_weight: float = 0.5  # cosine(question, sentence)
    terms_weight: float = 0.4  # IDF-weighted share of the question's terms the sentence contains
    heading_weight: float = 0.3  # times the score of the heading or FAQ question above the sentence
    neighbour_weight: float = 0.2  # times the score of the sentence just before
    figure_bonus: float = 0.05  # the question asks for a number/date and the sentence has one
    redundancy: float = 0.9  # cosine above which a second sentence only repeats the first

    def __post_init__(self) -> None:
        if not 1 <= self.max_sentences <= 10:
            raise ValueError(f"An extractive answer has 1 to 10 sentences; got {self.max_sentences}.")
        if self.margin < 0:
            raise ValueError(f"The score margin cannot be negative; got {self.margin}.")
        for name in ("dense_weight", "terms_weight", "heading_weight", "neighbour_weight", "figure_bonus"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative; got {getattr(self, name)}.")
        if self.dense_weight + self.terms_weight == 0:
            raise ValueError("At least one of the dense and term weights must be positive.")
        if not 0 < self.redundancy <= 1:
            raise ValueError(f"The redundancy cut-off must be in (0, 1]; got {self.redundancy}.")


@dataclass(frozen=True)
class AnswerSentence:
    text: str  # without citation markers
    citations: tuple[int, ...]  # hit ranks the sentence cites, in order of appearance
    score: float | None = None  # extractive relevance score (None for generated sentences)
    doc: str = ""  # where an extractive sentence was quoted from
    start: int | None = None
    end: int | None = None
    span: tuple[int, int] = (0, 0)  # where the sentence sits in Answer.text (for highlighting)


@dataclass(frozen=True)
class Answer:
    text: str  # what is shown, with its [n] markers
    sentences: tuple[AnswerSentence, ...]
    kind: str  # "extractive" or "generated"
    cited: frozenset[int]  # hit ranks cited that exist among the hits
    invalid_citations: tuple[int, ...] = ()  # markers that point at no retrieved passage
    seconds: float = 0.0

    @property
    def empty(self) -> bool:
        return not self.sentences


_FIGURE_QUESTION = re.compile(
    r"\b(how (much|many|long|often|far|big|large|soon|quickly|fast)|what (is|are) the "
    r"(price|cost|limit|maximum|minimum|number|size|version|percentage|rate)|when|which (year|date|day|version)|"
    r"what (year|date|day|version|time)|percent|price|cost)\b",
    re.I,
)


def _idf_coverage(query_terms: list[str], texts_terms: list[set[str]], idf: Mapping[str, float] | None) -> np.ndarray:
    """IDF-weighted share of the question's distinct terms each text contains (0..1)."""
    terms = list(dict.fromkeys(query_terms))
    if not terms:
        return np.zeros(len(texts_terms), dtype=np.float32)
    if idf:
        fallback = max(idf.values(), default=1.0)  # a term the corpus never saw is as rare as any
        weights = np.array([idf.get(t, fallback) for t in terms], dtype=np.float32)
    else:
        n = len(texts_terms) or 1
        weights = np.array(
            [math.log(1 + (n + 0.5) / (sum(t in s for s in texts_terms) + 0.5)) for t in terms], dtype=np.float32
        )
    total = float(weights.sum()) or 1.0
    return np.array([sum(w for t, w in zip(terms, weights) if t in s) / total for s in texts_terms], dtype=np.float32)


_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*://|www\.)\S+", re.I)
_LETTER_RUN = re.compile(r"[^\W\d_]+")  # letters of any script, no digits or underscores
_ALNUM = re.compile(r"[^\W_]")  # a letter or digit of any script


def reads_as_prose(text: str) -> bool:
    """Whether a sentence reads as prose that could answer something, rather than boilerplate: a
    licence's "Version 2.0, January 2004 http://www.apache.org/licenses/", a bare URL, a row of
    numbers. Cheap checks instead of a part-of-speech tagger:

    - URLs are under half of its characters;
    - at least half of its words carry letters ("2.0", "2004" and "[5]" do not; "+" is no word);
    - it has a content word in running-text case: 3+ letters, not a stopword, neither Title-case
      nor ALL CAPS (a caseless script counts). A clause has one ("are", "kept", "valid"); a
      title, a date or a name line ("Version 2.0, January 2004") does not.
    """
    stripped = text.strip()
    bare = _URL.sub(" ", stripped)
    if len(bare.strip()) * 2 < len(stripped):
        return False
    words = [w for w in bare.split() if _ALNUM.search(w)]  # "-", "+" and "=" are not words
    if not words or sum(1 for w in words if _LETTER_RUN.search(w)) * 2 < len(words):
        return False
    return any(len(run) >= 3 and not run.isupper() and not run.istitle() and run.lower() not in STOPWORDS
               for run in _LETTER_RUN.findall(bare))


def extractive_answer(
    question: str,
    hits: Sequence[Hit],
    *,
    sentences: SentenceSource,
    query_vector: np.ndarray | None = None,
    idf: Mapping[str, float] | None = None,
    config: ExtractiveConfig | None = None,
) -> Answer:
    """The retrieved sentences that best answer `question`, cited, best first.

    Sentence vectors come from `sentences` (the corpus's bank: read, not computed); pass the
    question's vector the search already computed as `query_vector`. Whatever is missing is
    embedded in one batched call. `idf` is the corpus's term rarity (Retriever.bm25.idf); without
    it rarity is estimated from the retrieved sentences alone.
    """
    config = config or ExtractiveConfig()
    started = time.perf_counter()
    sources = source_sentences(hits, sentences)
    if not question.strip() or not sources:
        return Answer("", (), "extractive", frozenset(), seconds=time.perf_counter() - started)
    sv, extra = sentences.vectors_for(_spans(sources), extra=[question] if query_vector is None else [])
    qv = extra[0] if query_vector is None else np.asarray(query_vector, dtype=np.float32)
    cosine = sv @ qv
    terms = [set(tokenize(s.text)) for s in sources]
    coverage = _idf_coverage(tokenize(question), terms, idf)
    wants_figure = bool(_FIGURE_QUESTION.search(question))
    base = (
        config.dense_weight * cosine
        + config.terms_weight * coverage
        + config.figure_bonus * np.array([wants_figure and bool(_NUMBER.search(s.text)) for s in sources])
    )
    # Two kinds of context lift a sentence that is terse on its own. The heading or FAQ question
    # it sits under says what it is about ("### How long do you keep run logs?" / "One week on
    # Minnow."), fading with distance; and a sentence right after a strong match often finishes
    # the thought ("... changes its webhook addresses." / "Old addresses keep working 30 days.").
    score = base.copy()
    heading_at: dict[int, int] = {}  # hit rank -> index of the latest heading seen in that hit
    for i, s in enumerate(sources):
        if s.heading:
            heading_at[s.rank] = i
            continue
        j = heading_at.get(s.rank)
        if j is not None:
            distance = sum(1 for t in sources[j + 1 : i] if not t.heading) + 1
            score[i] += config.heading_weight * max(0.0, float(base[j])) * 0.75 ** (distance - 1)
        prev = i - 1
        if prev >= 0 and sources[prev].rank == s.rank and not sources[prev].heading:
            score[i] += config.neighbour_weight * max(0.0, float(base[prev]))
    # An answer is a sentence: not a heading, three words or more, and prose (not boilerplate such
    # as "Version 2.0, January 2004 http://..."). Failing that, the best non-prose line, then the
    # best heading: quoting something beats saying nothing.
    candidates = [i for i, s in enumerate(sources) if not s.heading and len(s.text.split()) >= 3]
    eligible = ([i for i in candidates if reads_as_prose(sources[i].text)] or candidates
                or list(range(len(sources))))
    order = sorted(eligible, key=lambda i: (-float(score[i]), sources[i].rank, sources[i].start))
    chosen = [order[0]]
    for i in order[1:]:
        if len(chosen) >= config.max_sentences or float(score[i]) < float(score[order[0]]) - config.margin:
            break
        if max(float(sv[i] @ sv[j]) for j in chosen) >= config.redundancy:
            continue
        chosen.append(i)
    lines: list[str] = []
    quoted: list[AnswerSentence] = []
    pos = 0
    for i in chosen:
        src = sources[i]
        lines.append(f"{src.text} [{src.rank}]")
        quoted.append(
            AnswerSentence(
                text=src.text,
                citations=(src.rank,),
                score=float(score[i]),
                doc=src.doc,
                start=src.start,
                end=src.end,
                span=(pos, pos + len(src.text)),
            )
        )
        pos += len(lines[-1]) + 1
    text = "\n".join(lines)
    return Answer(
        text=text,
        sentences=tuple(quoted),
        kind="extractive",
        cited=frozenset(s.citations[0] for s in quoted),
        seconds=time.perf_counter() - started,
    )


# --- generated answers: sentences and citations ------------------------------------------------


MAX_CITATION = 100  # retrieval returns at most 50 passages: "[2023]" is a year, not a citation


def parse_citations(text: str) -> tuple[int, ...]:
    """Passage numbers cited in `text`, in order, each once: [1], [1, 3], [2][4], [1-3]."""
    out: list[int] = []
    for m in CITATION.finditer(text):
        for part in re.split(r"\s*[,;]\s*", m.group(1)):
            bounds = [int(x) for x in re.split(r"\s*[-–]\s*", part)]
            if len(bounds) == 2 and bounds[0] <= bounds[1] <= MAX_CITATION:
                out.extend(range(bounds[0], bounds[1] + 1))
            else:
                out.extend(b for b in bounds if 1 <= b <= MAX_CITATION)
    return tuple(dict.fromkeys(out))


def strip_citations(text: str) -> str:
    return clean(CITATION.sub("", text)).replace(" .", ".").replace(" ,", ",")


def parse_answer(text: str, hits: Sequence[Hit], *, seconds: float = 0.0) -> Answer:
    """A generated answer split into sentences with the passages each cites.

    A marker standing after the full stop ("... kept 30 days. [2]") belongs to the sentence before.
    """
    ranks = {h.rank for h in hits}
    pieces: list[tuple[str, tuple[int, ...], tuple[int, int]]] = []
    for lo, hi in sentence_spans(text):
        raw = text[lo:hi]
        cites = parse_citations(raw)
        body = strip_citations(raw)
        if not _WORD.search(body) and pieces:  # a sentence made only of markers
            prev_text, prev_cites, (prev_lo, _) = pieces[-1]
            pieces[-1] = (prev_text, tuple(dict.fromkeys(prev_cites + cites)), (prev_lo, hi))
            continue
        if body.startswith(tuple(".,;:")) and pieces:
            body = body[1:].strip()
        if body:
            pieces.append((body, cites, (lo, hi)))
    sentences = tuple(AnswerSentence(text=t, citations=c, span=span) for t, c, span in pieces)
    all_cites = parse_citations(text)
    return Answer(
        text=text,
        sentences=sentences,
        kind="generated",
        cited=frozenset(c for c in all_cites if c in ranks),
        invalid_citations=tuple(c for c in all_cites if c not in ranks),
        seconds=seconds,
    )


# --- grounding ---------------------------------------------------------------------------------

_ABSTAIN = re.compile(
    r"\b(do(es)? not (know|say|contain|mention|specify|state|include)|don't (know|say)|not (mentioned|stated|"
    r"specified|covered|included) in|no information|cannot (find|answer|determine)|can't (find|answer)|"
    r"(is|are) not (in|among) the (passages|context))\b",
    re.I,
)


@dataclass(frozen=True)
class GroundingConfig:
    threshold: float = 0.55  # support below this flags the sentence
    dense_weight: float = 0.5  # the rest of the weight goes to word overlap
    top_sources: int = 3  # overlap is measured against this many most similar retrieved sentences
    figure_sources: int = 2  # figures must appear in this many most similar ones (stricter: a wrong
    # number is the most common unfaithful claim and word overlap cannot see it)

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= 1:
            raise ValueError(f"The support threshold must be between 0 and 1; got {self.threshold}.")
        if not 0 <= self.dense_weight <= 1:
            raise ValueError(f"The dense weight must be between 0 and 1; got {self.dense_weight}.")
        if self.top_sources < 1:
            raise ValueError(f"Compare against at least one retrieved sentence; got {self.top_sources}.")
        if self.figure_sources < 1:
            raise ValueError(f"Check figures against at least one retrieved sentence; got {self.figure_sources}.")


@dataclass(frozen=True)
class SentenceSupport:
    text: str
    citations: tuple[int, ...]
    support: float  # 0..1, dense_weight * cosine + (1 - dense_weight) * overlap
    cosine: float  # best cosine to a retrieved sentence
    overlap: float  # share of the sentence's content words found in the closest retrieved sentences
    missing_figures: tuple[str, ...]  # numbers in the sentence that the closest sentences lack
    best_rank: int | None  # the hit holding the most similar retrieved sentence
    best_source: str  # that sentence
    abstains: bool  # "the passages do not say": a refusal, not a claim to check
    flagged: bool
    span: tuple[int, int] = (0, 0)  # the sentence's place in Answer.text

    @property
    def reason(self) -> str:
        if self.abstains:
            return "says the passages do not answer: nothing to check"
        if not self.flagged:
            return "supported"
        why = []
        if self.missing_figures:
            why.append(f"figure(s) {', '.join(self.missing_figures)} not in the closest retrieved sentences")
        if self.support < 1:
            why.append(f"support {self.support:.2f}")
        return "; ".join(why)


@dataclass(frozen=True)
class Grounding:
    sentences: tuple[SentenceSupport, ...]
    threshold: float
    seconds: float = 0.0
    method: str = GROUNDING_LABEL

    @property
    def flagged(self) -> tuple[SentenceSupport, ...]:
        return tuple(s for s in self.sentences if s.flagged)

    @property
    def supported_share(self) -> float:
        """Share of checkable sentences that pass: comparable in spirit to a faithfulness score."""
        checked = [s for s in self.sentences if not s.abstains]
        return sum(not s.flagged for s in checked) / len(checked) if checked else 1.0


def _figures(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def content_terms(text: str) -> set[str]:
    return {t for t in tokenize(text) if t not in STOPWORDS and len(t) > 1}


def check_grounding(
    answer: Answer, hits: Sequence[Hit], *, sentences: SentenceSource, config: GroundingConfig | None = None
) -> Grounding:
    """Score each answer sentence against the retrieved text and flag the poorly supported ones.

    A quoted sentence (the extractive answer's) is read from `sentences` like the retrieved ones;
    a generated answer's sentences are embedded together in one batched call."""
    config = config or GroundingConfig()
    started = time.perf_counter()
    sources = source_sentences(hits, sentences)
    claims = [s for s in answer.sentences if s.text.strip()]
    if not claims:
        return Grounding((), config.threshold, time.perf_counter() - started)
    if not sources:
        out = tuple(
            SentenceSupport(s.text, s.citations, 0.0, 0.0, 0.0, (), None, "", bool(_ABSTAIN.search(s.text)),
                            not _ABSTAIN.search(s.text), s.span)
            for s in claims
        )
        return Grounding(out, config.threshold, time.perf_counter() - started)
    # A quoted claim is one of the retrieved sentences: reuse its row; embed only the others.
    row_of = {(s.doc, s.start, s.end): i for i, s in enumerate(sources)}
    rows = [row_of.get((c.doc, c.start, c.end)) if c.doc and c.start is not None and c.end is not None else None
            for c in claims]
    sv, fresh = sentences.vectors_for(_spans(sources), extra=[c.text for c, r in zip(claims, rows) if r is None])
    fresh_rows = iter(range(len(fresh)))
    cv = np.stack([sv[r] if r is not None else fresh[next(fresh_rows)] for r in rows])
    sims = cv @ sv.T
    source_terms = [content_terms(s.text) for s in sources]
    source_figures = [_figures(s.text) for s in sources]
    supports: list[SentenceSupport] = []
    for i, claim in enumerate(claims):
        top = list(np.argsort(-sims[i], kind="stable")[: config.top_sources])
        best = int(top[0])
        cosine = float(max(0.0, min(1.0, sims[i, best])))
        near_terms = set().union(*(source_terms[j] for j in top))
        terms = content_terms(claim.text)
        overlap = len(terms & near_terms) / len(terms) if terms else 1.0
        ranked = np.argsort(-sims[i], kind="stable")
        near_figures = set().union(*(source_figures[int(j)] for j in ranked[: config.figure_sources]))
        missing = tuple(sorted(_figures(claim.text) - near_figures))
        support = config.dense_weight * cosine + (1 - config.dense_weight) * overlap
        abstains = bool(_ABSTAIN.search(claim.text))
        supports.append(
            SentenceSupport(
                text=claim.text,
                citations=claim.citations,
                support=support,
                cosine=cosine,
                overlap=overlap,
                missing_figures=missing,
                best_rank=sources[best].rank,
                best_source=sources[best].text,
                abstains=abstains,
                flagged=not abstains and (support < config.threshold or bool(missing)),
                span=claim.span,
            )
        )
    return Grounding(tuple(supports), config.threshold, time.perf_counter() - started)
