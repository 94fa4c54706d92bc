"""ChunkConfig -> chunks with exact character offsets, via langchain-text-splitters.

LangChain's splitters return strings; we recover where each string sits in its document so that
`doc.text[chunk.start:chunk.end] == chunk.text` always holds. Every view (chunk map, overlap
marks, page numbers, evaluation against gold spans) is computed from those offsets.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core import headers as outline
from core import model
from core.documents import Document

# The registry: name -> label, in display order. Each name has a span function in _SPANS
# (registered at the end of this module); `register_splitter` adds one.
SPLITTERS: dict[str, str] = {}
UNITS = ("tokens", "chars")
# A splitter turns a document's text into (start, end, section) spans; offsets must be exact.
SpanFunction = Callable[[str, "ChunkConfig"], list[tuple[int, int, str]]]
_SPANS: dict[str, SpanFunction] = {}


@dataclass(frozen=True)
class DocSentences:
    """One document's sentences (core.sentences' definition, exact offsets) and their unit vectors,
    read from the corpus's SentenceBank: what a splitter that reads meaning gets, so it never
    embeds a second time."""

    spans: tuple[tuple[int, int], ...]
    vectors: np.ndarray  # one row per span


# A splitter that reads sentence vectors (registered with sentences=True) also gets DocSentences.
SentenceSpanFunction = Callable[[str, "ChunkConfig", DocSentences], list[tuple[int, int, str]]]
_SENTENCE_SPANS: dict[str, SentenceSpanFunction] = {}


class SentenceTable(Protocol):
    """What split() reads sentence vectors from: core.sentences.SentenceBank has these fields."""

    spans: dict[str, list[tuple[int, int]]]
    offset: dict[str, int]
    texts: dict[str, str]
    vectors: np.ndarray


class NeedsSentences(ValueError):
    """The splitter reads sentence vectors and none were given (or not for this text)."""


def needs_sentences(splitter: str) -> bool:
    """True when `splitter` reads the corpus's sentence vectors (build the SentenceBank first)."""
    return splitter in _SENTENCE_SPANS


def doc_sentences(table: SentenceTable, doc: Document) -> DocSentences:
    """`doc`'s rows of the sentence table; a clear error if the table was built from other text."""
    if doc.name not in table.spans or table.texts.get(doc.name) != doc.text:
        raise NeedsSentences(f"The sentence vectors do not cover '{doc.name}' as loaded now: rebuild them "
                             "(the index build does) and split again.")
    spans = table.spans[doc.name]
    base = table.offset[doc.name]
    return DocSentences(tuple(spans), table.vectors[base : base + len(spans)])


# Semantic-splitter thresholds, as LangChain's SemanticChunker names them, with its defaults:
# a gap between neighbouring sentences is a breakpoint when its cosine distance is above
#   percentile: the given percentile of the document's distances;
#   standard_deviation: mean + amount x standard deviation;
#   interquartile: mean + amount x interquartile range;
#   gradient: (on the distances' gradient) the given percentile of the gradient.
BREAKPOINTS: dict[str, float] = {"percentile": 95.0, "standard_deviation": 3.0, "interquartile": 1.5,
                                 "gradient": 95.0}
BREAKPOINT_LABELS = {"percentile": "percentile of the distances", "standard_deviation": "mean + x std. dev.",
                     "interquartile": "mean + x IQR", "gradient": "percentile of the distance gradient"}

_MARKDOWN_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]

# Contextual chunk headers are off by default: on the sample set they did not pay. Hybrid (z-score,
# dense weight 0.6) hit@5 / MRR@5 at 1000/200 characters, k=5 (python -m bench.strategies):
#   samples: 0.958 / 0.825 without, 0.930 / 0.800 with; + 14 distractor documents: 0.958 / 0.828
#   without, 0.930 / 0.803 with. Every sample title starts with "Lanternfish", so a header adds the
#   same words to every chunk. Against near-duplicate documents from another product (--padding
#   twins) they did help (hit@5 0.930 vs 0.901), and on titled encyclopaedia articles they are
#   reported to: a toggle on the Chunking page and a sweep axis, to measure on your own documents.
DEFAULT_HEADERS = False

MIN_SIZE = {"tokens": 16, "chars": 50}
MAX_SIZE = {"tokens": 2048, "chars": 16000}


@dataclass(frozen=True)
class ChunkConfig:
    # 254 tokens is the model's whole text window (model.TEXT_WINDOW): the largest chunk the dense
    # side embeds whole, so the default never trips the Chunking page's truncation warning. On the
    # sample set it is as good as the longer chunks, within the noise of 71 questions (one question
    # is 1.4 points). Exact hybrid, k=5 (python -m bench.retrieval_quality --docs sample_docs
    # --questions sample_docs/questions.jsonl --chunk-size N --overlap M; python -m bench.sweep
    # with the same corpus for the grid):
    #   254/50: hit@5 0.958 (68/71), MRR@5 0.794, 0 of 76 chunks truncated
    #   300/50: hit@5 0.972 (69/71), MRR@5 0.796, 39 of 64 truncated (the sweep's pick; 400/50 ties
    #           it on hit, MRR 0.762)
    #   254/60: 68/71, MRR 0.818; 254/40: 66/71, MRR 0.769; 200/40: 68/71, MRR 0.783
    # Overlap alone moves 254 by two questions, so the one question 300/50 gains is noise. The
    # extractive answer contains the gold answer for 59/71 at 254/50 and 61/71 at 300/50
    # (python -m bench.answer_quality): the same story.
    size: int = 254
    overlap: int = 50
    splitter: str = "recursive"
    unit: str = "tokens"
    # Contextual chunk headers (issue 13): embed and BM25-index "title > section path" with each
    # chunk; the chunk's own text, offsets and token count are unchanged. See DEFAULT_HEADERS above.
    headers: bool = DEFAULT_HEADERS
    # The semantic splitter only (normalised to the defaults for other splitters, so equal results
    # have equal cache keys): threshold type and amount (None: LangChain's default for the type),
    # and the smallest chunk, in `unit` (0: no minimum). `size` is the largest chunk.
    breakpoint: str = "percentile"
    breakpoint_amount: float | None = None
    min_size: int = 0

    def __post_init__(self) -> None:
        if self.splitter not in SPLITTERS:
            raise ValueError(
                f"Unknown splitter '{self.splitter}'. Choose one of: {', '.join(SPLITTERS)}."
            )
        if self.breakpoint not in BREAKPOINTS:
            raise ValueError(f"Unknown breakpoint threshold '{self.breakpoint}'. Choose one of: "
                             f"{', '.join(BREAKPOINTS)}.")
        if self.splitter != "semantic":
            # Settings this splitter ignores take one value, so they never split a cache key.
            object.__setattr__(self, "breakpoint", "percentile")
            object.__setattr__(self, "breakpoint_amount", None)
        if self.breakpoint_amount is None:
            object.__setattr__(self, "breakpoint_amount", BREAKPOINTS[self.breakpoint])
        amount = float(self.breakpoint_amount)  # type: ignore[arg-type]
        object.__setattr__(self, "breakpoint_amount", amount)
        if self.breakpoint in ("percentile", "gradient") and not 0.0 <= amount <= 100.0:
            raise ValueError(f"A {self.breakpoint} threshold is a percentile between 0 and 100; got {amount:g}.")
        if self.breakpoint in ("standard_deviation", "interquartile") and not 0.0 <= amount <= 10.0:
            raise ValueError(f"A {self.breakpoint.replace('_', ' ')} threshold is a multiple between 0 and 10; "
                             f"got {amount:g}.")
        if self.splitter == "semantic" and self.overlap:
            # Semantic chunks end where meaning shifts, so they never overlap: one value, one key.
            object.__setattr__(self, "overlap", 0)
        if self.unit not in UNITS:
            raise ValueError(f"Unknown unit '{self.unit}'. Choose 'tokens' or 'chars'.")
        if self.splitter == "tokens" and self.unit != "tokens":
            raise ValueError("The token splitter measures chunks in tokens: set unit to 'tokens'.")
        lo, hi = MIN_SIZE[self.unit], MAX_SIZE[self.unit]
        if not lo <= self.size <= hi:
            raise ValueError(f"Chunk size must be between {lo} and {hi} {self.unit}; got {self.size}.")
        if self.overlap < 0:
            raise ValueError(f"Overlap cannot be negative; got {self.overlap}.")
        if self.overlap >= self.size:
            raise ValueError(
                f"Overlap ({self.overlap}) must be smaller than the chunk size ({self.size}): "
                "otherwise every chunk would repeat the previous one."
            )
        if self.splitter != "semantic":
            object.__setattr__(self, "min_size", 0)
        if not 0 <= self.min_size < self.size:
            raise ValueError(f"The smallest chunk must be between 0 and the chunk size ({self.size} {self.unit}); "
                             f"got {self.min_size}.")

    def label(self) -> str:
        if self.splitter == "semantic":
            amount = f"{self.breakpoint_amount:g}"
            base = (f"semantic {self.min_size}-{self.size} {self.unit}, {self.breakpoint.replace('_', ' ')} "
                    f"{amount}")
        else:
            base = f"{self.splitter} {self.size}/{self.overlap} {self.unit}"
        return base + (" + headers" if self.headers else "")


@dataclass(frozen=True)
class Chunk:
    doc: str
    index: int
    start: int
    end: int
    text: str
    n_tokens: int
    section: str = ""
    page: int | None = None
    # Contextual header ("title > section path") when the config asks for headers, else "". It
    # goes into what is embedded and BM25-indexed (`indexed_text`), never into `text`.
    header: str = ""

    @property
    def id(self) -> str:
        return f"{self.doc}#{self.index}"

    @property
    def indexed_text(self) -> str:
        """What the embedder and BM25 read: the header (if any), a blank line, then the text."""
        return f"{self.header}\n\n{self.text}" if self.header else self.text

    @property
    def truncated(self) -> bool:
        return self.n_tokens > model.TEXT_WINDOW


def register_splitter(name: str, label: str, spans: SpanFunction | SentenceSpanFunction, *,
                      sentences: bool = False) -> None:
    """Make a splitter available to ChunkConfig, the Chunking page and sweeps.

    `spans(text, config)` returns exact (start, end, section) spans. With `sentences=True` it is
    called as `spans(text, config, doc_sentences)` and gets the document's sentence vectors from the
    corpus's SentenceBank (split() then needs `sentences=`)."""
    SPLITTERS[name] = label
    if sentences:
        _SENTENCE_SPANS[name] = spans  # type: ignore[assignment]
        _SPANS.pop(name, None)
    else:
        _SPANS[name] = spans  # type: ignore[assignment]
        _SENTENCE_SPANS.pop(name, None)


def split(doc: Document, *, config: ChunkConfig, sentences: SentenceTable | None = None) -> list[Chunk]:
    """Chunks of one document, in order, with exact offsets and model-token counts.

    `sentences` (the corpus's SentenceBank) is needed only by splitters that read sentence vectors
    (`needs_sentences`); without it they raise NeedsSentences with a message to show."""
    if config.splitter in _SENTENCE_SPANS:
        if sentences is None:
            raise NeedsSentences(f"The {config.splitter} splitter reads the corpus's sentence vectors: "
                                 "build them first (building the index does).")
        spans = _SENTENCE_SPANS[config.splitter](doc.text, config, doc_sentences(sentences, doc))
    else:
        spans = _SPANS[config.splitter](doc.text, config)
    texts = [doc.text[s:e] for s, e, _ in spans]
    counts = model.count_tokens_batch(texts)
    heads = [outline.header(doc.name, doc.text, s) for s, _, _ in spans] if config.headers else [""] * len(spans)
    return [
        Chunk(
            doc=doc.name,
            index=i,
            start=s,
            end=e,
            text=t,
            n_tokens=n,
            section=section,
            page=doc.page_at(s),
            header=h,
        )
        for i, ((s, e, section), t, n, h) in enumerate(zip(spans, texts, counts, heads))
    ]


def split_corpus(docs: Iterable[Document], *, config: ChunkConfig,
                 sentences: SentenceTable | None = None) -> list[Chunk]:
    return [chunk for doc in docs for chunk in split(doc, config=config, sentences=sentences)]


def index_texts(chunks: Iterable[Chunk]) -> list[str]:
    """What to embed for each chunk (its text, with its contextual header when it has one)."""
    return [c.indexed_text for c in chunks]


def _length_function(unit: str) -> Callable[[str], int]:
    return model.count_tokens if unit == "tokens" else len


def _splitter(config: ChunkConfig, *, size: int | None = None):
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=size or config.size,
        chunk_overlap=config.overlap,
        length_function=_length_function(config.unit),
        strip_whitespace=True,
    )


def _locate(text: str, pieces: list[str], config: ChunkConfig, base: int = 0) -> list[tuple[int, int]]:
    """Offsets of splitter output in `text`.

    Pieces come out in document order, but text repeats (boilerplate, rules of dashes), so the
    first occurrence is not always the right one. A piece starts no earlier than the previous
    piece and no earlier than the previous piece's end minus the largest overlap the splitter
    may carry; we search from there, and fall back to earlier positions only if that fails.
    A piece that is nowhere verbatim would be a splitter bug: fail loudly, never guess.
    """
    spans: list[tuple[int, int]] = []
    previous = ""
    for piece in pieces:
        if not piece:
            continue
        if spans:
            prev_start, prev_end = spans[-1][0] - base, spans[-1][1] - base
            bound = max(prev_start, prev_end - _overlap_chars(previous, config))
            if piece == previous:
                bound = max(bound, prev_start + 1)  # the same text again is a later copy
            at = text.find(piece, bound)
            if at < 0:
                at = text.find(piece, prev_start)
        else:
            at = text.find(piece)
        if at < 0:
            at = text.find(piece)
        if at < 0:
            raise RuntimeError(f"Splitter output not found verbatim in the text: {piece[:60]!r}")
        spans.append((base + at, base + at + len(piece)))
        previous = piece
    return spans


def _overlap_chars(previous: str, config: ChunkConfig) -> int:
    """Most characters of `previous` the next chunk can share with it."""
    if config.overlap == 0:
        return 0
    if config.unit == "chars":
        return config.overlap
    spans = model.token_spans(previous)
    keep = min(len(spans), config.overlap + 1)  # one token of slack for boundary effects
    return len(previous) - spans[-keep][0] if keep else 0


def _token_windows(text: str, config: ChunkConfig) -> list[tuple[int, int]]:
    """Windows of `size` word pieces stepping by `size - overlap`, via LangChain's token splitter.

    We hand LangChain a tokenizer whose "ids" are token positions, so decoding a window gives the
    exact source span (the model's tokenizer is uncased: decoding real ids would lose the text).
    """
    from langchain_text_splitters.base import Tokenizer, split_text_on_tokens

    token_spans = model.token_spans(text)
    windows: list[tuple[int, int]] = []

    def decode(positions: list[int]) -> str:
        start, end = token_spans[positions[0]][0], token_spans[positions[-1]][1]
        windows.append((start, end))
        return text[start:end]

    split_text_on_tokens(
        text=text,
        tokenizer=Tokenizer(
            chunk_overlap=config.overlap,
            tokens_per_chunk=config.size,
            decode=decode,
            encode=lambda _t: list(range(len(token_spans))),
        ),
    )
    return windows


def _markdown_spans(text: str, config: ChunkConfig) -> list[tuple[int, int, str]]:
    """Sections from LangChain's Markdown header splitter, each split recursively.

    The header splitter rewrites whitespace, so we only take from it where each section begins
    (its first line) and its header path, then cut the original text at those points.
    """
    from langchain_text_splitters import MarkdownHeaderTextSplitter

    sections = MarkdownHeaderTextSplitter(_MARKDOWN_HEADERS, strip_headers=False).split_text(text)
    starts: list[tuple[int, str]] = []
    cursor = 0
    for section in sections:
        first_line = section.page_content.split("\n", 1)[0].strip()
        at = text.find(first_line, cursor) if first_line else -1
        if at < 0:
            continue
        path = " > ".join(section.metadata[key] for _, key in _MARKDOWN_HEADERS if key in section.metadata)
        starts.append((at, path))
        cursor = at + len(first_line)
    if not starts or starts[0][0] > 0:
        starts.insert(0, (0, ""))
    inner = ChunkConfig(size=config.size, overlap=config.overlap, splitter="recursive", unit=config.unit)
    recursive = _splitter(inner)
    spans: list[tuple[int, int, str]] = []
    for i, (start, path) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        body = text[start:end]
        spans.extend((s, e, path) for s, e in _locate(body, recursive.split_text(body), inner, base=start))
    return spans


def _langchain_spans(text: str, config: ChunkConfig) -> list[tuple[int, int, str]]:
    return [(s, e, "") for s, e in _locate(text, _splitter(config).split_text(text), config)]


def _token_spans(text: str, config: ChunkConfig) -> list[tuple[int, int, str]]:
    return [(s, e, "") for s, e in _token_windows(text, config)]


def _sentence_pack_spans(text: str, config: ChunkConfig) -> list[tuple[int, int, str]]:
    """Whole sentences (core.sentences' definition, the one answers and pooling use) packed up to
    the size; the overlap repeats whole sentences. A single sentence over the size is cut by the
    recursive splitter, the only place a chunk boundary falls inside a sentence."""
    from core.sentences import sentence_spans  # core.sentences builds on Chunk: import at use

    measure = _length_function(config.unit)
    pieces: list[tuple[int, int]] = []
    for s, e in sentence_spans(text):
        if measure(text[s:e]) <= config.size:
            pieces.append((s, e))
        else:
            pieces.extend((s + a, s + b) for a, b in _locate(text[s:e], _splitter(config).split_text(text[s:e]), config))
    spans: list[tuple[int, int, str]] = []
    i = 0
    while i < len(pieces):
        j = i
        while j + 1 < len(pieces) and measure(text[pieces[i][0] : pieces[j + 1][1]]) <= config.size:
            j += 1
        spans.append((pieces[i][0], pieces[j][1], ""))
        if j + 1 >= len(pieces):
            break
        # Start the next chunk as far back as the overlap allows, always past this chunk's start.
        k = j + 1
        while k - 1 > i and measure(text[pieces[k - 1][0] : pieces[j][1]]) <= config.overlap:
            k -= 1
        i = k
    return spans


register_splitter("recursive", "Recursive characters: paragraphs, then lines, then words", _langchain_spans)
register_splitter("tokens", "Fixed windows of the embedding model's own word-piece tokens", _token_spans)
register_splitter("markdown", "Markdown headers first, then recursive inside each section", _markdown_spans)
register_splitter("sentences", "Whole sentences packed up to the size", _sentence_pack_spans)


# The semantic splitter lives in core.semantic and registers itself (it reads sentence vectors).
from core import semantic as _semantic  # noqa: E402,F401  (import for its registration)
