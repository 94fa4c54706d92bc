"""AppTest runs of the Evaluate page's statistics (issue 12): intervals, A/B verdicts, sweep's best."""
from __future__ import annotations

import pytest

from tests.test_page_evaluate import chart, open_evaluate, run_small_sweep

pytestmark = pytest.mark.model


def test_current_settings_show_every_metric_with_an_interval(app_test, tmp_path):
    at = open_evaluate(app_test, tmp_path)
    at.button(key="eval_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = {m.label: m.value for m in at.metric}
    for label in ("hit@5", "MRR@5", "token recall", "token precision", "token IoU"):
        assert 0.0 <= float(shown[label]) <= 1.0, label
    assert float(shown["token recall"]) > float(shown["token precision"])  # 5 chunks hold far more than one passage
    assert int(shown["prompt tokens"].replace(",", "")) > 0
    cis = [c.value for c in at.caption if c.value.startswith("95% CI")]
    assert len(cis) == 8  # one per metric
    lo, hi = (float(x) for x in cis[0].removeprefix("95% CI ").split("–"))
    assert lo <= float(shown["hit@5"]) <= hi
    assert any("resampled by document" in c.value or "resampled by question" in c.value for c in at.caption)


def test_sweep_shows_probability_of_best_tied_group_and_recommendation(app_test, tmp_path):
    at = open_evaluate(app_test, tmp_path)
    run_small_sweep(at)
    table = next(d.value for d in at.dataframe if "P(best)" in d.value.columns)
    assert len(table) == 2  # by default the settings at the heatmap's K: 2 chunkings
    at.radio(key="eval_sw_stats_scope").set_value("all").run()
    table = next(d.value for d in at.dataframe if "P(best)" in d.value.columns)
    assert len(table) == 4  # every K
    assert table["P(best)"].sum() == pytest.approx(1.0)
    assert (table["pick"] == "★ recommended").sum() == 1
    assert table.loc[table["pick"] == "★ recommended", "tied with best"].iloc[0] == "yes"
    assert any(m.value.startswith("**Recommended:**") for m in at.markdown)
    assert any("Best vs runner-up" in m.value for m in at.markdown)
    assert chart(at, "eval_sw_intervals")["data"]
    results = next(d.value for d in at.dataframe if "≈ hit@K" in d.value.columns)
    assert "prompt tokens" in results.columns and "per_question" not in results.columns

    # Exact confirmation of both chunkings: each with its interval and prompt size, and a verdict.
    at.number_input(key="eval_confirm_n").set_value(2).run()
    at.button(key="eval_confirm_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    confirmed = next(d.value for d in at.dataframe if "exact 95% CI" in d.value.columns)
    for _, row in confirmed.iterrows():
        lo, hi = (float(x) for x in row["exact 95% CI"].split("–"))
        assert lo <= row["hit@K exact"] <= hi and row["prompt tokens"] > 0
    assert any(m.value.startswith("**Exact, best vs runner-up") for m in at.markdown)


def test_ab_scores_both_on_every_question_with_a_paired_verdict(app_test, tmp_path):
    at = open_evaluate(app_test, tmp_path)
    at.number_input(key="eval_ab_size").set_value(400).run()
    at.number_input(key="eval_ab_overlap").set_value(0).run()
    at.button(key="eval_ab_run").click().run()
    at.button(key="eval_ab_score").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    verdicts = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert len(verdicts) == 8
    assert all(("beats" in v) or (" fewer tokens than " in v) or v.startswith("no reliable difference")
               for v in verdicts["verdict"])
    assert any(s.value.startswith("hit@K:") for s in [*at.success, *at.info])
