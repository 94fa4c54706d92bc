"""core.stats: interval coverage, clustering, paired verdicts, Holm, probability of being best."""
from __future__ import annotations

import time

import numpy as np
import pytest

from core import stats


def docs(n_docs: int, per_doc: int) -> list[str]:
    return [f"doc{d}.txt" for d in range(n_docs) for _ in range(per_doc)]


def test_interval_covers_a_known_rate_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    groups = docs(20, 4)  # 80 questions from 20 documents, independent here
    rate, covered, sims = 0.7, 0, 400
    for sim in range(sims):
        values = (rng.random(len(groups)) < rate).astype(float)
        iv = stats.interval(values, groups, n_boot=500, seed=sim)
        covered += iv.lo <= rate <= iv.hi
    assert 0.90 <= covered / sims <= 0.99


def test_grouped_bootstrap_is_wider_than_naive_when_a_document_succeeds_or_fails_together():
    rng = np.random.default_rng(2)
    groups = docs(12, 6)
    # Each document is easy or hard as a whole: questions about it share their fate.
    doc_rate = np.repeat(rng.choice([0.2, 0.95], size=12), 6)
    values = (rng.random(len(groups)) < doc_rate).astype(float)
    grouped = stats.interval(values, groups)
    naive = stats.interval(values, [str(i) for i in range(len(groups))])  # every question its own group
    assert grouped.mean == naive.mean
    assert grouped.width > 1.3 * naive.width


def test_few_documents_fall_back_to_questions_and_say_so():
    rs = stats.resampler(docs(2, 30))
    assert not rs.grouped and "too narrow" in rs.note
    assert stats.resampler(docs(8, 9)).grouped


def test_identical_runs_show_no_reliable_difference():
    rng = np.random.default_rng(3)
    groups = docs(8, 9)
    a = (rng.random(len(groups)) < 0.8).astype(float)
    p = stats.paired(a, a.copy(), groups, label_a="300/50", label_b="100/0")
    assert p.diff == 0 and p.p == 1.0 and not p.reliable
    assert p.verdict().startswith("no reliable difference with 72 questions")
    assert stats.questions_needed(p) is None


def test_a_large_planted_difference_is_detected_and_worded():
    rng = np.random.default_rng(4)
    groups = docs(10, 8)
    b = (rng.random(len(groups)) < 0.5).astype(float)
    a = np.maximum(b, (rng.random(len(groups)) < 0.6).astype(float))  # A answers all B does, and more
    p = stats.paired(a, b, groups, label_a="300/50", label_b="100/0")
    assert p.reliable and p.lo > 0 and p.p < 0.05
    text = p.verdict()
    assert text.startswith(f"300/50 beats 100/0 by {100 * p.diff:.1f} points (95% CI ")
    # Swapped sides: the verdict still names the winner first, with a positive difference.
    assert stats.paired(b, a, groups, label_a="100/0", label_b="300/50").verdict() == text


def test_questions_needed_grows_for_smaller_differences_and_is_consistent():
    rng = np.random.default_rng(5)
    groups = docs(10, 7)
    a = (rng.random(70) < 0.8).astype(float)
    b = (rng.random(70) < 0.78).astype(float)
    p = stats.paired(a, b, groups)
    three, one = stats.questions_needed(p, detect=0.03), stats.questions_needed(p, detect=0.01)
    assert three is not None and one is not None and one > three >= 70
    assert f"{three:,} questions" in stats.needed_text(p)


def test_holm_matches_a_hand_computation():
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.005])
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    assert np.allclose(adjusted, [0.03, 0.06, 0.06, 0.02])


def test_sweep_stats_prob_best_tied_group_and_smallest_prompt():
    rng = np.random.default_rng(6)
    groups = docs(10, 8)
    n = len(groups)
    strong = (rng.random(n) < 0.9).astype(float)
    near = strong.copy()
    near[:2] = 1 - near[:2]  # differs from the best on two questions only
    weak = (rng.random(n) < 0.3).astype(float)
    labels = ["big", "small", "weak"]
    s = stats.sweep_stats(labels, np.vstack([strong, near, weak]), groups, tokens=[900.0, 300.0, 100.0])
    assert sum(s.prob_best) == pytest.approx(1.0)
    assert s.prob_best[2] == 0.0
    assert s.best == int(np.argmax([strong.mean(), near.mean(), weak.mean()]))
    assert s.tied == (True, True, False)
    assert s.recommended == 1  # tied with the best, a third of the prompt
    assert "small" in s.recommendation() and "smallest prompt" in s.recommendation()
    assert s.runner_up is not None and s.runner_up.label_b in labels
    assert all(iv.lo <= iv.mean <= iv.hi for iv in s.intervals)


def test_identical_settings_share_the_win():
    groups = docs(6, 5)
    v = np.tile((np.arange(30) % 3 == 0).astype(float), (2, 1))
    s = stats.sweep_stats(["a", "b"], v, groups, tokens=[200.0, 100.0])
    assert s.prob_best == pytest.approx((0.5, 0.5))
    assert s.tied == (True, True) and s.recommended == 1


def test_deterministic_and_fast_for_a_24_by_71_sweep():
    rng = np.random.default_rng(7)
    groups = [f"doc{i % 8}" for i in range(71)]
    values = (rng.random((24, 71)) < np.linspace(0.7, 0.95, 24)[:, None]).astype(float)
    tokens = list(rng.integers(200, 2000, 24).astype(float))
    labels = [f"s{i}" for i in range(24)]
    started = time.perf_counter()
    first = stats.sweep_stats(labels, values, groups, tokens, n_boot=2000)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, f"{elapsed:.2f} s"
    assert stats.sweep_stats(labels, values, groups, tokens, n_boot=2000) == first


def test_bad_input_is_refused_with_a_message():
    with pytest.raises(ValueError, match="same questions"):
        stats.paired([1.0, 0.0], [1.0], ["a", "b"])
    with pytest.raises(ValueError, match="no questions"):
        stats.resampler([])
    with pytest.raises(ValueError, match="one label"):
        stats.sweep_stats(["a"], np.zeros((2, 3)), ["x", "y", "z"], [1.0, 2.0])


def test_a_rate_interval_stays_within_0_and_1():
    groups = docs(8, 9)
    values = np.ones(72)
    values[:2] = 0.0
    iv = stats.interval(values, groups)
    assert 0.0 <= iv.lo <= iv.mean <= iv.hi <= 1.0


def test_a_single_setting_is_not_called_better_than_the_others():
    s = stats.sweep_stats(["only"], np.ones((1, 30)), docs(6, 5), [100.0])
    assert s.runner_up is None and s.tied == (True,) and s.prob_best == (1.0,)
    assert "only setting" in s.recommendation()


def test_a_perfect_score_on_few_questions_is_not_called_certain():
    # 10 hits of 10: every resample is also 10 of 10, so a percentile bootstrap alone says 1.000-1.000.
    iv = stats.interval([1.0] * 10, [f"d{i % 2}" for i in range(10)])
    assert iv.mean == 1.0 and iv.hi == 1.0
    assert 0.70 < iv.lo < 0.75  # Wilson's lower bound for 10/10 is 0.722
    zero = stats.interval([0.0] * 10, [f"d{i}" for i in range(10)])
    assert zero.lo == 0.0 and 0.25 < zero.hi < 0.30


def test_a_yes_no_interval_is_never_narrower_than_independent_questions_allow():
    rng = np.random.default_rng(3)
    hits = (rng.random(71) < 0.9).astype(float)
    groups = [f"doc{i % 8}" for i in range(71)]
    iv = stats.interval(hits, groups)
    lo, hi = stats.wilson(float(hits.sum()), 71)
    assert iv.lo <= lo + 1e-12 and iv.hi >= hi - 1e-12
    mrr_like = hits * 0.5  # not yes/no: left to the bootstrap alone
    assert stats.interval(mrr_like, groups).width < stats.interval(hits, groups).width
