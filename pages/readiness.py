"""Fine-tuning readiness: check a JSONL training file, split off a hold-out set, price a run."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core import finetune, prices
from core.costs import training_run_cost, usd
from core.plots.finetune import length_histogram
from ui import state
from ui.text import md

SAMPLE = Path(__file__).resolve().parent.parent / "sample_docs" / "training" / "support_assistant.jsonl"
DATA = "ft_data"  # (file name, bytes) of the file being checked; survives page visits
VERDICT_BOX = {"not_ready": st.error, "minimum": st.warning, "ready": st.success}


@st.cache_data(show_spinner="Checking every line...", max_entries=8)
def analyse(data: bytes) -> finetune.Analysis:
    return finetune.analyse(finetune.parse_jsonl(data))


def send_to_costs(values: dict[str, float], source: str) -> None:
    # The Costs page applies this on its next run, after its own defaults, and labels the source.
    state.send_costs(state.PendingCosts(values, source))


def load_sample() -> None:
    st.session_state[DATA] = (SAMPLE.name, SAMPLE.read_bytes())


st.title("Fine-tuning readiness")
st.caption("Before paying for a training run: is the file valid, how big is it, is there enough clean data, "
           "and what will a run cost? Chat format (`messages`) and prompt/completion files are both accepted.")

c1, c2 = st.columns([3, 1])
uploaded = c1.file_uploader("Training file (JSONL)", type=["jsonl"], key="ft_upload")
c2.button("Load the sample file", key="ft_load_sample", on_click=load_sample, icon=":material/description:",
          help="About 70 support-assistant examples for a fictional product, with a few planted problems.")
# A new upload replaces what is being checked; the sample button replaces it until the next upload.
if uploaded is not None and st.session_state.get("ft_upload_seen") != uploaded.file_id:
    st.session_state["ft_upload_seen"] = uploaded.file_id
    st.session_state[DATA] = (uploaded.name, uploaded.getvalue())
if DATA not in st.session_state:
    st.info("Upload a training file or load the sample to begin.", icon=":material/upload_file:")
    st.stop()

name, data = st.session_state[DATA]
try:
    result = analyse(data)
except Exception as exc:  # noqa: BLE001 - a file the checks did not foresee must not break the page for good
    # Forget the file: otherwise the page fails again on every visit until another file is loaded.
    # The upload stays marked as seen, so it is not read again until another file is chosen.
    del st.session_state[DATA]
    st.error(md(f"This file could not be checked ({type(exc).__name__}: {exc}). Fix it or upload another one."),
             icon=":material/error:")
    st.stop()
warnings = sum(1 for p in result.problems if p.severity == finetune.WARNING)

st.subheader("Checked file")
st.text(name)  # a file name is user text: shown as plain text, never as Markdown
cols = st.columns(5)
cols[0].metric("Lines", f"{result.n_lines:,}")
cols[1].metric("Usable examples", f"{len(result.examples):,}")
cols[2].metric("Clean examples", f"{len(result.clean):,}",
               help="Usable, not an exact duplicate, and with a real answer.")
cols[3].metric("Errors", f"{result.n_errors:,}")
cols[4].metric("Warnings", f"{warnings:,}")
st.caption(f"Format: {result.format or 'not recognised'}. {result.total_tokens:,} tokens in usable examples "
           f"(about {result.clean_tokens:,} in clean ones). {finetune.TOKENIZER_NOTE}")

if result.problems:
    st.markdown("**Problems, by line**")
    st.dataframe(pd.DataFrame([(p.line, p.severity, p.message) for p in result.problems],
                              columns=["Line", "Severity", "Problem"]),
                 hide_index=True, width="stretch")
else:
    st.success("Every line is valid and no duplicates or near-empty answers were found.")

if result.examples:
    keep = {e.line for e in result.clean}
    clean_tokens = [t for e, t in zip(result.examples, result.tokens) if e.line in keep]
    flagged_tokens = [t for e, t in zip(result.examples, result.tokens) if e.line not in keep]
    st.plotly_chart(length_histogram(clean_tokens, flagged=flagged_tokens), key="ft_length_chart")

verdict = finetune.verdict(n_clean=len(result.clean), n_errors=result.n_errors)
VERDICT_BOX[verdict.level](f"**{verdict.title}.** {verdict.message}")

st.subheader("Hold-out set")
st.caption("Set 10-15% of the clean examples aside before training and never train on them: they are how you "
           "will know whether the tuned model beats the base model. Duplicates and near-empty answers are left "
           "out first, so no example can sit on both sides.")
c1, c2 = st.columns(2)
share = c1.slider("Hold-out share (%)", min_value=5, max_value=30, value=10, step=1, key="ft_holdout_pct")
seed = c2.number_input("Random seed", min_value=0, value=42, step=1, key="ft_seed",
                       help="The same seed always gives the same split.")
try:
    split = finetune.split_holdout(result.clean, share=share / 100, seed=int(seed))
except ValueError as exc:
    st.error(str(exc))
    st.stop()
c1, c2 = st.columns(2)
c1.metric("Training examples", f"{len(split.train):,}")
c2.metric("Hold-out examples", f"{len(split.holdout):,}")
stem = Path(name).stem
c1.download_button("Download training set", finetune.to_jsonl(split.train), file_name=f"{stem}.train.jsonl",
                   mime="application/jsonl", key="ft_download_train", icon=":material/download:")
c2.download_button("Download hold-out set", finetune.to_jsonl(split.holdout), file_name=f"{stem}.holdout.jsonl",
                   mime="application/jsonl", key="ft_download_holdout", icon=":material/download:")

st.subheader("Training cost")
token_of = dict(zip((e.line for e in result.examples), result.tokens))
train_tokens = sum(token_of[e.line] for e in split.train)
rates = prices.TRAINING_RATES
c1, c2, c3 = st.columns(3)
rate_id = c1.selectbox("Training price", list(rates), format_func=lambda r: rates[r].label, key="ft_rate")
epochs = c2.number_input("Epochs", min_value=1, max_value=100, value=3, step=1, key="ft_epochs")
rate = rates[rate_id]
cost = training_run_cost(tokens=train_tokens, epochs=int(epochs), price_per_mtok=rate.amount)
c3.metric("One training run", usd(cost, precise=True))
st.caption(f"{train_tokens:,} training tokens x {int(epochs)} epochs at ${rate.amount:,.2f} per 1M tokens "
           f"({rate.source}, {rate.as_of}). Token counts are approximate (see above).")

c1, c2 = st.columns([1, 2])
c1.button("Use these numbers on the Costs page", key="ft_send_to_costs", on_click=send_to_costs, kwargs=dict(
    values={"training_tokens": max(1, train_tokens), "epochs": int(epochs), "training_per_mtok": rate.amount},
    source=f"Fine-tuning readiness page ({name}, {len(split.train):,} training examples)",
))
if state.has_pending_costs():
    c2.success("Sent: the Costs page will use these training tokens, epochs and price.", icon=":material/check:")
