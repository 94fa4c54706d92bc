"""One user uploads a PDF CPU bomb and a zip bomb while another keeps asking questions.

The second user's query latency is measured alone first, then while the first user's bombs are
being read, in the same test on the same server: its p95 must stay within 2x of its solo figure
(the audit saw 0.5 s become 5.8 s). The first user gets a clear message per file, and Cancel stops
a read in progress. The server runs with a short time budget (20 s) so the test stays short; the
bomb takes minutes to read in full.
"""
from __future__ import annotations

import json
import time

import pytest

from bench.hostile import docx_bomb, pdf_bomb
from tests.e2e.conftest import LOGS, App
from tools.harness import StreamlitServer

pytestmark = pytest.mark.browser

QUESTIONS = [
    "What does the Team plan cost per month?",
    "How do I reset my password?",
    "What is the uptime commitment in the SLA?",
    "Which regions store customer data?",
]
BUDGET_S = 20


@pytest.fixture(scope="module")
def server(e2e_cache_dir):
    log = LOGS / "test_hostile.server.log"
    log.unlink(missing_ok=True)
    srv = StreamlitServer(cache_dir=e2e_cache_dir, log_path=log,
                          env={"RAG_EXPLORER_MAX_SECONDS": str(BUDGET_S), "RAG_EXPLORER_MAX_UNZIPPED_MB": "50"}).start()
    yield srv
    srv.stop()


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def _query_seconds(app: App, question: str) -> float:
    started = time.perf_counter()
    app.ask(question)
    app.hit_cards().first.wait_for()
    return time.perf_counter() - started


def _queries(app: App, n: int) -> list[float]:
    return [_query_seconds(app, QUESTIONS[k % len(QUESTIONS)] + " " * (k // len(QUESTIONS))) for k in range(n)]


def test_bombs_in_one_session_leave_another_session_responsive(new_app, tmp_path):
    pdf = tmp_path / "bomb.pdf"
    pdf.write_bytes(pdf_bomb(pages=40, stream_bytes=5 * 1024 * 1024))  # minutes of work, 20 KB
    zipbomb = tmp_path / "bomb.docx"
    zipbomb.write_bytes(docx_bomb(unzipped_bytes=200 * 1024 * 1024))  # 200 MB of XML, ~280 KB

    reader = new_app("hostile-querier")
    reader.load_samples()
    reader.nav("Index & Retrieval")
    _queries(reader, 3)  # warm: the index is built and every code path has run once
    solo = _queries(reader, 12)

    attacker = new_app("hostile-uploader")
    attacker.nav("Documents")
    # Set the files without waiting for the run: it lasts until the bomb's budget is spent.
    attacker.key("uploader").locator("input[type=file]").set_input_files([str(pdf), str(zipbomb)])
    attacker.page.get_by_text("reading bomb.pdf").first.wait_for(timeout=30_000)
    started = time.perf_counter()
    loaded = _queries(reader, 12)
    assert time.perf_counter() - started < BUDGET_S, "the queries must overlap the bomb's reading"

    solo_p95, loaded_p95 = _p95(solo), _p95(loaded)
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / "test_hostile.latency.json").write_text(json.dumps(
        {"solo_s": solo, "while_bombs_read_s": loaded, "solo_p95_s": solo_p95, "loaded_p95_s": loaded_p95}))
    assert loaded_p95 <= 2 * solo_p95, (
        f"p95 while another session reads bombs: {loaded_p95:.2f} s, alone: {solo_p95:.2f} s "
        f"(solo {[round(s, 2) for s in solo]}, loaded {[round(s, 2) for s in loaded]})")

    # The uploader is told, per file, why nothing was loaded.
    attacker.page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='stAlertContentError']\").length >= 2",
        timeout=(BUDGET_S + 60) * 1000)
    attacker.page.wait_for_function("() => document.querySelector(\"[data-testid='stApp'][data-test-script-state='notRunning']\")")
    errors = " ".join(attacker.alerts("Error"))
    assert f"bomb.pdf: reading it took longer than the {BUDGET_S} s budget" in errors, errors
    assert "bomb.docx" in errors and "unpacks to" in errors and "50.0 MB" in errors, errors
    assert attacker.page.get_by_text("Limits for each file").count() == 1
    attacker.shot("bombs-refused")
    attacker.assert_clean()
    reader.assert_clean()


def test_cancel_stops_reading_a_file(new_app, tmp_path):
    pdf = tmp_path / "slow.pdf"
    pdf.write_bytes(pdf_bomb(pages=40, stream_bytes=5 * 1024 * 1024))
    app = new_app("hostile-cancel")
    app.nav("Documents")
    app.key("uploader").locator("input[type=file]").set_input_files([str(pdf)])
    app.page.get_by_text("reading slow.pdf").first.wait_for(timeout=30_000)
    started = time.perf_counter()
    app.act(app.page.locator(".st-key-docs_cancel_read button").first.click)
    assert time.perf_counter() - started < 10
    assert any("slow.pdf: reading was cancelled" in t for t in app.alerts("Info")), app.alerts()
    app.assert_clean()
