"""Shared command-line plumbing of the retrieval benchmarks."""
from __future__ import annotations

import argparse
from pathlib import Path

from core.documents import load_directory
from core.evaluation import QuestionSet, load_questions


def add_corpus_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--docs", required=True, help="folder of documents (any supported format)")
    parser.add_argument("--questions", required=True, help="JSONL/CSV (DESIGN.md format) or SQuAD v1.1 JSON")
    parser.add_argument("--backend", default=None, choices=["torch", "torch-bf16"],
                        help="embedding backend (default: bf16 where the CPU multiplies it natively, else fp32)")


def load_corpus(args) -> tuple[list, QuestionSet]:
    path = Path(args.questions)
    qs = load_questions(path.read_bytes(), path.name)
    docs = list(load_directory(args.docs).documents) + list(qs.documents)
    return docs, qs
