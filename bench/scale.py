"""Retrieval at scale on synthetic data: build time, per-query latency and peak memory.

    python -m bench.scale [--chunks 10000 100000] [--queries 200] [--seed 0]

Prints one JSON object: per corpus size, the build seconds (whole `Retriever.from_vectors`, and
the BM25 index and the vector store separately), dense / BM25 / hybrid latency over the queries
(p50, p95, mean ms) and the peak RSS of the process that built and searched it.

The data is synthetic so that any size can be measured without embedding anything: random unit
vectors (384-d, the bundled model's width) and chunk texts of ~150 words drawn Zipf-style from a
vocabulary of a few thousand words headed by common English function words, with an identifier
('LF-413', 'v2.4.1') now and then. Queries are 5-10 words of one chunk (sometimes its
identifier), with that chunk's vector plus noise as the query vector. Latency goes through
`Retriever.search`, the code path the app uses, with the query vector given (no model).

Each size runs in its own child process, so its peak RSS is its own. The machine is shared:
other jobs may be running, so the note records the load average at the start.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import metadata

import numpy as np

DIMENSIONS = 384  # all-MiniLM-L6-v2
VOCABULARY = 5000
WORDS_PER_CHUNK = 150
ZIPF_S = 1.0  # rank-frequency exponent of English text, roughly
# The most frequent words of real text are function words; they lead the synthetic vocabulary
# so that the tokenizer's stop-word removal sees a realistic share (~45% of the words).
FUNCTION_WORDS = ("the of and to a in is it that for on with as was be by at this are from or an "
                  "have not which but they his were can we all their has there more been one when").split()
SYLLABLES = [c + v for c in "bcdfghklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
METHODS = ("dense", "bm25", "hybrid")


class FakeEmbedder:
    """The Embedder protocol without a model: the bench always passes the query vector."""

    model_id = "bench/synthetic"
    dimensions = DIMENSIONS

    def embed(self, texts, *, progress=None) -> np.ndarray:
        rng = np.random.default_rng(abs(hash(tuple(texts))) % 2**32)
        return _unit(rng.standard_normal((len(texts), DIMENSIONS), dtype=np.float32))


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _vocabulary(rng: np.random.Generator) -> list[str]:
    words = list(FUNCTION_WORDS)
    seen = set(words)
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 5))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def synthetic_corpus(n: int, seed: int) -> tuple[list, np.ndarray, list[str]]:
    """n chunks (texts Zipf-distributed over the vocabulary), their unit vectors, and the vocabulary."""
    from core.chunking import Chunk

    rng = np.random.default_rng(seed)
    words = _vocabulary(rng)
    cdf = np.cumsum(1.0 / np.arange(1, len(words) + 1) ** ZIPF_S)
    cdf /= cdf[-1]
    lengths = rng.integers(WORDS_PER_CHUNK - 40, WORDS_PER_CHUNK + 41, size=n)
    chunks: list[Chunk] = []
    drawn: list[int] = []
    offset = 0
    for i, length in enumerate(lengths):
        if offset + length > len(drawn):  # word ranks in blocks: the peak RSS is the retriever's, not ours
            block = int(lengths[i:i + 10_000].sum())
            drawn, offset = np.searchsorted(cdf, rng.random(block)).tolist(), 0
        text_words = [words[r] for r in drawn[offset:offset + length]]
        offset += length
        if rng.random() < 0.2:  # one chunk in five names an error code or a version
            ident = f"LF-{rng.integers(100, 1000)}" if rng.random() < 0.5 else \
                f"v{rng.integers(1, 5)}.{rng.integers(0, 10)}.{rng.integers(0, 10)}"
            text_words.insert(int(rng.integers(0, length)), ident)
        text = " ".join(text_words)
        text = text[0].upper() + text[1:] + "."
        chunks.append(Chunk(doc=f"doc{i // 20:05d}.txt", index=i % 20, start=0, end=len(text), text=text,
                            n_tokens=len(text_words)))
    vectors = _unit(rng.standard_normal((n, DIMENSIONS), dtype=np.float32))
    return chunks, vectors, list(words)


def synthetic_queries(chunks: list, vectors: np.ndarray, count: int, seed: int) -> list[tuple[str, np.ndarray]]:
    """5-10 words of a random chunk each; the query vector is near that chunk's vector."""
    rng = np.random.default_rng(seed + 1)
    out = []
    for i in rng.integers(0, len(chunks), size=count):
        chunk_words = chunks[i].text.rstrip(".").split()
        picked = rng.choice(chunk_words, size=int(rng.integers(5, 11)), replace=False)
        qv = _unit(vectors[i] + 0.08 * rng.standard_normal(DIMENSIONS, dtype=np.float32))
        out.append((" ".join(picked).lower(), qv.astype(np.float32)))
    return out


@contextlib.contextmanager
def _timed(owner, attribute: str, seconds: list[float]) -> Iterator[None]:
    """Times every call of owner.attribute, so one real build yields its parts' times."""
    original = getattr(owner, attribute)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - started)

    setattr(owner, attribute, wrapper)
    try:
        yield
    finally:
        setattr(owner, attribute, original)


def _ms(samples: list[float]) -> dict[str, float]:
    a = np.array(samples) * 1000
    return {"p50": round(float(np.percentile(a, 50)), 2), "p95": round(float(np.percentile(a, 95)), 2),
            "mean": round(float(a.mean()), 2)}


def measure(n: int, *, queries: int, seed: int) -> dict:
    """One corpus size, measured in this process."""
    import core.retrieval as retrieval
    from core.retrieval import RetrievalConfig, Retriever

    started = time.perf_counter()
    chunks, vectors, _ = synthetic_corpus(n, seed)
    data_s = time.perf_counter() - started
    qs = synthetic_queries(chunks, vectors, queries, seed)
    data_rss = _peak_rss_mb()

    bm25_s: list[float] = []
    reindex_s: list[float] = []
    with _timed(retrieval, "BM25", bm25_s), _timed(Retriever, "_reindex", reindex_s):
        started = time.perf_counter()
        retriever = Retriever.from_vectors(chunks, vectors, embedder=FakeEmbedder())
        build_s = time.perf_counter() - started

    latency = {}
    for method in METHODS:
        config = RetrievalConfig(method=method, k=5)
        for text, qv in qs[:5]:  # warm-up: first-call costs are not per-query costs
            retriever.search(text, config=config, query_vector=qv)
        samples = []
        for text, qv in qs:
            t = time.perf_counter()
            retriever.search(text, config=config, query_vector=qv)
            samples.append(time.perf_counter() - t)
        latency[method] = _ms(samples)

    words = sum(c.n_tokens for c in chunks)
    return {
        "chunks": n,
        "bm25_backend": f"bm25s {_version('bm25s')}" if "bm25s" in sys.modules else "hand-written (numpy postings)",
        "words_per_chunk": round(words / n, 1),
        "build_s": {
            "total": round(build_s, 3),  # Retriever.from_vectors: store + BM25 + id map
            "bm25": round(sum(bm25_s), 3),
            "store": round(build_s - sum(reindex_s), 3),  # vector store add
            "id_map": round(sum(reindex_s) - sum(bm25_s), 3),  # rest of Retriever._reindex
        },
        "synthetic_data_s": round(data_s, 3),
        "query_ms": latency,
        "queries": len(qs),
        "peak_rss_mb": _peak_rss_mb(),
        "faiss_threads": _faiss_threads(),  # as the store left it, during the queries
        "peak_rss_mb_before_build": data_rss,  # the synthetic chunks, vectors and queries alone
    }


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def _faiss_threads() -> int:
    import faiss

    return faiss.omp_get_max_threads()


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # child: one size, in-process
    args = parser.parse_args()

    if args.one:
        print(json.dumps(measure(args.chunks[0], queries=args.queries, seed=args.seed)))
        return

    load = os.getloadavg()
    sizes = []
    for n in args.chunks:
        out = subprocess.run([sys.executable, "-m", "bench.scale", "--one", "--chunks", str(n),
                              "--queries", str(args.queries), "--seed", str(args.seed)],
                             check=True, capture_output=True, text=True)
        sizes.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(json.dumps({
        "bm25_backend": sizes[0]["bm25_backend"] if sizes else None,
        "sizes": sizes,
        "machine": {
            "cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "faiss": _version("faiss-cpu"),
            "load_avg_at_start": [round(x, 2) for x in load],
            "note": "shared machine: other jobs (tests, benchmarks) may have been running; synthetic data",
        },
    }, indent=2))


if __name__ == "__main__":
    main()
