"""Parameter sweeps: splitter x chunk size x overlap x headers x K x method x fusion x dense weight
x parent mode, scored on a question set.

Per chunking (splitter, size, overlap, contextual headers on or off), the corpus is chunked once and
indexed once; every retrieval setting (method, fusion, weight, parent) is run once at the largest K
and the smaller Ks are read off the same ranked lists. In fast ("pooled") mode chunk vectors come
from a SentenceBank, so a whole grid costs seconds; "exact" embeds every chunk as production would
(through the vector cache).

Fast mode covers every strategy axis: the semantic splitter reads the bank's sentence vectors in
both modes; fusion, weights and parents only re-use the same index; contextual headers are pooled
approximately (the chunk's pooled vector plus its header's vector, weighted by their token counts:
each distinct header is embedded once). Exact confirmation embeds "header + text" as the app does.
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from core import model
from core.chunking import BREAKPOINTS, DEFAULT_HEADERS, Chunk, ChunkConfig, index_texts, needs_sentences, split_corpus
from core.documents import Document
from core.embedding import Embedder
from core.evaluation import Question, QuestionScore, evaluate, mean_scores, rescore_questions
from core.parents import parse_parent
from core.retrieval import DEFAULT_DENSE_WEIGHT, DEFAULT_FUSION, FUSIONS, METHODS, RetrievalConfig, Retriever
from core.sentences import SentenceBank

MODES = ("pooled", "exact")


@dataclass(frozen=True)
class SweepGrid:
    splitters: tuple[str, ...] = ("recursive",)
    sizes: tuple[int, ...] = (100, 200, 300, 400)
    overlaps: tuple[int, ...] = (0, 25, 50)
    ks: tuple[int, ...] = (1, 3, 5, 10)
    methods: tuple[str, ...] = ("hybrid",)
    unit: str = "tokens"
    # Strategy axes (issue 13). Fusions and weights apply to methods with several sources only.
    headers: tuple[bool, ...] = (DEFAULT_HEADERS,)
    fusions: tuple[str, ...] = (DEFAULT_FUSION,)
    dense_weights: tuple[float, ...] = (DEFAULT_DENSE_WEIGHT,)
    parents: tuple[str, ...] = ("none",)
    # The semantic splitter's threshold and smallest chunk (one value each per grid).
    breakpoint: str = "percentile"
    breakpoint_amount: float | None = None
    min_size: int = 0

    def __post_init__(self) -> None:
        for name in ("splitters", "sizes", "overlaps", "ks", "methods", "headers", "fusions", "dense_weights",
                     "parents"):
            if not getattr(self, name):
                raise ValueError(f"The sweep needs at least one value for {name}.")
        bad = [m for m in self.methods if m not in METHODS]
        if bad:
            raise ValueError(f"Unknown method(s): {', '.join(bad)}.")
        object.__setattr__(self, "fusions", tuple(dict.fromkeys("zscore" if f == "score" else f
                                                                for f in self.fusions)))
        bad = [f for f in self.fusions if f not in FUSIONS]
        if bad:
            raise ValueError(f"Unknown fusion(s): {', '.join(bad)}. Choose from {', '.join(FUSIONS)}.")
        bad_w = [w for w in self.dense_weights if not 0.0 <= w <= 1.0]
        if bad_w:
            raise ValueError(f"Dense weights must be between 0 and 1; got {', '.join(f'{w:g}' for w in bad_w)}.")
        object.__setattr__(self, "parents", tuple(dict.fromkeys(str(parse_parent(p)) for p in self.parents)))
        if not self.chunk_configs():
            raise ValueError("Every size/overlap pair is invalid: overlap must be smaller than size.")

    def chunk_configs(self) -> list[ChunkConfig]:
        """Valid chunkings of the grid; pairs with overlap >= size are skipped, not errors (and the
        semantic splitter, whose chunks never overlap, gets one chunking per size)."""
        out = []
        for splitter, size, overlap, headers in itertools.product(self.splitters, self.sizes, self.overlaps,
                                                                   self.headers):
            unit = "tokens" if splitter == "tokens" else self.unit
            try:
                out.append(ChunkConfig(size=size, overlap=overlap, splitter=splitter, unit=unit, headers=headers,
                                       breakpoint=self.breakpoint, breakpoint_amount=self.breakpoint_amount,
                                       min_size=min(self.min_size, size - 1)))
            except ValueError:
                continue
        return list(dict.fromkeys(out))

    def retrieval_configs(self, method: str, k: int) -> list[RetrievalConfig]:
        """Every retrieval setting of `method` in the grid (one fusion/weight for a single source)."""
        several = len(METHODS[method].sources) > 1
        fusions = self.fusions if several else (DEFAULT_FUSION,)
        weights = self.dense_weights if several else (DEFAULT_DENSE_WEIGHT,)
        return list(dict.fromkeys(
            RetrievalConfig(method=method, k=k, fusion=f, dense_weight=w, parent=p)
            for f, w, p in itertools.product(fusions, weights, self.parents)))

    @property
    def n_points(self) -> int:
        per_k = sum(len(self.retrieval_configs(m, max(self.ks))) for m in self.methods)
        return len(self.chunk_configs()) * len(self.ks) * per_k


@dataclass(frozen=True)
class SweepRow:
    splitter: str
    unit: str
    size: int
    overlap: int
    k: int
    method: str
    mode: str
    hit: float
    mrr: float
    recall: float
    ndcg: float
    chunks: int
    index_s: float
    query_ms: float
    # Strategy axes (issue 13) go below this line, each with a default.
    headers: bool = False
    fusion: str = ""  # "" for a single-source method (nothing to fuse)
    dense_weight: float = DEFAULT_DENSE_WEIGHT
    parent: str = "none"
    tokens: float = 0.0  # mean prompt-context tokens at K (what the LLM reads, parents included)
    breakpoint: str = "percentile"  # the semantic splitter's threshold (ignored by the others)
    breakpoint_amount: float = BREAKPOINTS["percentile"]
    min_size: int = 0
    # Per-question data (issue 12) goes below this line, each with a default.
    # Each question's scores at this setting, with its source document: what core.stats resamples.
    per_question: tuple[QuestionScore, ...] = field(default=(), compare=False, repr=False)

    def chunk_config(self) -> ChunkConfig:
        return ChunkConfig(size=self.size, overlap=self.overlap, splitter=self.splitter, unit=self.unit,
                           headers=self.headers, breakpoint=self.breakpoint,
                           breakpoint_amount=self.breakpoint_amount, min_size=self.min_size)

    def retrieval_config(self) -> RetrievalConfig:
        return RetrievalConfig(method=self.method, k=self.k, fusion=self.fusion or DEFAULT_FUSION,
                               dense_weight=self.dense_weight, parent=self.parent)

    def strategy_label(self) -> str:
        """The strategy settings in words (empty for the plain ones)."""
        parts = ["headers"] if self.headers else []
        if self.fusion:
            parts.append(f"{self.fusion} w={self.dense_weight:g}")
        if self.parent != "none":
            parts.append(f"parent {self.parent}")
        return ", ".join(parts)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SweepResult:
    rows: tuple[SweepRow, ...]
    seconds: float
    cancelled: bool
    prep_s: float = 0.0  # sentence embedding in pooled mode

    def best(self, metric: str = "hit", k: int | None = None) -> SweepRow | None:
        rows = [r for r in self.rows if k is None or r.k == k]
        return min(rows, key=lambda r: rank_key(r, metric), default=None)


def rank_key(row: SweepRow, metric: str) -> tuple:
    """Sort key that puts the best row first: the one order every "best" in the app uses.

    Higher `metric`, then higher MRR; remaining ties go to the cheaper setting, because smaller
    chunks, less overlap and a smaller K all mean a shorter prompt for the same retrieval quality.
    """
    return (-getattr(row, metric), -row.mrr, row.size, row.overlap, row.k)


def best_first(rows: Sequence[SweepRow], metric: str) -> list[SweepRow]:
    """`rows` ordered best first by `metric` (see rank_key)."""
    return sorted(rows, key=lambda r: rank_key(r, metric))


def confirmation_grids(configs: Sequence[ChunkConfig], *, like: SweepGrid) -> list[SweepGrid]:
    """One single-chunking grid per config, with `like`'s Ks and methods: re-running the chosen
    chunkings of a sweep (exactly) scores the same points the sweep did, and no others."""
    return [SweepGrid((c.splitter,), (c.size,), (c.overlap,), like.ks, like.methods, c.unit, headers=(c.headers,),
                      fusions=like.fusions, dense_weights=like.dense_weights, parents=like.parents,
                      breakpoint=c.breakpoint, breakpoint_amount=c.breakpoint_amount, min_size=c.min_size)
            for c in configs]


def pooled_vectors(bank: SentenceBank, chunks: Sequence[Chunk]) -> np.ndarray:
    """Fast-mode chunk vectors: the bank's pooled sentences, and for chunks with a contextual header
    the header's vector mixed in by token share (each distinct header embedded once, one batch).

    Exact embedding of "header + text" mean-pools over all tokens, so the header's share of the
    tokens is its weight here too: an approximation, like pooling itself."""
    vectors = bank.pooled(chunks)
    heads = sorted({c.header for c in chunks if c.header})
    if not heads:
        return vectors
    head_vectors = dict(zip(heads, bank.embedder.embed(heads)))
    head_tokens = dict(zip(heads, model.count_tokens_batch(heads)))
    out = vectors.copy()
    for row, c in enumerate(chunks):
        if c.header:
            own = min(c.n_tokens, model.TEXT_WINDOW)
            out[row] = own * vectors[row] + head_tokens[c.header] * head_vectors[c.header]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return out / norms


class _QueryMemo:
    """The embedder, remembering query vectors: a grid asks the same questions once per setting."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dimensions = inner.dimensions
        self._memo: dict[str, np.ndarray] = {}

    def embed(self, texts: Sequence[str], *, progress=None) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if missing:
            self._memo.update(zip(missing, self.inner.embed(missing, progress=progress)))
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts])


Progress = Callable[[int, int, str], None]


def run_sweep(
    docs: Sequence[Document],
    questions: Sequence[Question],
    *,
    grid: SweepGrid,
    mode: str,
    embedder: Embedder,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    bank: SentenceBank | None = None,
    on_rows: Callable[[list[SweepRow]], None] | None = None,
) -> SweepResult:
    """Score every point of `grid`. `on_rows` receives each chunking's rows as soon as they
    exist, so a caller that is interrupted (a cancel in the UI) keeps what was finished."""
    if mode not in MODES:
        raise ValueError(f"Unknown mode '{mode}'. Choose 'pooled' or 'exact'.")
    started = time.perf_counter()
    by_name: Mapping[str, Document] = {d.name: d for d in docs}
    prep = 0.0
    configs = grid.chunk_configs()
    if bank is None and (mode == "pooled" or any(needs_sentences(c.splitter) for c in configs)):
        t = time.perf_counter()
        bank = SentenceBank(docs, embedder=embedder)
        prep = time.perf_counter() - t
    queries = _QueryMemo(embedder)
    rows: list[SweepRow] = []
    for n, config in enumerate(configs):
        if should_stop and should_stop():
            return SweepResult(tuple(rows), time.perf_counter() - started, True, prep)
        if progress:
            progress(n, len(configs), config.label())
        t = time.perf_counter()
        chunks = split_corpus(docs, config=config, sentences=bank)
        if mode == "pooled":
            assert bank is not None  # built above when the caller had none
            vectors = pooled_vectors(bank, chunks)
        else:
            vectors = embedder.embed(index_texts(chunks))
        retriever = Retriever.from_vectors(chunks, vectors, embedder=queries, documents=docs)
        index_s = time.perf_counter() - t
        new: list[SweepRow] = []
        for method in grid.methods:
            for rc in grid.retrieval_configs(method, max(grid.ks)):
                run = evaluate(retriever, questions, by_name, config=rc, drill_down=False)
                for k in sorted(grid.ks):
                    per_q = rescore_questions(run, k)
                    s = mean_scores([q.scores for q in per_q])
                    new.append(SweepRow(config.splitter, config.unit, config.size, config.overlap, k, method, mode,
                                        s.hit, s.mrr, s.recall, s.ndcg, len(chunks), index_s, run.query_ms,
                                        headers=config.headers, fusion=rc.fusion_used() or "",
                                        dense_weight=rc.dense_weight, parent=rc.parent, tokens=s.tokens,
                                        breakpoint=config.breakpoint,
                                        breakpoint_amount=float(config.breakpoint_amount or 0.0),
                                        min_size=config.min_size,
                                        per_question=per_q))
        rows.extend(new)
        if on_rows:
            on_rows(new)
    if progress:
        progress(len(configs), len(configs), "done")
    return SweepResult(tuple(rows), time.perf_counter() - started, False, prep)
