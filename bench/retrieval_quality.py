"""Retrieval quality of one configuration: one JSON line per method.

    python -m bench.retrieval_quality --docs DIR --questions FILE [--splitter S] [--unit chars|tokens]
        [--chunk-size N] [--overlap N] [--k K] [--method dense|bm25|hybrid|all] [--mode exact|pooled]
        [--headers|--no-headers] [--parent none|section|window:N] [--fusion rrf|score|zscore|minmax]
        [--dense-weight W] [--breakpoint T --breakpoint-amount X --min-size N]

Every default is the app's (ChunkConfig(), RetrievalConfig()).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench._common import add_corpus_args, load_corpus
from bench._strategy import add_chunking_args, add_retrieval_args, build, chunk_config, retrieval_config
from core.embedding import default_embedder
from core.evaluation import ALL_METRICS, evaluate, run_intervals
from core.retrieval import METHODS
from core.stats import resampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_args(parser)
    add_chunking_args(parser)
    add_retrieval_args(parser)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--method", default="all", choices=[*METHODS, "all"])
    parser.add_argument("--mode", default="exact", choices=["exact", "pooled"])
    parser.add_argument("--cache", default=None, help="vector cache folder (default: a fresh temporary one, i.e. cold)")
    args = parser.parse_args()

    docs, qs = load_corpus(args)
    try:
        config = chunk_config(args)
        retrieval_config(args, method="hybrid", k=args.k)  # bad settings fail here, before any embedding
    except ValueError as exc:
        parser.error(str(exc))
    with tempfile.TemporaryDirectory() as tmp:
        embedder = default_embedder(backend=args.backend, cache_dir=Path(args.cache or tmp))
        started = time.perf_counter()
        chunks, retriever, _ = build(docs, config, embedder=embedder, mode=args.mode)
        index_s = time.perf_counter() - started
        by_name = {d.name: d for d in docs}
        methods = list(METHODS) if args.method == "all" else [args.method]
        for method in methods:
            rc = retrieval_config(args, method=method, k=args.k)
            run = evaluate(retriever, qs.questions, by_name, config=rc, drill_down=False)
            # Every metric with its 95% interval (questions resampled by source document): "hit_ci": [lo, hi].
            cis = run_intervals(run)
            quality: dict[str, float | list[float]] = {}
            for m in ALL_METRICS:
                name = "prompt_tokens" if m == "tokens" else m
                quality[name] = round(run.summary.get(m), 1 if m == "tokens" else 4)
                if m in cis:
                    quality[f"{name}_ci"] = cis[m].as_list(1 if m == "tokens" else 4)
            print(json.dumps({
                "method": method, "k": args.k, **quality,
                "ci_method": (resampler(run.sources()).note if run.results else "no questions"),
                "chunks": len(chunks), "questions": len(run.results), "skipped": len(run.skipped),
                "index_s": round(index_s, 3), "query_ms": round(run.query_ms, 2),
                "mode": args.mode, "chunking": config.label(),
                "fusion": rc.fusion_used(), "dense_weight": rc.dense_weight, "parent": rc.parent, "backend": args.backend,
            }))


if __name__ == "__main__":
    main()
