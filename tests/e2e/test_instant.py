"""The app answers at once and stays usable: questions in a row, and an index build cancelled.

1. Three sample questions typed one after the other into the question box: after each, the
   extractive answer holds that question's gold answer and nothing of the one before, no element
   is left stale from the earlier run, and the hit cards are there. A MutationObserver installed
   at page load counts every spinner and progress bar that appeared during the whole flow (the
   index build shows a progress bar, so at least one must be seen). The wall time from Enter to
   idle for each question goes to test-artifacts/instant_timings.json; nothing is asserted on it,
   machines are noisy.
2. A large generated document (unique text, so nothing comes from the vector cache) is indexed and
   the build is cancelled while its progress bar shows: the page says so and offers Continue, the
   user can go to another page and back without the build restarting on its own, and Continue
   finishes the index.

The server runs with RAG_EXPLORER_PRELOAD=0 (tests/conftest.py sets it in os.environ, and
tools/harness.StreamlitServer passes os.environ on), so the model loads on the first page that
needs it, inside this flow.
"""
from __future__ import annotations

import json
import random
import re
import time
import uuid
from pathlib import Path

import pytest

from tools.harness import IDLE_JS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_docs"
ARTIFACTS = ROOT / "test-artifacts"

# Three sample questions from different documents whose extractive answer contains the gold text
# (checked with `python -m bench.answer_quality --docs sample_docs --questions
# sample_docs/questions.jsonl --misses` at the default chunking and hybrid k=5), with gold
# answers that share no text, so a left-over answer cannot pass for the new one.
QUESTIONS = (
    ("What algorithm encrypts customer data at rest?", "AES-256-GCM"),
    ("Which command downloads everything in a workspace?", "lfx export"),
    ("Is there a price reduction for charities?", "40% off"),
)

# Counts every spinner and progress bar element that enters the page, from its first paint on.
# Each element is counted once, however often React re-renders it.
BUSY_WATCH_JS = """(() => {
  window.__busy = {spinner: 0, progress: 0};
  const seen = new WeakSet();
  const kinds = {spinner: "[data-testid='stSpinner']", progress: "[data-testid='stProgress']"};
  const scan = (node) => {
    if (!(node instanceof Element)) return;
    for (const [kind, selector] of Object.entries(kinds)) {
      const found = node.matches(selector) ? [node] : [];
      found.push(...node.querySelectorAll(selector));
      for (const el of found) if (!seen.has(el)) { seen.add(el); window.__busy[kind]++; }
    }
  };
  new MutationObserver((mutations) => {
    for (const m of mutations) for (const node of m.addedNodes) scan(node);
  }).observe(document, {subtree: true, childList: true});
})();"""

STALE_IN_MAIN = "[data-testid='stMain'] [data-stale='true']"
CANCELLED = "Index build cancelled"


def _busy(app) -> dict[str, int]:
    return app.page.evaluate("window.__busy")


def _answer_text(app) -> str:
    box = app.key("answer_extractive")
    assert box.count() == 1, "no extractive answer box (st-key-answer_extractive) on the page"
    return box.inner_text()


def test_three_questions_in_a_row_each_answer_its_own(new_app):
    app = new_app(init_scripts=(BUSY_WATCH_JS,))
    app.load_samples()
    app.nav("Index & Retrieval")  # builds the index (and loads the model) on the way in
    assert int(app.metric("Vectors").replace(",", "")) > 0

    timings = []
    previous_gold = None
    box = app.key("query").locator("input")
    for i, (question, gold) in enumerate(QUESTIONS, start=1):
        box.fill(question)
        started = time.perf_counter()
        app.act(lambda: box.press("Enter"))
        seconds = time.perf_counter() - started
        timings.append({"question": question, "enter_to_idle_s": round(seconds, 3)})

        assert box.input_value() == question
        answer = _answer_text(app)
        assert gold.lower() in answer.lower(), f"question {i}: gold {gold!r} not in the answer:\n{answer}"
        if previous_gold and previous_gold.lower() not in gold.lower():
            assert previous_gold.lower() not in answer.lower(), (
                f"question {i}: the answer still shows the previous question's gold {previous_gold!r}:\n{answer}"
            )
        stale = app.page.locator(STALE_IN_MAIN)
        assert stale.count() == 0, f"question {i}: {stale.count()} stale element(s) left from an earlier run"
        assert app.key("hit_1").count() == 1, f"question {i}: no hit card"
        assert app.hit_cards().count() >= 1
        app.assert_clean()
        previous_gold = gold

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    app.page.screenshot(path=str(ARTIFACTS / "instant_third_answer.png"), full_page=True)
    busy = _busy(app)
    (ARTIFACTS / "instant_timings.json").write_text(json.dumps({"questions": timings, "busy_seen": busy}, indent=2))
    assert busy["spinner"] + busy["progress"] >= 1, f"no spinner or progress bar seen during the flow: {busy}"


# --- cancelling an index build -------------------------------------------------------------

WORDS = (
    "agent runner flow step deploy region backup token webhook secret quota invoice ticket approval "
    "schedule artifact workspace release policy metric latency replica shard cluster export import "
    "audit window rotation credential channel gateway buffer ledger cursor partition snapshot"
).split()
DOC_BYTES = 200_000  # 200-330 chunks and ~1,500 sentences: 6-25 s of embedding on 2 cores, load-dependent
VERBS = "keeps stores rotates delays retries archives signs copies checks routes batches encrypts".split()


def _big_text(n_bytes: int) -> str:
    """Varied sentences with unique numbers and this run's id: nothing of it is in any cache."""
    run = uuid.uuid4().hex
    rng = random.Random(run)
    lines, size, i = [f"Synthetic load document {run}."], 0, 0
    while size < n_bytes:
        i += 1
        words = rng.sample(WORDS, 6)
        sentence = (
            f"Record {i}-{rng.randrange(10**6):06d} of batch {run[:8]}: the {words[0]} {rng.choice(VERBS)} "
            f"{rng.randrange(2, 900)} {words[1]} items for the {words[2]} every {rng.randrange(1, 60)} "
            f"minutes, unless the {words[3]} {words[4]} reaches {rng.randrange(100, 99999)} {words[5]} units."
        )
        lines.append(sentence if i % 7 else sentence + "\n")
        size += len(sentence) + 1
    return " ".join(lines)


def test_cancel_an_index_build_and_keep_using_the_app(new_app, tmp_path):
    doc = tmp_path / "synthetic_load.txt"
    doc.write_text(_big_text(DOC_BYTES))
    app = new_app(init_scripts=(BUSY_WATCH_JS,))
    app.nav("Documents")
    app.upload([str(doc)])
    assert any("Loaded 1 document(s)" in t for t in app.alerts("Success")), app.alerts()

    # Open Index & Retrieval without waiting for the run: the build is that run.
    before = app.runs.finished
    app.page.locator("[data-testid='stSidebarNav']").get_by_role("link", name="Index & Retrieval", exact=True).click()
    build = app.key("index_build")
    build.locator("[data-testid='stProgress']").wait_for(state="visible", timeout=120_000)
    # Cancel in the middle of embedding: once the bar reports a first batch done (of the chunks,
    # or of the sentences if the chunks went by between two polls).
    build.get_by_text(re.compile(r"Embedding (chunks|sentences)[^:]*: [1-9]")).wait_for(timeout=60_000)
    assert app.runs.finished == before, "the build finished before Cancel could be clicked: make the document bigger"
    progress_text = build.locator("[data-testid='stProgress']").inner_text()
    # With a help tooltip Streamlit renders the button twice (one copy hidden): click the visible one.
    started = time.perf_counter()
    app.act(build.locator(".st-key-index_cancel button:visible").first.click)
    cancel_s = time.perf_counter() - started

    info = " ".join(app.alerts("Info"))
    assert CANCELLED in info, f"no {CANCELLED!r} after Cancel at {progress_text!r}; alerts: {app.alerts()}"
    assert app.key("index_continue").count() == 1
    assert build.count() == 0, "the build's progress bar is still on the page after Cancel"
    assert "Vectors" not in app.metrics()
    app.assert_clean()
    app.shot("cancelled")

    # The app stays usable, and the build does not start again by itself.
    bars_before = _busy(app)["progress"]
    app.nav("Chunking")
    app.page.get_by_role("heading", name="Chunking").wait_for()
    app.assert_clean()
    app.nav("Index & Retrieval")
    app.page.wait_for_timeout(1_000)  # a restarted build would show its progress bar by now
    app.page.wait_for_function(IDLE_JS)
    assert CANCELLED in " ".join(app.alerts("Info")), f"the cancelled message is gone: {app.alerts()}"
    assert build.count() == 0 and "Vectors" not in app.metrics(), "the build restarted on its own"
    assert _busy(app)["progress"] == bars_before, "a progress bar appeared: the build restarted on its own"
    app.assert_clean()

    # Continue finishes the index, and a question gets hits.
    started = time.perf_counter()
    app.click("index_continue")
    continue_s = time.perf_counter() - started
    vectors = int(app.metric("Vectors").replace(",", ""))
    assert vectors > 100, f"only {vectors} vectors for a {DOC_BYTES // 1000} KB document"
    # What was embedded before Cancel was kept: Continue read it from the cache.
    embedded_now, from_cache = (int(n.replace(",", "")) for n in app.metric("Embedded now / from cache").split("/"))
    assert from_cache > 0 and embedded_now + from_cache == vectors, (embedded_now, from_cache)
    assert app.key("index_continue").count() == 0 and CANCELLED not in " ".join(app.alerts("Info"))
    app.shot("continued")
    app.ask("How often does the gateway rotate the ledger credential?")
    assert app.key("hit_1").count() == 1
    assert "synthetic_load.txt" in app.hit_cards().first.inner_text()
    app.assert_clean()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / "instant_cancel.json"
    out.write_text(json.dumps({
        "progress_when_cancelled": progress_text,
        "cancel_click_to_idle_s": round(cancel_s, 2),
        "continue_to_idle_s": round(continue_s, 2),
        "vectors": vectors,
        "embedded_now_from_cache": app.metric("Embedded now / from cache"),
    }, indent=2))
