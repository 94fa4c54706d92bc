"""Driving the app in a real browser: `streamlit run` on loopback, Debian's Chromium, and the
websocket run counter that tells when the run an action caused is over.

One copy for everything that drives the app from outside: the browser tests (tests/e2e), the load
benchmark and the restart benchmark, so they all start and watch the app the same way.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# True when the script has finished its run and no element is left over from an earlier run.
IDLE_JS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && !document.querySelector("[data-stale='true']");
}"""
MODEL_SPINNER_TEXT = "Loading the embedding model"


class RunTracker:
    """Counts the script runs of one page's Streamlit session, read off its websocket.

    Every finished run sends a `script_finished` ForwardMsg. Waiting for the count to grow is
    the exact signal that the run an action caused is over; the DOM's idle flag alone cannot
    tell "not started yet" from "already done".
    """

    DONE = (0, 3)  # FINISHED_SUCCESSFULLY, FINISHED_FRAGMENT_RUN_SUCCESSFULLY

    def __init__(self, page) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._msg = ForwardMsg
        self.finished = 0
        self.sessions = 0  # new_session messages: one per script run started
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws) -> None:
        if ws.url.endswith("/_stcore/stream"):
            ws.on("framereceived", self._on_frame)

    def _on_frame(self, payload) -> None:
        if isinstance(payload, str):
            return
        msg = self._msg()
        try:
            msg.ParseFromString(payload)
        except Exception:
            return
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.sessions += 1
        elif kind == "script_finished" and msg.script_finished in self.DONE:
            self.finished += 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """`streamlit run app.py` on 127.0.0.1 and a free port, with its own vector cache directory."""

    def __init__(self, *, cache_dir: Path | str, log_path: Path | str | None = None, env: dict | None = None) -> None:
        self.cache_dir = Path(cache_dir)
        self.log_path = Path(log_path) if log_path else Path(tempfile.mkdtemp(prefix="rag-server-log-")) / "server.log"
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.url = ""

    def start(self, timeout: float = 120) -> StreamlitServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, RAG_EXPLORER_CACHE=str(self.cache_dir), **self.extra_env)
        last_error = ""
        for _attempt in range(3):  # the free port can be taken between choosing and binding it
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
                 "--server.port", str(self.port), "--server.headless", "true"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
            log.close()
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            return self
                except OSError:
                    time.sleep(0.3)
            last_error = f"exit code {self.proc.poll()}" if self.proc.poll() is not None else f"no answer in {timeout:.0f} s"
            self.stop()
        raise RuntimeError(f"streamlit did not start ({last_error}); see {self.log_path}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        # The server is its own process group (start_new_session): end exactly that group.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:
            pass

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
