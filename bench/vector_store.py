"""FAISS in memory against PostgreSQL + pgvector (embedded pgserver): publish, query, quality. One JSON object.

    python -m bench.vector_store --docs DIR --questions FILE [--chunks N] [--cache DIR]

At the corpus size and at N chunks (default 100,000): publish throughput (COPY), HNSW build
seconds, on-disk size; dense query p50/p95 for FAISS flat, pgvector exact and pgvector HNSW at
the default ef_search; recall@10 of HNSW against exact, and an ef_search sweep (how the default
was chosen). On the corpus: hit@5 and MRR of the served hybrid (one SQL round trip) against the
in-memory hybrid, of the LangChain-style hybrid (4 candidates per side, every word must match),
and of each lexical side alone (what PostgreSQL's lack of IDF costs).

The N-chunk collection is the corpus's real chunk vectors padded with *realistic* synthetic ones:
each padding vector is a random mix of two real sentence vectors of the corpus plus a little
Gaussian noise, renormalised, so it lies near the manifold sentence embeddings live on (uniform
random 384-d vectors are HNSW's worst case and say nothing about real text). Padding chunks carry
the text of a random real chunk, so the full-text side has realistic posting lists. Queries are
the question set's real query vectors.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench._common import add_corpus_args, load_corpus
from core import pg, pgstore
from core.chunking import Chunk, ChunkConfig, split_corpus
from core.embedding import default_embedder
from core.evaluation import evaluate
from core.pgserve import DEFAULT_EF_SEARCH, LANGCHAIN_STYLE, ServeConfig, ServedRetriever
from core.retrieval import RetrievalConfig, Retriever
from core.sentences import sentence_spans
from core.stores import FaissStore

EF_SWEEP = (40, 100, 200, 400, 800)


def percentiles(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def timed(fn, queries: np.ndarray, repeat: int = 1) -> tuple[dict[str, float], list]:
    out, ms = [], []
    for _ in range(repeat):
        for q in queries:
            started = time.perf_counter()
            out.append(fn(q))
            ms.append((time.perf_counter() - started) * 1000)
    return percentiles(ms), out[: len(queries)]


def pad(chunks: list[Chunk], vectors: np.ndarray, sentence_vectors: np.ndarray, n: int,
        rng: np.random.Generator) -> tuple[list[Chunk], np.ndarray]:
    extra = n - len(chunks)
    if extra <= 0:
        return chunks[:n], vectors[:n]
    a = sentence_vectors[rng.integers(0, len(sentence_vectors), extra)]
    b = sentence_vectors[rng.integers(0, len(sentence_vectors), extra)]
    w = rng.uniform(0.3, 0.7, (extra, 1)).astype(np.float32)
    mixed = w * a + (1 - w) * b + rng.standard_normal(a.shape).astype(np.float32) * (0.15 / np.sqrt(a.shape[1]))
    mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
    sources = rng.integers(0, len(chunks), extra)
    synthetic = [Chunk(f"synthetic-{i // 1000}.txt", i, 0, len(chunks[s].text), chunks[s].text, chunks[s].n_tokens)
                 for i, s in enumerate(sources)]
    return list(chunks) + synthetic, np.vstack([vectors, mixed.astype(np.float32)])


def publish_stats(conn, name: str, chunks: list[Chunk], vectors: np.ndarray, model_id: str
                  ) -> tuple[dict, pgstore.CollectionInfo]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    info = pgstore.publish(conn, name, chunks, vectors, {"model_id": model_id}, timings=timings)
    total = time.perf_counter() - started
    row = conn.execute("SELECT pg_total_relation_size(%s::regclass)", [info.table]).fetchone()
    return {
        "chunks": len(chunks), "publish_s": round(total, 2),
        "copy_chunks_per_s": round(len(chunks) / timings["copy_s"]),
        "publish_chunks_per_s": round(len(chunks) / total),
        "hnsw_build_s": round(timings["hnsw_s"], 2), "gin_build_s": round(timings["gin_s"], 2),
        "on_disk_mb": round(int(row[0]) / 2**20, 1) if row else None,
        "hnsw_m": info.hnsw_m, "hnsw_ef_construction": info.hnsw_ef_construction,
    }, info


def dense_scale(conn, name: str, chunks: list[Chunk], vectors: np.ndarray, queries: np.ndarray,
                model_id: str) -> dict:
    """Publish, then time dense top-10 on FAISS flat, pgvector exact and HNSW; recall of HNSW."""
    out, _ = publish_stats(conn, name, chunks, vectors, model_id)
    faiss = FaissStore(vectors.shape[1])
    faiss.add(chunks, vectors)
    exact = pgstore.PgVectorStore(conn, name, exact=True)
    out["faiss_flat"], f_ids = timed(lambda q: faiss.search(q, 10)[1], queries, 3)
    out["pgvector_exact"], e_ids = timed(lambda q: exact.search(q, 10)[1], queries)
    truth = [set(map(int, ids)) for ids in e_ids]
    out["exact_matches_faiss"] = round(float(np.mean([len(t & set(map(int, f))) / 10 for t, f in zip(truth, f_ids)])), 4)
    sweep = {}
    for ef in sorted({*EF_SWEEP, DEFAULT_EF_SEARCH}):
        hnsw = pgstore.PgVectorStore(conn, name, ef_search=ef)
        latency, h_ids = timed(lambda q, s=hnsw: s.search(q, 10)[1], queries, 3)
        recall = float(np.mean([len(t & set(map(int, h))) / 10 for t, h in zip(truth, h_ids)]))
        exact_top10 = float(np.mean([t == set(map(int, h)) for t, h in zip(truth, h_ids)]))
        sweep[str(ef)] = {"recall_at_10": round(recall, 4), "identical_top10_share": round(exact_top10, 4), **latency}
    out["pgvector_hnsw"] = {"ef_search": DEFAULT_EF_SEARCH, **sweep[str(DEFAULT_EF_SEARCH)]}
    out["ef_search_sweep"] = sweep
    return out


def quality(conn, name: str, local: Retriever, embedder, qs, docs) -> dict:
    by_name = {d.name: d for d in docs}
    variants = {
        "in_memory": (local, "hybrid"),
        "served": (ServedRetriever(conn, name, embedder=embedder), "hybrid"),
        "served_exact": (ServedRetriever(conn, name, embedder=embedder, serve=ServeConfig(exact=True)), "hybrid"),
        "langchain_style": (ServedRetriever(conn, name, embedder=embedder, serve=LANGCHAIN_STYLE), "hybrid"),
        "served_no_idf": (ServedRetriever(conn, name, embedder=embedder, serve=ServeConfig(lexical="any")), "hybrid"),
        "in_memory_bm25": (local, "bm25"),
        "served_fulltext": (ServedRetriever(conn, name, embedder=embedder), "bm25"),
        "served_fulltext_no_idf": (ServedRetriever(conn, name, embedder=embedder, serve=ServeConfig(lexical="any")),
                                   "bm25"),
        "in_memory_dense": (local, "dense"),
        "served_dense": (ServedRetriever(conn, name, embedder=embedder), "dense"),
    }
    out: dict = {}
    for key, (retriever, method) in variants.items():
        run = evaluate(retriever, qs.questions, by_name, config=RetrievalConfig(method=method, k=5), drill_down=False)
        out[key] = {"method": method, "hit_at_5": round(run.summary.hit, 4), "mrr_at_5": round(run.summary.mrr, 4),
                    "query_ms": round(run.query_ms, 2)}
    out["served_minus_in_memory_hit_at_5_points"] = round(100 * (out["served"]["hit_at_5"] - out["in_memory"]["hit_at_5"]), 1)
    out["served_minus_langchain_style_hit_at_5_points"] = round(
        100 * (out["served"]["hit_at_5"] - out["langchain_style"]["hit_at_5"]), 1)
    out["no_idf_cost_hit_at_5_points"] = {
        "hybrid": round(100 * (out["served_no_idf"]["hit_at_5"] - out["served"]["hit_at_5"]), 1),
        "lexical_alone": round(100 * (out["served_fulltext_no_idf"]["hit_at_5"] - out["served_fulltext"]["hit_at_5"]), 1)}
    out["served_fulltext_minus_in_memory_bm25_hit_at_5_points"] = round(
        100 * (out["served_fulltext"]["hit_at_5"] - out["in_memory_bm25"]["hit_at_5"]), 1)
    out["questions"] = len(qs.questions)
    out["fusion"] = RetrievalConfig().fusion  # the app's default, used by every hybrid row above
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_args(parser)
    parser.add_argument("--chunks", type=int, default=100_000, help="size of the padded collection (default 100000)")
    parser.add_argument("--cache", default=None, help="vector cache folder (default: a fresh temporary one)")
    args = parser.parse_args()
    # A killed run still stops its embedded server and deletes its folder (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    docs, qs = load_corpus(args)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        embedder = default_embedder(backend=args.backend, cache_dir=Path(args.cache or tmp))
        chunks = split_corpus(docs, config=ChunkConfig())
        vectors = embedder.embed([c.text for c in chunks])
        local = Retriever.from_vectors(chunks, vectors, embedder=embedder)
        queries = embedder.embed([q.question for q in qs.questions])
        sentences = [d.text[lo:hi] for d in docs for lo, hi in sentence_spans(d.text)]
        sentence_vectors = embedder.embed(sentences[:4000])
        data = Path(tmp) / "pg" / "data"
        url = pg.start_embedded(data, delete_on_exit=True)
        try:
            with pg.connect(url) as conn:
                info = pg.server_info(conn, url=url, embedded=True)
                result: dict = {"postgres_version": info.postgres_version, "pgvector_version": info.pgvector_version,
                                "default_ef_search": DEFAULT_EF_SEARCH, "questions": len(qs.questions)}
                result["corpus"] = dense_scale(conn, "corpus", chunks, vectors, queries, embedder.model_id)
                result["quality"] = quality(conn, "corpus", local, embedder, qs, docs)
                big_chunks, big_vectors = pad(chunks, vectors, sentence_vectors, args.chunks, rng)
                result["padded"] = dense_scale(conn, "padded", big_chunks, big_vectors, queries, embedder.model_id)
                served = ServedRetriever(conn, "padded", embedder=embedder)
                result["padded"]["served_hybrid"] = _hybrid_latency(served, qs, queries,
                                                                    RetrievalConfig(method="hybrid", k=5))
                result["padded"]["synthetic"] = ("real chunk vectors + mixes of two real sentence vectors with "
                                                 "Gaussian noise; padding texts copied from real chunks")
        finally:
            pg.stop_embedded(data)
    print(json.dumps(result, indent=1))


def _hybrid_latency(served: ServedRetriever, qs, queries: np.ndarray, config: RetrievalConfig) -> dict:
    ms = []
    for _ in range(2):
        for q, v in zip(qs.questions, queries):
            started = time.perf_counter()
            served.search(q.question, config=config, query_vector=v)
            ms.append((time.perf_counter() - started) * 1000)
    return percentiles(ms)


if __name__ == "__main__":
    main()
