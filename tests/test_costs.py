"""Cost model: hand-checked arithmetic, validation, break-even, the worked example, offline prices."""
from __future__ import annotations

import dataclasses
import math
import re
import socket

import pytest

from core import costs, prices
from core.costs import CostInputs, compare

# A small case with round numbers, worked out by hand below.
SMALL = dict(
    queries_per_month=1_000, question_tokens=100, instruction_tokens=400, answer_tokens=200,
    retrieval_k=4, chunk_tokens=250.0, llm_input_per_mtok=1.0, llm_output_per_mtok=4.0,
    embedding_per_mtok=0.1, corpus_tokens=10_000_000, corpus_change_pct=10.0, vector_db_monthly=20.0,
    training_per_mtok=2.0, training_tokens=500_000, epochs=2, retrain_every_months=3,
    ft_input_per_mtok=2.0, ft_output_per_mtok=8.0, ft_instruction_tokens=50, horizon_months=12,
)


def test_rag_arithmetic_by_hand():
    rag = costs.rag_cost(CostInputs(**SMALL))
    # prompt = 400 + 100 + 4 x 250 = 1,500 tokens at $1/M = $0.0015; answer 200 at $4/M = $0.0008
    # question embedding 100 tokens at $0.1/M = $0.00001  ->  $0.00231 per question
    assert rag.per_query == pytest.approx(0.00231)
    items = {i.label: i.amount for i in rag.monthly}
    assert items["LLM calls (prompt with retrieved chunks)"] == pytest.approx(2.30)  # 1,000 x $0.0023
    assert items["Embedding questions"] == pytest.approx(0.01)
    assert items["Re-embedding changed documents"] == pytest.approx(0.10)  # 1M tokens at $0.1/M
    assert items["Vector database"] == 20.0
    assert rag.monthly_total == pytest.approx(22.41)
    assert rag.cost_per_query == pytest.approx(0.02241)
    assert rag.upfront_total == pytest.approx(1.00)  # 10M corpus tokens at $0.1/M


def test_fine_tuning_arithmetic_by_hand():
    ft = costs.fine_tuning_cost(CostInputs(**SMALL))
    # prompt = 50 + 100 = 150 tokens at $2/M = $0.0003; answer 200 at $8/M = $0.0016
    assert ft.per_query == pytest.approx(0.0019)
    assert ft.upfront_total == pytest.approx(2.00)  # 500K tokens x 2 epochs at $2/M
    items = {i.label: i.amount for i in ft.monthly}
    assert items["Fine-tuned model calls (no retrieved context)"] == pytest.approx(1.90)
    assert items["Retraining, averaged per month"] == pytest.approx(2.00 / 3)
    assert ft.monthly_total == pytest.approx(1.90 + 2 / 3)
    # Retraining is paid in months 3, 6, 9 and 12 of the cumulative curve.
    assert ft.cumulative[0] == pytest.approx(2.00)
    assert ft.cumulative[2] == pytest.approx(2.00 + 2 * 1.90)
    assert ft.cumulative[3] == pytest.approx(2.00 + 3 * 1.90 + 2.00)
    assert ft.cumulative[12] == pytest.approx(2.00 + 12 * 1.90 + 4 * 2.00)


def test_hybrid_arithmetic_by_hand():
    hy = costs.hybrid_cost(CostInputs(**SMALL))
    # prompt = 50 + 100 + 1,000 = 1,150 tokens at $2/M = $0.0023; answer $0.0016; embedding $0.00001
    assert hy.per_query == pytest.approx(0.00391)
    assert hy.monthly_total == pytest.approx(3.91 + 0.10 + 20.0)
    assert hy.upfront_total == pytest.approx(2.00 + 1.00)  # one training run + corpus embedding
    assert hy.lump == 0  # knowledge lives in the index: no retraining charged


def test_engineering_time_is_hours_times_rate_and_hybrid_pays_for_both():
    i = CostInputs(**SMALL, hourly_rate=50, rag_build_hours=10, rag_maintain_hours=2, ft_build_hours=20,
                   ft_maintain_hours=3)
    assert costs.rag_cost(i).upfront_total == pytest.approx(1.00 + 500)
    assert costs.rag_cost(i).monthly_total == pytest.approx(22.41 + 100)
    assert costs.fine_tuning_cost(i).upfront_total == pytest.approx(2.00 + 1_000)
    assert costs.hybrid_cost(i).monthly_total == pytest.approx(24.01 + 250)


def test_growth_compounds_monthly():
    i = CostInputs(**{**SMALL, "monthly_growth_pct": 10.0, "retrain_every_months": 0})
    assert costs.queries_in_month(i, 1) == 1_000
    assert costs.queries_in_month(i, 3) == pytest.approx(1_210)
    ft = costs.fine_tuning_cost(i)
    assert ft.cumulative[3] - ft.cumulative[2] == pytest.approx(1_210 * 0.0019)


def test_training_run_cost():
    assert costs.training_run_cost(tokens=1_000_000, epochs=3, price_per_mtok=3.0) == pytest.approx(9.0)
    with pytest.raises(ValueError):
        costs.training_run_cost(tokens=1_000, epochs=0, price_per_mtok=3.0)


# --- validation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, fragment", [
    ("queries_per_month", 0, "Queries per month cannot be zero"),
    ("queries_per_month", -5, "cannot be negative"),
    ("queries_per_month", 50_000_000_000, "looks like a typo"),
    ("llm_input_per_mtok", -0.1, "LLM input price cannot be negative"),
    ("llm_output_per_mtok", 15_000.0, "looks like a typo"),
    ("retrieval_k", 0, "Retrieved chunks (K) cannot be zero"),
    ("epochs", 0, "Epochs cannot be zero"),
    ("epochs", 2.5, "whole number"),
    ("training_tokens", 0, "Training tokens per epoch cannot be zero"),
    ("corpus_change_pct", 150.0, "looks like a typo"),
    ("monthly_growth_pct", -80.0, "at least -50%"),
    ("answer_tokens", 0, "cannot be zero"),
    ("vector_db_monthly", float("nan"), "finite"),
    ("hourly_rate", True, "must be a number"),
    ("question_tokens", "50", "must be a number"),
])
def test_bad_inputs_raise_actionable_errors(field, value, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")) as err:
        CostInputs(**{field: value})
    assert costs.LIMITS[field].label in str(err.value)


def test_a_prompt_larger_than_any_context_window_is_rejected():
    with pytest.raises(ValueError, match="Lower K or the chunk size"):
        CostInputs(retrieval_k=100, chunk_tokens=20_000.0)


def test_zero_is_fine_where_it_means_something():
    i = CostInputs(vector_db_monthly=0, corpus_change_pct=0, instruction_tokens=0, embedding_per_mtok=0,
                   retrain_every_months=0, corpus_tokens=0)
    assert costs.rag_cost(i).monthly_total == pytest.approx(costs.rag_cost(i).per_query * 100_000)


def test_inputs_are_frozen_and_keyword_only():
    with pytest.raises(dataclasses.FrozenInstanceError):
        CostInputs().queries_per_month = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        CostInputs(100_000)  # type: ignore[misc]


# --- break-even -----------------------------------------------------------------------------------

def test_break_even_month_when_training_pays_off():
    # RAG: $0 up front, $100 a month. Fine-tuning: $250 up front, $50 a month -> equal at month 5.
    i = CostInputs(queries_per_month=1_000, corpus_tokens=0, corpus_change_pct=0, vector_db_monthly=100,
                   instruction_tokens=0, retrieval_k=1, chunk_tokens=1.0, question_tokens=1, answer_tokens=1,
                   llm_input_per_mtok=0, llm_output_per_mtok=0, embedding_per_mtok=0,
                   training_per_mtok=250, training_tokens=1_000_000, epochs=1,
                   ft_input_per_mtok=0, ft_output_per_mtok=0, hourly_rate=10, ft_maintain_hours=5)
    result = compare(i)
    assert result.rag.cumulative[:3] == pytest.approx((0, 100, 200))
    assert result.fine_tuning.cumulative[:3] == pytest.approx((250, 300, 350))
    assert result.break_even_month == 5
    assert "month 5" in result.month_statement


def test_break_even_month_is_none_when_fine_tuning_never_catches_up():
    i = CostInputs(**{**SMALL, "retrain_every_months": 0, "vector_db_monthly": 0, "corpus_change_pct": 0,
                      "ft_input_per_mtok": 50.0, "ft_output_per_mtok": 50.0})
    result = compare(i)
    assert result.break_even_month is None
    assert "never" in result.month_statement


def test_break_even_month_needs_fine_tuning_to_stay_cheaper():
    rag = costs.ApproachCost("rag", (), (), 0, 0, 0, 0, 1, (10, 20, 30, 40))
    ft = costs.ApproachCost("fine_tuning", (), (), 0, 0, 0, 0, 1, (5, 25, 28, 45))
    assert costs.break_even_month(rag, ft) is None  # cheaper in months 0 and 2, but not at the end
    ft = costs.ApproachCost("fine_tuning", (), (), 0, 0, 0, 0, 1, (15, 25, 28, 35))
    assert costs.break_even_month(rag, ft) == 2


def test_break_even_volume_by_hand():
    # RAG: $200 fixed + $0.002/query; fine-tuning: $1,200 fixed (spread) + $0.001/query -> 1,000,000 queries.
    i = CostInputs(queries_per_month=10_000, corpus_tokens=0, corpus_change_pct=0, vector_db_monthly=200,
                   instruction_tokens=0, retrieval_k=1, chunk_tokens=1000.0, question_tokens=1, answer_tokens=999,
                   llm_input_per_mtok=1.0, llm_output_per_mtok=1.0, embedding_per_mtok=0,
                   training_per_mtok=0, ft_input_per_mtok=1.0, ft_output_per_mtok=1.0, ft_instruction_tokens=0,
                   hourly_rate=100, ft_maintain_hours=12)
    result = compare(i)
    assert result.rag.per_query == pytest.approx(0.002)
    assert result.fine_tuning.per_query == pytest.approx(0.001)
    assert result.volume.queries == pytest.approx(1_000_000)
    assert "above about 1 million queries" in result.volume.statement
    at = result.volume.queries
    assert result.rag.monthly_at(at, horizon=24) == pytest.approx(result.fine_tuning.monthly_at(at, horizon=24))


def test_break_even_volume_out_of_range_is_said_plainly():
    result = compare(CostInputs())  # the worked example: fine-tuning cheaper at any volume
    assert result.volume.queries is None
    assert "Fine-tuning is cheaper at every volume" in result.volume.statement
    never = compare(CostInputs(ft_input_per_mtok=10.0, ft_output_per_mtok=40.0, vector_db_monthly=0))
    assert never.volume.queries is None
    assert "never catches up" in never.volume.statement


def test_dearer_per_query_fine_tuning_can_only_win_at_low_volume():
    # RAG's $50 vector store dominates at small volumes; fine-tuning's dearer questions win beyond that.
    result = compare(CostInputs(ft_input_per_mtok=10.0, ft_output_per_mtok=40.0))
    q = result.volume.queries
    assert q is not None and "only below about" in result.volume.statement
    assert result.fine_tuning.monthly_at(q / 2, horizon=24) < result.rag.monthly_at(q / 2, horizon=24)
    assert result.fine_tuning.monthly_at(q * 2, horizon=24) > result.rag.monthly_at(q * 2, horizon=24)


# --- the REFERENCE.md worked example ---------------------------------------------------------------

def test_worked_example_reproduces_the_published_ranges():
    result = compare(CostInputs())
    rag_items = {i.label: i.amount for i in result.rag.monthly}
    assert 30 <= rag_items["LLM calls (prompt with retrieved chunks)"] <= 60   # guide: $30-60
    assert 0 <= rag_items["Vector database"] <= 70                              # guide: $0-70
    assert rag_items["Embedding questions"] + rag_items["Re-embedding changed documents"] <= 2
    assert 35 <= result.rag.monthly_total <= 130                                # guide: $35-130
    assert CostInputs().rag_tokens_per_query == 2_000                           # guide: ~2K tokens
    assert 6 <= result.fine_tuning.upfront_total <= 10                          # guide: $6-10 training
    assert 20 <= result.fine_tuning.monthly_total <= 40                         # guide: $20-40 a month
    # The exact figures the defaults produce (quoted in the hand-over note).
    assert result.rag.monthly_total == pytest.approx(86.95)
    assert result.fine_tuning.monthly_total == pytest.approx(22.50)
    assert result.fine_tuning.upfront_total == pytest.approx(9.00)
    assert result.hybrid.monthly_total == pytest.approx(117.70)


def test_counting_engineering_time_makes_rag_cheaper_below_a_million_queries():
    # The guide's claim, with our suggested hours: fine-tuning only pays off at millions of queries.
    result = compare(CostInputs(hourly_rate=100, rag_build_hours=40, rag_maintain_hours=4, ft_build_hours=80,
                                ft_maintain_hours=8))
    assert result.volume.queries is not None and result.volume.queries > 1_000_000
    assert result.break_even_month is None


@pytest.mark.parametrize("count, text", [
    (3_279_558, "3.3 million"), (45_310, "45,000"), (1_234, "1,200"), (999_999, "1 million"),
    (1_000, "1,000"), (100_000_000, "100 million"), (2_540_000_000, "2.5 billion"), (99.5, "100"), (0, "0"),
])
def test_estimated_counts_keep_two_significant_figures(count, text):
    assert costs.about(count) == text


def test_break_even_volume_is_not_stated_to_the_query():
    # A break-even volume is computed from price lists and token estimates: "about 3,279,558" claims
    # a precision the inputs do not have.
    result = compare(CostInputs(hourly_rate=100, rag_build_hours=40, rag_maintain_hours=4, ft_build_hours=80,
                                ft_maintain_hours=8))
    q = result.volume.queries
    assert q is not None
    assert f"about {costs.about(q)} queries a month" in result.volume.statement
    assert f"{q:,.0f}" not in result.volume.statement and not re.search(r"\d,\d{3},\d{3}", result.volume.statement)


@pytest.mark.parametrize("amount, precise, text", [
    (86.95, False, "$86.95"), (1234.5, False, "$1,234.50"), (0, False, "$0.00"), (0.004, False, "$0.00400"),
    (0.00087, True, "$0.000870"), (0.0133, True, "$0.0133"), (2.5, True, "$2.50"), (-3.0, False, "-$3.00"),
])
def test_money_formatting(amount, precise, text):
    assert costs.usd(amount, precise=precise) == text


# --- prices ------------------------------------------------------------------------------------------

@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_presets_come_from_genai_prices_without_network(no_network):
    prices.token_price.cache_clear()
    mini = prices.preset_prices("gpt-4o-mini")
    assert (mini.base.input_per_mtok, mini.base.output_per_mtok) == (0.15, 0.60)
    assert (mini.fine_tuned.input_per_mtok, mini.fine_tuned.output_per_mtok) == (0.30, 1.20)
    assert mini.training.amount == 3.00 and mini.training.source and mini.training.as_of
    assert "genai-prices" in mini.base.source
    for preset in prices.PRESETS:
        p = prices.preset_prices(preset)
        assert p.base.input_per_mtok > 0 and p.base.output_per_mtok > p.base.input_per_mtok
    # Tiered models are read at their base tier, not at the long-prompt rate.
    assert prices.preset_prices("claude-sonnet-4-5").base.input_per_mtok == 3.0
    assert prices.embedding_price("text-embedding-3-small").per_mtok == 0.02
    assert prices.embedding_price("local-minilm").per_mtok == 0.0


def test_defaults_match_the_library_prices():
    d = CostInputs()
    mini = prices.preset_prices("gpt-4o-mini")
    assert (d.llm_input_per_mtok, d.llm_output_per_mtok) == (mini.base.input_per_mtok, mini.base.output_per_mtok)
    assert (d.ft_input_per_mtok, d.ft_output_per_mtok) == (mini.fine_tuned.input_per_mtok,
                                                           mini.fine_tuned.output_per_mtok)
    assert d.training_per_mtok == mini.training.amount
    assert d.embedding_per_mtok == prices.embedding_price("text-embedding-3-small").per_mtok
    assert d.vector_db_monthly == prices.VECTOR_DB_RATES["pinecone-standard"].amount


def test_every_manual_rate_has_a_source_and_date():
    rows = [*prices.TRAINING_RATES.values(), *prices.VECTOR_DB_RATES.values(), prices.LOCAL_EMBEDDING]
    for row in rows:
        assert row.source.strip() and row.as_of.strip() and row.amount >= 0 and not math.isnan(row.amount)


def test_unknown_presets_are_rejected():
    with pytest.raises(ValueError, match="Unknown model preset"):
        prices.preset_prices("gpt-9")
    with pytest.raises(ValueError, match="Unknown embedding preset"):
        prices.embedding_price("nope")


# --- figures -----------------------------------------------------------------------------------------

def test_cumulative_figure_plots_the_model_numbers():
    from core.plots.costs import cumulative_figure

    result = compare(CostInputs())
    fig = cumulative_figure(result)
    assert [t.name for t in fig.data] == ["RAG", "Fine-tuning", "Hybrid"]
    assert list(fig.data[0].y) == pytest.approx(result.rag.cumulative)
    assert list(fig.data[1].x) == list(range(25))


def test_volume_figure_uses_log_x_and_marks_the_break_even():
    from core.plots.costs import volume_figure

    result = compare(CostInputs(hourly_rate=100, rag_build_hours=40, rag_maintain_hours=4, ft_build_hours=80,
                                ft_maintain_hours=8))
    fig = volume_figure(result)
    assert fig.layout.xaxis.type == "log"
    assert min(fig.data[0].x) == pytest.approx(costs.VOLUME_RANGE[0])
    assert max(fig.data[0].x) == pytest.approx(costs.VOLUME_RANGE[1])
    # Lines at the user's volume and the break-even; labels in log10 units (plotly.py #4012).
    assert sorted(s.x0 for s in fig.layout.shapes) == pytest.approx(sorted([100_000, result.volume.queries]))
    assert sorted(a.x for a in fig.layout.annotations) == pytest.approx(
        sorted([5.0, math.log10(result.volume.queries)]))
