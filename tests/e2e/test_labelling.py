"""Label two questions on the Index & Retrieval page, then see them scored on Evaluate (real browser)."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

DOC = "lanternfish_product_guide.md"


def _open_labelling(app) -> None:
    if not app.key("label_hit").is_visible():  # the expander stays open across questions
        app.page.get_by_text("Add this question to the question set", exact=False).first.click()
    app.key("label_hit").wait_for()


def test_label_two_questions_and_see_them_scored(app):
    app.load_samples()
    app.nav("Index & Retrieval")

    # 1. "none of these": the source chosen by hand, the answer typed.
    app.ask("How long can I take to type the lfx login code?")
    _open_labelling(app)
    app.act(app.key("label_hit").get_by_text("none of these").click)
    app.choose("label_source", DOC)
    box = app.key("label_answer_doc").locator("input")
    box.fill("10 minutes")
    app.act(lambda: box.press("Enter"))
    app.click("label_add")
    assert any("Added" in a for a in app.alerts("Success")), app.alerts()

    # 2. a hit marked as the answer, the phrase typed from inside that chunk.
    app.ask("How many earlier versions of a flow can be restored?")
    cards = app.hit_cards()
    rank = next(i + 1 for i in range(cards.count()) if "50 versions" in cards.nth(i).inner_text())
    _open_labelling(app)
    app.act(app.key("label_hit").get_by_text(f"#{rank}", exact=True).click)
    box = app.key("label_answer").locator("input")
    box.fill("last 50 versions")
    app.act(lambda: box.press("Enter"))
    app.click("label_add")
    assert any("Added" in a for a in app.alerts("Success")), app.alerts()
    app.shot("labelled")
    app.assert_clean()

    app.nav("Evaluate")
    caption = app.page.get_by_text(re.compile(r"question\(s\) will be scored")).first.inner_text()
    assert "2 labelled" in caption and re.search(r"\b[1-9]\d* curated", caption), caption  # the samples stay
    n = int(caption.split(" ", 1)[0])
    app.click("eval_run")
    app.page.get_by_text(re.compile(rf"\b{n} question\(s\) scored")).first.wait_for(timeout=120_000)
    app.page.get_by_role("tab", name="Question set").click()
    app.page.wait_for_timeout(500)
    assert app.metric("Labelled") == "2"
    app.shot("question-set")
    app.assert_clean()
