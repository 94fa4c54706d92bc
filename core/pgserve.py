"""Serving a published collection: the app's retrieval methods, answered by PostgreSQL.

`ServedRetriever` is a `core.retrieval.Retriever` whose candidate lists come from the database:
dense from pgvector (HNSW, or an exact scan), lexical from PostgreSQL full-text search, both in
**one SQL round trip** per query. Fusion is the registered fusion function of the method
(`core.retrieval.FUSIONS`, reciprocal-rank fusion for hybrid), run on those lists exactly as in
memory, and the hits are ordinary `Hit`s with `Evidence`, so every page renders them unchanged.

How the lexical side differs from the in-memory BM25 (`core.lexical`):
- PostgreSQL's ranking functions (`ts_rank`, `ts_rank_cd`) have no IDF: a match on a word found
  in every chunk counts as much as a match on a rare name. BM25 weighs terms by rarity, so
  `publish` stores each lexeme's chunk count and the served score is sum(IDF x ts_rank) over the
  query's words (lexical="idf", the default; "any" is plain ts_rank_cd, to measure the cost).
- Terms are PostgreSQL's (the `english` configuration: Snowball stemming, its stop list), not the
  project's tokenizer (plural folding, identifiers kept whole and by parts).
- The query is the OR of its words, so a chunk matching any of them is a candidate. LangChain's
  PGVectorStore hybrid search uses `plainto_tsquery`, the AND of the words (a chunk must contain
  every query word), and fuses only 4 candidates per side; `LANGCHAIN_STYLE` reproduces that
  for comparison (`bench.vector_store` measures both).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import psycopg
from psycopg import sql

from core.chunking import Chunk, index_texts
from core.embedding import Embedder
from core.lexical import BM25
from core.pg import PgError
from core.pgstore import EF_SEARCH_MAX, PgVectorStore, terms_table
from core.retrieval import (
    FUSION,
    FUSIONS,
    METHODS,
    SOURCE,
    STAGE,
    Evidence,
    Hit,
    Passage,
    Query,
    Ranking,
    RetrievalConfig,
    Retriever,
)

# Chosen by measurement (python -m bench.vector_store, "ef_search_sweep"): on the samples' real
# chunk embeddings padded to 100k with mixes of real sentence embeddings, HNSW (m=16,
# ef_construction=64) recalled exact top-10 at 0.87-0.89 with pgvector's default ef_search of 40,
# 0.94-0.95 at 100, 0.97-0.98 at 200, 0.989-0.993 at 400 and 0.994-0.996 at 800 (two runs, two
# builds). 400 fell under the 0.99 target in one of them; 800 did not, at p95 8.5 ms on a quiet
# 2-core machine (4.6 ms at 400), still far below the lexical side of a hybrid query. Corpora of a
# few thousand chunks are exact at any of these.
DEFAULT_EF_SEARCH = 800
SERVABLE_SOURCES = ("dense", "bm25")
DENSE_LABEL = "Dense (pgvector cosine)"
LEXICAL_LABELS = {"idf": "Full-text (PostgreSQL + IDF)", "any": "Full-text (PostgreSQL ts_rank_cd)",
                  "all": "Full-text (PostgreSQL ts_rank_cd, all words)"}
# Measured by python -m bench.vector_store on the samples (71 questions, z-score fusion, top 5).
LEXICAL_DIFFERENCE = (
    "The lexical side is PostgreSQL full-text search, not the in-memory BM25. PostgreSQL's own ranking "
    "(`ts_rank`, `ts_rank_cd`) has **no IDF**: a common word weighs as much as a rare name. The app adds "
    "BM25's IDF from term counts stored at publish and lets a chunk matching *any* query word be a "
    "candidate; words are still stemmed by PostgreSQL's `english` configuration, and term frequency is "
    "PostgreSQL's, not BM25's. Measured on the samples (hit@5 of hybrid): in memory **0.972**, served "
    "**0.972**, served without IDF 0.915, LangChain PGVectorStore's way (4 candidates per side, every word "
    "must match) 0.845. Full-text alone: BM25 0.915, served 0.887, without IDF 0.803."
)
_WORD = re.compile(r"\w+")


LEXICAL_MODES = {
    "idf": "any query word, weighted by rarity (IDF from the published term counts)",
    "any": "any query word, ts_rank_cd (no IDF)",
    "all": "every query word (plainto_tsquery, LangChain's way), ts_rank_cd (no IDF)",
}


@dataclass(frozen=True)
class ServeConfig:
    """How a published collection answers: HNSW breadth, candidate depth, the lexical ranking."""

    ef_search: int = DEFAULT_EF_SEARCH
    exact: bool = False  # a full scan instead of HNSW (for checks and benchmarks)
    lexical: str = "idf"  # a key of LEXICAL_MODES
    depth: int | None = None  # candidates per side; None: RetrievalConfig.candidates

    def __post_init__(self) -> None:
        if not 1 <= self.ef_search <= EF_SEARCH_MAX:
            raise ValueError(f"ef_search must be between 1 and {EF_SEARCH_MAX}; got {self.ef_search}.")
        if self.lexical not in LEXICAL_MODES:
            raise ValueError(f"lexical must be one of {', '.join(LEXICAL_MODES)}; got {self.lexical!r}.")
        if self.depth is not None and self.depth < 1:
            raise ValueError("depth must be at least 1.")


LANGCHAIN_STYLE = ServeConfig(lexical="all", depth=4)
COMMON_SHARE = 0.5  # words in more than half the chunks only re-rank; they do not make candidates
LEXICAL_BUDGET = 5000  # chunks the lexical side may score per query (see _IDF_CTES)


def or_query(text: str) -> str:
    """The query's words joined by `or`, for `websearch_to_tsquery` (which never raises on input).

    Only word characters survive, so none of websearch's own syntax (quotes, a leading '-') can
    come from the user; the result still travels as a parameter, never as SQL.
    """
    return " or ".join(_WORD.findall(text))


# The IDF-weighted lexical side. `w`: the query's lexemes found in the collection, each with its
# BM25 IDF and a one-word tsquery; a chunk scores sum(idf * ts_rank(chunk, word)) over the words
# it holds. Which chunks get scored at all is the expensive part (PostgreSQL ranks row by row,
# about 10 us a row), so candidates come from the query's *rarest* words: words in rarest-first
# order while the chunks holding the words before them stay under `budget` (the rarest always
# counts). A chunk holding only common words would score low anyway, which is what IDF means; on
# the samples every word fits the budget, so nothing changes there.
_IDF_CTES = """
w AS (SELECT s.word, s.ndoc, ln(1 + (%(n)s - s.ndoc + 0.5) / (s.ndoc + 0.5)) AS idf,
             websearch_to_tsquery('simple', ltrim(s.word, '-')) AS tq,
             sum(s.ndoc) OVER (ORDER BY s.ndoc, s.word) - s.ndoc AS before
        FROM {terms} s, q WHERE s.word = ANY(q.words)),
f AS (SELECT websearch_to_tsquery('simple', string_agg(ltrim(word, '-'), ' or ')
          FILTER (WHERE before < %(budget)s AND (ndoc <= %(common)s OR before = 0))) AS tsq FROM w),"""
_IDF_SCORE = "(SELECT coalesce(sum(w.idf * ts_rank(c.tsv, w.tq)), 0) FROM w WHERE c.tsv @@ w.tq)"


def _serve_sql(table: str, *, exact: bool, lexical: str, terms: str | None) -> sql.Composed:
    t = sql.Identifier(table)
    # "+ 0" keeps the planner off the HNSW index (see PgVectorStore.search).
    order = sql.SQL("(embedding <=> %(v)s) + 0, seq" if exact else "embedding <=> %(v)s")
    if lexical == "idf" and terms is not None:
        ctes = sql.SQL(_IDF_CTES).format(terms=sql.Identifier(terms))
        score, match = sql.SQL(_IDF_SCORE), sql.SQL("f.tsq")
        source = sql.SQL("{t} c, f").format(t=t)
    else:
        tsq = ("plainto_tsquery(%(cfg)s::regconfig, %(text)s)" if lexical == "all"
               else "websearch_to_tsquery(%(cfg)s::regconfig, %(words)s)")
        ctes = sql.SQL("f AS (SELECT {} AS tsq),").format(sql.SQL(tsq))
        score, match = sql.SQL("ts_rank_cd(c.tsv, f.tsq)"), sql.SQL("f.tsq")
        source = sql.SQL("{t} c, f").format(t=t)
    return sql.SQL("""
WITH q AS (SELECT tsvector_to_array(to_tsvector(%(cfg)s::regconfig, %(text)s)) AS words),{ctes}
dense AS (SELECT seq, embedding <=> %(v)s AS dist FROM {t} ORDER BY {order} LIMIT %(nd)s),
lex AS (SELECT c.seq, {score} AS score FROM {source} WHERE c.tsv @@ {match} ORDER BY score DESC, c.seq LIMIT %(nl)s)
SELECT 'd', c.seq, d.dist, (SELECT {score} FROM f),
       ARRAY(SELECT unnest(tsvector_to_array(c.tsv)) INTERSECT SELECT unnest(q.words))
  FROM dense d JOIN {t} c USING (seq), q
UNION ALL
SELECT 'l', c.seq, c.embedding <=> %(v)s, l.score,
       ARRAY(SELECT unnest(tsvector_to_array(c.tsv)) INTERSECT SELECT unnest(q.words))
  FROM lex l JOIN {t} c USING (seq), q""").format(ctes=ctes, t=t, order=order, score=score, match=match,
                                                 source=source)


@dataclass(frozen=True)
class _Candidate:
    cosine: float
    text_score: float
    matched: tuple[str, ...]


class ServedRetriever(Retriever):
    """A `Retriever` over a published collection; every query is one SQL round trip.

    The chunks are read once when it opens (ids are positions, as for every store); BM25 is not
    built in memory, since the database answers the lexical side.
    """

    def __init__(self, conn: psycopg.Connection, collection: str, *, embedder: Embedder,
                 serve: ServeConfig = ServeConfig()) -> None:
        store = PgVectorStore(conn, collection, dimensions=embedder.dimensions, ef_search=serve.ef_search,
                              exact=serve.exact)
        published = str(store.info.settings.get("model_id") or "")
        if published and published.split("/")[0] != embedder.model_id.split("/")[0]:
            raise PgError(f"Collection '{collection}' was published with model '{published}', not "
                          f"'{embedder.model_id}': its vectors cannot be compared with this model's queries. "
                          "Publish it again with the current model.")
        self.conn = conn
        self.serve = serve
        self._session_ef: int | None = None
        self._terms = _terms_of(conn, store.info.table) if serve.lexical == "idf" else None
        self._sql = _serve_sql(store.info.table, exact=serve.exact, lexical=serve.lexical, terms=self._terms)
        super().__init__(store, embedder)
        self.pg_store = store

    def _reindex(self) -> None:
        self.chunks: list[Chunk] = list(self.store.chunks())
        self._position = {c: i for i, c in enumerate(self.chunks)}

    def __getattr__(self, name: str):
        # Retrieval never reads the in-memory BM25 here; the extractive answer reads its term
        # rarity (bm25.idf). Built from the served chunks on that first use only.
        if name == "bm25":
            self.bm25 = BM25(index_texts(self.chunks))
            return self.bm25
        raise AttributeError(name)

    @property
    def info(self):
        return self.pg_store.info

    def replace_document(self, doc: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        raise PgError("A served collection is read-only here: publish it again from the Publish & serve page.")

    # -- one round trip -----------------------------------------------------------------------

    def _ef_for(self, depth: int) -> None:
        # HNSW returns at most ef_search rows, so a deeper candidate list widens it. Set for the
        # session, and only when it changes: the query itself stays one round trip.
        ef = min(max(self.serve.ef_search, depth), EF_SEARCH_MAX)
        if ef != self._session_ef:
            self.conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", [str(ef)])
            self._session_ef = ef

    def fetch(self, text: str, vector: np.ndarray, *, dense: int, lexical: int
              ) -> tuple[Ranking, Ranking, dict[int, _Candidate]]:
        """Dense and lexical candidates (ids best first) and both scores of every candidate."""
        exact = self.serve.exact or dense > EF_SEARCH_MAX
        statement = self._sql if exact == self.serve.exact else _serve_sql(
            self.info.table, exact=exact, lexical=self.serve.lexical, terms=self._terms)
        params = {"v": np.asarray(vector, dtype=np.float32).reshape(-1), "cfg": self.info.text_search,
                  "text": text, "words": or_query(text), "nd": dense, "nl": lexical,
                  "n": len(self.chunks), "common": COMMON_SHARE * len(self.chunks), "budget": LEXICAL_BUDGET}
        with self.pg_store._reading():
            if dense and not exact:
                self._ef_for(dense)
            rows = self.conn.execute(statement, params).fetchall()
        d_rows: list[tuple[float, float, int]] = []
        l_rows: list[tuple[float, float, int]] = []
        seen: dict[int, _Candidate] = {}
        for side, seq, dist, score, matched in rows:
            pos = self.pg_store._position[int(seq)]
            seen[pos] = _Candidate(1.0 - float(dist), float(score), tuple(sorted(matched or ())))
            (d_rows if side == "d" else l_rows).append((float(dist), -float(score), pos))
        # Equal scores come back in any order: break ties by id, as the in-memory sources do.
        d_rows.sort(key=lambda r: (r[0], r[2]))
        l_rows.sort(key=lambda r: (r[1], r[2]))
        return (Ranking(tuple(r[2] for r in d_rows), tuple(1.0 - r[0] for r in d_rows), DENSE_LABEL),
                Ranking(tuple(r[2] for r in l_rows), tuple(-r[1] for r in l_rows), self.lexical_label), seen)

    # -- the pipeline, with the database as the candidate sources ------------------------------

    def _check(self, config: RetrievalConfig) -> None:
        method = METHODS[config.method]
        unknown = [s for s in method.sources if s not in SERVABLE_SOURCES]
        if unknown:
            raise PgError(f"Method '{method.label}' needs {', '.join(unknown)}, which a published collection "
                          "cannot answer: choose dense, BM25 or hybrid.")
        if config.stages():
            raise PgError("MMR re-ordering needs every vector in memory; a served collection keeps them in "
                          "PostgreSQL. Switch MMR off to query it.")

    def _served(self, q: Query, config: RetrievalConfig, depth: int
                ) -> tuple[Ranking, dict[str, Ranking], dict[int, str], dict[int, _Candidate]]:
        self._check(config)
        method = METHODS[config.method]
        n = min(self.serve.depth or depth, len(self.chunks))
        dense, lexical, seen = self.fetch(q.text, q.vector, dense=n if "dense" in method.sources else 0,
                                          lexical=n if "bm25" in method.sources else 0)
        rankings = {name: r for name, r in (("dense", dense), ("bm25", lexical)) if name in method.sources}
        fusion = config.fusion_used()
        if fusion is None:
            return rankings[method.sources[0]], rankings, {}, seen
        order, details = FUSIONS[fusion][1](rankings, config)
        return order, rankings, details, seen

    def _fused(self, q: Query, config: RetrievalConfig, *, depth: int
               ) -> tuple[Ranking, dict[str, Ranking], dict[int, str]]:
        order, rankings, details, _ = self._served(q, config, depth)
        return order, rankings, details

    def _search(self, q: Query, config: RetrievalConfig) -> list[Hit]:
        method = METHODS[config.method]
        order, rankings, details, seen = self._served(q, config, config.candidates)
        pairs = list(zip(order.ids, order.scores))
        parents: dict[int, Passage] = {}
        parent_notes: dict[int, str] = {}
        if config.parent == "none":
            top = pairs[: config.k]
        else:  # parent-document retrieval, as in memory (needs attach_documents for section parents)
            top, parents, parent_notes = self._by_parent(pairs, config)
        fusion = config.fusion_used()
        hits = []
        for rank, (i, score) in enumerate(top, start=1):
            c = seen[i]
            d_rank = rankings["dense"].ranks().get(i) if "dense" in rankings else None
            l_rank = rankings["bm25"].ranks().get(i) if "bm25" in rankings else None
            terms = ", ".join(c.matched[:8]) or "no query words"
            evidence = [
                Evidence("dense", SOURCE, DENSE_LABEL, c.cosine, d_rank, f"{c.cosine:.3f}",
                         used="dense" in rankings, precision=3),
                Evidence("bm25", SOURCE, self.lexical_label, c.text_score, l_rank,
                         f"{c.text_score:.3f}; matched {terms}", used="bm25" in rankings, precision=3),
            ]
            if fusion is not None:
                evidence.append(Evidence(fusion, FUSION, FUSIONS[fusion][0], float(score), None,
                                         details.get(i, ""), precision=4 if fusion == "rrf" else 3))
            if i in parent_notes:
                evidence.append(Evidence("parent", STAGE, "Parent", None, None, parent_notes[i]))
            hits.append(Hit(self.chunks[i], rank, float(score), FUSIONS[fusion][0] if fusion else method.score_label,
                            tuple(evidence), parent=parents.get(i)))
        return hits

    @property
    def lexical_label(self) -> str:
        return LEXICAL_LABELS[self.serve.lexical if self._terms or self.serve.lexical != "idf" else "any"]

    def describe(self) -> str:
        how = ("exact scan" if self.serve.exact else
               f"HNSW m={self.info.hnsw_m}, ef_construction={self.info.hnsw_ef_construction}, "
               f"ef_search={self.serve.ef_search}")
        lexical = self.serve.lexical if self._terms or self.serve.lexical != "idf" else "any"
        return f"collection '{self.info.name}' ({how}; full-text: {LEXICAL_MODES[lexical]})"


def _terms_of(conn: psycopg.Connection, table: str) -> str | None:
    """The collection's term-count table, if it was published with one (a collection built with
    PgVectorStore.add has none: its lexical side then ranks without IDF)."""
    name = terms_table(table)
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [name]).fetchone()
    return name if row and row[0] else None
