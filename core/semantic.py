"""The semantic splitter: chunk boundaries where the meaning of neighbouring sentences shifts.

As LangChain's SemanticChunker (Greg Kamradt's method), with the project's own sentences and the
vectors the corpus's SentenceBank already holds, so splitting never embeds anything again:

1. Each sentence's vector is combined with its neighbours' (buffer 1: the sum of sentences i-1, i,
   i+1, renormalised), which LangChain does by embedding the three sentences' joined text.
2. The distance of each gap is 1 - cosine between the combined vectors on either side of it.
3. A gap is a breakpoint when its distance is above the threshold (percentile, mean + x standard
   deviations, mean + x interquartile range, or a percentile of the distances' gradient; see
   core.chunking.BREAKPOINTS for the defaults, LangChain's).
4. Sizes: a group over the chunk size is cut again at its widest inner gap until every piece fits
   (a single sentence over the size is cut by the recursive splitter, the only cut inside a
   sentence); a group under the smallest size is merged into the neighbour across the narrower
   gap, when the merge still fits.

Chunks are whole sentences from the first's start to the last's end: `doc.text[start:end]` is the
chunk. Semantic chunks never overlap.

Fallbacks (never an error): a text with no sentence gets the recursive splitter; a one-sentence
text has no gap to measure, so it is one chunk (cut by the recursive splitter if over the size).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.chunking import (
    ChunkConfig,
    DocSentences,
    _langchain_spans,
    _length_function,
    _locate,
    _splitter,
    register_splitter,
)

FALLBACK_NO_SENTENCES = "no sentences found: split recursively instead"
FALLBACK_ONE_SENTENCE = "one sentence: nothing to compare, so it is one chunk"


@dataclass(frozen=True)
class SemanticTrace:
    """Everything the Chunking page plots: each gap's distance, the threshold, the breakpoints,
    and the spans that came out after the size limits."""

    sentences: tuple[tuple[int, int], ...]
    distances: tuple[float, ...]  # gap i lies between sentence i and i + 1
    scores: tuple[float, ...]  # what the threshold is compared with (the gradient for "gradient")
    threshold: float | None
    breakpoints: tuple[int, ...]  # gaps above the threshold
    cuts: tuple[int, ...]  # gaps that became chunk boundaries after the size limits
    spans: tuple[tuple[int, int, str], ...]
    fallback: str = ""


def gap_distances(vectors: np.ndarray, *, buffer: int = 1) -> np.ndarray:
    """1 - cosine between buffered neighbours, one value per gap between consecutive sentences."""
    n = len(vectors)
    if n < 2:
        return np.zeros(0, dtype=np.float64)
    v = np.asarray(vectors, dtype=np.float64)
    csum = np.vstack([np.zeros((1, v.shape[1])), np.cumsum(v, axis=0)])
    lo = np.clip(np.arange(n) - buffer, 0, n)
    hi = np.clip(np.arange(n) + buffer + 1, 0, n)
    combined = csum[hi] - csum[lo]
    norms = np.linalg.norm(combined, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    combined /= norms
    sims = np.sum(combined[:-1] * combined[1:], axis=1)
    return np.clip(1.0 - sims, 0.0, 2.0)


def threshold(distances: np.ndarray, kind: str, amount: float) -> tuple[np.ndarray, float]:
    """(the values compared with the threshold, the threshold), as SemanticChunker computes them."""
    d = np.asarray(distances, dtype=np.float64)
    if kind == "percentile":
        return d, float(np.percentile(d, amount))
    if kind == "standard_deviation":
        return d, float(np.mean(d) + amount * np.std(d))
    if kind == "interquartile":
        q1, q3 = np.percentile(d, [25, 75])
        return d, float(np.mean(d) + amount * (q3 - q1))
    if kind == "gradient":
        g = np.gradient(d) if len(d) > 1 else d
        return g, float(np.percentile(g, amount))
    raise ValueError(f"Unknown breakpoint threshold '{kind}'.")


def trace(text: str, config: ChunkConfig, sentences: DocSentences) -> SemanticTrace:
    """The semantic split of `text`, with the curve and thresholds that produced it."""
    spans = tuple(sentences.spans)
    if not spans:
        return SemanticTrace((), (), (), None, (), (), tuple(_langchain_spans(text, config)), FALLBACK_NO_SENTENCES)
    measure = _length_function(config.unit)
    if len(spans) == 1:
        single = _fit(text, [spans[0]], config, measure)
        return SemanticTrace(spans, (), (), None, (), (), tuple(single), FALLBACK_ONE_SENTENCE)
    distances = gap_distances(sentences.vectors)
    scores, limit = threshold(distances, config.breakpoint, float(config.breakpoint_amount or 0.0))
    breaks = [i for i, s in enumerate(scores) if s > limit]
    size = _Sizer(text, spans, measure)
    groups = _groups(len(spans), breaks)
    groups = [piece for g in groups for piece in _cap(g, distances, size, config.size)]
    groups = _merge_small(groups, distances, size, config.min_size, config.size)
    cuts = tuple(g[0] - 1 for g in groups[1:])
    out: list[tuple[int, int, str]] = []
    for a, b in groups:
        out.extend(_fit(text, [(spans[a][0], spans[b][1])], config, measure))
    return SemanticTrace(spans, tuple(float(x) for x in distances), tuple(float(x) for x in scores), limit,
                         tuple(breaks), cuts, tuple(out))


class _Sizer:
    """Size of the run of sentences a..b (inclusive) in the config's unit, memoised."""

    def __init__(self, text: str, spans: tuple[tuple[int, int], ...], measure: Callable[[str], int]) -> None:
        self.text, self.spans, self.measure = text, spans, measure
        self._memo: dict[tuple[int, int], int] = {}

    def __call__(self, a: int, b: int) -> int:
        key = (a, b)
        if key not in self._memo:
            self._memo[key] = self.measure(self.text[self.spans[a][0] : self.spans[b][1]])
        return self._memo[key]


def _groups(n: int, breaks: list[int]) -> list[tuple[int, int]]:
    out, start = [], 0
    for gap in breaks:
        out.append((start, gap))
        start = gap + 1
    out.append((start, n - 1))
    return out


def _cap(group: tuple[int, int], distances: np.ndarray, size: _Sizer, limit: int) -> list[tuple[int, int]]:
    """Cut a group that is over the size at its widest inner gap, again and again."""
    a, b = group
    if a == b or size(a, b) <= limit:
        return [group]
    gap = a + int(np.argmax(distances[a:b]))  # the widest gap between sentences a..b
    return _cap((a, gap), distances, size, limit) + _cap((gap + 1, b), distances, size, limit)


def _merge_small(groups: list[tuple[int, int]], distances: np.ndarray, size: _Sizer, minimum: int,
                 limit: int) -> list[tuple[int, int]]:
    """Merge each group under `minimum` into the neighbour across the narrower gap, if it fits."""
    if minimum <= 0:
        return groups
    groups = list(groups)
    i = 0
    while i < len(groups):
        a, b = groups[i]
        if size(a, b) >= minimum or len(groups) == 1:
            i += 1
            continue
        options = []
        if i > 0:
            options.append((float(distances[a - 1]), i - 1))
        if i + 1 < len(groups):
            options.append((float(distances[b]), i + 1))
        merged = False
        for _, j in sorted(options):
            lo, hi = min(groups[i][0], groups[j][0]), max(groups[i][1], groups[j][1])
            if size(lo, hi) <= limit:
                groups[min(i, j)] = (lo, hi)
                del groups[max(i, j)]
                i = min(i, j)
                merged = True
                break
        if not merged:
            i += 1
    return groups


def _fit(text: str, pieces: list[tuple[int, int]], config: ChunkConfig,
         measure: Callable[[str], int]) -> list[tuple[int, int, str]]:
    """Spans of `pieces`; a piece over the size (one long sentence) is cut by the recursive splitter."""
    out: list[tuple[int, int, str]] = []
    for s, e in pieces:
        if measure(text[s:e]) <= config.size:
            out.append((s, e, ""))
            continue
        inner = ChunkConfig(size=config.size, overlap=0, splitter="recursive", unit=config.unit)
        piece = text[s:e]
        out.extend((s + a, s + b, "") for a, b in _locate(piece, _splitter(inner).split_text(piece), inner))
    return out


def semantic_spans(text: str, config: ChunkConfig, sentences: DocSentences) -> list[tuple[int, int, str]]:
    return list(trace(text, config, sentences).spans)


register_splitter("semantic", "Semantic: cut where neighbouring sentences' meaning shifts (reads sentence vectors)",
                  semantic_spans, sentences=True)
