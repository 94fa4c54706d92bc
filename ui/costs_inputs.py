"""The Costs page's inputs: widget state, presets, defaults with their sources, and the input tabs.

Every number on the page is a widget keyed `cost_<CostInputs field>`, kept across page switches by
ui.state.keep_widget; each value also remembers where it came from (a default, a preset, the user's chunking, or "Your input")
for the page's source table and the report.
"""
from __future__ import annotations

import streamlit as st

from core import prices
from core.costs import ENGINEERING, ENGINEERING_OFF, LIMITS, CostInputs
from ui import state

PREFIX = "cost_"              # widget keys: cost_<CostInputs field>
ORIGIN = "costs_origin"       # field -> (value, source) as last set by a default or a preset
AUTO = "costs_auto"           # values last taken from the user's chunking and retrieval settings
OTHER_WIDGETS = ("cost_model_preset", "cost_embedding_preset", "cost_vector_db_preset", "cost_count_engineering")
# Suggested engineering effort: our own round-number assumptions, there to be overwritten.
SUGGESTED_ENGINEERING = {"hourly_rate": 100.0, "rag_build_hours": 40.0, "rag_maintain_hours": 4.0,
                         "ft_build_hours": 80.0, "ft_maintain_hours": 8.0}
REFERENCE = "REFERENCE.md worked example (2026 guide)"
# Where a default is our own reading of the guide rather than a figure it states, say so.
DEFAULT_SOURCES = {
    "queries_per_month": f"{REFERENCE}: about 100K queries a month",
    "monthly_growth_pct": "Our assumption: flat volume",
    "question_tokens": "Our split of the guide's ~2K tokens per query",
    "instruction_tokens": "Our split of the guide's ~2K tokens per query",
    "answer_tokens": "Our split of the guide's ~2K tokens per query",
    "corpus_tokens": "Our assumption: a corpus whose one-off embedding costs the guide's ~$2",
    "corpus_change_pct": "Our assumption",
    "training_tokens": "Our choice: 1M tokens x 3 epochs reproduces the guide's $6-10 training run",
    "epochs": "Our choice: a common hosted default",
    "retrain_every_months": "Our assumption: never (the guide's example has one run)",
    "ft_instruction_tokens": "Our assumption: a tuned model needs only a short system prompt",
    "horizon_months": "Our choice: two years",
    **{f: "Our assumption: a round number, not a measurement" for f in ENGINEERING},
}
# K and chunk size when the user's own settings give none: the worked example's, owned by CostInputs.
# With the other defaults they make about 2,000 tokens per query, as the guide says.
_EXAMPLE = CostInputs()
DEFAULT_K = _EXAMPLE.retrieval_k
FALLBACK_CHUNK_TOKENS = _EXAMPLE.chunk_tokens

# field -> (step, format); a float step makes a float widget.
FORMAT: dict[str, tuple[float, str]] = {
    "queries_per_month": (10_000, "%d"), "monthly_growth_pct": (1.0, "%.1f"),
    "question_tokens": (10, "%d"), "instruction_tokens": (50, "%d"), "answer_tokens": (25, "%d"),
    "retrieval_k": (1, "%d"), "chunk_tokens": (10.0, "%.1f"),
    "llm_input_per_mtok": (0.01, "%.3f"), "llm_output_per_mtok": (0.01, "%.3f"),
    "embedding_per_mtok": (0.01, "%.3f"), "corpus_tokens": (1_000_000, "%d"),
    "corpus_change_pct": (1.0, "%.1f"), "vector_db_monthly": (5.0, "%.2f"),
    "training_per_mtok": (0.5, "%.2f"), "training_tokens": (100_000, "%d"), "epochs": (1, "%d"),
    "retrain_every_months": (1, "%d"), "ft_input_per_mtok": (0.01, "%.3f"),
    "ft_output_per_mtok": (0.01, "%.3f"), "ft_instruction_tokens": (25, "%d"),
    "hourly_rate": (10.0, "%.2f"), "rag_build_hours": (4.0, "%.1f"), "rag_maintain_hours": (1.0, "%.1f"),
    "ft_build_hours": (4.0, "%.1f"), "ft_maintain_hours": (1.0, "%.1f"), "horizon_months": (1, "%d"),
}


def typed(field: str, value: float) -> float:
    return float(value) if isinstance(FORMAT[field][0], float) else int(value)


def set_value(field: str, value: float, source: str) -> None:
    state.set_widget(PREFIX + field, typed(field, value))
    st.session_state[ORIGIN][field] = (typed(field, value), source)


def apply_model_preset() -> None:
    pp = prices.preset_prices(st.session_state["cost_model_preset"])
    ref = pp.preset.model_ref
    set_value("llm_input_per_mtok", pp.base.input_per_mtok, f"{pp.base.source}: {ref}")
    set_value("llm_output_per_mtok", pp.base.output_per_mtok, f"{pp.base.source}: {ref}")
    if pp.fine_tuned is not None:
        tuned = f"{pp.fine_tuned.source}: {pp.fine_tuned.model_ref}"
        set_value("ft_input_per_mtok", pp.fine_tuned.input_per_mtok, tuned)
        set_value("ft_output_per_mtok", pp.fine_tuned.output_per_mtok, tuned)
    else:
        assumed = f"Assumed equal to the base model ({ref}): no tuned price published"
        set_value("ft_input_per_mtok", pp.base.input_per_mtok, assumed)
        set_value("ft_output_per_mtok", pp.base.output_per_mtok, assumed)
    if pp.training is not None:
        set_value("training_per_mtok", pp.training.amount, f"{pp.training.source}, {pp.training.as_of}")


def apply_embedding_preset() -> None:
    price = prices.embedding_price(st.session_state["cost_embedding_preset"])
    set_value("embedding_per_mtok", price.per_mtok, f"{price.source}: {price.id}")


def apply_vector_db_preset() -> None:
    rate = prices.VECTOR_DB_RATES[st.session_state["cost_vector_db_preset"]]
    set_value("vector_db_monthly", rate.amount, f"{rate.label}: {rate.source}, {rate.as_of}")


def initialise() -> None:
    """First visit: the worked example, with prices looked up in genai-prices and our own table."""
    if ORIGIN in st.session_state:
        return
    st.session_state[ORIGIN] = {}
    for field, value in CostInputs().as_dict().items():
        set_value(field, SUGGESTED_ENGINEERING.get(field, value), DEFAULT_SOURCES.get(field, REFERENCE))
    state.set_widget("cost_model_preset", "gpt-4o-mini")
    state.set_widget("cost_embedding_preset", "text-embedding-3-small")
    state.set_widget("cost_vector_db_preset", "pinecone-standard")
    apply_model_preset()
    apply_embedding_preset()
    apply_vector_db_preset()
    state.set_widget("cost_count_engineering", False)


def widget_keys() -> list[str]:
    return [PREFIX + f for f in FORMAT] + list(OTHER_WIDGETS)


def keep_widgets() -> None:
    """Every input survives a visit to another page (initialise() has set each one first)."""
    for key in widget_keys():
        state.keep_widget(key, st.session_state.get(key))


def follow_user_settings() -> tuple[str, str]:
    """K and chunk size from the Retrieval and Chunking pages, unless the user has typed their own.

    A value is replaced only while it still equals what we filled in last time, so an edit sticks.
    Returns the captions explaining where K and the chunk size came from.
    """
    chosen = state.chosen_retrieval_config()
    if chosen is not None:
        fresh_k, k_source = chosen.k, f"K = {chosen.k}, from the Retrieval page"
    else:
        fresh_k, k_source = DEFAULT_K, f"K = {DEFAULT_K}: the default (set K on the Retrieval page)"
    stats = state.chunk_stats()
    if stats is not None:
        fresh_chunk = round(stats.mean_tokens, 1)
        chunk_source = (f"{fresh_chunk:,.1f} tokens per chunk: the mean of your current chunking "
                        f"({state.chunk_config().label()}, {stats.n_chunks:,} chunks)")
    else:
        fresh_chunk = FALLBACK_CHUNK_TOKENS
        chunk_source = ("No documents loaded, so this assumes the guide's ~2K tokens per query "
                        f"({DEFAULT_K} chunks x {FALLBACK_CHUNK_TOKENS:.0f} tokens + instructions, question "
                        "and answer). Load documents to use your own chunking.")
    auto = st.session_state.setdefault(AUTO, {"retrieval_k": DEFAULT_K, "chunk_tokens": FALLBACK_CHUNK_TOKENS})
    for field, fresh, source in (("retrieval_k", fresh_k, k_source), ("chunk_tokens", fresh_chunk, chunk_source)):
        if st.session_state[PREFIX + field] == auto[field] and fresh != auto[field]:
            set_value(field, fresh, source)
        elif st.session_state[ORIGIN][field][0] == typed(field, fresh):
            st.session_state[ORIGIN][field] = (typed(field, fresh), source)
        auto[field] = typed(field, fresh)
    return k_source, chunk_source


def number(field: str, container=st) -> None:
    limit = LIMITS[field]
    step, fmt = FORMAT[field]
    lowest = -100.0 if field == "monthly_growth_pct" else typed(field, 0)
    # Name the unit only where the label does not already say it ("Queries per month", not "(queries)").
    unit = "" if limit.unit.split()[0].lower() in limit.label.lower() else f" ({limit.unit})"
    container.number_input(f"{limit.label}{unit}", min_value=lowest, step=step, format=fmt,
                           key=PREFIX + field, help=limit.hint)


def apply_pending() -> None:
    """Numbers another page (Fine-tuning readiness) asked us to use, applied once."""
    pending = state.take_pending_costs()
    if pending:
        for field, value in pending.values.items():
            set_value(field, value, pending.source)


def source_of(field: str, value: float, *, engineering_on: bool) -> str:
    """Where a value came from; for engineering time, also whether it is counted (the switch)."""
    if field in ENGINEERING and not engineering_on:
        return ENGINEERING_OFF
    origin_value, origin_source = st.session_state[ORIGIN][field]
    source = origin_source if origin_value == value else "Your input"
    return f"{source}; counted: engineering time is switched on" if field in ENGINEERING else source


def input_tabs(k_source: str, chunk_source: str) -> bool:
    """Draw the five input tabs; return whether engineering time is counted."""
    tab_load, tab_model, tab_rag, tab_ft, tab_eng = st.tabs(
        ["Workload", "Model and prices", "RAG", "Fine-tuning", "Engineering time"])
    with tab_load:
        c1, c2, c3 = st.columns(3)
        number("queries_per_month", c1)
        number("monthly_growth_pct", c2)
        number("horizon_months", c3)
        st.markdown("**Tokens per question**")
        c1, c2, c3, c4 = st.columns(4)
        number("retrieval_k", c1)
        number("chunk_tokens", c2)
        number("question_tokens", c3)
        number("answer_tokens", c4)
        c1, c2 = st.columns(2)
        number("instruction_tokens", c1)
        number("ft_instruction_tokens", c2)
        st.caption(f"{k_source}. {chunk_source}")
    with tab_model:
        c1, c2, c3 = st.columns(3)
        c1.selectbox("Model preset", list(prices.PRESETS), format_func=lambda p: prices.PRESETS[p].label,
                     key="cost_model_preset", on_change=apply_model_preset,
                     help="Fills in the base and fine-tuned prices (and the training price where we know it).")
        c2.selectbox("Embedding model", list(prices.EMBEDDING_PRESETS), key="cost_embedding_preset",
                     on_change=apply_embedding_preset)
        note = prices.PRESETS[st.session_state["cost_model_preset"]].note
        if note:
            c3.info(note, icon=":material/info:")
        c1, c2, c3 = st.columns(3)
        number("llm_input_per_mtok", c1)
        number("llm_output_per_mtok", c2)
        number("embedding_per_mtok", c3)
        c1, c2, _ = st.columns(3)
        number("ft_input_per_mtok", c1)
        number("ft_output_per_mtok", c2)
        st.caption(f"Inference and embedding prices: genai-prices {prices.library_version()}, read from the data "
                   "bundled with the package (no network). Tuned models often cost more per token than their "
                   "base model; they save by sending much shorter prompts.")
    with tab_rag:
        c1, c2, c3 = st.columns(3)
        number("corpus_tokens", c1)
        number("corpus_change_pct", c2)
        c3.selectbox("Vector database preset", list(prices.VECTOR_DB_RATES),
                     format_func=lambda r: prices.VECTOR_DB_RATES[r].label, key="cost_vector_db_preset",
                     on_change=apply_vector_db_preset)
        number("vector_db_monthly", c3)
        st.caption("The corpus is embedded once up front; every month the changed share is embedded again, "
                   "along with every question.")
    with tab_ft:
        c1, c2, c3, c4 = st.columns(4)
        number("training_per_mtok", c1)
        number("training_tokens", c2)
        number("epochs", c3)
        number("retrain_every_months", c4)
        st.caption("A training run bills every token of the file once per epoch. The guide's $6-10 for one "
                   "gpt-4o-mini run matches about 2-3M billed tokens at $3 per 1M (here 1M tokens x 3 epochs); a "
                   "100K-token file would cost well under a dollar per epoch.")
    with tab_eng:
        engineering_on = st.checkbox("Count engineering time", key="cost_count_engineering",
                                     help="Building a training-data pipeline is real work; switch this on to "
                                          "see how it moves the break-even point.")
        c1, c2, c3, c4, c5 = st.columns(5)
        number("hourly_rate", c1)
        number("rag_build_hours", c2)
        number("rag_maintain_hours", c3)
        number("ft_build_hours", c4)
        number("ft_maintain_hours", c5)
        st.caption("The hours are our own round-number assumptions, not measurements. The hybrid pays for both "
                   "pipelines.")
    return engineering_on
