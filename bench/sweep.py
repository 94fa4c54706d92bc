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
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench._common import add_corpus_args, load_corpus
from bench._strategy import build
from core import model
from core.chunking import ChunkConfig, split_corpus
from core.documents import Document
from core.embedding import default_embedder
from core.evaluation import evaluate, run_intervals
from core.stats import questions_needed, rows_stats
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
    # Strategy axes (issue 13), comma-separated; defaults are the app's.
    parser.add_argument("--headers", default=None, help="contextual headers: off, on or off,on (default: the app's)")
    parser.add_argument("--fusions", default=None, help="e.g. rrf,zscore,minmax (default: the app's)")
    parser.add_argument("--dense-weights", default=None, help="e.g. 0.3,0.5,0.7 (default: the app's)")
    parser.add_argument("--parents", default="none", help="e.g. none,section,window:1")
    args = parser.parse_args()

    docs, qs = load_corpus(args)
    corpus_chars = sum(len(d.text) for d in docs)
    if args.pad_kb:
        docs += distractors(args.pad_kb * 1024, corpus_chars)
        corpus_chars = sum(len(d.text) for d in docs)
    axes: dict = {"parents": tuple(args.parents.split(","))}
    if args.headers:
        axes["headers"] = tuple(h.strip() == "on" for h in args.headers.split(","))
    if args.fusions:
        axes["fusions"] = tuple(args.fusions.split(","))
    if args.dense_weights:
        axes["dense_weights"] = tuple(float(w) for w in args.dense_weights.split(","))
    try:
        grid = SweepGrid(splitters=tuple(args.splitter.split(",")), sizes=args.sizes, overlaps=args.overlaps,
                         ks=args.ks, methods=(args.method,), unit=args.unit, **axes)
    except ValueError as exc:
        parser.error(str(exc))
    by_name = {d.name: d for d in docs}

    with tempfile.TemporaryDirectory() as tmp:  # a cold vector cache: nothing is free
        embedder = default_embedder(backend=args.backend, cache_dir=Path(tmp))
        embedder.embed(["warm-up"])
        fast = run_sweep(docs, qs.questions, grid=grid, mode="pooled", embedder=embedder)
        # How sure: each chunking's probability of being best at k_ref and whether it is tied with the best.
        k_ref = max([k for k in grid.ks if k <= 5] or [min(grid.ks)])
        ranked = best_first([r for r in fast.rows if r.k == k_ref], "hit")
        sw = rows_stats(ranked, "hit")
        at_ref = {id(r): i for i, r in enumerate(ranked)}
        for row in fast.rows:
            line = {k: v for k, v in row.as_dict().items() if k != "per_question"}
            line["prompt_tokens"] = round(float(np.mean([q.scores.tokens for q in row.per_question])), 1) if row.per_question else None
            if sw is not None and id(row) in at_ref:
                i = at_ref[id(row)]
                line.update(hit_ci=sw.intervals[i].as_list(), prob_best=round(sw.prob_best[i], 4), tied_with_best=sw.tied[i])
            print(json.dumps(line))

        # Exact confirmation of the best chunkings at k=5 (or the largest k below it).
        confirmed = []
        bank = None  # built once if a confirmed chunking is semantic (it reads sentence vectors)
        for row in ranked[: args.confirm]:
            config = row.chunk_config()
            chunks, retriever, bank = build(docs, config, embedder=embedder, mode="exact", bank=bank)
            exact_run = evaluate(retriever, qs.questions, by_name, config=replace(row.retrieval_config(), k=k_ref),
                                 drill_down=False)
            exact, cis = exact_run.summary, run_intervals(exact_run)
            confirmed.append({"chunking": config.label(), f"pooled_hit@{k_ref}": round(row.hit, 4),
                              f"exact_hit@{k_ref}": round(exact.hit, 4),
                              f"exact_hit@{k_ref}_ci": cis["hit"].as_list() if cis else None,
                              "diff_points": round(100 * (row.hit - exact.hit), 1),
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
        "stats": None if sw is None else {
            "metric": f"hit@{k_ref}", "resampling": sw.note,
            "best": sw.labels[sw.best], "best_hit_ci": sw.intervals[sw.best].as_list(),
            "prob_best": {sw.labels[i]: round(p, 4) for i, p in enumerate(sw.prob_best)},
            "tied_with_best": [sw.labels[i] for i, t in enumerate(sw.tied) if t],
            "recommended": sw.labels[sw.recommended], "recommendation": sw.recommendation(),
            "best_vs_runner_up": sw.runner_up.verdict() if sw.runner_up else None,
            "questions_needed_for_3_points": questions_needed(sw.runner_up) if sw.runner_up else None,
        },
        "default_is_recommended": recommended == default.label(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
