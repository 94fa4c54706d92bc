"""How sure is each number: cluster-bootstrap intervals, paired tests, and a sweep's best.

Questions about one document are not independent (one document that chunks badly sinks all of
its questions together), so every resample draws whole documents with replacement, not single
questions (a cluster bootstrap). With fewer than MIN_GROUPS documents there is too little to
resample and questions are drawn one by one instead; the result says so, because such an
interval is too narrow when questions about one document move together.

Everything is vectorised: a resample is a vector of per-document counts, and every setting's
resampled mean is one matrix product of per-document sums with those counts. All settings and
both sides of a paired test share the same resamples, which is what makes the tests paired. Seeded
(`seed`), so the same inputs give the same numbers on every run.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # only attributes are read: core.stats needs nothing but numpy at run time
    from core.sweep import SweepRow

LEVEL = 0.95
N_BOOT = 2000
SEED = 12
MIN_GROUPS = 5  # fewer documents than this: resample questions instead (and say so)
DETECT = 0.03  # the difference the "how many questions" hint is about (3 points)
_Z_ALPHA, _Z_POWER = 1.959964, 0.841621  # two-sided 5% level, 80% power


@dataclass(frozen=True)
class Resampler:
    """Bootstrap resamples of n questions grouped by document, as weights per question.

    `weights[b, i]` is how many times question i is drawn in resample b (its document's draw count).
    """

    weights: np.ndarray  # (n_boot, n_questions)
    n_questions: int
    n_groups: int
    grouped: bool  # False: too few documents, questions were resampled one by one

    @property
    def note(self) -> str:
        if self.grouped:
            return f"{self.n_questions} questions from {self.n_groups} documents, resampled by document"
        return (f"{self.n_questions} questions from only {self.n_groups} document(s): resampled by question, so "
                "the interval is too narrow if questions about one document succeed or fail together")

    def means(self, values: np.ndarray) -> np.ndarray:
        """Resampled means: values (n,) -> (n_boot,); (s, n) -> (s, n_boot).

        The bootstrap's spread is that of a mean over the units drawn, which understates the true
        variance by (units - 1) / units: a lot with 8 documents. Each resampled mean's distance from
        the observed mean is widened by sqrt(units / (units - 1)), the usual small-sample correction
        of cluster-robust errors, so intervals and tests stay honest with few documents.
        """
        v = np.asarray(values, dtype=float)
        boot = (v @ self.weights.T) / self.weights.sum(axis=1)
        units = self.n_groups if self.grouped else self.n_questions
        if units < 2:
            return boot
        keep = v.ndim > 1
        point = v.mean(axis=-1, keepdims=keep)
        widened = point + math.sqrt(units / (units - 1)) * (boot - point)
        # Never past what a mean of these values can be (a hit rate stays within 0 to 1).
        return np.clip(widened, v.min(axis=-1, keepdims=keep), v.max(axis=-1, keepdims=keep))


def resampler(groups: Sequence[str], *, n_boot: int = N_BOOT, seed: int = SEED) -> Resampler:
    """Resamples of the questions whose documents are `groups` (one entry per question)."""
    if n_boot < 100:
        raise ValueError("Use at least 100 bootstrap resamples.")
    n = len(groups)
    if n == 0:
        raise ValueError("There are no questions to resample.")
    _, codes = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    n_groups = int(codes.max()) + 1
    grouped = n_groups >= MIN_GROUPS
    units = n_groups if grouped else n
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, units, size=(n_boot, units))
    # Count the draws of each unit per resample in one bincount over offset indices.
    counts = np.bincount((draws + units * np.arange(n_boot)[:, None]).ravel(),
                         minlength=n_boot * units).reshape(n_boot, units).astype(float)
    weights = counts[:, codes] if grouped else counts
    return Resampler(weights, n, n_groups, grouped)


@dataclass(frozen=True)
class Interval:
    mean: float
    lo: float
    hi: float

    @property
    def width(self) -> float:
        return self.hi - self.lo

    def text(self, digits: int = 3) -> str:
        return f"{self.lo:.{digits}f}–{self.hi:.{digits}f}"

    def as_list(self, digits: int = 4) -> list[float]:
        return [round(self.lo, digits), round(self.hi, digits)]


def _percentiles(boot: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(boot, [tail, 100 - tail], axis=-1)
    return lo, hi


def wilson(successes: float, n: int, *, level: float = LEVEL) -> tuple[float, float]:
    """The Wilson score interval of a proportion: what n independent yes/no questions can show."""
    if n <= 0:
        return 0.0, 1.0
    z = _Z_ALPHA if level == LEVEL else float(np.sqrt(2) * _erfinv(level))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _erfinv(y: float) -> float:
    """Inverse error function by bisection (only for a level other than 95%)."""
    lo, hi = 0.0, 6.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if math.erf(mid) < y else (lo, mid)
    return (lo + hi) / 2


def intervals(values: np.ndarray, rs: Resampler, *, level: float = LEVEL) -> list[Interval]:
    """A percentile interval of the mean for each row of `values` (s, n), or one for a vector.

    A yes/no metric (hit@K: every value 0 or 1) is never given a narrower interval than the Wilson
    interval of its questions taken as independent: grouping by document can only add uncertainty,
    and a percentile bootstrap collapses at 0% and 100% (10 hits of 10 would read "1.000–1.000")."""
    v = np.atleast_2d(np.asarray(values, dtype=float))
    lo, hi = _percentiles(rs.means(v), level)
    out = []
    for row, a, b in zip(v, lo, hi):
        if row.size and np.all((row == 0) | (row == 1)):
            w_lo, w_hi = wilson(float(row.sum()), int(row.size), level=level)
            a, b = min(a, w_lo), max(b, w_hi)
        out.append(Interval(float(row.mean()), float(a), float(b)))
    return out


def interval(values: Sequence[float] | np.ndarray, groups: Sequence[str], *, n_boot: int = N_BOOT,
             seed: int = SEED, level: float = LEVEL) -> Interval:
    """The mean of `values` with its cluster-bootstrap interval (questions grouped by `groups`)."""
    return intervals(np.asarray(values, dtype=float), resampler(groups, n_boot=n_boot, seed=seed), level=level)[0]


# -- paired comparison -----------------------------------------------------------------------


@dataclass(frozen=True)
class Paired:
    """A minus B on the same questions, with its interval and a two-sided bootstrap p-value."""

    label_a: str
    label_b: str
    diff: float
    lo: float
    hi: float
    p: float
    n: int
    boot_var: float  # variance of the resampled mean difference: feeds questions_needed

    @property
    def reliable(self) -> bool:
        """The interval excludes zero (equivalently, p < 0.05)."""
        return self.lo > 0 or self.hi < 0

    def verdict(self, unit: str = "points", scale: float = 100.0, digits: int = 1, *,
                higher_is_better: bool = True) -> str:
        """'A beats B by 4.2 points (95% CI 1.4 to 7.0)' or 'no reliable difference with 71 questions'.

        For a cost (`higher_is_better=False`, e.g. prompt tokens) the winner is the cheaper side:
        'B needs 200 fewer tokens than A (95% CI ...)'.
        """
        def num(x: float) -> str:
            return f"{x * scale:,.{digits}f}".replace("-", "−")  # a real minus sign, as in print
        if not self.reliable:
            return (f"no reliable difference with {self.n} questions ({self.label_a} − {self.label_b} = "
                    f"{num(self.diff)} {unit}, 95% CI {num(self.lo)} to {num(self.hi)})")
        a_wins = (self.diff > 0) == higher_is_better
        win, lose = (self.label_a, self.label_b) if a_wins else (self.label_b, self.label_a)
        # The gap as the winner's advantage, always positive, with its interval in the same direction.
        gap, lo, hi = (self.diff, self.lo, self.hi) if self.diff > 0 else (-self.diff, -self.hi, -self.lo)
        if higher_is_better:
            return f"{win} beats {lose} by {num(gap)} {unit} (95% CI {num(lo)} to {num(hi)})"
        return f"{win} needs {num(gap)} fewer {unit} than {lose} (95% CI {num(lo)} to {num(hi)})"


def _p_values(boot_diffs: np.ndarray) -> np.ndarray:
    """Two-sided percentile-bootstrap p: twice the smaller share of resamples on either side of 0.

    Consistent with the percentile interval: p < 0.05 exactly when 0 is outside the 95% interval.
    Identical runs (every difference 0) give p = 1.
    """
    below = (boot_diffs <= 0).mean(axis=-1)
    above = (boot_diffs >= 0).mean(axis=-1)
    return np.minimum(1.0, 2 * np.minimum(below, above))


def paired(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, groups: Sequence[str], *,
           label_a: str = "A", label_b: str = "B", n_boot: int = N_BOOT, seed: int = SEED,
           rs: Resampler | None = None) -> Paired:
    """Paired cluster bootstrap of mean(a) - mean(b) over the same questions (same order)."""
    va, vb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if va.shape != vb.shape or va.ndim != 1:
        raise ValueError("A and B must be scored on the same questions, in the same order.")
    if len(groups) != len(va):
        raise ValueError("Give one document name per question.")
    rs = rs or resampler(groups, n_boot=n_boot, seed=seed)
    d = va - vb
    boot = rs.means(d)
    lo, hi = _percentiles(boot)
    return Paired(label_a, label_b, float(d.mean()), float(lo), float(hi), float(_p_values(boot)),
                  len(d), float(boot.var()))


def questions_needed(p: Paired, *, detect: float = DETECT) -> int | None:
    """Questions it would take to tell a `detect` difference apart (80% power, 5% level), from the
    observed variance of the paired difference (which already carries the clustering).

    The variance of a mean falls as 1/n, so n_needed = n * var / (detect / (z_alpha + z_power))^2,
    assuming more questions come from proportionally more documents. None when the two sides never
    differed on any question (nothing to extrapolate from).
    """
    if p.boot_var <= 0:
        return None
    return max(p.n, math.ceil(p.n * p.boot_var / (detect / (_Z_ALPHA + _Z_POWER)) ** 2))


def needed_text(p: Paired, *, detect: float = DETECT) -> str:
    n = questions_needed(p, detect=detect)
    if n is None:
        return (f"{p.label_a} and {p.label_b} scored every question the same, so there is no spread to say how "
                f"many questions a {detect * 100:.0f}-point difference would take.")
    if n <= p.n:
        return f"{p.n} questions are enough to tell a {detect * 100:.0f}-point difference apart here."
    return (f"Telling a {detect * 100:.0f}-point difference apart (80% power, 5% level) would take about "
            f"{n:,} questions; this set has {p.n}.")


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (same order as given)."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    adjusted = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out


# -- a sweep --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepStats:
    """Which settings of a sweep are the best, and which cannot be told apart from it.

    Index i everywhere refers to the i-th setting as given to sweep_stats.
    """

    labels: tuple[str, ...]
    intervals: tuple[Interval, ...]
    prob_best: tuple[float, ...]  # share of resamples in which the setting has the highest mean
    p_vs_best: tuple[float, ...]  # Holm-adjusted p of "worse than the best" (1.0 for the best)
    tied: tuple[bool, ...]  # statistically tied with the best (the best included)
    tokens: tuple[float, ...]  # mean prompt tokens at K
    best: int
    recommended: int
    runner_up: Paired | None  # best vs the runner-up
    note: str  # how the questions were resampled

    @property
    def n_tied(self) -> int:
        return sum(self.tied)

    def recommendation(self) -> str:
        best, rec = self.labels[self.best], self.labels[self.recommended]
        others = self.n_tied - 1
        if len(self.labels) == 1:
            return f"{best}: the only setting scored, so there is nothing to compare it with."
        if self.recommended == self.best:
            if others == 0:
                return f"{best}: the best, and reliably better than every other setting."
            return (f"{best}: the best, and it already has the smallest prompt of the {self.n_tied} settings "
                    f"statistically tied with it (~{self.tokens[self.best]:,.0f} tokens at K).")
        gap = 100 * (self.intervals[self.best].mean - self.intervals[self.recommended].mean)
        lower = f"{gap:.1f} points lower, which these questions cannot tell from chance" if gap > 0.05 else "as good"
        return (f"{rec}: statistically tied with the best ({best}; {lower}) and the smallest prompt of the "
                f"{self.n_tied} tied settings: ~{self.tokens[self.recommended]:,.0f} tokens at K instead of "
                f"~{self.tokens[self.best]:,.0f}.")


def sweep_stats(labels: Sequence[str], values: np.ndarray, groups: Sequence[str], tokens: Sequence[float], *,
                n_boot: int = N_BOOT, seed: int = SEED, alpha: float = 0.05) -> SweepStats:
    """Intervals, probability of being best, the group tied with the best and a recommendation.

    `values` is (settings, questions), the same questions in the same order for every setting.
    The best is the highest mean, earlier settings winning exact ties: give the settings in the
    app's best-first order (core.sweep.rank_key) and "best" here agrees with it. The tied group is
    every setting that paired tests against the best, Holm-corrected for the number of comparisons,
    cannot call worse at `alpha`. The recommendation is the tied setting with the fewest prompt
    tokens at K (ties to the better-ranked one).
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] != len(labels) or v.shape[0] != len(tokens):
        raise ValueError("Give one row of per-question values, one label and one token count per setting.")
    if v.shape[0] == 0:
        raise ValueError("The sweep has no settings to compare.")
    rs = resampler(groups, n_boot=n_boot, seed=seed)
    if v.shape[1] != rs.n_questions:
        raise ValueError("Give one document name per question.")
    boot = rs.means(v)  # (s, n_boot)
    lo, hi = _percentiles(boot)
    means = v.mean(axis=1)
    best = int(np.argmax(means))
    # A resample's win is shared equally by every setting tied at its maximum: the shares sum to 1.
    top = boot >= boot.max(axis=0, keepdims=True) - 1e-12
    prob = (top / top.sum(axis=0, keepdims=True)).mean(axis=1)
    diffs = boot[best] - boot  # (s, n_boot): best minus each
    raw = _p_values(diffs)
    others = [i for i in range(len(labels)) if i != best]
    adjusted = np.ones(len(labels))
    if others:
        adjusted[others] = holm(raw[others])
    tied = adjusted >= alpha
    tied[best] = True
    order = sorted((int(i) for i in np.flatnonzero(tied)), key=lambda i: (tokens[i], i))
    recommended = order[0]
    runner_up = None
    if others:
        second = max(others, key=lambda i: (means[i], -i))
        runner_up = paired(v[best], v[second], groups, label_a=labels[best], label_b=labels[second], rs=rs)
    return SweepStats(
        labels=tuple(labels), intervals=tuple(Interval(float(m), float(a), float(b)) for m, a, b in zip(means, lo, hi)),
        prob_best=tuple(float(x) for x in prob), p_vs_best=tuple(float(x) for x in adjusted),
        tied=tuple(bool(x) for x in tied), tokens=tuple(float(t) for t in tokens), best=best,
        recommended=recommended, runner_up=runner_up, note=rs.note,
    )


def row_label(row: SweepRow) -> str:
    """A sweep setting the way verdicts name it: "recursive 300/50 tokens, hybrid top-5"."""
    strategy = row.strategy_label()  # headers, fusion, parent: rows may differ only there
    return f"{row.splitter} {row.size}/{row.overlap} {row.unit}, {row.method} top-{row.k}" + (
        f" ({strategy})" if strategy else "")


def rows_stats(rows: Sequence[SweepRow], metric: str, *, n_boot: int = N_BOOT, seed: int = SEED) -> SweepStats | None:
    """sweep_stats over sweep rows (give them best first), from their per-question scores.

    None when the rows carry no per-question scores or were not scored on the same questions
    (rows of two different sweeps), since a paired comparison needs the same questions.
    """
    if not rows or not rows[0].per_question:
        return None
    ref = [(q.question, q.source) for q in rows[0].per_question]
    if any([(q.question, q.source) for q in r.per_question] != ref for r in rows[1:]):
        return None
    values = np.array([[q.scores.get(metric) for q in r.per_question] for r in rows], dtype=float)
    tokens = [float(np.mean([q.scores.tokens for q in r.per_question])) for r in rows]
    return sweep_stats([row_label(r) for r in rows], values, [s for _, s in ref], tokens, n_boot=n_boot, seed=seed)


def row_interval(row: SweepRow, metric: str = "hit", *, n_boot: int = N_BOOT, seed: int = SEED) -> Interval:
    """One sweep row's `metric` with its interval, from its per-question scores (grouped by source)."""
    return interval([q.scores.get(metric) for q in row.per_question], [q.source for q in row.per_question],
                    n_boot=n_boot, seed=seed)
