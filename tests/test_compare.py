"""core.compare: boundaries, retrieved-span changes, miss explanations, pooled vs exact pairing."""
from __future__ import annotations

import pytest

from core.chunking import Chunk, ChunkConfig
from core.compare import (
    DROPPED,
    NEW,
    SAME,
    SHIFTED,
    answer_span,
    boundary_diff,
    explain_miss,
    hit_diff,
    pooled_vs_exact,
    top_chunkings,
)
from core.documents import Document
from core.evaluation import Question
from core.sweep import SweepRow

TEXT = "Alpha beta gamma. Backups are kept for 30 days on the Team plan. Delta epsilon zeta eta theta."


def chunk(start: int, end: int, index: int = 0, doc: str = "d.txt") -> Chunk:
    return Chunk(doc=doc, index=index, start=start, end=end, text=TEXT[start:end], n_tokens=end - start)


def test_boundary_diff_reports_moved_cuts():
    a = [chunk(0, 30, 0), chunk(30, 60, 1), chunk(60, 90, 2)]
    b = [chunk(0, 45, 0), chunk(45, 90, 1)]
    diff = boundary_diff(a, b)
    assert (diff.n_a, diff.n_b) == (3, 2)
    assert diff.only_a == (30, 60)
    assert diff.only_b == (45,)
    assert diff.shared == (0, 90)
    assert not diff.unchanged
    assert boundary_diff(a, a).unchanged


def test_boundary_diff_counts_overlap_starts_and_ends():
    # With overlap a chunk's end is not the next one's start: both are boundaries.
    a = [chunk(0, 40, 0), chunk(30, 70, 1)]
    b = [chunk(0, 40, 0), chunk(40, 70, 1)]
    diff = boundary_diff(a, b)
    assert diff.only_a == (30,)
    assert diff.only_b == ()


def test_boundary_diff_refuses_two_documents():
    with pytest.raises(ValueError, match="one document"):
        boundary_diff([chunk(0, 10)], [chunk(0, 10, doc="other.txt")])


def test_hit_diff_marks_same_shifted_new_and_dropped():
    a = [chunk(0, 30, 0), chunk(30, 60, 1), chunk(60, 90, 2)]
    b = [chunk(0, 30, 0), chunk(40, 70, 3), chunk(0, 20, 9, doc="other.txt")]
    diff = hit_diff(a[:2] + [chunk(80, 95, 4)], b)
    assert [s.status for s in diff.a] == [SAME, SHIFTED, DROPPED]
    assert [s.status for s in diff.b] == [SAME, SHIFTED, NEW]
    shifted = diff.a[1]
    assert shifted.counterparts == (2,)
    assert shifted.coverage == pytest.approx(20 / 30)
    assert diff.b[2].coverage == 0.0  # another document never counts as overlap
    assert diff.count("a", DROPPED) == 1 and diff.count("b", NEW) == 1


def test_coverage_merges_overlapping_counterparts():
    mine = [chunk(10, 50)]
    theirs = [chunk(0, 30), chunk(20, 40), chunk(45, 60)]
    diff = hit_diff(mine, theirs)
    # [10,40) and [45,50) are covered: 35 of 40 characters, not double-counting [20,30).
    assert diff.a[0].coverage == pytest.approx(35 / 40)


def test_answer_span_prefers_the_gold_passage():
    doc = Document(name="d.txt", text="30 days is a long time. Backups are kept for 30 days.", kind="text")
    q = Question("How long?", ("30 days",), "d.txt", context="Backups are kept for 30 days.")
    lo, hi = answer_span(q, doc)
    assert doc.text[lo:hi] == "30 days" and lo > 20
    assert answer_span(Question("?", ("nowhere",), "d.txt"), doc) is None


def test_explain_miss_finds_a_cut_answer():
    doc = Document(name="d.txt", text=TEXT, kind="text")
    at = TEXT.index("30 days")
    q = Question("How long are backups kept?", ("30 days",), "d.txt")
    cut = [chunk(0, at + 3, 0), chunk(at + 3, len(TEXT), 1)]
    why = explain_miss(q, cut, doc)
    assert why.answer_at == (at, at + 7)
    assert why.holders == () and why.straddling == (0, 1)
    whole = [chunk(0, at + 10, 0), chunk(at + 10, len(TEXT), 1)]
    assert explain_miss(q, whole, doc).holders == (0,)
    assert explain_miss(q, whole, None).answer_at is None


def row(size: int, overlap: int, k: int, hit: float, mrr: float, mode: str = "pooled", method: str = "hybrid") -> SweepRow:
    return SweepRow("recursive", "tokens", size, overlap, k, method, mode, hit, mrr, 0.0, 0.0, 10, 0.1, 1.0)


def test_top_chunkings_orders_best_first_and_dedupes():
    rows = [row(100, 0, 5, 0.6, 0.4), row(200, 0, 5, 0.8, 0.5), row(300, 0, 5, 0.8, 0.6),
            row(200, 0, 1, 0.9, 0.9), row(400, 0, 5, 0.2, 0.1)]
    best = top_chunkings(rows, metric="hit", k=5, method="hybrid", n=2)
    assert best == [ChunkConfig(300, 0, "recursive", "tokens"), ChunkConfig(200, 0, "recursive", "tokens")]
    assert len(top_chunkings(rows, metric="hit", k=5, method="hybrid", n=10)) == 4


def test_pooled_vs_exact_pairs_the_same_setting():
    pooled = [row(100, 0, 5, 0.6, 0.4), row(200, 0, 5, 0.8, 0.5)]
    exact = [row(200, 0, 5, 0.7, 0.55, mode="exact"), row(999, 0, 5, 0.1, 0.1, mode="exact")]
    pairs = pooled_vs_exact(pooled, exact)
    assert len(pairs) == 1
    p = pairs[0]
    assert p.config.size == 200 and (p.pooled_hit, p.exact_hit) == (0.8, 0.7)
    assert p.d_hit == pytest.approx(-0.1) and p.d_mrr == pytest.approx(0.05)


def test_one_best_first_order_for_every_caller():
    from core.sweep import SweepResult, best_first, rank_key

    # hit first, then MRR, then the cheaper setting: smaller size, overlap, K.
    rows = [row(300, 50, 5, 0.8, 0.5), row(300, 0, 5, 0.8, 0.5), row(200, 0, 5, 0.8, 0.5),
            row(200, 0, 1, 0.8, 0.5), row(400, 0, 5, 0.8, 0.6), row(100, 0, 1, 0.9, 0.1)]
    ordered = best_first(rows, "hit")
    assert [(r.size, r.overlap, r.k) for r in ordered] == [(100, 0, 1), (400, 0, 5), (200, 0, 1), (200, 0, 5),
                                                           (300, 0, 5), (300, 50, 5)]
    assert best_first(rows, "mrr")[0].size == 400
    assert sorted(rows, key=lambda r: rank_key(r, "hit")) == ordered
    assert SweepResult(tuple(rows), 0.0, False).best("hit") == ordered[0]
    assert SweepResult(tuple(rows), 0.0, False).best("hit", k=5) == ordered[1]
    assert top_chunkings(rows, metric="hit", k=5, method="hybrid", n=2) == [r.chunk_config() for r in ordered[1:4:2]]


# -- A/B over the whole question set (issue 12) ---------------------------------------------


def _run(hits: list[float], k: int = 5):
    from core.evaluation import EvalRun, QuestionResult, Scores, mean_scores
    from core.retrieval import RetrievalConfig

    results = tuple(QuestionResult(Question(f"q{i}", ("x",), f"doc{i % 6}.txt"),
                                   Scores(h, h, h, h, h, h / 10, h / 10, 100.0 * k), (), frozenset(), None, None)
                    for i, h in enumerate(hits))
    return EvalRun(RetrievalConfig(method="hybrid", k=k), results, mean_scores([r.scores for r in results]), 10, 1.0)


def test_ab_verdicts_say_no_difference_for_identical_runs_and_name_a_large_winner():
    from ui.evaluate.confidence import ab_verdicts

    hits = [1.0 if i % 4 else 0.0 for i in range(48)]
    same = ab_verdicts(_run(hits), _run(hits))
    assert len(same) == 8 and all(v.startswith("no reliable difference with 48 questions") for v in same["verdict"])
    worse = _run([0.0 if i % 2 else h for i, h in enumerate(hits)], k=3)
    table = ab_verdicts(_run(hits), worse).set_index("metric")
    assert table.loc["hit@5/3", "verdict"].startswith("A beats B by ")
    # Tokens are a cost, compared in tokens: B's top-3 sends 200 fewer than A's top-5.
    assert table.loc["prompt tokens", "verdict"].startswith("B needs 200 fewer tokens than A (95% CI 200 to 200)")
