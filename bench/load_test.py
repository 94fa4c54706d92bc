"""Load test on loopback: N browser sessions asking questions at once; prints JSON.

    python -m bench.load_test --sessions 10 --seconds 60          # starts its own server
    python -m bench.load_test --url http://127.0.0.1:8501 ...     # or drives a running one

Each session is a Playwright page (its own browser context, so its own Streamlit session) in one
Debian Chromium. Every session loads the samples, opens Index & Retrieval, then asks the sample
questions in turn until the time is up. A query's latency is the time from pressing Enter in the
question box to the app being idle again with hit cards on screen, as a user would wait for it.

The server and browser helpers live in tools/harness.py, shared with bench/restart.py and the
browser tests, so all of them start the app the same way.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tools.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE_JS,
    ROOT,
    RunTracker,
    StreamlitServer,
)

APP = "[data-testid='stApp']"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def sample_questions() -> list[str]:
    from core.evaluation import load_questions

    qs = load_questions((ROOT / "sample_docs" / "questions.jsonl").read_bytes(), "questions.jsonl")
    return [q.question for q in qs.questions]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil
    return ordered[int(rank) - 1]


# ----------------------------------------------------------------------------------------------
# The load test itself: Playwright's async API, so every session waits concurrently.


async def _wait_run(page, runs: RunTracker, before: int, timeout_s: float) -> None:
    """Wait for a run finishing after `before` runs, then for the page to show its result."""
    deadline = time.monotonic() + timeout_s
    while runs.finished <= before:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no script run finished within {timeout_s:.0f} s")
        await asyncio.sleep(0.01)
    await page.wait_for_function(IDLE_JS, timeout=timeout_s * 1000)


async def _act(page, runs: RunTracker, action, timeout_s: float = 300) -> None:
    before = runs.finished
    await action()
    await _wait_run(page, runs, before, timeout_s)


async def _setup_session(browser, url: str):
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    runs = RunTracker(page)
    await page.goto(url)
    await _wait_run(page, runs, 0, 120)
    await _act(page, runs, lambda: page.locator(".st-key-home_load_samples button").click())
    nav = page.locator("[data-testid='stSidebarNav']").get_by_role("link", name="Index & Retrieval", exact=True)
    await _act(page, runs, lambda: nav.click())
    await page.locator(".st-key-query input").wait_for(timeout=60_000)
    return context, page, runs


async def _session_loop(page, runs: RunTracker, questions: list[str], offset: int, deadline: float,
                        latencies: list, errors: list) -> None:
    box = page.locator(".st-key-query input")
    i = offset
    while time.monotonic() < deadline:
        question = questions[i % len(questions)]
        i += 1
        try:
            await box.fill(question)
            before = runs.finished
            started = time.perf_counter()
            await box.press("Enter")
            await _wait_run(page, runs, before, 120)
            await page.locator(".st-key-hit_1").wait_for(timeout=30_000)
            elapsed = (time.perf_counter() - started) * 1000
            if await page.locator("[data-testid='stException']").count():
                errors.append(f"exception shown after {question!r}")
            else:
                latencies.append(elapsed)
        except Exception as exc:  # record and go on: one slow answer must not end the run
            errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")


def _cpu_seconds(pid: int | None) -> tuple[float, float]:
    """(CPU seconds the process `pid` has used, CPU seconds the whole machine has used).

    The browsers that generate the load run on the same machine as the server: the server's
    share of what the machine did tells its cost apart from theirs."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    busy = sum(int(f) for i, f in enumerate(fields) if i not in (3, 4)) / tick  # all but idle and iowait
    if pid is None:
        return 0.0, busy
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / tick, busy


async def run_load(url: str, *, sessions: int, seconds: float, server_pid: int | None = None) -> dict:
    from playwright.async_api import async_playwright

    questions = sample_questions()
    latencies: list[float] = []
    errors: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        setup_started = time.monotonic()
        # The first session loads the model and fills the vector cache alone; the others then
        # start together and find both warm, so the measured window is about queries.
        first = await _setup_session(browser, url)
        rest = await asyncio.gather(*(_setup_session(browser, url) for _ in range(sessions - 1)), return_exceptions=True)
        opened = [first] + [r for r in rest if not isinstance(r, BaseException)]
        errors += [f"session setup: {type(r).__name__}: {str(r).splitlines()[0][:200]}" for r in rest if isinstance(r, BaseException)]
        setup_seconds = time.monotonic() - setup_started
        server_cpu0, machine_cpu0 = _cpu_seconds(server_pid)
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(
            _session_loop(page, runs, questions, n * 3, deadline, latencies, errors)
            for n, (_, page, runs) in enumerate(opened)
        ))
        wall = time.monotonic() - started
        server_cpu1, machine_cpu1 = _cpu_seconds(server_pid)
        for context, _, _ in opened:
            await context.close()
        await browser.close()
    return {
        "url": url,
        "sessions": sessions,
        "sessions_opened": len(opened),
        "seconds": seconds,
        "wall_seconds": round(wall, 1),
        "setup_seconds": round(setup_seconds, 1),
        "queries": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:5],
        "queries_per_second": round(len(latencies) / wall, 2) if wall else 0.0,
        # The server's CPU per query and its share of all CPU used in the window (the rest is the
        # load generator's browsers, which share these cores); None when driving a remote --url.
        "server_cpu_ms_per_query": round((server_cpu1 - server_cpu0) * 1000 / len(latencies), 1)
        if server_pid and latencies else None,
        "server_share_of_cpu": round((server_cpu1 - server_cpu0) / max(machine_cpu1 - machine_cpu0, 1e-9), 2)
        if server_pid else None,
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 1) if latencies else None,
            "p95": round(percentile(latencies, 95), 1) if latencies else None,
            "mean": round(statistics.fmean(latencies), 1) if latencies else None,
            "max": round(max(latencies), 1) if latencies else None,
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="drive this running app instead of starting one")
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--cache-dir", help="vector cache of the started server (default: a fresh temp dir)")
    args = ap.parse_args(argv)
    if args.sessions < 1 or args.seconds <= 0:
        ap.error("--sessions must be >= 1 and --seconds > 0")
    if not CHROMIUM.exists():
        print(json.dumps({"error": f"{CHROMIUM} not found: run scripts/install-test-deps.sh"}))
        return 2
    if args.url:
        result = asyncio.run(run_load(args.url.rstrip("/"), sessions=args.sessions, seconds=args.seconds))
    else:
        with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
            cache = Path(args.cache_dir) if args.cache_dir else Path(tmp) / "cache"
            with StreamlitServer(cache_dir=cache, log_path=Path(tmp) / "server.log") as server:
                pid = server.proc.pid if server.proc else None
                result = asyncio.run(run_load(server.url, sessions=args.sessions, seconds=args.seconds, server_pid=pid))
                result["server_log_tail"] = server.log_text().strip().splitlines()[-5:] if result["errors"] else []
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
