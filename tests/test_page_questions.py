"""AppTest flows of the question-set workbench on Evaluate (fast tier: nothing here loads the model)."""
from __future__ import annotations

import json
import re

from core.evaluation import load_questions
from tests.conftest import SAMPLES


def plain(elements) -> list[str]:
    """Messages without markdown escapes (file names are escaped before they reach markdown)."""
    return [e.value.replace("\\", "") for e in elements]


def scored(at) -> tuple[int, str]:
    caption = next(c.value for c in at.caption if "will be scored" in c.value)
    return int(caption.split(" ", 1)[0]), caption


def open_evaluate(app_test):
    at = app_test(timeout=60)
    at.run()
    at.button(key="home_load_samples").click().run()
    at.switch_page("pages/evaluate.py").run()
    assert not at.exception
    return at


def test_a_new_session_starts_from_the_sample_set_and_counts_per_origin(app_test):
    at = open_evaluate(app_test)
    n_sample = len(load_questions((SAMPLES / "questions.jsonl").read_bytes(), "questions.jsonl").questions)
    n, caption = scored(at)
    assert n == n_sample and f"({n_sample} curated)" in caption
    assert {m.label: m.value for m in at.metric}["Curated"] == str(n_sample)
    assert at.multiselect(key="eval_q_origins").value == ["curated", "labelled"]


def test_generated_questions_are_kept_apart_until_chosen_and_survive_a_page_switch(app_test):
    at = open_evaluate(app_test)
    before, _ = scored(at)
    at.number_input(key="eval_gen_per_doc").set_value(3).run()
    at.button(key="eval_gen_run").click().run()
    assert not at.exception
    assert any("joined the set as generated" in s.value for s in at.success)
    generated = int({m.label: m.value for m in at.metric}["Generated"])
    assert generated == 3 * 8
    assert scored(at)[0] == before  # not scored until the user picks the origin
    at.multiselect(key="eval_q_origins").set_value(["curated", "labelled", "generated"]).run()
    n, caption = scored(at)
    assert n == before + generated and f"{generated} generated" in caption
    assert any("scored together" in c.value for c in at.caption)
    at.switch_page("pages/chunking.py").run()
    at.switch_page("pages/evaluate.py").run()
    assert not at.exception
    assert scored(at)[0] == before + generated  # the set and the origin choice survived
    assert int({m.label: m.value for m in at.metric}["Generated"]) == generated
    assert any("offline" in c.value.lower() and "cloze" in c.value.lower() for c in at.caption)


def test_a_file_with_problems_is_kept_row_by_row_and_excluded_from_scoring(app_test):
    at = open_evaluate(app_test)
    lines = [
        {"question": "How long is the device code valid?", "answers": ["10 minutes"], "source": "lanternfish_product_guide.md"},
        {"question": "How long is the device code valid?", "answers": ["10 minutes"], "source": "lanternfish_product_guide.md"},
        {"question": "Who wrote it?", "answers": ["someone"], "source": "not_loaded.md"},
        {"question": "What colour is the logo?", "answers": ["ultraviolet plaid"], "source": "faq.md"},
        "not JSON",
    ]
    data = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines).encode()
    at.radio(key="eval_q_source").set_value("upload").run()
    at.file_uploader(key="eval_q_upload").set_value(("mine.jsonl", data, "application/json")).run()
    assert not at.exception
    assert any("1 line(s) of mine.jsonl could not be read; the 4 valid question(s)" in w for w in plain(at.warning))
    assert any("1 of 4 question(s) are skipped" in i.value for i in at.info)
    problems = next(w.value for w in at.warning if "have a problem and are not scored" in w.value)
    assert re.search(r"^2 question\(s\)", problems) and "duplicate" in problems and "does not occur" in problems
    assert scored(at)[0] == 1  # replace mode: the sample set's curated questions made way for the file's
    assert {m.label: m.value for m in at.metric}["Questions"] == "4"  # invalid rows are kept
    at.toggle(key="eval_q_only_problems").set_value(True).run()
    table = next(d.value for d in at.dataframe if "status" in d.value.columns)  # the editor
    assert list(table["#"]) == [2, 3, 4]
    assert "duplicate of row 1" in table["status"].iloc[0] and "not loaded" in table["status"].iloc[1]
    at.run()  # a rerun does not import the same upload twice
    assert {m.label: m.value for m in at.metric}["Questions"] == "4"


def test_an_empty_set_says_how_to_make_one(app_test):
    at = open_evaluate(app_test)
    at.radio(key="eval_q_source").set_value("upload").run()
    at.file_uploader(key="eval_q_upload").set_value(("empty.jsonl", b"\n", "application/json")).run()
    assert not at.exception
    assert any("empty.jsonl has no valid question" in e for e in plain(at.error))



def test_generated_questions_are_scored_at_once_when_the_set_has_no_real_ones(app_test):
    # A user with only their own documents has no curated set: the generated questions are all there
    # is, so they are scored without a switch to find (nothing to mix them with).
    from ui.state import QUESTION_SET, WorkingSet

    at = open_evaluate(app_test)
    at.session_state[QUESTION_SET] = WorkingSet(seeded=True)  # the user emptied the set
    at.run()
    assert any("question set is empty" in i.value for i in at.info)
    at.number_input(key="eval_gen_per_doc").set_value(2).run()
    at.button(key="eval_gen_run").click().run()
    assert not at.exception
    assert any("are scored: the set has no real questions" in s.value for s in at.success)
    n, caption = scored(at)
    assert n == 2 * 8 and "16 generated" in caption
    assert "generated" in at.multiselect(key="eval_q_origins").value
    assert not any("scored together" in c.value for c in at.caption)  # nothing real to mix with
