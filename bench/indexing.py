"""Indexing speed: this project's exact indexing vs LangChain's HuggingFaceEmbeddings + FAISS.

Same chunks, same model files, same machine, one process; runs are interleaved and repeated and
the best time of each is kept, so background noise hurts every contender alike. Also measures a
re-index of the unchanged corpus (vector cache warm) and hit@5 of fp32 vs int8 vectors on the
sample questions. Prints one JSON object.

    python -m bench.indexing [--docs sample_docs] [--questions sample_docs/questions.jsonl] [--repeats 2]
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core import model  # noqa: E402  (sets the offline switches before HF imports)
from core.chunking import ChunkConfig, split_corpus  # noqa: E402
from core.documents import load_directory  # noqa: E402
from core.embedding import CachedEmbedder, SentenceTransformerEmbedder, VectorCache, for_bulk  # noqa: E402
from core.evaluation import evaluate, load_questions  # noqa: E402
from core.retrieval import RetrievalConfig, Retriever  # noqa: E402


def _timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", default="sample_docs")
    parser.add_argument("--questions", default="sample_docs/questions.jsonl")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    docs = list(load_directory(args.docs).documents)
    config = ChunkConfig()
    chunks = split_corpus(docs, config=config)
    texts = [c.text for c in chunks]
    tokens = sum(min(c.n_tokens, model.MAX_TOKENS) for c in chunks)

    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings

    lc_embeddings = HuggingFaceEmbeddings(
        model_name=str(model.model_path()), model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True},
    )
    fp32 = SentenceTransformerEmbedder(backend="torch")
    int8 = SentenceTransformerEmbedder(backend="torch-int8")
    lc_embeddings.embed_documents(texts[:8]), fp32.embed(texts[:8]), int8.embed(texts[:8])  # warm-up

    best: dict[str, float] = {}
    retrievers: dict[str, Retriever] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            contenders = {
                "langchain": lambda: FAISS.from_texts(texts, lc_embeddings),
                # A fresh cache each time: this is the cold, first-index cost.
                "project_fp32": lambda rep=rep: Retriever.build(chunks, embedder=CachedEmbedder(fp32, VectorCache(Path(tmp) / f"fp32-{rep}.sqlite"))),
                "project_int8": lambda rep=rep: Retriever.build(chunks, embedder=CachedEmbedder(int8, VectorCache(Path(tmp) / f"int8-{rep}.sqlite"))),
            }
            for name, build in contenders.items():
                seconds, result = _timed(build)
                best[name] = min(best.get(name, float("inf")), seconds)
                if name != "langchain":
                    retrievers[name] = result
        # Re-index of the unchanged corpus: a new embedder object over the warm cache file,
        # as after an app restart.
        warm = CachedEmbedder(fp32, VectorCache(Path(tmp) / "fp32-0.sqlite"))
        best["project_fp32_reindex"], _ = _timed(lambda: Retriever.build(chunks, embedder=warm))
        assert for_bulk(warm).last_misses == 0, "re-index should embed nothing"

        by_name = {d.name: d for d in docs}
        quality = {}
        qpath = Path(args.questions)
        if qpath.exists():
            questions = load_questions(qpath.read_bytes(), qpath.name).questions
            for name, retriever in retrievers.items():
                for method in ("dense", "hybrid"):
                    run = evaluate(retriever, questions, by_name, config=RetrievalConfig(method=method, k=5), drill_down=False)
                    quality[f"{name}_{method}_hit@5"] = round(run.summary.hit, 4)
            cos = (retrievers["project_fp32"].vectors * retrievers["project_int8"].vectors).sum(axis=1)
            quality["int8_vs_fp32_mean_cosine"] = round(float(cos.mean()), 4)
            quality["int8_vs_fp32_min_cosine"] = round(float(cos.min()), 4)


    def rate(name: str) -> dict:
        s = best[name]
        return {"seconds": round(s, 3), "chunks_per_s": round(len(chunks) / s, 1), "tokens_per_s": round(tokens / s, 1)}

    print(json.dumps({
        "benchmark": "indexing",
        "chunks": len(chunks),
        "tokens_embedded": tokens,
        "chunking": config.label(),
        "repeats": args.repeats,
        "langchain_hf_faiss": rate("langchain"),
        "project_exact_fp32": rate("project_fp32"),
        "project_exact_int8": rate("project_int8"),
        "project_reindex_unchanged": rate("project_fp32_reindex"),
        "speedup_fp32_vs_langchain": round(best["langchain"] / best["project_fp32"], 3),
        "speedup_int8_vs_langchain": round(best["langchain"] / best["project_int8"], 3),
        "reindex_speedup_vs_first": round(best["project_fp32"] / best["project_fp32_reindex"], 1),
        **quality,
    }, indent=2))


if __name__ == "__main__":
    main()
