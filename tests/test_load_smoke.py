"""Smoke test of bench/load_test.py: 2 sessions for ~10 s must report its JSON and no errors.

No timing assertions: latency depends on the machine. The full run is
`python -m bench.load_test --sessions 10 --seconds 60`.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.load_test import percentile
from tools.harness import CHROMIUM

ROOT = Path(__file__).resolve().parent.parent


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([7.0], 95) == 7.0


@pytest.mark.browser
def test_load_test_runs_briefly_and_reports_json_without_errors(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (scripts/install-test-deps.sh installs it)")
    out = subprocess.run(
        [sys.executable, "-m", "bench.load_test", "--sessions", "2", "--seconds", "10",
         "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert {"sessions", "seconds", "queries", "errors", "latency_ms", "queries_per_second"} <= set(result)
    assert {"p50", "p95"} <= set(result["latency_ms"])
    assert result["sessions_opened"] == 2
    assert result["errors"] == 0, result["error_samples"]
    assert result["queries"] > 0
    assert result["latency_ms"]["p50"] <= result["latency_ms"]["p95"]
