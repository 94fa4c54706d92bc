"""Query latency after the index is built: retrieval, extractive answer, grounding; cold and warm.

    python -m bench.latency --docs sample_docs --questions sample_docs/questions.jsonl [--pad-kb 350]

Builds the app's default index (what the Index & Retrieval page builds: chunk vectors and the
corpus's sentence vectors) over a fresh vector cache, then asks every question twice. The cold pass is the first time each question is asked; the warm
pass asks them again, as a user changing K or the method would. Per question it times retrieval,
the extractive answer and the grounding check, as the page computes them, and prints JSON with
p50/p95 of each, plus the model's forward passes per question (a pass per sentence would show here).
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import add_corpus_args, load_corpus
from bench.sweep import distractors
from core.chunking import ChunkConfig, split_corpus
from core.embedding import default_embedder
from core.retrieval import RetrievalConfig, Retriever
from core.sentences import SentenceBank


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict:
    return {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 95), 1),
            "max": round(max(values), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_args(parser)
    parser.add_argument("--pad-kb", type=int, default=0, help="add distractor text up to this corpus size")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--limit", type=int, default=0, help="ask only the first N questions")
    args = parser.parse_args(argv)
    docs, qs = load_corpus(args)
    if args.pad_kb:
        docs += distractors(args.pad_kb * 1024, sum(len(d.text) for d in docs))
    questions = [q.question for q in qs.questions if q.source in {d.name for d in docs}]
    if args.limit:
        questions = questions[: args.limit]
    config = RetrievalConfig(k=args.k)
    from core.answer import check_grounding, extractive_answer

    with tempfile.TemporaryDirectory() as tmp:
        embedder = default_embedder(backend=args.backend, cache_dir=Path(tmp))
        started = time.perf_counter()
        chunks = split_corpus(docs, config=ChunkConfig())
        retriever = Retriever.build(chunks, embedder=embedder)
        chunks_s = time.perf_counter() - started
        bank = SentenceBank(docs, embedder=embedder)
        index_s = time.perf_counter() - started
        passes = _passes(embedder)
        runs: dict[str, dict[str, Any]] = {}
        for label in ("cold", "warm"):
            times: dict[str, list[float]] = {"retrieval": [], "answer": [], "grounding": [],
                                             "answer+grounding": [], "total": []}
            before = _passes(embedder)
            for q in questions:
                t0 = time.perf_counter()
                qv = retriever.embed_queries([q])[0]  # as the page does: once, shared with the answer
                hits = retriever.search(q, config=config, query_vector=qv)
                t1 = time.perf_counter()
                answer = extractive_answer(q, hits, sentences=bank, query_vector=qv, idf=retriever.bm25.idf)
                t2 = time.perf_counter()
                check_grounding(answer, hits, sentences=bank)
                t3 = time.perf_counter()
                for name, ms in (("retrieval", t1 - t0), ("answer", t2 - t1), ("grounding", t3 - t2),
                                 ("answer+grounding", t3 - t1), ("total", t3 - t0)):
                    times[name].append(ms * 1000)
            runs[label] = {name: summary(v) for name, v in times.items()}
            runs[label]["forward_passes_per_question"] = round((_passes(embedder) - before) / len(questions), 2)
    out = {
        "corpus": {"documents": len(docs), "kb": round(sum(len(d.text) for d in docs) / 1024), "chunks": len(chunks)},
        "questions": len(questions),
        "backend": embedder.model_id,
        "index_s": round(index_s, 2),
        "index_chunks_s": round(chunks_s, 2),
        "sentences": len(bank),
        "index_forward_passes": passes,
        **runs,
    }
    print(json.dumps(out, indent=2))
    return 0


def _passes(embedder) -> int:
    inner = getattr(embedder, "inner", embedder)
    return int(getattr(inner, "passes", 0))


if __name__ == "__main__":
    raise SystemExit(main())
