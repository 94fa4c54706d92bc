"""Costs: RAG, fine-tuning and hybrid priced side by side, starting from the user's own settings.

The page flow only: the inputs (widget state, presets, tabs) are in ui/costs_inputs.py, the results
in ui/costs_view.py.
"""
from __future__ import annotations

import streamlit as st

from core.costs import CostInputs, compare
from ui import state
from ui.costs_inputs import (
    ENGINEERING,
    FORMAT,
    PREFIX,
    apply_pending,
    follow_user_settings,
    initialise,
    input_tabs,
    keep_widgets,
    source_of,
)
from ui.costs_view import show_comparison
from ui.report import report_button

st.title("Costs: RAG, fine-tuning and hybrid")
st.caption("Every number below can be changed. The starting values reproduce the worked example of a "
           "mid-size app (about 100K questions a month on gpt-4o-mini); prices come from the genai-prices "
           "package, which works offline, or from our own small table where no library has them.")

initialise()
keep_widgets()
apply_pending()
k_source, chunk_source = follow_user_settings()
engineering_on = input_tabs(k_source, chunk_source)

values = {f: st.session_state[PREFIX + f] for f in FORMAT}
effective = {f: (0 if f in ENGINEERING and not engineering_on else v) for f, v in values.items()}
try:
    inputs = CostInputs(**effective)
except ValueError as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()

sources = {f: source_of(f, values[f], engineering_on=engineering_on) for f in FORMAT}
state.set_cost_report(state.CostReport(inputs, sources))
comparison = compare(inputs)
show_comparison(comparison, values, sources)

report_button(key="cost_report",
              help="One self-contained file: chunk settings, retrieval metrics, decision answers and these costs.")
