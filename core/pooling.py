"""Fast mode: chunk vectors pooled from sentence vectors instead of embedding every chunk.

Each sentence of the corpus is embedded once. A chunk's vector is the normalised sum of the
vectors of the sentences it covers, each weighted by how many of its characters fall inside the
chunk (mean pooling inside the model weighs every token alike, so characters are the natural
weight). Any chunking of the same corpus then costs a weighted sum instead of a pass through the
model. DESIGN.md records the measurement behind it: within about 1-3 points of exact embedding
at ~1/100 of the time.

Pooling could see all of a long chunk, but the model truncates at its window, so a pooled vector
of a 400-token chunk would describe text that exact mode never embeds (measured here: +8.5 points
of hit@5 over exact on 400-token chunks). Fast mode predicts exact mode, so it pools only the
part of each chunk that the model would read.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence

import numpy as np

from core import model
from core.chunking import Chunk
from core.documents import Document
from core.embedding import Embedder, Progress, for_bulk

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
MAX_SENTENCE_CHARS = 800  # ~170 tokens: keeps each piece inside the model's window
TEXT_WINDOW = model.TEXT_WINDOW


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans covering the non-blank text; over-long sentences are cut at spaces."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.extend(_cap(text, start, m.start()))
        start = m.end()
    spans.extend(_cap(text, start, len(text)))
    return spans


def _cap(text: str, lo: int, hi: int) -> Iterable[tuple[int, int]]:
    while hi - lo > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", lo, lo + MAX_SENTENCE_CHARS)
        cut = cut if cut > lo else lo + MAX_SENTENCE_CHARS
        if text[lo:cut].strip():
            yield (lo, cut)
        lo = cut
    if text[lo:hi].strip():
        yield (lo, hi)


class SentenceBank:
    """Every sentence of a corpus with its vector, embedded once (and cached on disk).

    Sentences are many and short, so they go through the embedder's bulk (batched) variant, as
    chunks do when an index is built.
    """

    def __init__(self, docs: Sequence[Document], *, embedder: Embedder, progress: Progress | None = None) -> None:
        self.spans: dict[str, list[tuple[int, int]]] = {}
        self.offset: dict[str, int] = {}  # row of each document's first sentence
        texts: list[str] = []
        for doc in docs:
            spans = sentence_spans(doc.text)
            self.spans[doc.name] = spans
            self.offset[doc.name] = len(texts)
            texts.extend(doc.text[s:e] for s, e in spans)
        self.starts = {name: [s for s, _ in spans] for name, spans in self.spans.items()}
        self.vectors = for_bulk(embedder).embed(texts, progress=progress)
        self.dimensions = embedder.dimensions

    def __len__(self) -> int:
        return len(self.vectors)

    def pooled(self, chunks: Sequence[Chunk]) -> np.ndarray:
        """One normalised vector per chunk, from the sentences it overlaps."""
        out = np.zeros((len(chunks), self.dimensions), dtype=np.float32)
        for row, chunk in enumerate(chunks):
            spans, starts, base = self.spans[chunk.doc], self.starts[chunk.doc], self.offset[chunk.doc]
            end = visible_end(chunk)
            first = max(bisect.bisect_right(starts, chunk.start) - 1, 0)
            for j in range(first, len(spans)):
                s, e = spans[j]
                if s >= end:
                    break
                inside = min(e, end) - max(s, chunk.start)
                if inside > 0:
                    out[row] += inside * self.vectors[base + j]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms


def visible_end(chunk: Chunk) -> int:
    """Document offset where the model stops reading `chunk` (its end if it fits the window)."""
    if chunk.n_tokens <= TEXT_WINDOW:
        return chunk.end
    return chunk.start + model.token_spans(chunk.text)[TEXT_WINDOW - 1][1]
