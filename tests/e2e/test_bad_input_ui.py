"""Bad input through the real browser: the file input, the sliders, the question-set upload.

Each bad file must get a message that names it, documents loaded before a bad upload must still
be listed after it, and markup inside documents (or their names) must show as text: no element
created from it, no script run, no dialog.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.test_bad_input import (
    XSS_HTML,
    XSS_LITERAL,
    XSS_TEXT,
    bad_files,
    broken_questions,
    huge_text,
    latin1_text,
)

pytestmark = pytest.mark.browser

HOSTILE_NAME = "<img src=x onerror=alert(2)>.md"
NO_INJECTED_ELEMENTS = "() => document.querySelectorAll('img[onerror], [onclick], img[src=\"x\"]').length"


def _file(name: str, data: bytes, mime: str = "application/octet-stream") -> dict:
    return {"name": name, "mimeType": mime, "buffer": data}


def test_bad_uploads_each_get_a_message_and_nothing_loaded_is_lost(app):
    app.nav("Documents")
    app.click("docs_load_samples")
    heading = app.page.get_by_role("heading", name="Loaded documents (8)")
    assert heading.count() == 1

    files = [_file(n, d) for n, d, _ in bad_files()]
    files += [_file("huge.txt", huge_text(30), "text/plain"), _file("latin1.txt", latin1_text(), "text/plain")]
    app.upload(files)
    errors = app.alerts("Error")
    for name, _, phrase in bad_files() + [("huge.txt", b"", "25.0 MB limit")]:
        assert any(e.startswith(f"{name}:") and phrase in e for e in errors), (name, errors)
    assert any("latin1.txt" in w and "Latin-1" in w for w in app.alerts("Warning")), app.alerts()
    assert app.page.get_by_role("heading", name="Loaded documents (9)").count() == 1  # 8 samples + latin1.txt
    app.shot("documents-bad-uploads")
    app.assert_clean()

    app.nav("Chunking")  # the session still holds everything and still works
    options = app.key("chunk_map_doc")
    assert options.count() == 1
    app.nav("Documents")
    assert app.page.get_by_role("heading", name="Loaded documents (9)").count() == 1
    app.assert_clean()


def test_markup_in_documents_and_names_shows_as_text_everywhere(app):
    app.nav("Documents")
    app.upload([
        _file("notes.md", XSS_TEXT.encode(), "text/markdown"),
        _file("xss.html", XSS_HTML.encode(), "text/html"),
        _file(HOSTILE_NAME, b"A file whose name is markup. It talks about onerror handlers too.", "text/markdown"),
    ])
    assert app.page.get_by_role("heading", name="Loaded documents (3)").count() == 1
    preview = app.key("preview_doc")  # the preview shows notes.md first
    assert preview.count() == 1
    preview_text = app.page.locator("[class*='st-key-preview_text_'] textarea")
    # The text area may be filled a moment after the run ends: wait for it rather than race it.
    expect(preview_text).to_have_value(re.compile(re.escape(XSS_LITERAL)), timeout=15_000)
    assert app.page.evaluate(NO_INJECTED_ELEMENTS) == 0
    app.assert_clean()

    app.nav("Chunking")
    chunk_map = app.page.locator(".chunk-map")
    text = chunk_map.inner_text()
    assert XSS_LITERAL in text and "<script>alert(2)</script>" in text and "&lt;b&gt;" in text
    assert chunk_map.locator("img, script").count() == 0
    assert app.page.evaluate(NO_INJECTED_ELEMENTS) == 0
    app.shot("chunk-map-markup")
    app.assert_clean()

    app.nav("Index & Retrieval")
    app.ask("onerror handlers img")
    cards = "\n".join(app.hit_cards().all_inner_texts())
    assert XSS_LITERAL in cards
    assert HOSTILE_NAME in cards  # the hostile file name is shown, as text
    assert "pwned" not in cards  # the HTML file's scripts were never indexed
    assert app.hit_cards().locator("img, script").count() == 0
    assert app.page.evaluate(NO_INJECTED_ELEMENTS) == 0
    assert app.page.title() != "pwned"
    app.shot("hits-markup")
    app.assert_clean()


def test_extreme_slider_combinations_by_keyboard(app):
    from core.settings import AppSettings

    lo, hi = AppSettings.chunk_size_range("tokens")  # the widgets offer what ChunkConfig accepts
    app.load_samples()
    assert app.slider_keys("chunk_size", "End") == hi
    assert app.slider_keys("chunk_overlap", "End") == hi - 1  # max size with max overlap
    assert int(app.metric("Chunks").replace(",", "")) > 0
    assert not app.alerts("Error")
    app.chart_drawn("length_hist")
    app.shot("chunking-max-size-max-overlap")
    app.assert_clean()

    assert app.slider_keys("chunk_size", "Home") == lo  # overlap >= the smallest size: refused in words
    errors = app.alerts("Error")
    assert any("must be smaller than the chunk size" in e and "last valid setting" in e for e in errors), errors
    app.assert_clean()
    assert app.slider_keys("chunk_overlap", "Home") == 0  # min size, no overlap: valid, many chunks
    assert not app.alerts("Error")
    assert int(app.metric("Chunks").replace(",", "")) > 500
    app.shot("chunking-min-size")
    app.assert_clean()

    app.nav("Documents")
    assert app.page.get_by_role("heading", name="Loaded documents (8)").count() == 1


def test_a_question_set_with_broken_lines_is_reported_line_by_line(app):
    app.load_samples()
    app.nav("Evaluate")
    source = app.key("eval_q_source")
    if source.count() == 0:
        pytest.skip("the Evaluate page has no question upload yet")
    app.act(source.get_by_text("a file", exact=False).click)
    app.act(lambda: app.key("eval_q_upload").locator("input[type=file]").set_input_files(
        _file("broken.jsonl", broken_questions(), "application/jsonl")))
    warnings = " ".join(app.alerts("Warning"))
    assert "5 line(s) of broken.jsonl could not be read" in warnings and "2 valid question(s)" in warnings, warnings
    app.shot("evaluate-broken-questions")
    app.assert_clean()
    app.nav("Documents")
    assert app.page.get_by_role("heading", name="Loaded documents (8)").count() == 1


MARKDOWN_TRAP = (
    "# Account help\n\n"
    "## [Reset your password](https://evil.example/reset) ![pixel](https://tracker.example/p.png)\n\n"
    "To reset a password, open Settings and choose Security, then Reset password. "
    "Reset links expire after one hour.\n"
)
NO_FOREIGN_LINKS = ("() => document.querySelectorAll("
                    "\"a[href*='evil.example'], img[src*='tracker.example'], img[src*='evil.example']\").length")


def test_markdown_syntax_in_a_file_name_stays_text_in_messages(app):
    """A file name is data: written into an upload message it must not become a live link."""
    app.nav("Documents")
    app.upload([_file("[support](https:evil.example).txt", b"", "text/plain")])  # empty: the name goes into the error
    assert any("the file is empty" in e for e in app.alerts("Error")), app.alerts()
    assert app.page.evaluate(NO_FOREIGN_LINKS) == 0, "a file name was rendered as markdown on the Documents page"
    app.assert_clean()


def test_markdown_syntax_in_section_headers_stays_text_in_hit_cards(app):
    """Section headers come from the document: a link or image written in one must not become a
    live link or a remote image (a tracking pixel) in a hit card."""
    app.nav("Documents")
    app.upload([_file("account_help.md", MARKDOWN_TRAP.encode(), "text/markdown")])
    app.nav("Chunking")
    app.choose("chunk_splitter", "markdown")
    app.nav("Index & Retrieval")
    app.ask("How do I reset my password?")
    cards = app.hit_cards()
    assert cards.count() > 0
    assert "Reset your password" in "\n".join(cards.all_inner_texts())
    app.shot("markdown-in-sections")
    assert app.page.evaluate(NO_FOREIGN_LINKS) == 0, (
        "a section header from the document was rendered as markdown in a hit card (live link / remote image)")
    app.assert_clean()
