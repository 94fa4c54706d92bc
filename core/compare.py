"""Comparing retrieval setups: chunk boundaries, retrieved spans, pooled vs exact sweep scores.

Chunk ids mean nothing across two chunkings (chunk 7 of one is not chunk 7 of the other), so
every comparison here is made on character spans: a boundary is an offset in the document, and a
retrieved chunk is "the same" as another when it covers the same characters.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.chunking import Chunk, ChunkConfig
from core.documents import Document
from core.evaluation import Question, gold_span
from core.sweep import SweepRow, best_first

# -- chunk boundaries ----------------------------------------------------------------------


def boundaries(chunks: Sequence[Chunk]) -> set[int]:
    """Every offset where a chunk starts or ends (with overlap, starts and ends differ)."""
    return {c.start for c in chunks} | {c.end for c in chunks}


@dataclass(frozen=True)
class BoundaryDiff:
    n_a: int  # chunks of the document under A
    n_b: int
    only_a: tuple[int, ...]  # boundary offsets A has and B does not, ascending
    only_b: tuple[int, ...]
    shared: tuple[int, ...]

    @property
    def unchanged(self) -> bool:
        return not self.only_a and not self.only_b


def boundary_diff(chunks_a: Sequence[Chunk], chunks_b: Sequence[Chunk]) -> BoundaryDiff:
    """Where two chunkings of one document cut it differently."""
    docs = {c.doc for c in chunks_a} | {c.doc for c in chunks_b}
    if len(docs) > 1:
        raise ValueError(f"Compare the chunks of one document at a time; got {len(docs)} documents.")
    a, b = boundaries(chunks_a), boundaries(chunks_b)
    return BoundaryDiff(len(chunks_a), len(chunks_b), tuple(sorted(a - b)), tuple(sorted(b - a)),
                        tuple(sorted(a & b)))


# -- retrieved spans -----------------------------------------------------------------------

SAME, SHIFTED, NEW, DROPPED = "same", "shifted", "new", "dropped"


@dataclass(frozen=True)
class SpanChange:
    rank: int  # 1-based rank in its own list
    chunk: Chunk
    status: str  # SAME (identical span on the other side), SHIFTED (overlaps one), NEW / DROPPED (none)
    coverage: float  # share of this chunk's characters the other side's results also cover
    counterparts: tuple[int, ...]  # ranks on the other side whose spans overlap this one


@dataclass(frozen=True)
class HitDiff:
    a: tuple[SpanChange, ...]
    b: tuple[SpanChange, ...]

    def count(self, side: str, status: str) -> int:
        return sum(1 for s in (self.a if side == "a" else self.b) if s.status == status)


def _covered(chunk: Chunk, others: Sequence[Chunk]) -> int:
    """Characters of `chunk` inside the union of `others` (same document only)."""
    spans = sorted((max(o.start, chunk.start), min(o.end, chunk.end)) for o in others
                   if o.doc == chunk.doc and o.start < chunk.end and o.end > chunk.start)
    total, reach = 0, chunk.start
    for lo, hi in spans:
        lo = max(lo, reach)
        if hi > lo:
            total += hi - lo
            reach = hi
    return total


def _changes(mine: Sequence[Chunk], theirs: Sequence[Chunk], missing: str) -> tuple[SpanChange, ...]:
    out = []
    for rank, c in enumerate(mine, start=1):
        overlapping = tuple(r for r, o in enumerate(theirs, start=1)
                            if o.doc == c.doc and o.start < c.end and o.end > c.start)
        if any((o.doc, o.start, o.end) == (c.doc, c.start, c.end) for o in theirs):
            status = SAME
        elif overlapping:
            status = SHIFTED
        else:
            status = missing
        length = max(c.end - c.start, 1)
        out.append(SpanChange(rank, c, status, _covered(c, theirs) / length, overlapping))
    return tuple(out)


def hit_diff(ranked_a: Sequence[Chunk], ranked_b: Sequence[Chunk]) -> HitDiff:
    """Which retrieved spans B keeps, shifts, drops and brings new, relative to A."""
    return HitDiff(_changes(ranked_a, ranked_b, DROPPED), _changes(ranked_b, ranked_a, NEW))


# -- why a question missed -----------------------------------------------------------------


@dataclass(frozen=True)
class MissExplanation:
    answer_at: tuple[int, int] | None  # where an answer sits in the source (inside the gold passage)
    holders: tuple[int, ...]  # chunk ids whose text contains that whole occurrence
    straddling: tuple[int, ...]  # chunk ids that hold only part of it (the answer was cut)


def answer_span(question: Question, doc: Document) -> tuple[int, int] | None:
    """First occurrence of any answer (case-insensitive), preferring one inside the gold passage."""
    text = doc.text.lower()
    gold = gold_span(question, doc)
    lo, hi = gold if gold else (0, len(text))
    for answer in question.answers:
        at = text.find(answer.lower(), lo, hi)
        if at >= 0:
            return at, at + len(answer)
    if gold:
        for answer in question.answers:
            at = text.find(answer.lower())
            if at >= 0:
                return at, at + len(answer)
    return None


def explain_miss(question: Question, chunks: Sequence[Chunk], doc: Document | None) -> MissExplanation:
    """Where the answer is and which chunks hold all or part of it (ids index `chunks`)."""
    span = answer_span(question, doc) if doc is not None else None
    if span is None:
        return MissExplanation(None, (), ())
    lo, hi = span
    holders: list[int] = []
    parts: list[int] = []
    for i, c in enumerate(chunks):
        if c.doc != question.source or c.end <= lo or c.start >= hi:
            continue
        (holders if c.start <= lo and c.end >= hi else parts).append(i)
    return MissExplanation(span, tuple(holders), tuple(parts))


# -- pooled vs exact -----------------------------------------------------------------------


def top_chunkings(rows: Sequence[SweepRow], *, metric: str, k: int, method: str, n: int) -> list[ChunkConfig]:
    """The n best distinct chunkings by `metric` at (k, method), best first."""
    chosen = [r for r in rows if r.k == k and r.method == method] or list(rows)
    out: list[ChunkConfig] = []
    for row in best_first(chosen, metric):
        config = row.chunk_config()
        if config not in out:
            out.append(config)
        if len(out) == n:
            break
    return out


@dataclass(frozen=True)
class Confirmation:
    config: ChunkConfig
    method: str
    k: int
    pooled_hit: float
    exact_hit: float
    pooled_mrr: float
    exact_mrr: float

    @property
    def d_hit(self) -> float:
        return self.exact_hit - self.pooled_hit

    @property
    def d_mrr(self) -> float:
        return self.exact_mrr - self.pooled_mrr


def pooled_vs_exact(pooled: Sequence[SweepRow], exact: Sequence[SweepRow]) -> list[Confirmation]:
    """Pair each exact row with the pooled row of the same setting, in the exact rows' order."""
    def key(r: SweepRow) -> tuple:
        return (r.splitter, r.unit, r.size, r.overlap, r.method, r.k)

    approx = {key(r): r for r in pooled}
    return [Confirmation(e.chunk_config(), e.method, e.k, approx[key(e)].hit, e.hit, approx[key(e)].mrr, e.mrr)
            for e in exact if key(e) in approx]
