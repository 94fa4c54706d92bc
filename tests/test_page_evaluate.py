"""AppTest runs of the Evaluate page through the real router, with the real bundled model."""
from __future__ import annotations

import json

import pytest

from core.chunking import ChunkConfig
from core.evaluation import load_questions
from tests.conftest import SAMPLES

pytestmark = pytest.mark.model

# Questions about the sample documents, used only if the bundled set is not ready yet.
FALLBACK_QUESTIONS = [
    {"question": "How long is the lfx login device code valid?", "answers": ["10 minutes"],
     "source": "lanternfish_product_guide.md"},
    {"question": "How many versions of a flow are kept?", "answers": ["50 versions"],
     "source": "lanternfish_product_guide.md"},
    {"question": "How long do old webhook addresses keep working after a rename?", "answers": ["30 days"],
     "source": "lanternfish_product_guide.md"},
]


def sample_questions_ready() -> bool:
    path = SAMPLES / "questions.jsonl"
    return path.exists() and len(load_questions(path.read_bytes(), path.name).questions) >= 3


def open_evaluate(app_test, tmp_path):
    """The app with the sample documents loaded, on the Evaluate page, with a question set chosen."""
    at = app_test(timeout=180)
    at.run()
    at.button(key="home_load_samples").click().run()
    at.switch_page("pages/evaluate.py").run()
    assert not at.exception
    if not sample_questions_ready():
        data = "\n".join(json.dumps(q) for q in FALLBACK_QUESTIONS).encode()
        (tmp_path / "questions.jsonl").write_bytes(data)
        at.radio(key="eval_q_source").set_value("upload").run()
        at.file_uploader(key="eval_q_upload").set_value(("questions.jsonl", data, "application/json")).run()
    assert not at.exception
    return at


def n_questions(at) -> int:
    """Questions the page says it will score (its own caption)."""
    caption = next(c.value for c in at.caption if "will be scored" in c.value)
    return int(caption.split(" ", 1)[0])


def table_with(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def chart(at, key: str) -> dict:
    found = [e for e in at.get("plotly_chart") if e.key == key]
    assert found, f"no chart {key}; charts: {[e.key for e in at.get('plotly_chart')]}"
    return json.loads(found[0].proto.spec)


def run_small_sweep(at):
    at.multiselect(key="eval_sw_sizes_tokens").set_value([100, 200]).run()
    at.multiselect(key="eval_sw_overlaps_tokens").set_value([25]).run()
    at.multiselect(key="eval_sw_ks").set_value([1, 5]).run()
    assert at.radio(key="eval_sw_mode").value == "pooled"
    at.button(key="eval_sw_run").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]


def test_evaluate_current_settings_shows_metrics_and_stores_the_summary(app_test, tmp_path):
    at = open_evaluate(app_test, tmp_path)
    assert not [m for m in at.metric if m.label.startswith("hit@")]  # nothing before the click
    at.button(key="eval_run").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    shown = {m.label: float(m.value) for m in at.metric if "@" in m.label}
    assert set(shown) == {"hit@5", "MRR@5", "recall@5", "nDCG@5"}  # default retrieval: top-5
    assert all(0.0 <= v <= 1.0 for v in shown.values())
    assert shown["hit@5"] >= shown["MRR@5"] > 0.2  # the real model finds most sample answers

    summary = at.session_state["eval_summary"]  # ui.state.EvalSummary, what the report quotes
    assert summary.label == f"{ChunkConfig().label()}, hybrid top-5"
    assert {k: round(v, 3) for k, v in summary.metrics.items()} == shown

    drill = table_with(at, "best rank (full ranking)")
    assert len(drill) == n_questions(at)
    assert set(drill["result"]) <= {"hit", "miss", "no chunk holds it"}
    hits = drill[drill["result"] == "hit"]
    assert hits["rank in top-5"].between(1, 5).all()
    assert round(len(hits) / len(drill), 3) == shown["hit@5"]

    # Selecting a row shows that question's retrieved chunks.
    at.session_state["eval_drill_table"] = {"selection": {"rows": [1]}}
    at.run()
    detail = at.get_by_key("eval_drill_detail")
    texts = [m.value for m in detail.markdown]
    assert texts[0].startswith("**Q2.")
    assert sum(1 for t in texts if t.startswith("**#")) == 5


def test_small_pooled_sweep_gives_table_and_charts(app_test, tmp_path):
    at = open_evaluate(app_test, tmp_path)
    run_small_sweep(at)
    assert any("Sweep done: 4 points over 2 chunking(s)" in s.value for s in at.success)
    assert any("Approximate" in i.value for i in at.info)

    table = table_with(at, "≈ hit@K")
    assert len(table) == 4
    assert sorted(set(table["size"])) == [100, 200] and set(table["overlap"]) == {25} and set(table["k"]) == {1, 5}
    assert set(table["mode"]) == {"pooled"}
    for size in (100, 200):
        at_size = table[table["size"] == size].set_index("k")
        assert at_size.loc[5, "≈ hit@K"] >= at_size.loc[1, "≈ hit@K"]  # more chunks can only add hits
        assert 0 < at_size.loc[5, "≈ hit@K"] <= 1

    heat = chart(at, "eval_sw_heatmap")
    assert heat["data"][0]["type"] == "heatmap"
    assert [len(r) for r in heat["data"][0]["z"]] == [1, 1]  # 2 sizes x 1 overlap
    assert "approximate" in heat["layout"]["title"]["text"]
    lines = chart(at, "eval_sw_lines")
    assert lines["data"][0]["name"] == "hybrid" and list(lines["data"][0]["x"]) == [1, 5]

    assert at.get_by_key("eval_export_csv") is not None and at.get_by_key("eval_export_json") is not None


def test_apply_sets_the_chunking_and_retrieval_config(app_test, tmp_path):
    at = open_evaluate(app_test, tmp_path)
    run_small_sweep(at)
    table = table_with(at, "≈ hit@K")
    pos = int(table.index[(table["size"] == 100) & (table["k"] == 1)][0])
    at.session_state["eval_sweep_table"] = {"selection": {"rows": [pos]}}
    at.run()
    assert at.selectbox(key="eval_apply_choice").value == pos
    at.button(key="eval_apply").click().run()
    assert not at.exception
    assert at.session_state["chunk_config"] == ChunkConfig(size=100, overlap=25, splitter="recursive", unit="tokens")
    assert at.session_state["retrieval_config"].k == 1
    assert at.session_state["retrieval_config"].method == "hybrid"
    assert any("Applied recursive 100/25 tokens" in s.value for s in at.success)

    # The Chunking page's widgets follow the applied configuration.
    at.switch_page("pages/chunking.py").run()
    assert not at.exception
    assert at.slider(key="chunk_size").value == 100
    assert at.slider(key="chunk_overlap").value == 25


def test_interrupted_sweep_keeps_finished_rows_flagged_as_cancelled(app_test, tmp_path):
    at = open_evaluate(app_test, tmp_path)
    run_small_sweep(at)
    job = at.session_state["_eval_sweep"]  # ui.state.SweepJob
    # What a click during the run leaves behind: status still "running", one chunking's rows saved.
    job.progress.status = "running"
    job.progress.rows = [r for r in job.progress.rows if r.size == 100]
    at.session_state["_eval_sweep"] = job
    at.button(key="eval_sw_cancel").click().run()
    assert not at.exception
    assert any("Sweep cancelled: showing the 1 of 2 chunking(s)" in w.value for w in at.warning)
    assert len(table_with(at, "≈ hit@K")) == 2


def test_question_file_with_broken_lines_reports_them_by_line_number(app_test, tmp_path):
    at = open_evaluate(app_test, tmp_path)
    lines = [
        {"question": "How long is the device code valid?", "answers": ["10 minutes"], "source": "lanternfish_product_guide.md"},
        "this is not JSON",
        {"question": "", "answers": ["x"], "source": "faq.md"},
        {"question": "Who wrote it?", "answers": ["someone"], "source": "not_loaded.md"},
        {"question": "No answers?", "answers": [], "source": "faq.md"},
    ]
    data = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines).encode()
    (tmp_path / "broken.jsonl").write_bytes(data)
    at.radio(key="eval_q_source").set_value("upload").run()
    at.file_uploader(key="eval_q_upload").set_value(("broken.jsonl", data, "application/json")).run()
    assert not at.exception
    assert any("3 line(s) of broken.jsonl could not be read" in w.value for w in at.warning)
    errors = table_with(at, "problem")
    assert list(errors["line"]) == [2, 3, 5]
    assert "JSON" in errors["problem"].iloc[0] and "answers" in errors["problem"].iloc[2]
    skipped = table_with(at, "source (not loaded)")
    assert list(skipped["line"]) == [4] and list(skipped["source (not loaded)"]) == ["not_loaded.md"]
    assert n_questions(at) == 1


def test_squad_file_brings_its_articles_as_documents(app_test, tmp_path):
    at = open_evaluate(app_test, tmp_path)
    squad = {"version": "1.1", "data": [{"title": "Harbour lights", "paragraphs": [{
        "context": "The harbour light at Kestrel Point was first lit in 1871. It flashes every 12 seconds.",
        "qas": [{"id": "q1", "question": "When was the Kestrel Point light first lit?",
                 "answers": [{"text": "1871", "answer_start": 51}]}]}]}]}
    data = json.dumps(squad).encode()
    at.radio(key="eval_q_source").set_value("upload").run()
    at.file_uploader(key="eval_q_upload").set_value(("tiny-squad.json", data, "application/json")).run()
    assert not at.exception
    assert any("SQuAD file" in i.value for i in at.info)
    assert any("1 of 1 question(s) are skipped" in w.value for w in at.warning)
    at.button(key="eval_squad_load").click().run()
    assert not at.exception
    assert "Harbour lights.txt" in at.session_state["documents"]
    assert n_questions(at) == 1


def test_ab_compare_and_embedding_map(app_test, tmp_path):
    at = open_evaluate(app_test, tmp_path)
    at.selectbox(key="eval_ab_doc").set_value("lanternfish_product_guide.md").run()
    at.number_input(key="eval_ab_size").set_value(400).run()
    at.number_input(key="eval_ab_overlap").set_value(0).run()
    at.button(key="eval_ab_run").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    shown = {m.label: m.value for m in at.metric}
    a_chunks, b_chunks = (int(x) for x in shown["Chunks A → B"].split(" → "))
    assert a_chunks > b_chunks > 0  # 200-token chunks (A) vs 400-token chunks (B)
    assert int(shown["Boundaries only in A"]) > 0
    assert chart(at, "eval_ab_boundaries")["data"]
    assert any("B keeps" in c.value for c in at.caption)
    assert at.get_by_key("eval_ab_A_1") is not None and at.get_by_key("eval_ab_B_1") is not None

    # The index now exists, so the map is drawn for the first question of the set.
    names = [t["name"] for t in chart(at, "eval_map_chart")["data"]]
    assert "query" in names and "retrieved (top-K)" in names
    assert "lanternfish_product_guide.md" in names
