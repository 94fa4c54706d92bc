"""How useful and how grounded the extractive answer is on a question set.

    python -m bench.answer_quality --docs sample_docs --questions sample_docs/questions.jsonl --k 5

Chunks with the default ChunkConfig(), retrieves with RetrievalConfig(k=K) (hybrid), builds the
extractive answer for every question and prints JSON:

- answer_contains_gold: share of questions whose answer text contains one of the gold answers
  (case-insensitive, whitespace-normalised);
- gold_retrieved: share whose gold passage is among the top-K (core.evaluation.is_relevant);
- answer_contains_gold_when_retrieved: the first share among those only: what the answer step
  loses on its own, separated from what retrieval already lost;
- flagged_share: share of answers in which the grounding check flags at least one sentence
  (quoted sentences should never be flagged: a non-zero value is a bug in the check);
- mean milliseconds of the answer and of the grounding check, reading the corpus's sentence
  vectors as the app does (bench.latency measures latency properly, cold and warm, p50/p95);
- same_answer_without_bank: share of answers that come out identical when the sentence vectors are
  embedded from the chunks on the spot instead of read from the corpus's bank.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from core.answer import ExtractiveConfig, check_grounding, extractive_answer
from core.chunking import ChunkConfig, split_corpus
from core.documents import load_directory
from core.embedding import default_embedder
from core.evaluation import Question, is_relevant, load_questions
from core.retrieval import RetrievalConfig, Retriever
from core.sentences import ChunkSentences, SentenceBank


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def contains_gold(answer_text: str, question: Question) -> bool:
    text = _norm(answer_text)
    return any(_norm(a) in text for a in question.answers if a.strip())


def run(docs_dir: Path, questions_file: Path, *, k: int, config: ExtractiveConfig | None = None) -> dict:
    config = config or ExtractiveConfig()
    report = load_directory(docs_dir)
    docs = {d.name: d for d in report.documents}
    qset = load_questions(questions_file.read_bytes(), questions_file.name)
    questions = [q for q in qset.questions if q.source in docs]
    chunks = split_corpus(docs.values(), config=ChunkConfig())
    embedder = default_embedder()
    retriever = Retriever.build(chunks, embedder=embedder)
    bank = SentenceBank(list(docs.values()), embedder=embedder)  # as the app's index build does
    rconfig = RetrievalConfig(k=k)
    query_vectors = retriever.embed_queries([q.question for q in questions])

    rows: list[dict[str, Any]] = []
    for q, qv in zip(questions, query_vectors):
        hits = retriever.search(q.question, config=rconfig, query_vector=qv)
        started = time.perf_counter()
        answer = extractive_answer(q.question, hits, sentences=bank, query_vector=qv, idf=retriever.bm25.idf,
                                   config=config)
        answer_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        grounding = check_grounding(answer, hits, sentences=bank)
        grounding_ms = (time.perf_counter() - started) * 1000
        alone = extractive_answer(q.question, hits, sentences=ChunkSentences(embedder), idf=retriever.bm25.idf,
                                  config=config)
        rows.append(
            {
                "question": q.question,
                "retrieved": any(is_relevant(h.chunk, q, docs) for h in hits),
                "contains": contains_gold(answer.text, q),
                "flagged": bool(grounding.flagged),
                "sentences": len(answer.sentences),
                "answer_ms": answer_ms,
                "grounding_ms": grounding_ms,
                "same_without_bank": alone.text == answer.text,
                "answer": answer.text,
                "gold": list(q.answers),
            }
        )

    def share(values: list[bool]) -> float | None:
        return round(sum(values) / len(values), 3) if values else None

    retrieved = [r for r in rows if r["retrieved"]]
    return {
        "docs": str(docs_dir),
        "questions": len(rows),
        "skipped_no_source": len(qset.questions) - len(questions),
        "chunking": ChunkConfig().label(),
        "retrieval": f"{rconfig.method}, k={k}",
        "answer": "extractive",
        "answer_contains_gold": share([r["contains"] for r in rows]),
        "gold_retrieved": share([r["retrieved"] for r in rows]),
        "answer_contains_gold_when_retrieved": share([r["contains"] for r in retrieved]),
        "flagged_share": share([r["flagged"] for r in rows]),
        "mean_sentences": round(statistics.fmean(r["sentences"] for r in rows), 2) if rows else None,
        "mean_answer_ms": round(statistics.fmean(r["answer_ms"] for r in rows), 1) if rows else None,
        "mean_grounding_ms": round(statistics.fmean(r["grounding_ms"] for r in rows), 1) if rows else None,
        # The same answer whether sentence vectors come from the corpus bank or are embedded from
        # the chunks on the spot: a text's vector does not depend on what it was embedded with.
        "same_answer_without_bank": share([r["same_without_bank"] for r in rows]),
        "embedder": embedder.model_id,
        "misses_when_retrieved": [
            {"question": r["question"], "gold": r["gold"], "answer": r["answer"]}
            for r in retrieved
            if not r["contains"]
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=Path, required=True, help="directory of documents")
    parser.add_argument("--questions", type=Path, required=True, help="question set (JSONL)")
    parser.add_argument("--k", type=int, default=5, help="chunks retrieved per question (default 5)")
    parser.add_argument("--misses", action="store_true", help="list the questions the answer missed")
    args = parser.parse_args(argv)
    try:
        result = run(args.docs, args.questions, k=args.k)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not args.misses:
        result.pop("misses_when_retrieved")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
