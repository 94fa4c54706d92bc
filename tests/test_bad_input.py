"""Bad input, end to end below the browser: every hostile or broken file gets a clear message,
markup in documents stays text, extreme settings are either valid or refused in words, and nothing
already loaded is lost. `core` directly first, then the pages through AppTest.

The file builders here are shared with tests/e2e/test_bad_input_ui.py, which sends the same
files through the real browser file input.
"""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from core.chunking import MAX_SIZE, MIN_SIZE, ChunkConfig, split, split_corpus
from core.documents import DEFAULT_MAX_BYTES, DocumentError, load_document, load_many
from core.evaluation import load_questions
from core.render import chunk_map_html, highlight_html

SAMPLES = Path(__file__).resolve().parent.parent / "sample_docs"

# Literal markup as a person might paste it into notes: it must be shown, never run.
XSS_LITERAL = "<img src=x onerror=alert(1)>"
XSS_TEXT = (
    "# Security notes\n\n"
    f"Never paste {XSS_LITERAL} into a page: browsers run onerror handlers.\n\n"
    "The same goes for <script>alert(2)</script> and for entities such as &lt;b&gt; that must stay as typed.\n"
)
XSS_HTML = (
    "<html><head><title>t</title><script>alert(1)</script></head><body>"
    "<h1>Release safety</h1><p>Widgets render safely.</p>"
    "<img src=x onerror=alert(1)><script>document.title='pwned'</script>"
    "<p onclick=\"alert(3)\">Click handlers are dropped with the markup.</p></body></html>"
)


def sample_pdf() -> bytes:
    return (SAMPLES / "pricing_and_plans.pdf").read_bytes()


def encrypted_pdf() -> bytes:
    """A real page of the sample PDF, locked with a user password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.add_page(PdfReader(io.BytesIO(sample_pdf())).pages[0])
    writer.encrypt(user_password="secret", owner_password="owner-secret")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def png_bytes() -> bytes:
    """A tiny PNG header and image-like bytes: what a photo renamed to .pdf looks like."""
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06" + bytes(range(256)) * 8


def bad_files() -> list[tuple[str, bytes, str]]:
    """(file name, content, phrase the error message must contain) for files that must be refused."""
    return [
        ("empty.txt", b"", "empty"),
        ("corrupt.pdf", sample_pdf()[: len(sample_pdf()) // 2], "damaged"),
        ("locked.pdf", encrypted_pdf(), "password"),
        ("photo.pdf", png_bytes(), "not a PDF"),
        ("data.txt", bytes(range(256)) * 64, "binary"),
    ]


def huge_text(mb: int = 30) -> bytes:
    line = b"Lanternfish keeps backups for thirty days on the Team plan.\n"
    return line * (mb * 1024 * 1024 // len(line) + 1)


def latin1_text() -> bytes:
    return "Café crème: the Zürich office bills in €? No: in CHF, façade included.\n".encode("latin-1", "replace")


def broken_questions() -> bytes:
    good = {"question": "How long are backups kept?", "answers": ["30 days"], "source": "faq.md"}
    lines = [
        json.dumps(good),
        '{"question": "unterminated", "answers": ["x"], "source": "faq.md"',  # not JSON
        json.dumps({"question": "", "answers": ["x"], "source": "faq.md"}),  # empty question
        json.dumps({"question": "No answers?", "answers": [], "source": "faq.md"}),
        "[1, 2, 3]",  # JSON, but not an object
        json.dumps({"question": "No source", "answers": ["x"]}),
        "",
        json.dumps({**good, "question": "Second good one?"}),
    ]
    return ("\n".join(lines) + "\n").encode()


# ---------------------------------------------------------------------------------------------
# core


@pytest.mark.parametrize("name, data, phrase", bad_files(), ids=[f[0] for f in bad_files()])
def test_each_bad_file_is_refused_with_a_message_naming_it(name, data, phrase):
    with pytest.raises(DocumentError) as info:
        load_document(data, name)
    message = str(info.value)
    assert name in message and phrase in message
    assert "Traceback" not in message


def test_a_30_mb_text_file_gets_a_size_message_at_the_default_limit():
    assert DEFAULT_MAX_BYTES == 25 * 1024 * 1024
    data = huge_text(30)
    with pytest.raises(DocumentError) as info:
        load_document(data, "huge.txt")
    message = str(info.value)
    assert "huge.txt" in message and "30.0 MB" in message and "25.0 MB limit" in message
    assert "raise the limit" in message  # says what to do about it


def test_latin1_text_loads_with_a_note_instead_of_failing():
    doc = load_document(latin1_text(), "latin1.txt")
    assert "Café crème" in doc.text and "Zürich" in doc.text
    assert doc.notes and "Latin-1" in doc.notes[0]


def test_html_extraction_drops_scripts_and_handlers():
    doc = load_document(XSS_HTML.encode(), "xss.html")
    assert "Release safety" in doc.text and "Click handlers are dropped" in doc.text
    assert "alert" not in doc.text and "pwned" not in doc.text and "onerror" not in doc.text


def test_markup_written_as_text_stays_text_in_the_chunk_map_and_hit_cards():
    doc = load_document(XSS_TEXT.encode(), "notes.md")
    assert XSS_LITERAL in doc.text  # it is content, kept as typed
    chunks = split(doc, config=ChunkConfig(size=32, overlap=8))
    page = chunk_map_html(doc.text, chunks)
    assert "<img" not in page and "<script" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&amp;lt;b&amp;gt;" in page  # an entity typed by the author shows as typed
    card = highlight_html(XSS_TEXT, "onerror img script alert")
    assert "<img" not in card and "<script" not in card
    assert "&lt;<mark>img</mark> src=x <mark>onerror</mark>=<mark>alert</mark>(1)&gt;" in card


def test_one_batch_with_every_kind_of_bad_file_keeps_the_good_ones():
    files = [(n, d) for n, d, _ in bad_files()] + [
        ("huge.txt", huge_text(30)), ("latin1.txt", latin1_text()), ("notes.md", XSS_TEXT.encode()),
        ("xss.html", XSS_HTML.encode()),
    ]
    report = load_many(files)
    assert [d.name for d in report.documents] == ["latin1.txt", "notes.md", "xss.html"]
    assert sorted(name for name, _ in report.errors) == sorted([n for n, _, _ in bad_files()] + ["huge.txt"])
    for name, message in report.errors:
        assert message.startswith(f"{name}: ")


def test_a_question_set_with_broken_lines_reports_each_line_and_keeps_the_rest():
    qs = load_questions(broken_questions(), "questions.jsonl")
    assert [q.question for q in qs.questions] == ["How long are backups kept?", "Second good one?"]
    lines = dict(qs.errors)
    assert sorted(lines) == [2, 3, 4, 5, 6]
    assert "not valid JSON" in lines[2]
    assert "question" in lines[3] and "answers" in lines[4] and "object" in lines[5] and "source" in lines[6]
    assert load_questions(b"\xff\xfe\x00garbage", "q.jsonl").errors  # not UTF-8: one clear error
    assert not load_questions(b"", "q.jsonl").questions


@pytest.mark.parametrize("unit", ["tokens", "chars"])
def test_extreme_chunk_settings_work_or_are_refused_in_words(unit, sample_docs):
    docs = sample_docs[:2]
    biggest = ChunkConfig(size=MAX_SIZE[unit], overlap=MAX_SIZE[unit] - 1, unit=unit)
    for config in (biggest, ChunkConfig(size=MIN_SIZE[unit], overlap=0, unit=unit),
                   ChunkConfig(size=MIN_SIZE[unit], overlap=MIN_SIZE[unit] - 1, unit=unit)):
        chunks = split_corpus(docs, config=config)
        assert chunks and all(d.text[c.start:c.end] == c.text for d in docs for c in chunks if c.doc == d.name)
    for bad, phrase in (
        (dict(size=MIN_SIZE[unit] - 1, overlap=0), "between"),
        (dict(size=MAX_SIZE[unit] + 1, overlap=0), "between"),
        (dict(size=100, overlap=100), "smaller than the chunk size"),
        (dict(size=100, overlap=-1), "negative"),
    ):
        with pytest.raises(ValueError, match=phrase):
            ChunkConfig(unit=unit, **bad)


# ---------------------------------------------------------------------------------------------
# pages, through AppTest


def _texts(elements) -> list[str]:
    return [e.value for e in elements]


def _documents_table(at) -> list[str]:
    """Names in the Documents page's table (AppTest does not expose a dataframe's key)."""
    tables = [d.value for d in at.dataframe if "name" in d.value.columns and "characters" in d.value.columns]
    assert len(tables) == 1, f"expected the documents table, found {len(tables)}"
    return list(tables[0]["name"])


def test_documents_page_reports_each_bad_upload_and_keeps_what_was_loaded(app_test):
    at = app_test()
    at.run()
    at.switch_page("pages/documents.py").run()
    at.button(key="docs_load_samples").click().run()
    samples = _documents_table(at)
    assert len(samples) >= 8

    uploader = at.file_uploader(key="uploader")
    for name, data, _ in bad_files():
        uploader.upload(name, data)
    uploader.upload("huge.txt", huge_text(30), "text/plain")
    uploader.upload("latin1.txt", latin1_text(), "text/plain")
    uploader.upload("notes.md", XSS_TEXT.encode(), "text/markdown")
    uploader.upload("xss.html", XSS_HTML.encode(), "text/html").run()

    assert not at.exception
    errors = _texts(at.error)
    for name, _, phrase in bad_files() + [("huge.txt", b"", "25.0 MB limit")]:
        assert any(e.startswith(f"{name}:") and phrase in e for e in errors), (name, errors)
    assert any("latin1.txt" in w and "Latin-1" in w for w in _texts(at.warning))
    assert _documents_table(at) == samples + ["latin1.txt", "notes.md", "xss.html"]

    # A second bad upload later still loses nothing.
    at.file_uploader(key="uploader").upload("empty-again.txt", b"").run()
    assert not at.exception
    assert any(e.startswith("empty-again.txt:") for e in _texts(at.error))
    assert _documents_table(at) == samples + ["latin1.txt", "notes.md", "xss.html"]


def test_chunking_page_takes_extreme_sliders_without_losing_the_session(app_test):
    at = app_test()
    at.run()
    at.button(key="home_load_samples").click().run()  # moves on to Chunking
    assert not at.exception
    at.slider(key="chunk_size").set_value(at.slider(key="chunk_size").max).run()
    at.slider(key="chunk_overlap").set_value(at.slider(key="chunk_overlap").max).run()
    assert not at.exception and not at.error
    labels = {m.label: m.value for m in at.metric}
    assert int(labels["Chunks"].replace(",", "")) > 0
    assert any("longer than the model" in w for w in _texts(at.warning))  # 1024 tokens are truncated

    at.slider(key="chunk_size").set_value(at.slider(key="chunk_size").min).run()  # overlap now > size
    assert not at.exception
    assert any("must be smaller than the chunk size" in e and "last valid setting" in e for e in _texts(at.error))
    at.slider(key="chunk_overlap").set_value(0).run()
    assert not at.exception and not at.error
    assert int({m.label: m.value for m in at.metric}["Chunks"].replace(",", "")) > 500
    at.switch_page("pages/documents.py").run()
    assert len(_documents_table(at)) >= 8


def test_evaluate_page_reports_broken_question_lines(app_test):
    at = app_test()
    at.run()
    at.switch_page("pages/documents.py").run()
    at.file_uploader(key="uploader").upload("faq.md", (SAMPLES / "faq.md").read_bytes(), "text/markdown").run()
    at.switch_page("pages/evaluate.py").run()
    if "eval_q_source" not in [r.key for r in at.radio]:
        pytest.skip("the Evaluate page has no question upload yet")
    at.radio(key="eval_q_source").set_value("upload").run()
    at.file_uploader(key="eval_q_upload").upload("broken.jsonl", broken_questions(), "application/jsonl").run()
    assert not at.exception
    warnings = " ".join(_texts(at.warning))
    assert re.search(r"5 line\(s\) of broken\.jsonl could not be read; the 2 valid question\(s\)", warnings), warnings
    assert _documents_table_after(at, "pages/documents.py") == ["faq.md"]


def _documents_table_after(at, page: str) -> list[str]:
    at.switch_page(page).run()
    return _documents_table(at)


@pytest.mark.model
def test_retrieval_page_shows_markup_in_documents_and_questions_as_text(app_test):
    at = app_test(timeout=300)
    at.run()
    at.switch_page("pages/documents.py").run()
    at.file_uploader(key="uploader").upload("notes.md", XSS_TEXT.encode(), "text/markdown").run()
    at.switch_page("pages/retrieval.py").run()
    assert not at.exception
    for query in (f"what about {XSS_LITERAL}?", "?!#", "x" * 5000):
        at.text_input(key="query").set_value(query).run()
        assert not at.exception, query[:40]
    at.text_input(key="query").set_value("onerror handlers img").run()
    cards = [h.proto.body for h in at.get("html")]
    assert cards, "no hit card was drawn"
    joined = "\n".join(cards)
    assert "<img" not in joined and "<script" not in joined
    assert "&lt;<mark>img</mark> src=x <mark>onerror</mark>=alert(1)&gt;" in joined
