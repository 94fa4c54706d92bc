"""The Costs page's results: tokens per question, the three approaches' bills, break-even, charts.

Everything shown is computed by core.costs; this module only lays it out, with money formatted by
the same `usd` the stakeholder report uses.
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st

from core import report
from core.costs import LIMITS, CostComparison, usd
from core.plots.costs import cumulative_figure, volume_figure
from ui.costs_inputs import FORMAT


def show_comparison(comparison: CostComparison, values: Mapping[str, float], sources: Mapping[str, str]) -> None:
    """The comparison of `comparison.inputs`; `values` and `sources` are the widgets' values and origins."""
    inputs = comparison.inputs
    st.markdown(
        f"**Tokens per question.** RAG: {inputs.instruction_tokens:,} instructions + {inputs.question_tokens:,} "
        f"question + {inputs.retrieval_k} x {inputs.chunk_tokens:,.1f} chunk tokens = "
        f"{inputs.rag_input_tokens:,.0f} in, {inputs.answer_tokens:,} out ({inputs.rag_tokens_per_query:,.0f} in "
        f"all). Fine-tuned: {inputs.ft_input_tokens:,.0f} in, {inputs.answer_tokens:,} out. Hybrid: "
        f"{inputs.hybrid_input_tokens:,.0f} in, {inputs.answer_tokens:,} out."
    )
    if inputs.corpus_change_pct > 0 and inputs.retrain_every_months == 0:
        st.warning(f"{inputs.corpus_change_pct:g}% of your documents change every month, but the fine-tuned model "
                   "is never retrained, so what it knows goes stale. Set 'Retrain every' on the Fine-tuning tab "
                   "to pay for keeping it current.", icon=":material/update:")

    for col, approach in zip(st.columns(3), comparison.approaches):
        col.metric(f"{approach.name}: monthly", usd(approach.monthly_total))
        col.metric(f"{approach.name}: per query", usd(approach.cost_per_query, precise=True))
        col.metric(f"{approach.name}: one-off", usd(approach.upfront_total))

    st.info(f"**Break-even month:** {comparison.month_statement}\n\n"
            f"**Break-even volume:** {comparison.volume.statement}", icon=":material/balance:")
    st.caption("Cost is one input, not the answer: fine-tuning only replaces RAG when the model can do without "
               "retrieved knowledge. The Decide page weighs the rest.")

    st.plotly_chart(cumulative_figure(comparison), key="cost_cumulative_chart")
    st.plotly_chart(volume_figure(comparison), key="cost_volume_chart")

    with st.expander("Monthly line items"):
        st.dataframe(
            pd.DataFrame([(a.name, "one-off", item.label, usd(item.amount)) for a in comparison.approaches
                          for item in a.upfront]
                         + [(a.name, "monthly", item.label, usd(item.amount)) for a in comparison.approaches
                            for item in a.monthly],
                         columns=["Approach", "When", "Item", "Cost"]),
            hide_index=True, width="stretch",
        )
    with st.expander("Where each number comes from"):
        st.dataframe(
            pd.DataFrame([(LIMITS[f].label, report.plain_number(values[f]), LIMITS[f].unit, sources[f]) for f in FORMAT],
                         columns=["Input", "Value", "Unit", "Source"]),
            hide_index=True, width="stretch",
        )
        st.caption("Training prices and vector-database rates come from our own table (core/prices.py); "
                   "each row carries its source and date.")
    with st.expander("Claims worth testing here"):
        st.markdown(
            "- *Fine-tuning wins on inference cost at scale.* Raise the queries per month and watch the "
            "volume chart.\n"
            "- *Below about a million queries a month RAG is almost always cheaper once engineering time is "
            "counted.* Switch on engineering time and read the break-even volume.\n"
            "- *Changing knowledge makes fine-tuning pay again and again.* Set a retraining interval and "
            "watch the cumulative chart."
        )
