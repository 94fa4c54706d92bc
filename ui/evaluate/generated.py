"""The "Question set" tab's generator and its check: make questions (offline or with an LLM), and
see whether the generated set ranks settings the way the real questions do.

Generated questions join the working set with origin "generated" and are not scored until the
user picks that origin above the tabs. A run is interrupted by any click (that is Cancel): each
question is kept in the session as it is made, and the next run files the ones already made.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import providers
from core.documents import Document
from core.evaluation import Question
from core.qgen import (
    AGREEMENT_GRID,
    OFFLINE_EXPLANATION,
    Agreement,
    GenConfig,
    GenResult,
    generate_llm,
    generate_offline,
    rank_agreement,
)
from core.questions import SetCheck, normalise
from core.sweep import run_sweep
from ui import state
from ui.evaluate.common import flash
from ui.indexing import session_embedder
from ui.text import md

OFFLINE = "offline"
_RUN = "_eval_gen_run"  # {"made": [Question], "status": "running"|"done"}: survives an interrupted run
_RESULT = "_eval_gen_result"  # the last GenResult, shown until the next run
_AGREE = "_eval_gen_agreement"  # (key, Agreement)


def _secrets() -> Mapping:
    try:
        return st.secrets
    except Exception:  # no secrets file
        return {}


@st.cache_data(ttl=60, show_spinner=False)
def _ollama_models() -> tuple[str, ...] | None:
    return providers.probe_ollama()


def _file(made: Sequence[Question], docs: Mapping[str, Document]) -> int:
    """Add generated questions to the set, skipping ones it already holds; returns how many joined.

    A set with no real (curated or labelled) questions scores the generated ones at once: there is
    nothing for them to mix with, and a user with only their own documents should not have to find a
    switch before Evaluate does anything. Once real questions exist, generated ones wait to be picked."""
    ws = state.working_set()
    have = {(normalise(q.question), q.source) for q in ws.questions}
    new = [q for q in made if (normalise(q.question), q.source) not in have]
    if new:
        changes = {}
        if not _has_real(ws.questions) and "generated" not in ws.origins:
            changes["origins"] = (*ws.origins, "generated")
            state.forget_widgets(["eval_q_origins"])  # the picker re-seeds from the set's origins
        state.update_questions([*ws.questions, *new], **changes)
    return len(new)


def _has_real(questions: Sequence[Question]) -> bool:
    return any(q.origin != "generated" for q in questions)


def _joined_message(added: int) -> str:
    ws = state.working_set()
    if "generated" in ws.origins and not _has_real(ws.questions):
        return (f" {added} new question(s) joined the set as generated, and are scored: the set has no real "
                "questions to mix them with.")
    if "generated" in ws.origins:
        return f" {added} new question(s) joined the set as generated, and are scored with the real ones."
    return f" {added} new question(s) joined the set as generated; tick *generated* above the tabs to score them."


def settle_interrupted(docs: Mapping[str, Document]) -> None:
    """A generation interrupted by a click (Cancel, or any other) keeps what it had made."""
    run = st.session_state.get(_RUN)
    if run is not None and run["status"] == "running":
        run["status"] = "done"
        added = _file(run["made"], docs)
        st.info(f"Generation was interrupted: the {added} question(s) made before it are kept (origin generated).")


def generated_section(docs: Mapping[str, Document], check: SetCheck) -> None:
    """`check` is the set's (cached) row check, from the editor above."""
    st.markdown("#### Generate questions")
    settle_interrupted(docs)
    statuses = providers.discover(environ=os.environ, secrets=_secrets(), ollama_models=_ollama_models())
    available = {s.spec.name: s for s in statuses if s.available}
    options = [OFFLINE, *available]
    if st.session_state.get("eval_gen_method") not in options:
        st.session_state["eval_gen_method"] = OFFLINE
    c1, c2, c3 = st.columns([2, 1, 1])
    method = c1.selectbox("Generator", options, key="eval_gen_method",
                          format_func=lambda o: "offline (cloze, no key needed)" if o == OFFLINE else available[o].spec.label,
                          help="LLM providers appear when their package and API key (or local server) are there.")
    state.keep_widget("eval_gen_per_doc", 5)
    per_doc = int(c2.number_input("Questions per document", 1, 200, key="eval_gen_per_doc"))
    state.keep_widget("eval_gen_seed", 0)
    seed = int(c3.number_input("Seed", 0, 10_000, key="eval_gen_seed", help="The same seed gives the same questions."))
    model_name = ""
    if method == OFFLINE:
        st.caption(OFFLINE_EXPLANATION + " It cannot paraphrase, so its questions favour word-matching search: "
                   "on the bundled samples it ranks settings unlike the real questions (check it below).")
    else:
        model_name = st.selectbox("Model", list(available[method].models), key=f"eval_gen_model_{method}")
        st.caption("The model writes one question per sampled passage, with a short answer copied from it; a question "
                   "whose answer does not occur in its passage is rejected. Each call costs money.")
    b1, b2, _ = st.columns([1, 1, 3])
    go_clicked = b1.button("Generate", key="eval_gen_run", type="primary", disabled=not docs)
    b2.button("Cancel", key="eval_gen_cancel", help="Stops a running generation; the questions made so far are kept.")
    if go_clicked:
        _generate(docs, method, available.get(method), model_name, GenConfig(per_doc=per_doc, seed=seed))
    result: GenResult | None = st.session_state.get(_RESULT)
    if result is not None:
        _show_result(result)
    agreement_section(docs, check)


def _generate(docs: Mapping[str, Document], method: str, status: providers.ProviderStatus | None, model_name: str,
              config: GenConfig) -> None:
    made: list[Question] = []
    run = {"made": made, "status": "running"}
    st.session_state[_RUN] = run
    bar = st.progress(0.0, text="Generating questions...")

    def progress(n: int, total: int, label: str) -> None:
        bar.progress(min(n / max(total, 1), 1.0), text=f"Generating: {n} of {total} ({label})")

    corpus = list(docs.values())
    if method == OFFLINE:
        result = generate_offline(corpus, config=config, progress=progress, on_question=made.append)
    else:
        assert status is not None
        secrets = tuple(v for v in (providers.find_key(s.key_names, environ=os.environ, secrets=_secrets())[0]
                                    for s in providers.PROVIDERS.values()) if v)
        try:
            chat = providers.build_chat_model(providers.GenerationConfig(provider=method, model=model_name),
                                              environ=os.environ, secrets=_secrets())
        except Exception as exc:
            run["status"] = "done"
            bar.empty()
            st.error(f"{status.spec.label}: {md(providers.classify_error(exc, secrets=secrets).message)}")
            return
        result = generate_llm(corpus, chat_model=chat, config=config, label=f"{status.spec.label} {model_name}",
                              progress=progress, on_question=made.append,
                              classify=lambda e: providers.classify_error(e, secrets=secrets).message)
    run["status"] = "done"
    bar.empty()
    st.session_state[_RESULT] = result
    added = _file(result.questions, docs)
    flash(result.message() + _joined_message(added))
    st.rerun()


def _show_result(result: GenResult) -> None:
    (st.warning if result.error or result.shortfall else st.caption)(md(result.message()))
    if result.shortfall:
        with st.expander(f"Documents with fewer usable passages than asked ({len(result.shortfall)})"):
            st.markdown("\n".join(f"- {md(s)}" for s in result.shortfall))
    if result.rejected:
        with st.expander(f"Rejected ({len(result.rejected)})"):
            st.dataframe(pd.DataFrame([{"source": r.source, "question": r.question, "answer": r.answer,
                                        "reason": r.reason} for r in result.rejected]),
                         hide_index=True, key="eval_gen_rejected", width="stretch")


# -- does the generated set rank settings like real questions? ------------------------------------


def agreement_section(docs: Mapping[str, Document], check: SetCheck) -> None:
    st.markdown("#### Does the generated set rank settings like real questions?")
    ws = state.working_set()
    valid = [ws.questions[i] for i in check.valid]
    real = [q for q in valid if q.origin in ("curated", "labelled")]
    made = [q for q in valid if q.origin == "generated"]
    n_settings = len(AGREEMENT_GRID.chunk_configs()) * len(AGREEMENT_GRID.methods)
    st.caption(f"Scores the same {n_settings} settings ({len(AGREEMENT_GRID.chunk_configs())} chunkings × "
               f"{' and '.join(AGREEMENT_GRID.methods)}, hit@5, fast pooled mode) with the real questions "
               f"({len(real)} curated or labelled) and the generated ones ({len(made)}), then compares the two "
               "rankings (Kendall's tau) and the best setting each picks. A tau near 1 means the generated set would "
               "choose settings as the real one does.")
    if not real or not made:
        st.info("This needs valid questions of both kinds: real ones (curated or labelled) and generated ones.")
        return
    key = (state.corpus_key(), hash(tuple(real)), hash(tuple(made)))
    if st.button("Compare the rankings", key="eval_gen_agree"):
        bar = st.progress(0.0, text="Scoring the settings...")
        corpus = list(docs.values())
        bank = state.sentence_bank()
        rows = []
        for step, questions in enumerate((real, made)):
            def progress(n: int, total: int, label: str, step: int = step) -> None:
                bar.progress(min((step + n / max(total, 1)) / 2, 1.0),
                             text=f"{'Real' if step == 0 else 'Generated'} questions: {label}")
            try:
                result = run_sweep(corpus, questions, grid=AGREEMENT_GRID, mode="pooled",  # questions stay off disk
                                   embedder=session_embedder().keeping_private(q.question for q in questions),
                                   progress=progress, bank=bank)
            except Exception as exc:
                bar.empty()
                st.error(f"The comparison failed: {md(str(exc))}")
                return
            rows.append(result.rows)
        bar.empty()
        st.session_state[_AGREE] = (key, rank_agreement(rows[0], rows[1], metric="hit", k=5))
    held = st.session_state.get(_AGREE)
    if held is None:
        return
    if held[0] != key:
        st.caption(":orange[These results are for an earlier question set or corpus: compare again to refresh them.]")
    show_agreement(held[1])


def show_agreement(agreement: Agreement) -> None:
    c1, c2, c3 = st.columns(3)
    c1.metric("Kendall's tau", "–" if agreement.tau is None else f"{agreement.tau:.2f}",
              help="Rank agreement of the settings' hit@5 under the two sets (tau-b: ties counted). 1: same order; "
                   "0: unrelated; below 0: reversed.")
    c2.metric("Same best setting", "yes" if agreement.same_best else "no")
    c3.metric("Settings", agreement.n_settings)
    st.markdown(md(agreement.verdict()))
    fig = go.Figure()
    for method in sorted({p[0].rsplit(", ", 1)[1] for p in agreement.points}):
        pts = [p for p in agreement.points if p[0].endswith(f", {method}")]
        fig.add_scatter(x=[p[1] for p in pts], y=[p[2] for p in pts], mode="markers", name=method,
                        text=[p[0] for p in pts], hovertemplate="%{text}<br>real %{x:.3f} · generated %{y:.3f}<extra></extra>")
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=30, b=10), title="hit@5 per setting",
                      xaxis_title="real questions", yaxis_title="generated questions")
    st.plotly_chart(fig, key="eval_gen_agreement_chart")
    st.caption(f"Best with real questions: {md(agreement.best_curated)}. Best with generated: "
               f"{md(agreement.best_generated)}.")
