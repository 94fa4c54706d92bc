"""Dense, BM25 and hybrid retrieval over chunks, with the evidence for every rank.

Hybrid uses reciprocal-rank fusion (RRF): each chunk scores sum(1 / (rrf_k + rank)) over the
dense and BM25 rankings. Ranks, unlike raw scores, are on the same scale for both, so no weight
needs tuning; a chunk both methods rank well beats one that only one method loves.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from core.chunking import Chunk
from core.embedding import Embedder, Progress, for_bulk
from core.index import VectorIndex
from core.lexical import BM25

METHODS = {
    "dense": "Dense: cosine similarity of embeddings (meaning, paraphrase)",
    "bm25": "BM25: exact-term matching weighted by rarity (names, codes, numbers)",
    "hybrid": "Hybrid: reciprocal-rank fusion of dense and BM25",
}
MAX_K = 50


@dataclass(frozen=True)
class RetrievalConfig:
    method: str = "hybrid"
    k: int = 5
    rrf_k: int = 60
    mmr: bool = False
    mmr_lambda: float = 0.7
    candidates: int = 50  # depth of each ranking that fusion and MMR look at

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


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    rank: int  # 1-based position in the final list
    score: float  # the score the final list is ordered by (cosine, BM25 or RRF)
    dense: float  # cosine similarity to the query
    lexical: float  # BM25 score
    dense_rank: int | None  # 1-based rank in the dense list, None if beyond the candidates
    lexical_rank: int | None
    matched_terms: tuple[str, ...] = ()
    method: str = "hybrid"
    mmr_moved: bool = False

    def why(self, rrf_k: int = 60) -> str:
        """One line a person can check: which evidence put this chunk at this rank."""
        def part(name: str, rank: int | None, value: str) -> str:
            return f"{name} #{rank} ({value})" if rank else f"{name}: not in top candidates ({value})"

        dense = part("dense", self.dense_rank, f"cosine {self.dense:.3f}")
        terms = ", ".join(self.matched_terms[:8]) or "no query terms"
        lexical = part("BM25", self.lexical_rank, f"{self.lexical:.2f}; matched {terms}")
        if self.method == "dense":
            text = f"{dense}. {lexical}, shown for comparison."
        elif self.method == "bm25":
            text = f"{lexical}. {dense}, shown for comparison."
        else:
            terms_rrf = " + ".join(f"1/({rrf_k}+{r})" for r in (self.dense_rank, self.lexical_rank) if r)
            text = f"{dense}; {lexical}. RRF = {terms_rrf} = {self.score:.4f}."
        if self.mmr_moved:
            text += " MMR moved it to keep the list diverse."
        return text


class Retriever:
    """A searchable chunk collection: a FAISS index and BM25 over the same chunks."""

    def __init__(self, chunks: Sequence[Chunk], vectors: np.ndarray, embedder: Embedder) -> None:
        if len(chunks) != len(vectors):
            raise ValueError("Need exactly one vector per chunk.")
        self.chunks = list(chunks)
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.embedder = embedder
        self.index = VectorIndex(self.vectors)
        self.bm25 = BM25([c.text for c in self.chunks])
        self._position = {c: i for i, c in enumerate(self.chunks)}

    @classmethod
    def build(
        cls, chunks: Sequence[Chunk], *, embedder: Embedder, progress: Progress | None = None
    ) -> "Retriever":
        # A corpus goes through the throughput variant; queries through the embedder itself.
        vectors = for_bulk(embedder).embed([c.text for c in chunks], progress=progress)
        return cls(chunks, vectors, embedder)

    def position(self, chunk: Chunk) -> int:
        """Index of `chunk` in this retriever's collection."""
        return self._position[chunk]

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        return self.embedder.embed(list(queries))

    def search(self, query: str, *, config: RetrievalConfig, query_vector: np.ndarray | None = None) -> list[Hit]:
        if not query.strip() or not self.chunks:
            return []
        qv = self.embed_queries([query])[0] if query_vector is None else query_vector
        return self._search(query, qv, config)

    def search_many(self, queries: Sequence[str], *, config: RetrievalConfig) -> list[list[Hit]]:
        """Many queries with one embedding call (what evaluation uses)."""
        qvs = self.embed_queries(queries)
        return [self._search(q, v, config) for q, v in zip(queries, qvs)]

    def ranking(self, query: str, query_vector: np.ndarray, *, config: RetrievalConfig) -> list[int]:
        """Chunk ids in the order `config.method` ranks the *whole* collection (no MMR).

        BM25 leaves out chunks sharing no term with the query, so this may be shorter than the
        collection for "bm25".
        """
        dense, lexical = self._scores(query, query_vector)
        order = self._fused_order(query_vector, dense, lexical, config, depth=len(self.chunks))
        return [i for i, _ in order]

    # -- internals -------------------------------------------------------------------------

    def _scores(self, query: str, qv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dense = self.vectors @ np.asarray(qv, dtype=np.float32)
        return dense, self.bm25.scores(query)

    def _dense_top(self, qv: np.ndarray, depth: int) -> list[int]:
        _, ids = self.index.search(qv[None, :], depth)
        return [int(i) for i in ids[0] if i >= 0]

    def _lexical_top(self, lexical: np.ndarray, depth: int) -> list[int]:
        return [int(i) for i in np.argsort(-lexical, kind="stable")[:depth] if lexical[i] > 0]

    def _fused_order(
        self, qv: np.ndarray, dense: np.ndarray, lexical: np.ndarray, config: RetrievalConfig, *, depth: int
    ) -> list[tuple[int, float]]:
        if config.method == "dense":
            return [(i, float(dense[i])) for i in self._dense_top(qv, depth)]
        lex_ids = self._lexical_top(lexical, depth)
        if config.method == "bm25":
            return [(i, float(lexical[i])) for i in lex_ids]
        fused: dict[int, float] = {}
        for ranking in (self._dense_top(qv, depth), lex_ids):
            for rank, i in enumerate(ranking, start=1):
                fused[i] = fused.get(i, 0.0) + 1.0 / (config.rrf_k + rank)
        return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))

    def _search(self, query: str, qv: np.ndarray, config: RetrievalConfig) -> list[Hit]:
        dense, lexical = self._scores(query, qv)
        depth = min(config.candidates, len(self.chunks))
        dense_rank = {i: r for r, i in enumerate(self._dense_top(qv, depth), start=1)}
        lexical_rank = {i: r for r, i in enumerate(self._lexical_top(lexical, depth), start=1)}
        order = self._fused_order(qv, dense, lexical, config, depth=depth)
        chosen = order[: config.k]
        moved: set[int] = set()
        if config.mmr and order:
            chosen = self._mmr(order, config)
            plain = {i for i, _ in order[: config.k]}
            moved = {i for i, _ in chosen if i not in plain}
        return [
            Hit(
                chunk=self.chunks[i],
                rank=rank,
                score=score,
                dense=float(dense[i]),
                lexical=float(lexical[i]),
                dense_rank=dense_rank.get(i),
                lexical_rank=lexical_rank.get(i),
                matched_terms=self.bm25.matched_terms(query, self.chunks[i].text),
                method=config.method,
                mmr_moved=i in moved,
            )
            for rank, (i, score) in enumerate(chosen, start=1)
        ]

    def _mmr(self, order: list[tuple[int, float]], config: RetrievalConfig) -> list[tuple[int, float]]:
        """Maximal marginal relevance over the candidates: relevance minus redundancy."""
        ids = [i for i, _ in order]
        scores = np.array([s for _, s in order], dtype=np.float32)
        span = float(scores.max() - scores.min()) or 1.0
        relevance = (scores - scores.min()) / span  # put cosine, BM25 and RRF on one 0..1 scale
        sims = self.vectors[ids] @ self.vectors[ids].T
        selected: list[int] = []
        remaining = list(range(len(ids)))
        while remaining and len(selected) < config.k:
            def value(j: int) -> float:
                redundancy = max((float(sims[j, s]) for s in selected), default=0.0)
                return config.mmr_lambda * float(relevance[j]) - (1 - config.mmr_lambda) * redundancy
            best = max(remaining, key=value)
            selected.append(best)
            remaining.remove(best)
        return [(ids[j], float(scores[j])) for j in selected]
