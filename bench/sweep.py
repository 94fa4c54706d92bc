"""A chunking grid in fast (pooled) mode vs re-embedding every configuration with LangChain.

    python -m bench.sweep --docs DIR --questions FILE [--sizes 100,200,300,400] [--overlaps 0,25,50]
        [--ks 1,3,5,10] [--method hybrid] [--splitter recursive] [--pad-kb 350] [--baseline-configs 2]
        [--confirm 3]

Prints one JSON line per grid point, then a summary line: total time of the fast grid, the
LangChain baseline measured on --baseline-configs chunkings and extrapolated to the grid, the
speed-up, the best N chunkings confirmed exactly (pooled vs exact hit@5), and whether the app's
default configuration is the one this sweep recommends.

--pad-kb adds plain-text distractor documents (Python's own stdlib documentation, rendered by
pydoc: offline and the same on every machine with this Python) until the corpus reaches that
size, so the timing is measured at a realistic scale while the questions stay answerable.
"""
from __future__ import annotations

import argparse
import json
import pydoc
import tempfile
import time
from pathlib import Path

from bench._common import add_corpus_args, load_corpus
from core import model
from core.chunking import ChunkConfig, split_corpus
from core.documents import Document
from core.embedding import default_embedder
from core.evaluation import evaluate
from core.retrieval import RetrievalConfig, Retriever
from core.sweep import SweepGrid, best_first, run_sweep

PAD_MODULES = ("argparse", "collections", "json", "pathlib", "subprocess", "threading", "logging",
               "datetime", "decimal", "email.message", "http.client", "sqlite3", "unittest", "typing",
               "asyncio.tasks", "zipfile", "tarfile", "csv", "random", "statistics", "string", "re")


def distractors(target_bytes: int, existing: int) -> list[Document]:
    docs, total = [], existing
    for name in PAD_MODULES:
        if total >= target_bytes:
            break
        text = pydoc.render_doc(name, renderer=pydoc.plaintext)[: target_bytes - total]  # type: ignore[attr-defined]  # typeshed's pydoc stub omits plaintext
        docs.append(Document(name=f"pydoc_{name}.txt", text=text, kind="text"))
        total += len(text)
    return docs


def ints(value: str) -> tuple[int, ...]:
    return tuple(int(v) for v in value.split(","))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_args(parser)
    parser.add_argument("--splitter", default="recursive")
    parser.add_argument("--unit", default="tokens", choices=["tokens", "chars"])
    parser.add_argument("--sizes", type=ints, default=(100, 200, 300, 400))
    parser.add_argument("--overlaps", type=ints, default=(0, 25, 50))
    parser.add_argument("--ks", type=ints, default=(1, 3, 5, 10))
    parser.add_argument("--method", default="hybrid")
    parser.add_argument("--pad-kb", type=int, default=0)
    parser.add_argument("--baseline-configs", type=int, default=2)
    parser.add_argument("--confirm", type=int, default=3)
    args = parser.parse_args()

    docs, qs = load_corpus(args)
    corpus_chars = sum(len(d.text) for d in docs)
    if args.pad_kb:
        docs += distractors(args.pad_kb * 1024, corpus_chars)
        corpus_chars = sum(len(d.text) for d in docs)
    grid = SweepGrid(splitters=(args.splitter,), sizes=args.sizes, overlaps=args.overlaps, ks=args.ks,
                     methods=(args.method,), unit=args.unit)
    by_name = {d.name: d for d in docs}

    with tempfile.TemporaryDirectory() as tmp:  # a cold vector cache: nothing is free
        embedder = default_embedder(backend=args.backend, cache_dir=Path(tmp))
        embedder.embed(["warm-up"])
        fast = run_sweep(docs, qs.questions, grid=grid, mode="pooled", embedder=embedder)
        for row in fast.rows:
            print(json.dumps(row.as_dict()))

        # Exact confirmation of the best chunkings at k=5 (or the largest k below it).
        k_ref = max([k for k in grid.ks if k <= 5] or [min(grid.ks)])
        ranked = best_first([r for r in fast.rows if r.k == k_ref], "hit")
        confirmed = []
        for row in ranked[: args.confirm]:
            config = row.chunk_config()
            chunks = split_corpus(docs, config=config)
            retriever = Retriever.build(chunks, embedder=embedder)
            exact = evaluate(retriever, qs.questions, by_name, config=RetrievalConfig(method=args.method, k=k_ref),
                             drill_down=False).summary
            confirmed.append({"chunking": config.label(), f"pooled_hit@{k_ref}": round(row.hit, 4),
                              f"exact_hit@{k_ref}": round(exact.hit, 4), "diff_points": round(100 * (row.hit - exact.hit), 1),
                              "pooled_mrr": round(row.mrr, 4), "exact_mrr": round(exact.mrr, 4)})

    # Baseline: what a user does without fast mode: re-chunk, re-embed with LangChain's
    # HuggingFaceEmbeddings, build a FAISS store and run the questions, per configuration.
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings

    lc = HuggingFaceEmbeddings(model_name=str(model.model_path()), model_kwargs={"device": "cpu"},
                               encode_kwargs={"normalize_embeddings": True})
    lc.embed_query("warm-up")
    configs = grid.chunk_configs()
    picks = [configs[i * (len(configs) - 1) // max(args.baseline_configs - 1, 1)] for i in range(args.baseline_configs)]
    per_config = []
    for config in picks:
        started = time.perf_counter()
        texts = [c.text for c in split_corpus(docs, config=config)]
        store = FAISS.from_texts(texts, lc)
        for q in qs.questions:
            store.similarity_search(q.question, k=max(grid.ks))
        per_config.append(time.perf_counter() - started)
    baseline_total = sum(per_config) / len(per_config) * len(configs)

    # The recommendation rests on exact numbers where we have them: fast mode ranks, exact decides.
    exact_best = max(confirmed, key=lambda c: (c[f"exact_hit@{k_ref}"], c["exact_mrr"]), default=None)
    if exact_best:
        recommended = exact_best["chunking"]
    else:
        fast_best = fast.best("hit", k=k_ref)
        if fast_best is None:
            raise SystemExit(f"No chunking was scored at k={k_ref}, so there is nothing to recommend.")
        recommended = fast_best.chunk_config().label()
    default = ChunkConfig()
    summary = {
        "summary": True,
        "corpus_kb": round(corpus_chars / 1024, 1), "documents": len(docs), "questions": len(qs.questions),
        "grid_points": len(fast.rows), "chunkings": len(configs), "method": args.method,
        "fast_total_s": round(fast.seconds, 2), "fast_sentence_embedding_s": round(fast.prep_s, 2),
        "baseline_configs_measured": [c.label() for c in picks],
        "baseline_per_config_s": [round(s, 2) for s in per_config],
        "baseline_extrapolated_s": round(baseline_total, 1),
        "speedup": round(baseline_total / fast.seconds, 2),
        "confirmed": confirmed,
        "recommended": recommended,
        "recommended_by": f"exact hit@{k_ref} among the confirmed" if exact_best else f"pooled hit@{k_ref}",
        "app_default": default.label(),
        "default_is_recommended": recommended == default.label(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
