"""Decide: the five-question flowchart, its verdict with reasons and conflicts, and the comparison."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core import decision
from ui import state
from ui.report import report_button

APPROACH_ICON = {decision.RAG: ":material/search:", decision.FINE_TUNING: ":material/model_training:",
                 decision.HYBRID: ":material/join_inner:", decision.NOT_YET: ":material/hourglass_top:"}
POINT_TEXT = {
    decision.TO_RAG: "points to RAG", decision.TO_FINE_TUNING: "points to fine-tuning",
    decision.TO_BOTH: "points to both", decision.NEUTRAL: "no preference",
    decision.STOP_RAG: "settles it: RAG", decision.NEEDS_DATA: "blocks fine-tuning for now",
    decision.DATA_OK: "makes fine-tuning possible",
}


def widget_key(question_id: str) -> str:
    return f"decide_{question_id}"


def clear_answers() -> None:
    # A callback runs before the widgets are drawn, the only time their state may be reset.
    for q in decision.QUESTIONS:
        state.set_widget(widget_key(q.id), None)
    state.set_decision_answers({})


st.title("Decide: RAG, fine-tuning, or both?")
st.caption("Five questions, asked in order. Each answer pushes towards one approach or rules one out; "
           "when answers disagree the page says so and shows how the disagreement is settled.")

saved: dict[str, str] = dict(state.decision_answers().answers)
for q in decision.QUESTIONS:
    state.keep_widget(widget_key(q.id), saved.get(q.id))

# The flowchart gets the wider column: it is scaled to fit it, and its text must stay readable on a projector.
left, right = st.columns([4, 5], gap="medium")
answers: dict[str, str] = {}
with left:
    stopped = False
    for q in decision.QUESTIONS:
        if stopped:
            st.caption(f"Q{q.number} is not asked: the first answer settles it.")
            continue
        labels = {o.id: o.label for o in q.options}
        choice = st.radio(f"**{q.number}. {q.text}**", list(labels), format_func=labels.get, index=None,
                          key=widget_key(q.id), help=q.help)
        if choice is not None:
            answers[q.id] = choice
            stopped = q.option(choice).points_to == decision.STOP_RAG
    st.button("Clear answers", key="decide_clear", icon=":material/restart_alt:", on_click=clear_answers)

# Keep answers to questions hidden by a stop too, so flipping Q1 back restores them.
stored = {**{k: v for k, v in saved.items() if k not in answers and stopped}, **answers}
state.set_decision_answers(stored)
rec = decision.evaluate(answers)

with right:
    st.graphviz_chart(decision.to_dot(rec), width="stretch")
    if not rec.complete:
        nxt = decision.QUESTION_BY_ID[rec.next_question]
        st.info(f"Answer question {nxt.number} to continue along the chart.", icon=":material/arrow_back:")
    else:
        st.success(f"**Recommendation: {rec.outcome.title}**\n\n{rec.outcome.summary}",
                   icon=APPROACH_ICON[rec.approach])
        st.caption(f"Deciding rule: {rec.rule_text}")

if rec.contributions:
    st.subheader("How each answer counted")
    for c in rec.contributions:
        q = decision.QUESTION_BY_ID[c.question_id]
        st.markdown(f"**Q{q.number}: {c.answer}**: {POINT_TEXT[c.points_to]}. {c.reason}")
if rec.conflicts:
    st.subheader("Where the answers disagree")
    for conflict in rec.conflicts:
        st.warning(f"**Conflict:** {conflict.description}\n\n**Resolved:** {conflict.resolution}",
                   icon=":material/call_split:")
elif rec.complete and rec.rule != "stop":
    st.caption("No conflicts: every answer points the same way or has no preference.")
if rec.complete:
    st.markdown("**Next steps**\n\n" + "\n".join(f"- {s}" for s in rec.outcome.next_steps))

with st.expander("The rules, in the order they are tried"):
    st.markdown("\n".join(f"{n}. {text}" for n, (_, text) in enumerate(decision.RULES, start=1)))
    st.caption("Roughly four projects in five end up starting with RAG: most problems are about missing "
               "knowledge, and RAG needs no labelled data.")

st.subheader("RAG and fine-tuning side by side")
st.dataframe(
    pd.DataFrame([(r.dimension, r.rag, r.fine_tuning) for r in decision.COMPARISON],
                 columns=["", "RAG", "Fine-tuning"]),
    hide_index=True, width="stretch",
)
c1, c2 = st.columns(2)
c1.markdown("**Where RAG fits best**\n\n" + "\n".join(f"- {u}" for u in decision.USE_CASES[decision.RAG]))
c2.markdown("**Where fine-tuning fits best**\n\n"
            + "\n".join(f"- {u}" for u in decision.USE_CASES[decision.FINE_TUNING]))

st.divider()
if not report_button(key="decide_report",
                     help="One self-contained file: chunk settings, retrieval metrics, these answers and the cost comparison."):
    st.caption("The Costs page has not been opened yet, so the report uses its default inputs.")
