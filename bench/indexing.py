"""Indexing speed: this project's exact indexing vs LangChain's HuggingFaceEmbeddings + FAISS.

Same chunks, same model files, same machine, one process; runs are interleaved and repeated and
the best time of each is kept, so background noise hurts every contender alike. Contenders: the
project's fp32 and bf16 backends (chunk index only, as LangChain builds), and the app's whole
first index (bf16 chunks plus the corpus's sentence vectors for answers). Also: a re-index of the
unchanged corpus (vector cache warm), the model's load time (which the app pays in the background
at start-up, not in the first build), hit@5 of each backend on the sample questions, and the worst
cosine between a text's vector embedded alone and in a batch. Prints one JSON object.

    python -m bench.indexing [--docs sample_docs] [--questions sample_docs/questions.jsonl] [--repeats 2]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from core import model
from core.chunking import ChunkConfig, split_corpus
from core.documents import load_directory
from core.embedding import CachedEmbedder, SentenceTransformerEmbedder, VectorCache
from core.evaluation import evaluate, load_questions
from core.retrieval import RetrievalConfig, Retriever
from core.sentences import SentenceBank, sentence_spans


def _timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _first_index(chunks, docs, embedder) -> Retriever:
    """What the app builds before the first question: the chunk index and the sentence vectors."""
    retriever = Retriever.build(chunks, embedder=embedder)
    SentenceBank(docs, embedder=embedder)
    return retriever


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

    model.go_offline()
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings

    lc_embeddings = HuggingFaceEmbeddings(
        model_name=str(model.model_path()), model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True},
    )
    fp32 = SentenceTransformerEmbedder(backend="torch")
    load_s, bf16 = _timed(lambda: SentenceTransformerEmbedder(backend="torch-bf16"))
    lc_embeddings.embed_documents(texts[:8]), fp32.embed(texts[:8]), bf16.embed(texts[:8])  # warm-up

    best: dict[str, float] = {}
    retrievers: dict[str, Retriever] = {}
    with tempfile.TemporaryDirectory() as tmp:
        def cached(inner: SentenceTransformerEmbedder, name: str) -> CachedEmbedder:
            return CachedEmbedder(inner, VectorCache(Path(tmp) / f"{name}.sqlite"))

        for rep in range(args.repeats):
            contenders = {
                "langchain": lambda: FAISS.from_texts(texts, lc_embeddings),
                # A fresh cache each time: this is the cold, first-index cost.
                "project_fp32": lambda rep=rep: Retriever.build(chunks, embedder=cached(fp32, f"fp32-{rep}")),
                "project_bf16": lambda rep=rep: Retriever.build(chunks, embedder=cached(bf16, f"bf16-{rep}")),
                "app_first_index": lambda rep=rep: _first_index(chunks, docs, cached(bf16, f"first-{rep}")),
            }
            for name, build in contenders.items():
                seconds, result = _timed(build)
                best[name] = min(best.get(name, float("inf")), seconds)
                if name.startswith("project"):
                    retrievers[name] = result
        # Re-index of the unchanged corpus: a new embedder object over the warm cache file,
        # as after an app restart.
        warm = cached(bf16, "first-0")
        best["app_reindex"], (_, embedded) = _timed(lambda: warm.embed_counted(texts))
        assert embedded == 0, "re-index should embed nothing"

        by_name = {d.name: d for d in docs}
        quality: dict[str, float] = {}
        qpath = Path(args.questions)
        if qpath.exists():
            questions = load_questions(qpath.read_bytes(), qpath.name).questions
            for name, retriever in retrievers.items():
                for method in ("dense", "hybrid"):
                    run = evaluate(retriever, questions, by_name, config=RetrievalConfig(method=method, k=5), drill_down=False)
                    quality[f"{name}_{method}_hit@5"] = round(run.summary.hit, 4)
        v32, v16 = retrievers["project_fp32"].vectors, retrievers["project_bf16"].vectors
        assert v32 is not None and v16 is not None
        cos = (v32 * v16).sum(axis=1)
        quality["bf16_vs_fp32_mean_cosine"] = round(float(cos.mean()), 5)
        quality["bf16_vs_fp32_min_cosine"] = round(float(cos.min()), 5)
        sentences = [d.text[a:b] for d in docs for a, b in sentence_spans(d.text)][:200] + texts[:20]
        for name, embedder in (("fp32", fp32), ("bf16", bf16)):
            together = embedder.embed(sentences)
            alone = [embedder.embed([t])[0] for t in sentences]
            quality[f"{name}_batched_vs_alone_worst_cosine"] = round(
                float(min(float(a @ b) for a, b in zip(together, alone))), 7)

    def rate(name: str) -> dict:
        s = best[name]
        return {"seconds": round(s, 3), "chunks_per_s": round(len(chunks) / s, 1), "tokens_per_s": round(tokens / s, 1)}

    print(json.dumps({
        "benchmark": "indexing",
        "chunks": len(chunks),
        "tokens_embedded": tokens,
        "chunking": config.label(),
        "repeats": args.repeats,
        "model_load_s": round(load_s, 2),
        "langchain_hf_faiss": rate("langchain"),
        "project_exact_fp32": rate("project_fp32"),
        "project_exact_bf16": rate("project_bf16"),
        "app_first_index_with_sentences": rate("app_first_index"),
        "app_reindex_unchanged": rate("app_reindex"),
        "speedup_fp32_vs_langchain": round(best["langchain"] / best["project_fp32"], 3),
        "speedup_bf16_vs_langchain": round(best["langchain"] / best["project_bf16"], 3),
        "speedup_first_index_vs_langchain": round(best["langchain"] / best["app_first_index"], 3),
        "reindex_speedup_vs_first": round(best["app_first_index"] / best["app_reindex"], 1),
        **quality,
    }, indent=2))


if __name__ == "__main__":
    main()
