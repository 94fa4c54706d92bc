"""Retrieval as composed stages: candidate sources, a fusion step, then re-ordering stages.

A *method* is a registered composition: which candidate sources it asks (dense from the vector
store, lexical from BM25), how it fuses them when there is more than one (reciprocal-rank
fusion), and which re-ordering stages follow (MMR, when switched on). Each stage leaves its
evidence on every hit, so `Hit.why()` and the hit cards render any composition without knowing
its name. Adding a method, source or stage is a registration, not an edit of this file's logic
(recipes in docs/ARCHITECTURE.md).

Per query every source of the method is asked once; fusion and re-ordering work on those lists.
Two fusions, each with a dense weight w (issue 13):
- reciprocal-rank fusion scores each chunk sum(weight / (rrf_k + rank)) over the rankings, the
  dense ranking weighted 2w and the others 2(1 - w), so w = 0.5 is classic RRF;
- score fusion standardises each list's scores (z-score, or min-max to 0..1) over its candidates
  and adds them convexly: w x dense + (1 - w) x BM25. A chunk missing from one list gets that
  list's lowest normalised value (it was below that list's cut).
Weight 1 reduces either fusion to the dense ranking, weight 0 to BM25's (then the rest by dense).

After re-ordering, parent-document retrieval (core.parents) may replace what the LLM reads for each
hit by its parent, keeping one hit per parent.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.chunking import Chunk, index_texts
from core.documents import Document
from core.embedding import Embedder, Progress
from core.lexical import BM25
from core.parents import DEFAULT_BUDGET, ParentIndex, ParentMode, Passage, parse_parent
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
    # What the LLM reads for this hit when parent-document retrieval is on (core.parents), else
    # None: the chunk itself. Metrics and the prompt use `passage`.
    parent: Passage | None = None

    @property
    def passage(self) -> Passage:
        """The span the LLM sees for this hit: the parent, or the chunk itself."""
        if self.parent is not None:
            return self.parent
        c = self.chunk
        return Passage(c.doc, c.start, c.end, c.text, c.n_tokens, f"chunk {c.index}")

    @property
    def seen_chunk(self) -> Chunk:
        """The passage as a Chunk (same doc and index, the passage's span and text): the shape
        relevance and the token metrics take, so they judge what the LLM reads."""
        if self.parent is None:
            return self.chunk
        p, c = self.parent, self.chunk
        return Chunk(doc=c.doc, index=c.index, start=p.start, end=p.end, text=p.text, n_tokens=p.tokens,
                     section=p.label, page=c.page)

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
    # What produced the list, when it is not the registered source of that name (a served
    # collection's full-text search answers as "bm25"): fusion's arithmetic names it so.
    label: str = ""

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


FUSION_NAMES = ("rrf", "zscore", "minmax")  # "score" is accepted for "zscore"
# The defaults, chosen on the sample set (71 questions; one question is 1.4 points of hit@5) with
# python -m bench.strategies --docs sample_docs --questions sample_docs/questions.jsonl --unit chars
# --chunk-size 1000 --overlap 200 [--padding reference]. Hybrid hit@5 / MRR@5, samples | samples +
# 14 encyclopaedic distractor documents:
#   RRF, w 0.5 (classic):  0.915 / 0.771 | 0.972 / 0.783   (RRF at 0.3 / 0.7: no better)
#   z-score, w 0.5:        0.930 / 0.817 | 0.958 / 0.819
#   z-score, w 0.6:        0.958 / 0.825 | 0.958 / 0.828   <- the default
#   z-score, w 0.7:        0.958 / 0.830 | 0.958 / 0.827;  w 0.8: 0.958 / 0.802 | 0.958 / 0.779
#   min-max, w 0.6:        0.958 / 0.825 | 0.958 / 0.828
# Score fusion keeps BM25's confidence where RRF flattens it to a rank: +5 points of MRR, the issue's
# complaint (RRF losing rank quality to BM25). 0.6 sits on a plateau (0.5-0.7 within a question of
# each other), while 0.7 falls off faster towards 0.8 and lost 5 points of hit@5 against the
# near-duplicate "twins" distractors (0.901 at 0.6, 0.845 at 0.7). Candidates 20 or 100 instead of
# 50 moved nothing consistently. At the app's default chunking (254/50 tokens) z-score 0.5 and 0.6
# score 0.972 / 0.831 and 0.958 / 0.819, classic RRF 0.958 / 0.794: the same plateau.
DEFAULT_FUSION = "zscore"
DEFAULT_DENSE_WEIGHT = 0.6


@dataclass(frozen=True)
class RetrievalConfig:
    method: str = "hybrid"
    k: int = 5
    rrf_k: int = 60
    mmr: bool = False
    mmr_lambda: float = 0.7
    candidates: int = 50  # depth of each ranking that fusion and re-ordering look at
    # How a method with several sources fuses them, and the dense side's weight (0..1).
    fusion: str = DEFAULT_FUSION
    dense_weight: float = DEFAULT_DENSE_WEIGHT
    # Parent-document retrieval: "none", "section" or "window:N"; a parent over `parent_budget`
    # tokens falls back to a window that fits (core.parents).
    parent: str = "none"
    parent_budget: int = DEFAULT_BUDGET

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"Unknown method '{self.method}'. Choose one of: {', '.join(METHODS)}.")
        if self.fusion == "score":
            object.__setattr__(self, "fusion", "zscore")
        if self.fusion not in FUSIONS:
            raise ValueError(f"Unknown fusion '{self.fusion}'. Choose one of: {', '.join(FUSIONS)} "
                             "('score' means zscore).")
        if isinstance(self.dense_weight, bool) or not isinstance(self.dense_weight, (int, float)) \
                or not 0.0 <= float(self.dense_weight) <= 1.0:
            raise ValueError(f"The dense weight must be a number from 0 (BM25 alone) to 1 (dense alone); "
                             f"got {self.dense_weight!r}.")
        object.__setattr__(self, "dense_weight", float(self.dense_weight))
        object.__setattr__(self, "parent", str(parse_parent(self.parent)))  # canonical spelling
        if not 16 <= self.parent_budget <= 1_000_000:
            raise ValueError(f"The parent budget must be between 16 and 1,000,000 tokens; got {self.parent_budget}.")
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

    def parent_mode(self) -> ParentMode:
        return parse_parent(self.parent)

    def fusion_used(self) -> str | None:
        """The fusion this config runs: config.fusion for a method with several sources, else None."""
        return self.fusion if len(METHODS[self.method].sources) > 1 else None

    def strategy_label(self) -> str:
        """The fusion and parent settings in words, e.g. "z-score fusion, dense 0.5; parent section"."""
        parts = []
        if self.fusion_used():
            parts.append(f"{FUSIONS[self.fusion][0]}, dense weight {self.dense_weight:g}")
        if self.parent != "none":
            parts.append(f"parent {self.parent}")
        return "; ".join(parts)


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
            terms = ", ".join(r.bm25.matched_terms(query.text, r.chunks[i].indexed_text)[:8]) or "no query terms"
            out.append((score, f"{score:.2f}; matched {terms}"))
        return out


def fusion_weights(names: Sequence[str], dense_weight: float) -> dict[str, float]:
    """Convex weights of the sources: "dense" gets w, the others share 1 - w (equal if no dense)."""
    if "dense" not in names or len(names) == 1:
        return {n: 1.0 / len(names) for n in names}
    others = [n for n in names if n != "dense"]
    return {n: (dense_weight if n == "dense" else (1.0 - dense_weight) / len(others)) for n in names}


def _fused_order(fused: dict[int, float], rankings: dict[str, Ranking]) -> list[tuple[int, float]]:
    """Best first; ties go to the chunk more lists found, then to its best rank in any list (so a
    zero weight leaves that list's order as the tie-break), then to the lower id."""
    ranks = [r.ranks() for r in rankings.values()]
    found = {i: sum(1 for r in ranks if i in r) for i in fused}
    best = {i: min((r[i] for r in ranks if i in r), default=10**9) for i in fused}
    return sorted(fused.items(), key=lambda kv: (-kv[1], -found[kv[0]], best[kv[0]], kv[0]))


def reciprocal_rank_fusion(rankings: dict[str, Ranking], config: RetrievalConfig) -> tuple[Ranking, dict[int, str]]:
    """sum(weight / (rrf_k + rank)); weights are the convex ones times the number of lists, so at
    dense weight 0.5 every list weighs 1 (classic RRF)."""
    weights = {n: w * len(rankings) for n, w in fusion_weights(list(rankings), config.dense_weight).items()}
    fused: dict[int, float] = {}
    parts: dict[int, list[str]] = {}
    for name, ranking in rankings.items():
        w = weights[name]
        for rank, i in enumerate(ranking.ids, start=1):
            fused[i] = fused.get(i, 0.0) + w / (config.rrf_k + rank)
            term = f"1/({config.rrf_k}+{rank})" if w == 1.0 else f"{w:.2g}/({config.rrf_k}+{rank})"
            parts.setdefault(i, []).append(f"{term} [{_label(name, ranking)}]")
    order = _fused_order(fused, rankings)
    details = {i: f"RRF = {' + '.join(parts[i])} = {s:.4f}" for i, s in order}
    return Ranking(tuple(i for i, _ in order), tuple(s for _, s in order)), details


def _label(source: str, ranking: Ranking | None = None) -> str:
    if ranking is not None and ranking.label:
        return ranking.label
    return SOURCES[source].label if source in SOURCES else source


def _score_fusion(kind: str) -> Fusion:
    """Convex fusion of normalised scores: "zscore" ((s - mean) / sd over the list) or "minmax"
    ((s - min) / (max - min)); each list is normalised over its own candidates."""

    def fuse(rankings: dict[str, Ranking], config: RetrievalConfig) -> tuple[Ranking, dict[int, str]]:
        weights = fusion_weights(list(rankings), config.dense_weight)
        normed: dict[str, dict[int, float]] = {}
        floor: dict[str, float] = {}
        stats: dict[str, str] = {}
        raw: dict[str, dict[int, float]] = {}
        for name, r in rankings.items():
            s = np.asarray(r.scores, dtype=np.float64)
            raw[name] = dict(zip(r.ids, r.scores))
            if not len(s):
                normed[name], floor[name], stats[name] = {}, 0.0, "empty list"
                continue
            if kind == "zscore":
                mu, sd = float(s.mean()), float(s.std())
                z = (s - mu) / sd if sd > 0 else np.zeros_like(s)
                stats[name] = f"mean {mu:.3g}, sd {sd:.3g}"
            else:
                lo, hi = float(s.min()), float(s.max())
                z = (s - lo) / (hi - lo) if hi > lo else np.zeros_like(s)
                stats[name] = f"min {lo:.3g}, max {hi:.3g}"
            normed[name] = dict(zip(r.ids, (float(x) for x in z)))
            floor[name] = float(z.min())
        ids = dict.fromkeys(i for r in rankings.values() for i in r.ids)
        fused: dict[int, float] = {}
        parts: dict[int, list[str]] = {}
        for i in ids:
            total = 0.0
            for name in rankings:
                value = normed[name].get(i, floor[name])
                total += weights[name] * value
                if i in raw[name]:
                    shown = f"{raw[name][i]:.3g}"
                else:
                    shown = "not in list, its lowest"
                parts.setdefault(i, []).append(f"{weights[name]:.2g} x {value:+.2f} [{_label(name, rankings[name])} {shown}]")
            fused[i] = total
        order = _fused_order(fused, rankings)
        what = "z" if kind == "zscore" else "min-max"
        over = "; ".join(f"{_label(n, rankings[n])} {stats[n]}" for n in rankings)
        details = {i: f"{FUSIONS[kind][0]} = {' + '.join(parts[i])} = {s:.3f} ({what} over each list's "
                      f"{config.candidates} candidates: {over})" for i, s in order}
        return Ranking(tuple(i for i, _ in order), tuple(s for _, s in order)), details

    return fuse


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
FUSIONS["zscore"] = ("Z-score fusion", _score_fusion("zscore"))
FUSIONS["minmax"] = ("Min-max fusion", _score_fusion("minmax"))
REORDERS["mmr"] = MMR()
register_method(Method("dense", "Dense", "Dense: cosine similarity of embeddings (meaning, paraphrase)",
                       "Cosine", ("dense",)))
register_method(Method("bm25", "BM25", "BM25: exact-term matching weighted by rarity (names, codes, numbers)",
                       "BM25", ("bm25",)))
register_method(Method("hybrid", "Hybrid", "Hybrid: dense and BM25 fused, by standardised scores (z-score, "
                       "the default), min-max scores or reciprocal ranks, with a dense weight",
                       "Fused score", ("dense", "bm25"), fusion="rrf"))


# -- the retriever -------------------------------------------------------------------------------


class Retriever:
    """A searchable chunk collection: a vector store and BM25 over the same chunks."""

    def __init__(self, store: VectorStore, embedder: Embedder, *,
                 documents: Sequence[Document] | Mapping[str, Document] | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.documents: dict[str, Document] = {}
        self._parents: ParentIndex | None = None
        self._reindex()
        if documents is not None:
            self.attach_documents(documents)

    @classmethod
    def from_vectors(cls, chunks: Sequence[Chunk], vectors: np.ndarray, *, embedder: Embedder,
                     store: str = "faiss",
                     documents: Sequence[Document] | Mapping[str, Document] | None = None) -> Retriever:
        """A retriever over chunks whose vectors are already computed (pooled, cached, synthetic).

        `documents` (optional) lets section parents read the text around the chunks."""
        if len(chunks) != len(vectors):
            raise ValueError("Need exactly one vector per chunk.")
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(chunks), -1) if len(chunks) else \
            np.zeros((0, embedder.dimensions), dtype=np.float32)
        vs = make_store(store, vectors.shape[1])
        vs.add(chunks, vectors)
        return cls(vs, embedder, documents=documents)

    @classmethod
    def build(cls, chunks: Sequence[Chunk], *, embedder: Embedder, progress: Progress | None = None,
              store: str = "faiss",
              documents: Sequence[Document] | Mapping[str, Document] | None = None) -> Retriever:
        vectors = embedder.embed(index_texts(chunks), progress=progress)
        return cls.from_vectors(chunks, vectors, embedder=embedder, store=store, documents=documents)

    def attach_documents(self, documents: Sequence[Document] | Mapping[str, Document]) -> None:
        """Give the retriever its documents' text (what section parents are cut from)."""
        docs = documents.values() if isinstance(documents, Mapping) else documents
        self.documents = {d.name: d for d in docs}
        self._parents = None

    def _reindex(self) -> None:
        self.chunks: list[Chunk] = list(self.store.chunks())
        # BM25 reads what the embedder read: the contextual header (when on) and the text.
        self.bm25 = BM25(index_texts(self.chunks))
        self._position = {c: i for i, c in enumerate(self.chunks)}
        self._parents = None

    def parents(self) -> ParentIndex:
        # getattr: a subclass with its own _reindex (core.pgserve) may not have set these.
        if getattr(self, "_parents", None) is None:
            self._parents = ParentIndex(self.chunks, getattr(self, "documents", {}))
        assert self._parents is not None
        return self._parents

    def llm_view(self, config: RetrievalConfig) -> list[Chunk]:
        """Per chunk id, what the LLM reads when that chunk is retrieved under `config`: the chunk,
        or a Chunk holding its parent's span and text. Relevance (hit@K) and the token metrics are
        computed on this view, so they measure what the LLM would see."""
        return self.parents().view(config.parent_mode(), config.parent_budget)

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
        fusion = config.fusion_used()
        if fusion is None:
            return rankings[method.sources[0]], rankings, {}
        order, details = FUSIONS[fusion][1](rankings, config)
        return order, rankings, details

    def _search(self, q: Query, config: RetrievalConfig) -> list[Hit]:
        method = METHODS[config.method]
        order, rankings, fusion_details = self._fused(q, config, depth=min(config.candidates, len(self.chunks)))
        notes: dict[str, dict[int, str]] = {}
        for name in config.stages():
            order, notes[name] = REORDERS[name].apply(q, order, config)
        pairs = list(zip(order.ids, order.scores))
        parents: dict[int, Passage] = {}
        if config.parent == "none":
            top = pairs[: config.k]
        else:
            top, parents, notes["parent"] = self._by_parent(pairs, config)
        return self._hits(q, method, top, rankings, fusion_details, notes, config, parents)

    def _by_parent(self, pairs: list[tuple[int, float]], config: RetrievalConfig
                   ) -> tuple[list[tuple[int, float]], dict[int, Passage], dict[int, str]]:
        """The first K candidates with different parents, no parent sent twice: a candidate whose
        parent lies inside one already picked adds nothing, so the next one takes its place; one
        whose parent holds parents already picked widens the best-ranked of them to its parent, and
        the others give up their places."""
        index, mode = self.parents(), config.parent_mode()
        top: list[tuple[int, float]] = []
        chosen: dict[int, Passage] = {}
        notes: dict[int, str] = {}

        def note(p: Passage) -> str:
            return f"LLM reads {p.label} ({p.tokens:,} tokens)" + (f"; {p.note}" if p.note else "")

        for i, score in pairs:
            if len(top) == config.k:
                break
            p = index.parent(i, mode, config.parent_budget)
            if any(q.contains(p) for q in chosen.values()):
                continue
            inside = [j for j, _ in top if p.contains(chosen[j])]
            if inside:
                keep, drop = inside[0], set(inside[1:])
                chosen[keep] = p
                notes[keep] = note(p) + f"; widened to also hold chunk {self.chunks[i].index}'s parent"
                top = [(j, s) for j, s in top if j not in drop]
                for j in drop:
                    del chosen[j]
                    notes.pop(j, None)
                continue
            top.append((i, score))
            chosen[i] = p
            notes[i] = note(p)
        return top, chosen, notes

    def _hits(self, q: Query, method: Method, top: list[tuple[int, float]], rankings: dict[str, Ranking],
              fusion_details: dict[int, str], notes: dict[str, dict[int, str]],
              config: RetrievalConfig | None = None, parents: dict[int, Passage] | None = None) -> list[Hit]:
        ids = [i for i, _ in top]
        evidence: dict[int, list[Evidence]] = {i: [] for i in ids}
        # Every registered source speaks on every hit: the method's own with their ranks, the
        # others for comparison, scored only for these K chunks.
        for name, source in SOURCES.items():
            ranks = rankings[name].ranks() if name in rankings else {}
            for i, (score, detail) in zip(ids, source.explain(q, ids)):
                evidence[i].append(Evidence(name, SOURCE, source.label, score, ranks.get(i), detail,
                                            used=name in rankings, precision=source.precision))
        fusion = config.fusion_used() if config is not None else method.fusion
        if fusion is not None:
            label = FUSIONS[fusion][0]
            scores = dict(top)
            for i in ids:
                evidence[i].append(Evidence(fusion, FUSION, label, scores[i], None,
                                            fusion_details.get(i, ""), precision=4 if fusion == "rrf" else 3))
        for name, moved in notes.items():
            label = REORDERS[name].label if name in REORDERS else "Parent"
            for i in ids:
                if i in moved:
                    evidence[i].append(Evidence(name, STAGE, label, None, None, moved[i]))
        parents = parents or {}
        return [
            Hit(chunk=self.chunks[i], rank=rank, score=float(score),
                score_label=(FUSIONS[fusion][0] if fusion else method.score_label),
                evidence=tuple(evidence[i]), parent=parents.get(i))
            for rank, (i, score) in enumerate(top, start=1)
        ]


def scored_evidence(hit: Hit) -> list[Evidence]:
    """The evidence entries that carry a score, in pipeline order (what a hit card shows)."""
    return [e for e in hit.evidence if e.score is not None]


__all__ = [
    "FUSION", "SOURCE", "STAGE", "Evidence", "Hit", "Method", "METHODS", "MAX_K", "Query", "Ranking", "RetrievalConfig", "Retriever",
    "REORDERS", "SOURCES", "FUSIONS", "FUSION_NAMES", "DEFAULT_FUSION", "DEFAULT_DENSE_WEIGHT", "Passage",
    "fusion_weights", "register_method", "unregister_method", "scored_evidence",
]
