"""Command-line settings of the issue-13 strategies, shared by the retrieval benchmarks.

Every default is the app's default (ChunkConfig() and RetrievalConfig()), so a bench run without
flags measures what a user gets.
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from core.chunking import BREAKPOINTS, SPLITTERS, Chunk, ChunkConfig, index_texts, needs_sentences, split_corpus
from core.documents import Document
from core.embedding import Embedder
from core.parents import parse_parent
from core.retrieval import FUSIONS, RetrievalConfig, Retriever
from core.sentences import SentenceBank
from core.sweep import pooled_vectors


def _weight(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"the dense weight must be between 0 and 1; got {value:g}")
    return value


def _parent(text: str) -> str:
    try:
        return str(parse_parent(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_chunking_args(parser: argparse.ArgumentParser) -> None:
    d = ChunkConfig()
    parser.add_argument("--splitter", default=d.splitter, choices=list(SPLITTERS))
    parser.add_argument("--unit", default=d.unit, choices=["tokens", "chars"])
    parser.add_argument("--chunk-size", type=int, default=d.size)
    parser.add_argument("--overlap", type=int, default=d.overlap,
                        help="ignored by the semantic splitter, whose chunks never overlap")
    parser.add_argument("--headers", action=argparse.BooleanOptionalAction, default=d.headers,
                        help="contextual chunk headers: embed and index 'title > section' with each chunk "
                             f"(default: {'on' if d.headers else 'off'}, as the app)")
    parser.add_argument("--breakpoint", default=d.breakpoint, choices=list(BREAKPOINTS),
                        help="semantic splitter: breakpoint threshold type")
    parser.add_argument("--breakpoint-amount", type=float, default=None,
                        help="semantic splitter: threshold amount (default: LangChain's for the type)")
    parser.add_argument("--min-size", type=int, default=0, help="semantic splitter: smallest chunk, in the unit")


def add_retrieval_args(parser: argparse.ArgumentParser) -> None:
    d = RetrievalConfig()
    parser.add_argument("--fusion", default=d.fusion, choices=[*FUSIONS, "score"],
                        help="how hybrid fuses dense and BM25 ('score' = zscore); default as the app")
    parser.add_argument("--dense-weight", type=_weight, default=d.dense_weight,
                        help="weight of the dense side in fusion, 0 (BM25 alone) to 1 (dense alone)")
    parser.add_argument("--parent", type=_parent, default=d.parent,
                        help="what the LLM reads for a hit: none, section or window:N")
    parser.add_argument("--parent-budget", type=int, default=d.parent_budget,
                        help="largest parent in tokens; a larger one falls back to a window that fits")


def chunk_config(args: argparse.Namespace) -> ChunkConfig:
    return ChunkConfig(size=args.chunk_size, overlap=0 if args.splitter == "semantic" else args.overlap,
                       splitter=args.splitter, unit=args.unit, headers=args.headers, breakpoint=args.breakpoint,
                       breakpoint_amount=args.breakpoint_amount, min_size=args.min_size)


def retrieval_config(args: argparse.Namespace, *, method: str, k: int) -> RetrievalConfig:
    return RetrievalConfig(method=method, k=k, fusion=args.fusion, dense_weight=args.dense_weight,
                           parent=args.parent, parent_budget=args.parent_budget)


def build(docs: Sequence[Document], config: ChunkConfig, *, embedder: Embedder, mode: str,
          bank: SentenceBank | None = None) -> tuple[list[Chunk], Retriever, SentenceBank | None]:
    """Chunks and their retriever, as the app builds them (exact) or as fast sweeps do (pooled).
    The sentence bank is built when the splitter or the mode needs it (and returned for re-use)."""
    if bank is None and (mode == "pooled" or needs_sentences(config.splitter)):
        bank = SentenceBank(docs, embedder=embedder)
    chunks = split_corpus(docs, config=config, sentences=bank)
    if mode == "pooled":
        assert bank is not None
        vectors = pooled_vectors(bank, chunks)
    else:
        vectors = embedder.embed(index_texts(chunks)) if chunks else np.zeros((0, embedder.dimensions))
    return chunks, Retriever.from_vectors(chunks, vectors, embedder=embedder, documents=docs), bank
