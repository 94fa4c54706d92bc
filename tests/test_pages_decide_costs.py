"""AppTest runs of the Decide, Costs and Fine-tuning readiness pages, driven by widget keys."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core import finetune, report
from core.chunking import ChunkConfig, split_corpus
from core.costs import CostInputs, compare, training_run_cost, usd
from core.retrieval import RetrievalConfig
from ui import state

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_docs" / "training" / "support_assistant.jsonl"
FULL_ANSWERS = {"changes": "no", "problem": "behaves", "attribution": "yes", "latency": "no", "examples": "yes"}


def page(name: str) -> AppTest:
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "pages" / name), default_timeout=60)
    return at


def run_clean(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def dollars(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


class TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = False

    def handle_starttag(self, tag, attrs):
        self._skip = tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip = False

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(doc: str) -> str:
    parser = TextOnly()
    parser.feed(doc)
    return " ".join(parser.parts)


# --- Decide ---------------------------------------------------------------------------------------

def test_decide_answers_give_a_recommendation_with_reasons_and_conflicts():
    at = run_clean(page("decide.py"))
    assert [r.key for r in at.radio] == [f"decide_{q}" for q in FULL_ANSWERS]
    assert all(r.value is None for r in at.radio)
    assert not at.success and "Answer question 1" in at.info[0].value
    for qid, answer in FULL_ANSWERS.items():
        at.radio(key=f"decide_{qid}").set_value(answer)
    run_clean(at)
    assert at.session_state[state.DECISION_ANSWERS].answers == FULL_ANSWERS
    assert "Recommendation: Hybrid: fine-tuning + RAG" in at.success[0].value
    assert len(at.warning) == 1 and "Conflict:" in at.warning[0].value and "Resolved:" in at.warning[0].value
    dot = at.get("graphviz_chart")[0].proto.spec
    assert re.search(r'q_problem -> q_attribution \[label="behaves: [^"]*", color="#1f6feb"', dot)
    assert re.search(r'out_hybrid \[label="[^"]*", color="#1f6feb"', dot)
    # Each answer's reason is shown.
    shown = " ".join(m.value for m in at.markdown)
    assert "Format, voice and task habits" in shown and "Only retrieval knows which passage" in shown


def test_decide_first_answer_yes_stops_the_chart_and_hides_the_rest():
    at = run_clean(page("decide.py"))
    at.radio(key="decide_changes").set_value("yes")
    run_clean(at)
    assert [r.key for r in at.radio] == ["decide_changes"]
    assert "Recommendation: RAG" in at.success[0].value
    assert sum("is not asked" in c.value for c in at.caption) == 4


def test_decide_restores_saved_answers_and_clear_resets_them():
    at = page("decide.py")
    at.session_state[state.DECISION_ANSWERS] = state.DecisionAnswers(dict(FULL_ANSWERS, examples="no"))
    run_clean(at)
    assert at.radio(key="decide_examples").value == "no"
    assert "Not yet: prompt engineering + RAG" in at.success[0].value
    at.button(key="decide_clear").click()
    run_clean(at)
    assert at.session_state[state.DECISION_ANSWERS].answers == {}
    assert all(r.value is None for r in at.radio) and not at.success


def test_decide_has_comparison_table_and_report_button():
    at = run_clean(page("decide.py"))
    table = at.dataframe[0].value
    assert list(table.columns) == ["", "RAG", "Fine-tuning"] and len(table) == 8
    assert at.download_button(key="decide_report").label.startswith("Download the stakeholder report")


# --- Costs ----------------------------------------------------------------------------------------

def test_costs_defaults_reproduce_the_worked_example():
    at = run_clean(page("costs.py"))
    shown = metrics(at)
    assert shown["RAG: monthly"] == "$86.95"
    assert shown["Fine-tuning: monthly"] == "$22.50"
    assert shown["Fine-tuning: one-off"] == "$9.00"
    assert shown["Hybrid: monthly"] == "$117.70"
    assert not at.error
    assert at.session_state[state.COST_INPUTS].inputs == CostInputs()
    sources = at.session_state[state.COST_INPUTS].sources
    assert "genai-prices" in sources["llm_input_per_mtok"] and "gpt-4o-mini" in sources["llm_input_per_mtok"]
    assert "Pinecone" in sources["vector_db_monthly"]
    assert "No documents loaded" in sources["chunk_tokens"]


def test_costs_vector_db_change_moves_rag_and_hybrid_by_exactly_that_amount():
    at = run_clean(page("costs.py"))
    before = {k: dollars(v) for k, v in metrics(at).items()}
    at.number_input(key="cost_vector_db_monthly").set_value(60.0)
    run_clean(at)
    after = {k: dollars(v) for k, v in metrics(at).items()}
    assert after["RAG: monthly"] - before["RAG: monthly"] == pytest.approx(10.0)
    assert after["Hybrid: monthly"] - before["Hybrid: monthly"] == pytest.approx(10.0)
    assert after["Fine-tuning: monthly"] == before["Fine-tuning: monthly"]
    assert at.session_state[state.COST_INPUTS].sources["vector_db_monthly"] == "Your input"


def test_costs_doubling_queries_doubles_the_fine_tuned_bill():
    at = run_clean(page("costs.py"))
    at.number_input(key="cost_queries_per_month").set_value(200_000)
    run_clean(at)
    assert metrics(at)["Fine-tuning: monthly"] == "$45.00"  # no fixed monthly cost by default
    assert metrics(at)["Fine-tuning: per query"] == "$0.000225"


def test_costs_invalid_input_is_an_error_message_not_a_traceback():
    at = run_clean(page("costs.py"))
    at.number_input(key="cost_queries_per_month").set_value(0)
    run_clean(at)
    assert "Queries per month cannot be zero" in at.error[0].value
    assert not at.metric
    at.number_input(key="cost_llm_output_per_mtok").set_value(50_000.0)
    at.number_input(key="cost_queries_per_month").set_value(100_000)
    run_clean(at)
    assert "looks like a typo" in at.error[0].value


def test_costs_model_preset_fills_prices_from_genai_prices():
    at = run_clean(page("costs.py"))
    at.selectbox(key="cost_model_preset").set_value("gpt-4o")
    run_clean(at)
    assert at.number_input(key="cost_llm_input_per_mtok").value == 2.5
    assert at.number_input(key="cost_ft_output_per_mtok").value == 15.0
    assert at.number_input(key="cost_training_per_mtok").value == 25.0
    expected = compare(CostInputs(llm_input_per_mtok=2.5, llm_output_per_mtok=10.0, ft_input_per_mtok=3.75,
                                  ft_output_per_mtok=15.0, training_per_mtok=25.0))
    assert metrics(at)["RAG: monthly"] == usd(expected.rag.monthly_total)
    assert metrics(at)["Fine-tuning: one-off"] == usd(expected.fine_tuning.upfront_total)


def test_costs_follow_the_users_chunking_and_k_until_overridden():
    from core.documents import load_directory

    docs = list(load_directory(ROOT / "sample_docs").documents)[:2]
    chunks = split_corpus(docs, config=ChunkConfig())
    mean = round(sum(c.n_tokens for c in chunks) / len(chunks), 1)
    at = page("costs.py")
    at.session_state[state.DOCUMENTS] = {d.name: d for d in docs}
    at.session_state[state.RETRIEVAL_CONFIG] = RetrievalConfig(k=3)
    run_clean(at)
    assert at.number_input(key="cost_retrieval_k").value == 3
    assert at.number_input(key="cost_chunk_tokens").value == pytest.approx(mean)
    assert "mean of your current chunking" in at.session_state[state.COST_INPUTS].sources["chunk_tokens"]
    assert at.session_state[state.COST_INPUTS].inputs.rag_input_tokens == pytest.approx(300 + 50 + 3 * mean)
    # A value the user typed is kept even when the settings change.
    at.number_input(key="cost_chunk_tokens").set_value(123.0)
    run_clean(at)
    at.session_state[state.RETRIEVAL_CONFIG] = RetrievalConfig(k=7)
    run_clean(at)
    assert at.number_input(key="cost_chunk_tokens").value == 123.0
    assert at.number_input(key="cost_retrieval_k").value == 7


def test_costs_engineering_time_moves_the_break_even():
    at = run_clean(page("costs.py"))
    assert "cheaper at every volume" in at.info[0].value
    assert at.session_state[state.COST_INPUTS].sources["hourly_rate"] == "Not counted: engineering time is switched off"
    at.checkbox(key="cost_count_engineering").check()
    run_clean(at)
    assert "Fine-tuning becomes cheaper above about" in at.info[0].value
    assert re.search(r"above about \d+(\.\d)? million queries", at.info[0].value)  # 2 significant figures
    assert at.session_state[state.COST_INPUTS].sources["hourly_rate"].endswith("counted: engineering time is switched on")
    assert dollars(metrics(at)["RAG: one-off"]) == pytest.approx(2.0 + 40 * 100)


def test_costs_report_contains_the_numbers_on_screen():
    at = run_clean(page("costs.py"))
    at.number_input(key="cost_queries_per_month").set_value(350_000)
    at.number_input(key="cost_monthly_growth_pct").set_value(4.0)
    at.session_state[state.DECISION_ANSWERS] = state.DecisionAnswers(FULL_ANSWERS)
    run_clean(at)
    assert at.download_button(key="cost_report").label.startswith("Download the stakeholder report")
    # The button builds the report from these same session values (core.report.build_report).
    doc = report.build_report(chunking=None, metrics=None, metrics_label=None,
                              answers=at.session_state[state.DECISION_ANSWERS].answers,
                              cost_inputs=at.session_state[state.COST_INPUTS].inputs,
                              cost_sources=at.session_state[state.COST_INPUTS].sources)
    text = visible_text(doc)
    for label, value in metrics(at).items():
        assert value in text, f"{label} = {value} missing from the report"
    assert at.info[0].value.split("**Break-even volume:** ")[1] in text
    assert "Recommendation: Hybrid" in text


# --- Fine-tuning readiness --------------------------------------------------------------------------

def test_readiness_sample_shows_its_planted_problems():
    at = run_clean(page("readiness.py"))
    assert "Upload a training file or load the sample" in at.info[0].value
    at.button(key="ft_load_sample").click()
    run_clean(at)
    shown = metrics(at)
    assert (shown["Lines"], shown["Usable examples"], shown["Clean examples"]) == ("71", "70", "68")
    assert (shown["Errors"], shown["Warnings"]) == ("1", "2")
    problems = at.dataframe[0].value
    assert list(problems["Line"]) == [32, 45, 59]
    assert "Enough for a first experiment" in at.warning[0].value
    assert "approximation of the LLM's own tokenizer" in " ".join(c.value for c in at.caption)


def test_readiness_split_and_training_cost_follow_the_widgets():
    at = run_clean(page("readiness.py"))
    at.button(key="ft_load_sample").click()
    run_clean(at)
    at.slider(key="ft_holdout_pct").set_value(15)
    at.number_input(key="ft_epochs").set_value(4)
    run_clean(at)
    result = finetune.analyse(finetune.parse_jsonl(SAMPLE.read_bytes()))
    split = finetune.split_holdout(result.clean, share=0.15, seed=42)
    assert metrics(at)["Hold-out examples"] == str(len(split.holdout)) == "10"
    assert metrics(at)["Training examples"] == "58"
    tokens = dict(zip((e.line for e in result.examples), result.tokens))
    train_tokens = sum(tokens[e.line] for e in split.train)
    expected = training_run_cost(tokens=train_tokens, epochs=4, price_per_mtok=3.0)
    assert metrics(at)["One training run"] == usd(expected, precise=True)
    keys = {b.key for b in at.get("download_button")}
    assert keys == {"ft_download_train", "ft_download_holdout"}


def test_readiness_upload_reports_bad_lines_and_a_large_clean_file_is_ready():
    at = run_clean(page("readiness.py"))
    bad = b'{"prompt": "p", "completion": "a fine answer"}\n{oops\n{"prompt": "q"}\n'
    at.file_uploader(key="ft_upload").set_value(("bad.jsonl", bad, "application/jsonl"))
    run_clean(at)
    problems = at.dataframe[0].value
    assert list(problems["Line"]) == [2, 3]
    assert "Not valid JSON" in problems["Problem"][0]
    assert "Not enough data yet" in at.error[0].value
    good = "\n".join(json.dumps({"messages": [{"role": "user", "content": f"Question {i}?"},
                                              {"role": "assistant", "content": f"Here is answer number {i}."}]})
                     for i in range(120)).encode()
    at.file_uploader(key="ft_upload").set_value(("good.jsonl", good, "application/jsonl"))
    run_clean(at)
    assert metrics(at)["Clean examples"] == "120"
    assert "Ready for a first training run" in at.success[-1].value


# --- through the router -----------------------------------------------------------------------------

def test_inputs_survive_moving_between_pages():
    st.cache_data.clear()
    at = run_clean(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
    at.switch_page("pages/costs.py")
    run_clean(at)
    at.number_input(key="cost_vector_db_monthly").set_value(60.0)
    run_clean(at)
    at.switch_page("pages/decide.py")
    run_clean(at)
    at.radio(key="decide_changes").set_value("no")
    run_clean(at)
    # Streamlit drops the state of widgets that are not on the current page; both pages restore it.
    at.switch_page("pages/costs.py")
    run_clean(at)
    assert at.number_input(key="cost_vector_db_monthly").value == 60.0
    assert metrics(at)["RAG: monthly"] == "$96.95"
    at.switch_page("pages/decide.py")
    run_clean(at)
    assert at.radio(key="decide_changes").value == "no"
    at.switch_page("pages/readiness.py")
    run_clean(at)


def test_readiness_numbers_can_be_sent_to_the_cost_page():
    st.cache_data.clear()
    at = run_clean(AppTest.from_file(str(ROOT / "app.py"), default_timeout=120))
    at.switch_page("pages/costs.py")
    run_clean(at)  # the cost page has its defaults before the numbers arrive
    at.switch_page("pages/readiness.py")
    run_clean(at)
    at.button(key="ft_load_sample").click()
    run_clean(at)
    at.number_input(key="ft_epochs").set_value(2)
    run_clean(at)
    at.button(key="ft_send_to_costs").click()
    run_clean(at)
    assert "Sent" in at.success[-1].value
    result = finetune.analyse(finetune.parse_jsonl(SAMPLE.read_bytes()))
    split = finetune.split_holdout(result.clean, share=0.10, seed=42)
    tokens = dict(zip((e.line for e in result.examples), result.tokens))
    train_tokens = sum(tokens[e.line] for e in split.train)
    at.switch_page("pages/costs.py")
    run_clean(at)
    assert at.number_input(key="cost_training_tokens").value == train_tokens
    assert at.number_input(key="cost_epochs").value == 2
    assert "Fine-tuning readiness page" in at.session_state[state.COST_INPUTS].sources["training_tokens"]
    expected = training_run_cost(tokens=train_tokens, epochs=2, price_per_mtok=3.0)
    assert metrics(at)["Fine-tuning: one-off"] == usd(expected)
