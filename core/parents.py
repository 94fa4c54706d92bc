"""Parent-document (small-to-big) retrieval: match small chunks, hand the LLM their parent.

A parent mode says what the LLM reads for a retrieved chunk:
- "none": the chunk itself;
- "section": the leaf section(s) the chunk lies in (core.headers: from a heading to the next one;
  a chunk that crosses a heading gets both sections; a document with no headings is one section);
- "window:N": the chunk with N neighbouring chunks of the same document on each side.

A parent is a span of its document with exact offsets, like a chunk, so the metrics measure what
the LLM reads against the same gold spans. The retriever keeps one parent per retrieved parent:
a later hit whose parent lies inside one already sent is dropped and the next candidate fills its
place (see core.retrieval), so K hits are K different parents.

The parent budget (tokens) bounds one parent. A parent over it (a long section, a document with
no headings) falls back to the widest window of neighbouring chunks around the matched chunk that
fits the budget, never less than the chunk itself, and the hit's note says so. The prompt's total
size is shown next to the model window on the Answer section (core.prompt).
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core import headers, model
from core.chunking import Chunk
from core.documents import Document

PARENT_MODES = ("none", "section", "window")
MAX_WINDOW = 10
DEFAULT_BUDGET = 1024  # tokens of one parent: four 254-token chunks' worth
_WINDOW = re.compile(r"^window:(\d+)$")


@dataclass(frozen=True)
class ParentMode:
    kind: str  # "none", "section" or "window"
    n: int = 0  # neighbours on each side, for "window"

    def __str__(self) -> str:
        return f"window:{self.n}" if self.kind == "window" else self.kind


def parse_parent(text: str) -> ParentMode:
    """"none", "section" or "window:N" (1 <= N <= 10) -> ParentMode; ValueError with what to type."""
    value = (text or "").strip().lower()
    if value in ("none", "section"):
        return ParentMode(value)
    m = _WINDOW.match(value)
    if m and 1 <= int(m.group(1)) <= MAX_WINDOW:
        return ParentMode("window", int(m.group(1)))
    raise ValueError(f"Unknown parent mode '{text}'. Use 'none', 'section' or 'window:N' with N from 1 to "
                     f"{MAX_WINDOW} (neighbouring chunks on each side).")


@dataclass(frozen=True)
class Passage:
    """What the LLM reads for one hit: a span of a document, exact offsets."""

    doc: str
    start: int
    end: int
    text: str
    tokens: int
    label: str  # "section Pricing > Seats", "chunks 3-7", ...
    note: str = ""  # why it is not the mode's usual parent (the budget fallback)

    def contains(self, other: Passage) -> bool:
        return self.doc == other.doc and self.start <= other.start and other.end <= self.end


def _trim(text: str, lo: int, hi: int) -> tuple[int, int]:
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    return lo, hi


class ParentIndex:
    """Parents of a collection's chunks (ids as in the retriever), computed once per mode and budget."""

    def __init__(self, chunks: Sequence[Chunk], documents: Mapping[str, Document] | None) -> None:
        self.chunks = chunks
        self.documents = documents or {}
        # Each document's chunk ids in document order, and each id's place in that list.
        self._order: dict[str, list[int]] = {}
        for i, c in sorted(enumerate(chunks), key=lambda ic: (ic[1].doc, ic[1].start, ic[1].index)):
            self._order.setdefault(c.doc, []).append(i)
        self._place = {i: (doc, p) for doc, ids in self._order.items() for p, i in enumerate(ids)}
        self._memo: dict[tuple[str, int, int], Passage] = {}

    def _text(self, doc: str) -> str:
        if doc not in self.documents:
            raise ValueError(f"Section parents need the documents' text, and this index has none for '{doc}': "
                             "rebuild the index (or choose a window of neighbouring chunks).")
        return self.documents[doc].text

    def _window(self, i: int, before: int, after: int) -> tuple[int, int, int, int]:
        """(start, end, first id place, last id place) of chunk i with neighbours in its document."""
        doc, p = self._place[i]
        ids = self._order[doc]
        lo, hi = max(0, p - before), min(len(ids) - 1, p + after)
        members = [self.chunks[j] for j in ids[lo : hi + 1]]
        return min(c.start for c in members), max(c.end for c in members), lo, hi

    def _window_passage(self, i: int, n: int, note: str = "") -> Passage:
        c = self.chunks[i]
        start, end, lo, hi = self._window(i, n, n)
        text = self._span_text(c.doc, start, end)
        first, last = self.chunks[self._order[c.doc][lo]].index, self.chunks[self._order[c.doc][hi]].index
        label = f"chunk {first}" if first == last else f"chunks {first}-{last}"
        return Passage(c.doc, start, end, text, model.count_tokens_long(text), label, note)

    def _span_text(self, doc: str, start: int, end: int) -> str:
        if doc in self.documents:
            return self.documents[doc].text[start:end]
        # Without the document, a window is rebuilt from its chunks (they cover it, in order).
        out, pos = [], start
        for j in self._order[doc]:
            c = self.chunks[j]
            if c.end <= pos or c.start >= end:
                continue
            if c.start > pos:
                out.append(" " * (c.start - pos))  # a gap no chunk covers (whitespace between chunks)
                pos = c.start
            out.append(c.text[pos - c.start : min(c.end, end) - c.start])
            pos = min(c.end, end)
        return "".join(out)

    def parent(self, i: int, mode: ParentMode, budget: int) -> Passage:
        key = (str(mode), budget, i)
        if key not in self._memo:
            self._memo[key] = self._parent(i, mode, budget)
        return self._memo[key]

    def _parent(self, i: int, mode: ParentMode, budget: int) -> Passage:
        c = self.chunks[i]
        if mode.kind == "none":
            return Passage(c.doc, c.start, c.end, c.text, c.n_tokens, f"chunk {c.index}")
        if mode.kind == "window":
            passage = self._window_passage(i, mode.n)
            what = f"a window of {mode.n} chunk(s) each side"
        else:
            text = self._text(c.doc)
            first = headers.section_at(text, c.start)
            last = headers.section_at(text, max(c.start, c.end - 1))
            start, end = _trim(text, first.start, last.end)
            start, end = min(start, c.start), max(end, c.end)
            body = text[start:end]
            name = first.label() if first == last else f"{first.label() or 'start'} to {last.label() or 'end'}"
            label = f"section {name}" if name else ("whole document" if (start, end) == _trim(text, 0, len(text))
                                                    else "text before the first heading")
            passage = Passage(c.doc, start, end, body, model.count_tokens_long(body), label)
            what = "its section"
        if passage.tokens <= budget:
            return passage
        return self._fallback(i, budget, f"{what} is {passage.tokens:,} tokens, over the {budget:,}-token "
                                         "parent budget")

    def _fallback(self, i: int, budget: int, why: str) -> Passage:
        """The widest window around chunk i that fits `budget` (at least the chunk itself): grow one
        chunk at a time, alternating sides; a side stops when the next chunk would not fit or the
        document has no more chunks there."""
        doc = self.chunks[i].doc
        best = self._window_passage(i, 0)
        before = after = 0
        open_sides = {"before", "after"}
        while open_sides:
            for side in ("before", "after"):
                if side not in open_sides:
                    continue
                b, a = (before + 1, after) if side == "before" else (before, after + 1)
                start, end, lo, hi = self._window(i, b, a)
                if (lo, hi) == self._window(i, before, after)[2:]:
                    open_sides.discard(side)  # the document has no more chunks on that side
                    continue
                text = self._span_text(doc, start, end)
                tokens = model.count_tokens_long(text)
                if tokens > budget:
                    open_sides.discard(side)
                    continue
                before, after = b, a
                first, last = self.chunks[self._order[doc][lo]].index, self.chunks[self._order[doc][hi]].index
                best = Passage(doc, start, end, text, tokens, f"chunks {first}-{last}")
        kept = "the chunk alone" if best.start == self.chunks[i].start and best.end == self.chunks[i].end \
            else f"{best.label} instead"
        return Passage(best.doc, best.start, best.end, best.text, best.tokens, best.label, f"{why}: sent {kept}")

    def view(self, mode: ParentMode, budget: int) -> list[Chunk]:
        """One Chunk per chunk id holding its parent's span and text (same doc and index): what the
        LLM reads, in the shape relevance and the token metrics take."""
        if mode.kind == "none":
            return list(self.chunks)
        out = []
        for i, c in enumerate(self.chunks):
            p = self.parent(i, mode, budget)
            out.append(Chunk(doc=c.doc, index=c.index, start=p.start, end=p.end, text=p.text, n_tokens=p.tokens,
                             section=p.label, page=c.page))
        return out
