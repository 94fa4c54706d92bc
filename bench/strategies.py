"""Each chunking/retrieval strategy of issue 13, measured side by side: one JSON line per strategy.

    python -m bench.strategies --docs sample_docs --questions sample_docs/questions.jsonl
        [--unit chars --chunk-size 1000 --overlap 200] [--k 5] [--padding none|reference|twins|both]
        [--cache DIR] [--only NAME,NAME]

For every strategy: hybrid hit@K, MRR@K and the mean prompt-context tokens at K (what the LLM would
read, parents included), next to plain recursive chunking with classic RRF. Index builds are shared
between strategies that chunk alike; embedding goes through a vector cache (--cache), so a second
run costs seconds.

Padding turns the samples into a harder, larger corpus, the "samples plus padding" check of the
issue (our stand-in for a public set of Wikipedia-like articles, which we may not download):
- reference: encyclopaedic prose about other subjects, the dataset descriptions that ship with
  scikit-learn (offline, already installed), as distractor documents;
- twins: every sample document rewritten as a fictional competitor's (product and company names
  swapped, every number changed), the hardest distractors: near-identical wording, wrong source;
- both.
Padding documents have no questions; a hit on one is a miss.
"""
from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from bench._common import add_corpus_args, load_corpus
from bench._strategy import add_chunking_args, build, chunk_config
from core.chunking import ChunkConfig
from core.documents import Document
from core.embedding import default_embedder
from core.evaluation import evaluate
from core.retrieval import RetrievalConfig

# name -> (chunking changes, retrieval settings). "plain" is the baseline: recursive, no headers,
# classic RRF (dense weight 0.5), the chunk itself to the LLM.
STRATEGIES: dict[str, tuple[dict, dict]] = {
    "plain": ({"headers": False}, {"fusion": "rrf", "dense_weight": 0.5}),
    "headers": ({"headers": True}, {"fusion": "rrf", "dense_weight": 0.5}),
    "rrf w=0.3": ({"headers": False}, {"fusion": "rrf", "dense_weight": 0.3}),
    "rrf w=0.7": ({"headers": False}, {"fusion": "rrf", "dense_weight": 0.7}),
    "zscore w=0.3": ({"headers": False}, {"fusion": "zscore", "dense_weight": 0.3}),
    "zscore w=0.4": ({"headers": False}, {"fusion": "zscore", "dense_weight": 0.4}),
    "zscore w=0.5": ({"headers": False}, {"fusion": "zscore", "dense_weight": 0.5}),
    "zscore w=0.6": ({"headers": False}, {"fusion": "zscore", "dense_weight": 0.6}),
    "zscore w=0.7": ({"headers": False}, {"fusion": "zscore", "dense_weight": 0.7}),
    "minmax w=0.5": ({"headers": False}, {"fusion": "minmax", "dense_weight": 0.5}),
    "headers + zscore w=0.4": ({"headers": True}, {"fusion": "zscore", "dense_weight": 0.4}),
    "headers + zscore w=0.5": ({"headers": True}, {"fusion": "zscore", "dense_weight": 0.5}),
    "headers + zscore w=0.6": ({"headers": True}, {"fusion": "zscore", "dense_weight": 0.6}),
    "headers + minmax w=0.5": ({"headers": True}, {"fusion": "minmax", "dense_weight": 0.5}),
    "headers + rrf w=0.3": ({"headers": True}, {"fusion": "rrf", "dense_weight": 0.3}),
    "semantic": ({"splitter": "semantic", "headers": False}, {"fusion": "rrf", "dense_weight": 0.5}),
    "semantic + headers + zscore": ({"splitter": "semantic", "headers": True},
                                    {"fusion": "zscore", "dense_weight": 0.5}),
    "parent section": ({"headers": False}, {"fusion": "rrf", "dense_weight": 0.5, "parent": "section"}),
    "parent window:1": ({"headers": False}, {"fusion": "rrf", "dense_weight": 0.5, "parent": "window:1"}),
    "app defaults": ({}, {}),
}

_TWIN_NAMES = [("Lanternfish", "Glowworm"), ("lanternfish", "glowworm"), ("LANTERNFISH", "GLOWWORM"),
               ("Orrery Labs", "Tidewater Works"), ("lfx", "gwx"), ("lantern-agent", "glow-agent"),
               ("Minnow", "Sprat"), ("Pelagic", "Coastal"), ("Abyssal", "Benthic")]


def twin(doc: Document) -> Document:
    """A competitor's version of `doc`: names swapped, every number n changed to n + 1."""
    text = doc.text
    for a, b in _TWIN_NAMES:
        text = text.replace(a, b)
    text = re.sub(r"\d+", lambda m: str(int(m.group()) + 1), text)
    stem, _, ext = doc.name.rpartition(".")
    return Document(name=f"twin_{stem or doc.name}.{ext or 'txt'}", text=text, kind=doc.kind)


def reference_docs() -> list[Document]:
    try:
        import sklearn.datasets
    except ImportError:
        return []
    folder = Path(sklearn.datasets.__file__).parent / "descr"
    return [Document(name=f"ref_{p.stem}.rst", text=p.read_text(encoding="utf-8"), kind="text")
            for p in sorted(folder.glob("*.rst"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_args(parser)
    add_chunking_args(parser)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--mode", default="exact", choices=["exact", "pooled"])
    parser.add_argument("--padding", default="none", choices=["none", "reference", "twins", "both"])
    parser.add_argument("--cache", default="/tmp/rag_explorer_bench_cache", help="vector cache folder")
    parser.add_argument("--only", default="", help="comma-separated strategy names (default: all)")
    args = parser.parse_args()

    docs, qs = load_corpus(args)
    if args.padding in ("reference", "both"):
        docs += reference_docs()
    if args.padding in ("twins", "both"):
        docs += [twin(d) for d in docs if not d.name.startswith("ref_")]
    base = chunk_config(args)
    names = [n for n in args.only.split(",") if n] or list(STRATEGIES)
    embedder = default_embedder(backend=args.backend, cache_dir=Path(args.cache))
    by_name = {d.name: d for d in docs}
    built: dict[ChunkConfig, tuple] = {}
    bank = None
    for name in names:
        chunking, retrieval = STRATEGIES[name]
        fields = {"size": base.size, "overlap": base.overlap, "splitter": base.splitter, "unit": base.unit,
                  "headers": base.headers, **chunking}
        if name == "app defaults":
            fields["headers"] = ChunkConfig().headers
        config = ChunkConfig(**fields)
        if config not in built:
            t = time.perf_counter()
            chunks, retriever, bank = build(docs, config, embedder=embedder, mode=args.mode, bank=bank)
            built[config] = (chunks, retriever, time.perf_counter() - t)
        chunks, retriever, index_s = built[config]
        rc = RetrievalConfig(method="hybrid", k=args.k, **retrieval)
        run = evaluate(retriever, qs.questions, by_name, config=rc, drill_down=False)
        print(json.dumps({
            "strategy": name, "hit": round(run.summary.hit, 4), "mrr": round(run.summary.mrr, 4),
            "prompt_tokens": round(run.summary.tokens, 1), "k": args.k, "chunking": config.label(),
            "retrieval": rc.strategy_label(), "chunks": len(chunks), "documents": len(docs),
            "questions": len(run.results), "padding": args.padding, "mode": args.mode,
            "index_s": round(index_s, 2),
        }), flush=True)


if __name__ == "__main__":
    main()
