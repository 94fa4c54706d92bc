"""Retrieval quality of one configuration: one JSON line per method.

    python -m bench.retrieval_quality --docs DIR --questions FILE [--splitter S] [--unit chars|tokens]
        [--chunk-size N] [--overlap N] [--k K] [--method dense|bm25|hybrid|all] [--mode exact|pooled]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench._common import add_corpus_args, load_corpus
from core.chunking import ChunkConfig, split_corpus
from core.embedding import default_embedder
from core.evaluation import evaluate
from core.retrieval import METHODS, RetrievalConfig, Retriever
from core.sentences import SentenceBank


def main() -> None:
    defaults = ChunkConfig()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_args(parser)
    parser.add_argument("--splitter", default=defaults.splitter)
    parser.add_argument("--unit", default=defaults.unit, choices=["tokens", "chars"])
    parser.add_argument("--chunk-size", type=int, default=defaults.size)
    parser.add_argument("--overlap", type=int, default=defaults.overlap)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--method", default="all", choices=[*METHODS, "all"])
    parser.add_argument("--mode", default="exact", choices=["exact", "pooled"])
    parser.add_argument("--cache", default=None, help="vector cache folder (default: a fresh temporary one, i.e. cold)")
    args = parser.parse_args()

    docs, qs = load_corpus(args)
    config = ChunkConfig(size=args.chunk_size, overlap=args.overlap, splitter=args.splitter, unit=args.unit)
    with tempfile.TemporaryDirectory() as tmp:
        embedder = default_embedder(backend=args.backend, cache_dir=Path(args.cache or tmp))
        started = time.perf_counter()
        chunks = split_corpus(docs, config=config)
        if args.mode == "pooled":
            vectors = SentenceBank(docs, embedder=embedder).pooled(chunks)
        else:
            vectors = embedder.embed([c.text for c in chunks])
        retriever = Retriever.from_vectors(chunks, vectors, embedder=embedder)
        index_s = time.perf_counter() - started
        by_name = {d.name: d for d in docs}
        methods = list(METHODS) if args.method == "all" else [args.method]
        for method in methods:
            run = evaluate(retriever, qs.questions, by_name, config=RetrievalConfig(method=method, k=args.k),
                           drill_down=False)
            print(json.dumps({
                "method": method, "k": args.k, "hit": round(run.summary.hit, 4), "mrr": round(run.summary.mrr, 4),
                "recall": round(run.summary.recall, 4), "ndcg": round(run.summary.ndcg, 4),
                "chunks": len(chunks), "questions": len(run.results), "skipped": len(run.skipped),
                "index_s": round(index_s, 3), "query_ms": round(run.query_ms, 2),
                "mode": args.mode, "chunking": config.label(), "backend": args.backend,
            }))


if __name__ == "__main__":
    main()
