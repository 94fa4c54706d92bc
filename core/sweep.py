"""Parameter sweeps: splitter x chunk size x overlap x K x method, scored on a question set.

Per chunking, the corpus is chunked once and indexed once; every method is run once at the
largest K and the smaller Ks are read off the same ranked lists. In fast ("pooled") mode chunk
vectors come from a SentenceBank, so a whole grid costs seconds; "exact" embeds every chunk as
production would (through the vector cache).
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

from core.chunking import ChunkConfig, split_corpus
from core.documents import Document
from core.embedding import Embedder
from core.evaluation import Question, evaluate, rescore
from core.retrieval import METHODS, RetrievalConfig, Retriever
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

    def __post_init__(self) -> None:
        for name in ("splitters", "sizes", "overlaps", "ks", "methods"):
            if not getattr(self, name):
                raise ValueError(f"The sweep needs at least one value for {name}.")
        bad = [m for m in self.methods if m not in METHODS]
        if bad:
            raise ValueError(f"Unknown method(s): {', '.join(bad)}.")
        if not self.chunk_configs():
            raise ValueError("Every size/overlap pair is invalid: overlap must be smaller than size.")

    def chunk_configs(self) -> list[ChunkConfig]:
        """Valid chunkings of the grid; pairs with overlap >= size are skipped, not errors."""
        out = []
        for splitter, size, overlap in itertools.product(self.splitters, self.sizes, self.overlaps):
            unit = "tokens" if splitter == "tokens" else self.unit
            try:
                out.append(ChunkConfig(size=size, overlap=overlap, splitter=splitter, unit=unit))
            except ValueError:
                continue
        return list(dict.fromkeys(out))

    @property
    def n_points(self) -> int:
        return len(self.chunk_configs()) * len(self.ks) * len(self.methods)


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
    # Per-question data (issue 12) goes below this line, each with a default.

    def chunk_config(self) -> ChunkConfig:
        return ChunkConfig(size=self.size, overlap=self.overlap, splitter=self.splitter, unit=self.unit)

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
    return [SweepGrid((c.splitter,), (c.size,), (c.overlap,), like.ks, like.methods, c.unit) for c in configs]


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
    if mode == "pooled" and bank is None:
        t = time.perf_counter()
        bank = SentenceBank(docs, embedder=embedder)
        prep = time.perf_counter() - t
    configs = grid.chunk_configs()
    rows: list[SweepRow] = []
    for n, config in enumerate(configs):
        if should_stop and should_stop():
            return SweepResult(tuple(rows), time.perf_counter() - started, True, prep)
        if progress:
            progress(n, len(configs), config.label())
        t = time.perf_counter()
        chunks = split_corpus(docs, config=config)
        if mode == "pooled":
            assert bank is not None  # built above when the caller had none
            vectors = bank.pooled(chunks)
        else:
            vectors = embedder.embed([c.text for c in chunks])
        retriever = Retriever.from_vectors(chunks, vectors, embedder=embedder)
        index_s = time.perf_counter() - t
        new: list[SweepRow] = []
        for method in grid.methods:
            run = evaluate(retriever, questions, by_name, config=RetrievalConfig(method=method, k=max(grid.ks)),
                           drill_down=False)
            for k in sorted(grid.ks):
                s = rescore(run, k)
                new.append(SweepRow(config.splitter, config.unit, config.size, config.overlap, k, method, mode,
                                    s.hit, s.mrr, s.recall, s.ndcg, len(chunks), index_s, run.query_ms))
        rows.extend(new)
        if on_rows:
            on_rows(new)
    if progress:
        progress(len(configs), len(configs), "done")
    return SweepResult(tuple(rows), time.perf_counter() - started, False, prep)
