"""Retrieval as composed stages: candidate sources, a fusion step, then re-ordering stages.

A *method* is a registered composition: which candidate sources it asks (dense from the vector
store, lexical from BM25), how it fuses them when there is more than one (reciprocal-rank
fusion), and which re-ordering stages follow (MMR, when switched on). Each stage leaves its
evidence on every hit, so `Hit.why()` and the hit cards render any composition without knowing
its name. Adding a method, source or stage is a registration, not an edit of this file's logic
(recipes in docs/ARCHITECTURE.md).

Per query every source of the method is asked once; fusion and re-ordering work on those lists.
Reciprocal-rank fusion scores each chunk sum(1 / (rrf_k + rank)) over the rankings: ranks, unlike
raw scores, are on the same scale for both, so no weight needs tuning.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.chunking import Chunk
from core.embedding import Embedder, Progress
from core.lexical import BM25
from core.stores import VectorStore, make_store

MAX_K = 50


# -- results -----------------------------------------------------------------------------------


SOURCE, FUSION, STAGE = "source", "fusion", "stage"


@dataclass(frozen=True)
class Evidence:
    """What one stage said about one hit."""

    stage: str  # registered name of the source or stage
    kind: str  # SOURCE (a candidate list), FUSION or STAGE (re-ordering)
    label: str  # how a person calls it: "Dense (cosine)", "BM25", "RRF"
    score: float | None  # the stage's score for this chunk, if it gives one
    rank: int | None = None  # 1-based rank in a source's candidate list; None if beyond it
    detail: str = ""  # the arithmetic or the terms behind the score
    used: bool = True  # False: computed for comparison, the method did not use it
    precision: int = 3  # decimals worth showing for this kind of score

    def value(self) -> str:
        return "" if self.score is None else f"{self.score:.{self.precision}f}"

    def text(self) -> str:
        if self.kind != SOURCE:
            return self.detail
        detail = self.detail or self.value()
        if not self.used:
            return f"{self.label} ({detail}), shown for comparison"
        if self.rank:
            return f"{self.label} #{self.rank} ({detail})"
        return f"{self.label}: not in top candidates ({detail})"


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    rank: int  # 1-based position in the final list
    score: float  # the score the final list is ordered by
    score_label: str  # what that score is ("Cosine", "BM25", "RRF score")
    evidence: tuple[Evidence, ...] = ()  # one entry per stage, in pipeline order

    def why(self) -> str:
        """One line a person can check: which evidence put this chunk at this rank."""
        return "; ".join(e.text() for e in self.evidence) + "."

    def evidence_of(self, stage: str) -> Evidence | None:
        return next((e for e in self.evidence if e.stage == stage), None)

    def score_of(self, stage: str) -> float | None:
        e = self.evidence_of(stage)
        return e.score if e else None

    def rank_in(self, stage: str) -> int | None:
        e = self.evidence_of(stage)
        return e.rank if e else None


# -- configuration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranking:
    """Chunk ids best first, with the score that ordered them."""

    ids: tuple[int, ...] = ()
    scores: tuple[float, ...] = ()

    def ranks(self) -> dict[int, int]:
        return {i: r for r, i in enumerate(self.ids, start=1)}


@dataclass(frozen=True)
class Method:
    """A registered composition of stages, with its label and help text."""

    name: str
    label: str
    help: str
    score_label: str
    sources: tuple[str, ...]
    fusion: str | None = None  # needed when there is more than one source
    reorders: tuple[str, ...] = ()  # stages applied after fusion, always

    def __post_init__(self) -> None:
        if not self.sources:
            raise ValueError(f"Method '{self.name}' needs at least one candidate source.")
        if len(self.sources) > 1 and self.fusion is None:
            raise ValueError(f"Method '{self.name}' has several sources and so needs a fusion step.")


METHODS: dict[str, Method] = {}  # the registry, in display order


@dataclass(frozen=True)
class RetrievalConfig:
    method: str = "hybrid"
    k: int = 5
    rrf_k: int = 60
    mmr: bool = False
    mmr_lambda: float = 0.7
    candidates: int = 50  # depth of each ranking that fusion and re-ordering look at

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"Unknown method '{self.method}'. Choose one of: {', '.join(METHODS)}.")
        if not 1 <= self.k <= MAX_K:
            raise ValueError(f"Top-K must be between 1 and {MAX_K}; got {self.k}.")
        if self.rrf_k < 1:
            raise ValueError(f"The RRF constant must be at least 1; got {self.rrf_k}.")
        if not 0.0 <= self.mmr_lambda <= 1.0:
            raise ValueError(f"MMR lambda must be between 0 and 1; got {self.mmr_lambda}.")
        if self.candidates < self.k:
            raise ValueError("Candidates must be at least K.")

    def stages(self) -> tuple[str, ...]:
        """Re-ordering stages in the order they run: the method's own, then the toggles."""
        return METHODS[self.method].reorders + (("mmr",) if self.mmr else ())


# -- stage protocols and registries ------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One query as every stage sees it: text, vector and the collection it runs against."""

    text: str
    vector: np.ndarray
    retriever: Retriever


class Source(Protocol):
    """Produces candidates; also scores given chunks so other methods can show it for comparison."""

    name: str
    label: str
    precision: int

    def candidates(self, query: Query, depth: int) -> Ranking: ...

    def explain(self, query: Query, ids: Sequence[int]) -> list[tuple[float, str]]:
        """(score, detail) for each id, for the evidence of hits."""
        ...


Fusion = Callable[[dict[str, Ranking], RetrievalConfig], tuple[Ranking, dict[int, str]]]


class Reorder(Protocol):
    """Re-orders the fused candidates; returns the new order and a note for each chunk it moved."""

    name: str
    label: str

    def apply(self, query: Query, order: Ranking, config: RetrievalConfig) -> tuple[Ranking, dict[int, str]]: ...


SOURCES: dict[str, Source] = {}
FUSIONS: dict[str, tuple[str, Fusion]] = {}  # name -> (label, function)
REORDERS: dict[str, Reorder] = {}


def register_method(method: Method) -> None:
    for name in method.sources:
        if name not in SOURCES:
            raise ValueError(f"Method '{method.name}' names an unknown source '{name}'.")
    if method.fusion is not None and method.fusion not in FUSIONS:
        raise ValueError(f"Method '{method.name}' names an unknown fusion '{method.fusion}'.")
    for name in method.reorders:
        if name not in REORDERS:
            raise ValueError(f"Method '{method.name}' names an unknown stage '{name}'.")
    METHODS[method.name] = method


def unregister_method(name: str) -> None:
    METHODS.pop(name, None)


# -- the built-in stages -------------------------------------------------------------------------


class DenseSource:
    """Nearest chunks by cosine, from the vector store."""

    name = "dense"
    label = "Dense (cosine)"
    precision = 3

    def candidates(self, query: Query, depth: int) -> Ranking:
        scores, ids = query.retriever.store.search(query.vector, depth)
        return Ranking(tuple(int(i) for i in ids), tuple(float(s) for s in scores))

    def explain(self, query: Query, ids: Sequence[int]) -> list[tuple[float, str]]:
        sims = query.retriever.store.similarity(query.vector, ids)
        return [(float(s), f"{s:.3f}") for s in sims]


class LexicalSource:
    """BM25 over the chunk texts: exact terms weighted by rarity."""

    name = "bm25"
    label = "BM25"
    precision = 2

    def candidates(self, query: Query, depth: int) -> Ranking:
        # Only chunks sharing a term with the query score above 0; top() never sorts the corpus.
        ids, scores = query.retriever.bm25.top(query.text, depth)
        return Ranking(tuple(ids.tolist()), tuple(scores.tolist()))

    def explain(self, query: Query, ids: Sequence[int]) -> list[tuple[float, str]]:
        r = query.retriever
        scores = r.bm25.scores_for(query.text, ids).tolist()  # just these chunks, not the corpus
        out = []
        for i, score in zip(ids, scores):
            terms = ", ".join(r.bm25.matched_terms(query.text, r.chunks[i].text)[:8]) or "no query terms"
            out.append((score, f"{score:.2f}; matched {terms}"))
        return out


def reciprocal_rank_fusion(rankings: dict[str, Ranking], config: RetrievalConfig) -> tuple[Ranking, dict[int, str]]:
    fused: dict[int, float] = {}
    parts: dict[int, list[str]] = {}
    for ranking in rankings.values():
        for rank, i in enumerate(ranking.ids, start=1):
            fused[i] = fused.get(i, 0.0) + 1.0 / (config.rrf_k + rank)
            parts.setdefault(i, []).append(f"1/({config.rrf_k}+{rank})")
    order = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
    details = {i: f"RRF = {' + '.join(parts[i])} = {s:.4f}" for i, s in order}
    return Ranking(tuple(i for i, _ in order), tuple(s for _, s in order)), details


class MMR:
    """Maximal marginal relevance: re-picks the top K from the candidates, relevance minus redundancy."""

    name = "mmr"
    label = "MMR"

    def apply(self, query: Query, order: Ranking, config: RetrievalConfig) -> tuple[Ranking, dict[int, str]]:
        if not order.ids:
            return order, {}
        vectors = query.retriever.store.vectors()
        if vectors is None:
            raise ValueError("MMR needs the vectors in memory, and this vector store keeps them elsewhere.")
        ids = list(order.ids)
        scores = np.array(order.scores, dtype=np.float32)
        span = float(scores.max() - scores.min()) or 1.0
        relevance = (scores - scores.min()) / span  # cosine, BM25 and RRF on one 0..1 scale
        candidate_vectors = vectors[ids]
        sims = candidate_vectors @ candidate_vectors.T
        selected: list[int] = []
        remaining = list(range(len(ids)))
        while remaining and len(selected) < config.k:
            def value(j: int) -> float:
                redundancy = max((float(sims[j, s]) for s in selected), default=0.0)
                return config.mmr_lambda * float(relevance[j]) - (1 - config.mmr_lambda) * redundancy

            best = max(remaining, key=value)
            selected.append(best)
            remaining.remove(best)
        plain = set(ids[: config.k])
        notes = {ids[j]: "MMR moved it to keep the list diverse" for j in selected if ids[j] not in plain}
        picked = selected + remaining  # the rest keep their fused order behind the picks
        return Ranking(tuple(ids[j] for j in picked), tuple(float(scores[j]) for j in picked)), notes


SOURCES["dense"] = DenseSource()
SOURCES["bm25"] = LexicalSource()
FUSIONS["rrf"] = ("RRF", reciprocal_rank_fusion)
REORDERS["mmr"] = MMR()
register_method(Method("dense", "Dense", "Dense: cosine similarity of embeddings (meaning, paraphrase)",
                       "Cosine", ("dense",)))
register_method(Method("bm25", "BM25", "BM25: exact-term matching weighted by rarity (names, codes, numbers)",
                       "BM25", ("bm25",)))
register_method(Method("hybrid", "Hybrid", "Hybrid: reciprocal-rank fusion of dense and BM25, each chunk scoring "
                       "1/(60 + dense rank) + 1/(60 + BM25 rank); ranks put both on one scale, so no weight "
                       "needs tuning",
                       "RRF score", ("dense", "bm25"), fusion="rrf"))


# -- the retriever -------------------------------------------------------------------------------


class Retriever:
    """A searchable chunk collection: a vector store and BM25 over the same chunks."""

    def __init__(self, store: VectorStore, embedder: Embedder) -> None:
        self.store = store
        self.embedder = embedder
        self._reindex()

    @classmethod
    def from_vectors(cls, chunks: Sequence[Chunk], vectors: np.ndarray, *, embedder: Embedder,
                     store: str = "faiss") -> Retriever:
        """A retriever over chunks whose vectors are already computed (pooled, cached, synthetic)."""
        if len(chunks) != len(vectors):
            raise ValueError("Need exactly one vector per chunk.")
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(chunks), -1) if len(chunks) else \
            np.zeros((0, embedder.dimensions), dtype=np.float32)
        vs = make_store(store, vectors.shape[1])
        vs.add(chunks, vectors)
        return cls(vs, embedder)

    @classmethod
    def build(cls, chunks: Sequence[Chunk], *, embedder: Embedder, progress: Progress | None = None,
              store: str = "faiss") -> Retriever:
        vectors = embedder.embed([c.text for c in chunks], progress=progress)
        return cls.from_vectors(chunks, vectors, embedder=embedder, store=store)

    def _reindex(self) -> None:
        self.chunks: list[Chunk] = list(self.store.chunks())
        self.bm25 = BM25([c.text for c in self.chunks])
        self._position = {c: i for i, c in enumerate(self.chunks)}

    def replace_document(self, doc: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Swap one document's chunks (ids of other chunks may change)."""
        self.store.replace_document(doc, chunks, vectors)
        self._reindex()

    def position(self, chunk: Chunk) -> int:
        """Id of `chunk` in this retriever's collection."""
        return self._position[chunk]

    @property
    def vectors(self) -> np.ndarray | None:
        """Every chunk vector in id order, when the store keeps them in memory."""
        return self.store.vectors()

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        return self.embedder.embed(list(queries))

    def search(self, query: str, *, config: RetrievalConfig, query_vector: np.ndarray | None = None) -> list[Hit]:
        if not query.strip() or not self.chunks:
            return []
        qv = self.embed_queries([query])[0] if query_vector is None else query_vector
        return self._search(Query(query, np.asarray(qv, dtype=np.float32), self), config)

    def search_many(self, queries: Sequence[str], *, config: RetrievalConfig) -> list[list[Hit]]:
        """Many queries with one embedding call (what evaluation uses)."""
        qvs = self.embed_queries(queries)
        return [self.search(q, config=config, query_vector=v) for q, v in zip(queries, qvs)]

    def ranking(self, query: str, query_vector: np.ndarray, *, config: RetrievalConfig) -> list[int]:
        """Chunk ids in the order `config.method` ranks the *whole* collection (no re-ordering).

        A lexical source leaves out chunks sharing no term with the query, so this may be shorter
        than the collection.
        """
        q = Query(query, np.asarray(query_vector, dtype=np.float32), self)
        order, _, _ = self._fused(q, config, depth=len(self.chunks))
        return list(order.ids)

    # -- the pipeline --------------------------------------------------------------------------

    def _fused(self, q: Query, config: RetrievalConfig, *, depth: int
               ) -> tuple[Ranking, dict[str, Ranking], dict[int, str]]:
        method = METHODS[config.method]
        rankings = {name: SOURCES[name].candidates(q, depth) for name in method.sources}
        if method.fusion is None:
            return rankings[method.sources[0]], rankings, {}
        order, details = FUSIONS[method.fusion][1](rankings, config)
        return order, rankings, details

    def _search(self, q: Query, config: RetrievalConfig) -> list[Hit]:
        method = METHODS[config.method]
        order, rankings, fusion_details = self._fused(q, config, depth=min(config.candidates, len(self.chunks)))
        notes: dict[str, dict[int, str]] = {}
        for name in config.stages():
            order, notes[name] = REORDERS[name].apply(q, order, config)
        top = list(zip(order.ids, order.scores))[: config.k]
        return self._hits(q, method, top, rankings, fusion_details, notes)

    def _hits(self, q: Query, method: Method, top: list[tuple[int, float]], rankings: dict[str, Ranking],
              fusion_details: dict[int, str], notes: dict[str, dict[int, str]]) -> list[Hit]:
        ids = [i for i, _ in top]
        evidence: dict[int, list[Evidence]] = {i: [] for i in ids}
        # Every registered source speaks on every hit: the method's own with their ranks, the
        # others for comparison, scored only for these K chunks.
        for name, source in SOURCES.items():
            ranks = rankings[name].ranks() if name in rankings else {}
            for i, (score, detail) in zip(ids, source.explain(q, ids)):
                evidence[i].append(Evidence(name, SOURCE, source.label, score, ranks.get(i), detail,
                                            used=name in rankings, precision=source.precision))
        if method.fusion is not None:
            label = FUSIONS[method.fusion][0]
            scores = dict(top)
            for i in ids:
                evidence[i].append(Evidence(method.fusion, FUSION, label, scores[i], None,
                                            fusion_details.get(i, ""), precision=4))
        for name, moved in notes.items():
            for i in ids:
                if i in moved:
                    evidence[i].append(Evidence(name, STAGE, REORDERS[name].label, None, None, moved[i]))
        return [
            Hit(chunk=self.chunks[i], rank=rank, score=float(score), score_label=method.score_label,
                evidence=tuple(evidence[i]))
            for rank, (i, score) in enumerate(top, start=1)
        ]


def scored_evidence(hit: Hit) -> list[Evidence]:
    """The evidence entries that carry a score, in pipeline order (what a hit card shows)."""
    return [e for e in hit.evidence if e.score is not None]


__all__ = [
    "FUSION", "SOURCE", "STAGE", "Evidence", "Hit", "Method", "METHODS", "MAX_K", "Query", "Ranking", "RetrievalConfig", "Retriever",
    "REORDERS", "SOURCES", "FUSIONS", "register_method", "unregister_method", "scored_evidence",
]
