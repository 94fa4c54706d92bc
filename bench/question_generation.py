"""Generate a question set for a corpus and check whether it ranks settings like a curated set.

    python -m bench.question_generation --docs DIR [--questions FILE] [--per-doc N] [--seed S]
        [--backend torch|torch-bf16]

Prints one JSON object: the generator and how it works, counts (generated, rejected, per
document, shortfall), and, when a curated set is given, the agreement between the two sets over
core.qgen.AGREEMENT_GRID (12 chunkings x 2 methods, pooled mode, hit@5): `kendall_tau` (tau-b),
its p-value, `same_best`, each set's best setting and per-setting scores. Offline generator only:
a benchmark must run without a key or network.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from core.documents import load_directory
from core.embedding import default_embedder
from core.evaluation import load_questions
from core.qgen import AGREEMENT_GRID, OFFLINE_EXPLANATION, GenConfig, generate_offline, rank_agreement
from core.sentences import SentenceBank
from core.sweep import run_sweep


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", required=True, help="folder of documents (any supported format)")
    parser.add_argument("--questions", default=None, help="a curated set (JSONL/CSV/SQuAD) to compare with")
    parser.add_argument("--per-doc", type=int, default=10, help="questions to generate per document")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default=None, choices=["torch", "torch-bf16"])
    args = parser.parse_args()

    report = load_directory(args.docs)
    docs = list(report.documents)
    curated = None
    if args.questions:
        path = Path(args.questions)
        qs = load_questions(path.read_bytes(), path.name)
        docs += [d for d in qs.documents if d.name not in {x.name for x in docs}]
        curated = qs.questions
    started = time.perf_counter()
    gen = generate_offline(docs, config=GenConfig(per_doc=args.per_doc, seed=args.seed))
    out: dict = {
        "generator": gen.method,
        "how": OFFLINE_EXPLANATION,
        "seed": args.seed,
        "documents": len(docs),
        "per_doc_requested": args.per_doc,
        "generated": len(gen.questions),
        "rejected": len(gen.rejected),
        "per_doc": dict(gen.per_doc),
        "shortfall": list(gen.shortfall),
        "generate_s": round(time.perf_counter() - started, 3),
    }
    if curated:
        embedder = default_embedder(**({"backend": args.backend} if args.backend else {}))
        t = time.perf_counter()
        bank = SentenceBank(docs, embedder=embedder)
        cur = run_sweep(docs, curated, grid=AGREEMENT_GRID, mode="pooled", embedder=embedder, bank=bank)
        made = run_sweep(docs, gen.questions, grid=AGREEMENT_GRID, mode="pooled", embedder=embedder, bank=bank)
        agreement = rank_agreement(cur.rows, made.rows, metric="hit", k=5)
        out.update({
            "curated": len(curated),
            "grid": {"chunkings": len(AGREEMENT_GRID.chunk_configs()), "methods": list(AGREEMENT_GRID.methods),
                     "k": 5, "mode": "pooled"},
            "kendall_tau": None if agreement.tau is None else round(agreement.tau, 4),
            "p_value": None if agreement.p_value is None else round(agreement.p_value, 5),
            "same_best": agreement.same_best,
            "best_curated": agreement.best_curated,
            "best_generated": agreement.best_generated,
            # Within one method, only the chunkings are ranked: says whether the sets disagree on
            # the method, on the chunk size, or on both.
            "kendall_tau_by_method": {m: _round(rank_agreement([r for r in cur.rows if r.method == m],
                                                               [r for r in made.rows if r.method == m]).tau)
                                      for m in AGREEMENT_GRID.methods},
            "settings": [{"setting": s, "curated_hit5": round(c, 4), "generated_hit5": round(g, 4)}
                         for s, c, g in agreement.points],
            "sweep_s": round(time.perf_counter() - t, 2),
        })
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
