"""Reading uploaded files inside a budget they cannot exceed: one worker process per file.

A file is parsed (core.documents.load_document) in a child process that limits its own address
space (RLIMIT_AS) and CPU time, and is killed by the parent when it is over its wall-clock budget,
when the caller cancels, or when the caller's session goes away (the parent's wait is where that
happens). Why a process and not a thread: a PDF content-stream bomb is pure-Python work that held
the server's GIL for minutes (other users' queries went from 0.5 s to 5.8 s); a separate process
has its own GIL, and a process, unlike a thread, can be stopped. A file still reading after a
second is moved to a lower CPU priority (nice 10), so the server's threads answering other users
come first while ordinary files read at full speed.

A worker is a fresh interpreter (`python -I`), not a fork of the server: forking a process that runs
threads and a loaded model is unsafe, and multiprocessing's spawn/forkserver re-run the main script
(Streamlit's launcher, pytest) in every child. One spare worker is kept started and idle (~20 MB,
no CPU), so a file does not wait for an interpreter to start; a file pays only its parser's import
(pypdf ~0.15 s, python-docx ~0.25 s). Data goes in and out through files in a private temporary
folder. At most `limits.workers` files are read at once over the whole server: slots, not one lock,
so a bomb holds one slot for at most its time budget while other sessions' files use the others;
waiting for a slot is shown and can be cancelled.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from core.documents import Document, DocumentError, LoadReport, load_document
from core.limits import Limits

OK, REFUSED, OVER_TIME, OVER_MEMORY, CANCELLED, CRASHED = (
    "ok", "refused", "over time", "over memory", "cancelled", "crashed")
TICK = 0.1  # seconds between checks of the worker (and calls of the caller's `tick`)
DEMOTE_AFTER = 1.0  # seconds a worker reads at normal priority before it yields to the server
_ROOT = Path(__file__).resolve().parent.parent

# (elapsed seconds, what is happening) -> None; raising from it stops the read (the worker is killed).
Tick = Callable[[float, str], None]


@dataclass(frozen=True)
class Extraction:
    """What happened to one file: its Document, or the message saying why not."""

    name: str
    outcome: str
    seconds: float
    peak_mb: float  # the worker's peak resident memory
    document: Document | None = None
    error: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in (OK, REFUSED, OVER_TIME, OVER_MEMORY, CANCELLED, CRASHED):
            raise ValueError(f"Unknown extraction outcome {self.outcome!r}.")
        if (self.document is None) == (self.outcome == OK):
            raise ValueError("An extraction has a document exactly when its outcome is ok.")


class Cancelled(Exception):
    """Raised by a `should_stop` check: the caller no longer wants the file."""


_slots_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


def _slot(workers: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        return _slots.setdefault(workers, threading.BoundedSemaphore(workers))


_spare_lock = threading.Lock()
_spare: subprocess.Popen | None = None


def _start_worker() -> subprocess.Popen:
    # -I: no user site, no PYTHON* variables, no current directory on the path: the worker runs
    # exactly this checkout's loader and nothing else.
    return subprocess.Popen(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(_ROOT)!r}); "
                                     "from core.extract import _worker_main; _worker_main()"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _take_worker() -> subprocess.Popen:
    """A started worker for one file: the spare one (warm) if there is one, and a new spare behind
    it. An idle spare costs ~50 MB and no CPU; it exits when the server does (its stdin closes)."""
    global _spare
    with _spare_lock:
        worker = _spare if _spare is not None and _spare.poll() is None else _start_worker()
        _spare = _start_worker()
    return worker


def _demote(pid: int) -> bool:
    """Lower a long-running worker's priority: the server's own threads (other users' queries)
    come first. Only after DEMOTE_AFTER, so an ordinary file reads at full speed on a busy machine."""
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 10)
    except OSError:
        pass
    return True


def _peak_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _worker_main() -> None:  # pragma: no cover - runs in the worker process
    """The worker: wait for a line "request path<TAB>answer path" on stdin, read the pickled
    (data, name, limits) from the request file, bound itself, parse, and write the pickled
    ("ok", Document, peak MB) or (outcome, message, peak MB) to the answer file."""
    import resource

    # A spare worker is started ahead of need, so a file does not wait for an interpreter to start.
    # The parsers are imported only by the file that needs one (pypdf ~0.15 s, python-docx ~0.25 s
    # of CPU): importing all of them in every spare cost more than it saved on a busy machine.
    line = sys.stdin.readline()
    if not line.strip():  # the server went away (or never needed us)
        return
    request_path, answer_path = line.rstrip("\n").split("\t")
    with open(request_path, "rb") as source:
        request = pickle.load(source)
    data, name, limits = request
    memory = limits.max_memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # A backstop if the server dies without killing us: the kernel stops a runaway parse.
    cpu = int(limits.max_seconds) + 5
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    try:
        message: tuple = (OK, load_document(data, name, limits=limits))
    except DocumentError as exc:
        message = (REFUSED, str(exc))
    except MemoryError:
        message = (OVER_MEMORY, "")
    except RecursionError:
        message = (REFUSED, f"{name}: the file is nested too deeply to read.")
    except Exception as exc:  # a parser bug is this file's problem, not the server's
        message = (REFUSED, f"{name}: could not be read ({type(exc).__name__}: {exc}).")
    del data, request
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        out = pickle.dumps(message + (peak,), protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        out = pickle.dumps((OVER_MEMORY, "", peak))
    with open(answer_path + ".part", "wb") as target:
        target.write(out)
    os.replace(answer_path + ".part", answer_path)  # whole or absent: never half an answer


def _over_memory(name: str, limits: Limits) -> str:
    return (f"{name}: reading it needed more than the {limits.max_memory_mb:,} MB memory budget per file, "
            "so it was stopped. Split the file, or raise RAG_EXPLORER_MAX_MEMORY_MB.")


def _over_time(name: str, limits: Limits) -> str:
    why = " (a PDF can make a reader repeat the same work without end)" if name.lower().endswith(".pdf") else ""
    return (f"{name}: reading it took longer than the {limits.max_seconds:,.0f} s budget per file, so it was "
            f"stopped{why}. Split the file, or raise RAG_EXPLORER_MAX_SECONDS.")


def extract(data: bytes, name: str, *, limits: Limits, tick: Tick | None = None,
            should_stop: Callable[[], bool] | None = None) -> Extraction:
    """Read one file in a bounded worker. `tick` is called about every 0.1 s while waiting (for a
    slot, then for the worker); an exception from it, or `should_stop()` turning true, kills the
    worker. The exception propagates; should_stop gives a CANCELLED result."""
    started = time.perf_counter()

    def elapsed() -> float:
        return time.perf_counter() - started

    def cancelled(peak: float = 0.0) -> Extraction:
        return Extraction(name, CANCELLED, elapsed(), peak, error=f"{name}: reading was cancelled.")

    if len(data) > limits.max_bytes:  # no worker needed to refuse this
        try:
            load_document(data, name, limits=limits)
        except DocumentError as exc:
            return Extraction(name, REFUSED, elapsed(), 0.0, error=str(exc))
    slot = _slot(limits.workers)
    while not slot.acquire(timeout=TICK):
        if tick:
            tick(elapsed(), "waiting for a free reader (other files are being read)")
        if should_stop and should_stop():
            return cancelled()
    try:
        return _run(data, name, limits=limits, tick=tick, should_stop=should_stop, started=started)
    finally:
        slot.release()


def _run(data: bytes, name: str, *, limits: Limits, tick: Tick | None,
         should_stop: Callable[[], bool] | None, started: float) -> Extraction:
    # The request and the answer go through files in a private temporary folder, not pipes: a pipe
    # needs a thread feeding it while we wait (communicate() with a timeout stops writing after its
    # first timeout), and a file costs one write of at most the upload's size.
    with tempfile.TemporaryDirectory(prefix="rag-read-") as folder:
        request, answer = Path(folder) / "request", Path(folder) / "answer"
        request.write_bytes(pickle.dumps((data, name, limits), protocol=pickle.HIGHEST_PROTOCOL))
        # -I: no user site, no PYTHON* variables, no current directory on the path: the worker runs
        # exactly this checkout's loader and nothing else.
        worker = _take_worker()
        try:
            assert worker.stdin is not None
            worker.stdin.write(f"{request}\t{answer}\n".encode())
            worker.stdin.close()
        except (BrokenPipeError, OSError):  # the spare died meanwhile: wait() below sees it
            pass
        t0 = time.perf_counter()  # the budget starts with the worker, not with the wait for a slot
        peak = 0.0
        demoted = False
        try:
            while True:
                try:
                    worker.wait(timeout=TICK)
                    break
                except subprocess.TimeoutExpired:
                    pass
                peak = max(peak, _peak_mb(worker.pid))
                if not demoted and time.perf_counter() - t0 > DEMOTE_AFTER:
                    demoted = _demote(worker.pid)
                if time.perf_counter() - t0 > limits.max_seconds:
                    return Extraction(name, OVER_TIME, time.perf_counter() - started, peak,
                                      error=_over_time(name, limits))
                if should_stop and should_stop():
                    return Extraction(name, CANCELLED, time.perf_counter() - started, peak,
                                      error=f"{name}: reading was cancelled.")
                if tick:
                    tick(time.perf_counter() - started, f"reading {name}")
        finally:
            if worker.returncode is None:
                peak = max(peak, _peak_mb(worker.pid))
                worker.kill()
                worker.wait()
        out = answer.read_bytes() if answer.exists() else b""
    seconds = time.perf_counter() - started
    try:
        message = pickle.loads(out) if out else None
    except Exception:
        message = None
    if message is None:  # died without a word: killed by the kernel (memory or CPU limit), or crashed
        signal = -(worker.returncode or 0)
        if signal == 24:  # SIGXCPU: over the CPU backstop
            return Extraction(name, OVER_TIME, seconds, peak, error=_over_time(name, limits))
        # Out of address space inside C code ends in an abort or a segfault rather than MemoryError.
        if signal in (6, 9, 11) or peak > 0.8 * limits.max_memory_mb:
            return Extraction(name, OVER_MEMORY, seconds, peak, error=_over_memory(name, limits))
        return Extraction(name, CRASHED, seconds, peak,
                          error=f"{name}: the reader stopped unexpectedly (exit code {worker.returncode}).")
    outcome, payload, reported = message
    peak = max(peak, reported)
    if outcome == OK:
        return Extraction(name, OK, seconds, peak, document=payload)
    # A parser out of address space often says so in its own words (lxml: "unknown error"), so a
    # failure at the edge of the budget is reported as what it is.
    if outcome == OVER_MEMORY or (outcome == REFUSED and peak > 0.75 * limits.max_memory_mb):
        return Extraction(name, OVER_MEMORY, seconds, peak, error=_over_memory(name, limits))
    return Extraction(name, outcome, seconds, peak, error=payload)


def extract_many(files: Iterable[tuple[str, bytes]], *, limits: Limits,
                 tick: Callable[[str, float, str], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> tuple[LoadReport, tuple[Extraction, ...]]:
    """Read each file in its own bounded worker, one after another: one bad file never stops the
    others. `tick(name, elapsed, what)` as in `extract`."""
    results: list[Extraction] = []
    for name, data in files:
        per_file = (lambda s, what, n=name: tick(n, s, what)) if tick else None
        results.append(extract(data, name, limits=limits, tick=per_file, should_stop=should_stop))
    docs = tuple(r.document for r in results if r.document is not None)
    errors = tuple((r.name, r.error) for r in results if r.document is None)
    return LoadReport(docs, errors), tuple(results)
