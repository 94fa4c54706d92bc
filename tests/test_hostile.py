"""Issue 16's hostile files, each built here, small: every upload's work is bounded.

The files come from bench.hostile's generators at test sizes (a zip bomb of a few MB compresses to
a few KB; a PDF with one content stream drawn by many pages). Each test fails on the code before
the fix: the bomb loaded, the worker ran on, the page crashed.
"""
from __future__ import annotations

import io
import threading
import time
import zipfile
from pathlib import Path

import psutil
import pytest
from streamlit.testing.v1 import AppTest

from bench.hostile import (
    big_text,
    deep_json_line,
    docx,
    docx_bomb,
    long_training_line,
    nested_html,
    pdf_bomb,
    utf16_text,
    with_declared_sizes,
)
from core import finetune, model
from core.documents import Document, DocumentError, load_document, skip_empty
from core.extract import CANCELLED, OK, OVER_MEMORY, OVER_TIME, REFUSED, extract, extract_many
from core.limits import Limits, build_seconds, embedding_tokens
from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


def _workers_left() -> list:
    """Extraction workers still alive (children of this test process running the worker), other
    than the idle spare kept ready for the next file."""
    from core import extract as extraction

    spare = extraction._spare.pid if extraction._spare is not None else None
    alive = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.pid != spare and "_worker_main" in " ".join(child.cmdline()):
                alive.append(child)
        except psutil.Error:
            pass
    return alive


# --- DOCX zip bombs ------------------------------------------------------------------------------

def test_docx_bomb_is_refused_before_parsing_naming_both_sizes():
    bomb = docx_bomb(unzipped_bytes=8 * MB)
    assert len(bomb) < 64 * 1024  # a tiny upload...
    started = time.perf_counter()
    with pytest.raises(DocumentError) as info:
        load_document(bomb, "bomb.docx", limits=Limits(max_unzipped_mb=2))
    message = str(info.value)
    assert "bomb.docx" in message and "8.0 MB" in message  # what it unpacks to
    assert f"{len(bomb) / 1024:.1f} KB" in message and "2.0 MB" in message  # the file and the limit
    assert time.perf_counter() - started < 2  # refused from the directory, not after parsing 8 MB


def test_docx_that_lies_about_its_sizes_is_still_refused():
    """The declared size says 1 KB; unpacking in pieces finds the truth (or the damage) first."""
    liar = with_declared_sizes(docx_bomb(unzipped_bytes=8 * MB), entry="word/document.xml", declared=1000)
    assert zipfile.ZipFile(io.BytesIO(liar)).getinfo("word/document.xml").file_size == 1000
    with pytest.raises(DocumentError, match="lie.docx: (the DOCX archive is damaged|.*over the limit)"):
        load_document(liar, "lie.docx", limits=Limits(max_unzipped_mb=2))


def test_docx_with_too_many_entries_is_refused():
    many = docx(["Hello."], extra_entries=60)
    with pytest.raises(DocumentError, match=r"63 files, over the limit of 20"):
        load_document(many, "many.docx", limits=Limits(max_zip_entries=20))
    assert load_document(many, "many.docx").text == "Hello."  # within the default limit it reads


def test_extracted_characters_are_capped():
    bomb = docx_bomb(unzipped_bytes=3 * MB)  # within the unpacked budget, ~3M characters of text
    with pytest.raises(DocumentError, match="over the limit of 1,000,000 characters"):
        load_document(bomb, "long.docx", limits=Limits(max_chars=1_000_000))
    with pytest.raises(DocumentError, match="over the limit of 1,000 characters"):
        load_document(b"word " * 1000, "long.txt", limits=Limits(max_chars=1000))


def test_pdf_pages_stop_being_read_once_over_the_character_budget():
    bomb = pdf_bomb(pages=50, stream_bytes=200_000)
    started = time.perf_counter()
    with pytest.raises(DocumentError, match="characters"):
        load_document(bomb, "many.pdf", limits=Limits(max_chars=200_000))
    assert time.perf_counter() - started < 5  # a page or two, not fifty


# --- the worker: time, memory, cancel ----------------------------------------------------------

def test_pdf_cpu_bomb_is_stopped_at_its_time_budget_and_the_worker_is_gone():
    bomb = pdf_bomb(pages=20, stream_bytes=2 * MB)  # ~30 s to read in full here
    assert len(bomb) < 16 * 1024
    result = extract(bomb, "bomb.pdf", limits=Limits(max_seconds=2))
    assert result.outcome == OVER_TIME and result.document is None
    assert 2 <= result.seconds < 6
    assert "bomb.pdf" in result.error and "2 s budget" in result.error
    assert _workers_left() == []


def test_a_file_over_the_memory_budget_is_stopped():
    # 90 MB of XML in a ~120 KB DOCX: allowed by the unpacked limit, but python-docx's tree of it
    # needs far more than 256 MB.
    bomb = docx_bomb(unzipped_bytes=90 * MB)
    result = extract(bomb, "fat.docx", limits=Limits(max_memory_mb=256, max_chars=200_000_000))
    assert result.outcome == OVER_MEMORY, result
    assert "256 MB memory budget" in result.error
    assert _workers_left() == []


def test_cancel_stops_the_worker_promptly():
    bomb = pdf_bomb(pages=20, stream_bytes=2 * MB)
    asked = time.perf_counter()
    result = extract(bomb, "bomb.pdf", limits=Limits(max_seconds=60),
                     should_stop=lambda: time.perf_counter() - asked > 0.5)
    assert result.outcome == CANCELLED and result.seconds < 3
    assert _workers_left() == []


def test_an_interrupted_wait_kills_the_worker():
    """Streamlit stops a script by raising from its next progress update: the worker must die too."""
    class Interrupted(Exception):
        pass

    def tick(elapsed: float, what: str) -> None:
        if elapsed > 0.5:
            raise Interrupted

    with pytest.raises(Interrupted):
        extract(pdf_bomb(pages=20, stream_bytes=2 * MB), "bomb.pdf", limits=Limits(), tick=tick)
    assert _workers_left() == []


def test_normal_files_read_in_the_worker_match_reading_in_process():
    files = [(p.name, p.read_bytes()) for p in sorted(SAMPLES.iterdir()) if p.is_file() and p.suffix != ".jsonl"]
    started = time.perf_counter()
    report, results = extract_many(files, limits=Limits())
    assert [r.outcome for r in results] == [OK] * len(files)
    assert time.perf_counter() - started < 10  # ~0.5 s here; a generous bound for a busy machine
    for (name, data), doc in zip(files, report.documents):
        assert doc == load_document(data, name)
    bad, results = extract_many([("x.exe", b"MZ"), ("a.txt", b"fine")], limits=Limits())
    assert [r.outcome for r in results] == [REFUSED, OK] and "unsupported" in bad.errors[0][1]


def test_reader_slots_bound_concurrency_without_serialising_everything():
    """Two files with one slot: the second waits (visibly) until the first is done, then reads."""
    limits = Limits(workers=1, max_seconds=1.5)
    waits: list[str] = []
    outcomes: dict[str, str] = {}

    def bomb() -> None:
        outcomes["bomb"] = extract(pdf_bomb(pages=20, stream_bytes=2 * MB), "bomb.pdf", limits=limits).outcome

    first = threading.Thread(target=bomb)
    first.start()
    time.sleep(0.3)
    result = extract(b"hello", "a.txt", limits=limits, tick=lambda s, what: waits.append(what))
    first.join()
    assert outcomes["bomb"] == OVER_TIME and result.outcome == OK
    assert any("waiting for a free reader" in w for w in waits)
    # With two slots the small file does not wait for the bomb.
    limits2 = Limits(workers=2, max_seconds=1.5)
    first = threading.Thread(target=lambda: extract(pdf_bomb(pages=20, stream_bytes=2 * MB), "b.pdf", limits=limits2))
    first.start()
    time.sleep(0.3)
    started = time.perf_counter()
    assert extract(b"hello", "a.txt", limits=limits2).outcome == OK
    assert time.perf_counter() - started < 1.0
    first.join()


# --- big but allowed ------------------------------------------------------------------------------

def test_deeply_nested_html_reads_in_one_bounded_pass():
    html = nested_html(size_bytes=2 * MB)
    started = time.perf_counter()
    doc = load_document(html, "deep.html")
    assert doc.text == "deep"
    assert time.perf_counter() - started < 5


def test_utf16_text_is_read_with_and_without_a_byte_order_mark():
    for bom in (True, False):
        doc = load_document(utf16_text(bom=bom), "notes.txt")
        assert doc.text.startswith("Résumé of the UTF-16 notes.\nSecond line with ünïcode")
        assert any("UTF-16" in n for n in doc.notes)
    assert load_document(utf16_text(bom=False), "NOTES").kind == "text"  # no extension: sniffed
    with pytest.raises(DocumentError, match="binary"):
        load_document(bytes(range(256)) * 20, "binary.txt")  # binary is still refused


def test_token_count_of_a_long_text_is_exact_and_done_in_pieces(monkeypatch):
    text = big_text(size_bytes=60_000).decode()
    whole = model.count_tokens_batch([text])[0]
    calls: list[int] = []
    real = model.count_tokens_batch
    monkeypatch.setattr(model, "count_tokens_batch", lambda texts: calls.extend(map(len, texts)) or real(texts))
    assert model.count_tokens_long(text, piece=5000) == whole
    assert max(calls) <= 5000  # no call saw the whole text
    assert model.count_tokens_many([text, "", "short one"], piece=5000) == [whole, 0, real(["short one"])[0]]


# --- empty documents --------------------------------------------------------------------------

def test_empty_documents_are_skipped_with_a_note():
    kept, notes = skip_empty([Document("a.txt", "text", "text"), Document("empty", "  \n", "text")])
    assert [d.name for d in kept] == ["a.txt"] and notes == ["empty: has no text, so it was skipped."]
    with pytest.raises(DocumentError, match="no text"):
        load_document(docx([]), "empty.docx")


# --- training files ---------------------------------------------------------------------------

def test_deeply_nested_training_line_is_an_error_not_a_crash():
    parsed = finetune.parse_jsonl(deep_json_line(depth=100_000) + b'{"prompt": "a", "completion": "b c d"}\n')
    assert [p.line for p in parsed.problems] == [1] and "nested too deeply" in parsed.problems[0].message
    assert len(parsed.examples) == 1  # the next line still counts


def test_a_huge_training_line_is_refused_without_parsing(monkeypatch):
    monkeypatch.setattr(finetune, "MAX_LINE_CHARS", 100_000)
    data = long_training_line(size_bytes=500_000)
    parsed = finetune.parse_jsonl(data)
    assert parsed.examples == () and "over the 100,000 read here" in parsed.problems[0].message


def test_readiness_page_survives_a_file_that_breaks_the_checks(monkeypatch):
    at = AppTest.from_file(str(ROOT / "pages" / "readiness.py"), default_timeout=60)
    at.session_state["ft_data"] = ("deep.jsonl", deep_json_line(depth=50_000))
    at.run()
    assert not at.exception
    assert "nested too deeply" in " ".join(at.dataframe[0].value["Problem"])

    def broken(_parsed, **_kwargs):
        raise ValueError("something unforeseen")

    import streamlit as st

    st.cache_data.clear()
    monkeypatch.setattr(finetune, "analyse", broken)
    at.session_state["ft_data"] = ("odd.jsonl", b'{"prompt": "a", "completion": "b"}\n')
    at.run()
    assert not at.exception and "could not be checked" in at.error[0].value
    at.run()  # the next visit starts clean instead of failing again
    assert not at.exception and "Upload a training file" in at.info[0].value


# --- the index-build estimate -----------------------------------------------------------------

def test_index_build_estimate_counts_truncated_chunks_and_sentences():
    tokens = embedding_tokens([100, 1000], window=254)
    assert tokens == (102 + 256) + 1100
    assert build_seconds(6500 * 60, tokens_per_second=6500) == 60
    with pytest.raises(ValueError, match="positive"):
        build_seconds(10, tokens_per_second=0)


def test_the_spare_worker_exits_when_the_server_goes():
    """A spare reader waits on its stdin; when the server's end closes (the server exited), it ends."""
    from core.extract import _start_worker

    spare = _start_worker()
    assert spare.stdin is not None
    spare.stdin.close()
    assert spare.wait(timeout=30) == 0


def test_documents_page_shows_its_limits_and_refuses_a_bomb(app_test):
    at = app_test()
    at.run()
    at.switch_page("pages/documents.py").run()
    tables = [d.value for d in at.dataframe if "environment variable" in d.value.columns]
    assert len(tables) == 1 and "RAG_EXPLORER_MAX_SECONDS" in list(tables[0]["environment variable"])
    bomb = docx_bomb(unzipped_bytes=120 * MB)  # over the default 100 MB unpacked
    at.file_uploader(key="uploader").upload("bomb.docx", bomb).upload("ok.txt", b"Plain words.").run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error).replace("\\", "")
    assert "bomb.docx: a" in errors and "unpacks to 120.0 MB" in errors and "100.0 MB" in errors
    names = [list(d.value["name"]) for d in at.dataframe if "characters" in d.value.columns]
    assert names == [["ok.txt"]]
