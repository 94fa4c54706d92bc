"""core.documents: every format loads, and every bad input gets its own clear message."""
from __future__ import annotations

import io

import pytest

from core.documents import DocumentError, load_document, load_many
from tests.conftest import SAMPLES


def _pdf_bytes() -> bytes:
    return (SAMPLES / "pricing_and_plans.pdf").read_bytes()


def test_text_markdown_html_and_pdf_load():
    md = load_document(b"# Title\n\nBody text.", "a.md")
    assert (md.kind, md.text, md.pages) == ("markdown", "# Title\n\nBody text.", 1)
    html = load_document(b"<html><head><title>t</title><script>alert(1)</script></head><body><h1>Hi</h1><p>There &amp; back</p></body></html>", "p.html")
    assert html.text == "Hi\nThere & back"
    pdf = load_document(_pdf_bytes(), "pricing_and_plans.pdf")
    assert pdf.kind == "pdf" and pdf.pages >= 2
    # Page starts are real offsets: the second page starts after the first page's text.
    assert pdf.page_at(0) == 1 and pdf.page_at(pdf.page_starts[1]) == 2


def test_docx_loads():
    docx = pytest.importorskip("docx")
    buf = io.BytesIO()
    d = docx.Document()
    d.add_paragraph("First paragraph.")
    d.add_paragraph("Second paragraph.")
    d.save(buf)
    doc = load_document(buf.getvalue(), "x.docx")
    assert doc.text == "First paragraph.\n\nSecond paragraph."


def test_crlf_is_normalised_so_offsets_are_stable():
    assert load_document(b"a\r\nb\rc", "x.txt").text == "a\nb\nc"


@pytest.mark.parametrize(
    "data, name, phrase",
    [
        (b"", "empty.txt", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "image.pdf", "not a PDF"),
        (b"%PDF-1.4\n garbage garbage", "broken.pdf", "damaged"),
        (bytes(range(256)) * 20, "binary.txt", "binary"),
        (b"x" * 2000, "big.txt", "limit"),
        (b"hello", "virus.exe", "unsupported"),
        (b"   \n\n  ", "blank.md", "no text"),
    ],
)
def test_bad_inputs_raise_clear_errors(data, name, phrase):
    with pytest.raises(DocumentError) as info:
        load_document(data, name, max_bytes=1000 if name == "big.txt" else 10**6)
    assert phrase in str(info.value) and name in str(info.value)


def test_encrypted_pdf_is_refused_with_a_password_message():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.add_page(PdfReader(io.BytesIO(_pdf_bytes())).pages[0])
    writer.encrypt(user_password="secret", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(DocumentError, match="password"):
        load_document(buf.getvalue(), "locked.pdf")


def test_pdf_without_text_is_refused():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(DocumentError, match="no extractable text"):
        load_document(buf.getvalue(), "scan.pdf")


def test_latin1_text_loads_with_a_note():
    doc = load_document("Café crème à la carte".encode("latin-1"), "menu.txt")
    assert doc.text == "Café crème à la carte"
    assert doc.notes and "UTF-8" in doc.notes[0]


def test_one_bad_file_does_not_stop_the_others():
    report = load_many([("a.txt", b"alpha"), ("b.txt", b""), ("c.md", b"# gamma")])
    assert [d.name for d in report.documents] == ["a.txt", "c.md"]
    assert [name for name, _ in report.errors] == ["b.txt"]


# --- files without an extension: sniffed from their content ------------------------------------


def test_text_without_an_extension_loads_as_text():
    doc = load_document(b"Apache License\nVersion 2.0, January 2004\n", "LICENSE")
    assert (doc.kind, doc.text) == ("text", "Apache License\nVersion 2.0, January 2004\n")
    # A version suffix is not a file type.
    assert load_document(b"BSD 3-Clause License", "LICENSE-2.0").kind == "text"


def test_documents_without_an_extension_are_recognised_by_their_bytes():
    assert load_document(_pdf_bytes(), "pricing").kind == "pdf"
    assert load_document(b"<!DOCTYPE html><html><body><p>Hi</p></body></html>", "page").text == "Hi"


def test_binary_without_an_extension_gets_a_clear_error():
    with pytest.raises(DocumentError) as info:
        load_document(bytes(range(256)) * 8, "BSD")
    message = str(info.value)
    assert message.startswith("BSD:") and "no extension" in message and "binary" in message and ".pdf" in message
    # In a batch, the binary file is refused and the text one still loads.
    report = load_many([("BSD", bytes(range(256)) * 8), ("LICENSE", b"MIT License")])
    assert [d.name for d in report.documents] == ["LICENSE"] and [n for n, _ in report.errors] == ["BSD"]


# --- HTML: inline elements stay inside their line, blocks break lines ---------------------------


def _html(body: str) -> str:
    return load_document(f"<html><body>{body}</body></html>".encode(), "page.html").text


def test_html_inline_elements_stay_inline():
    text = _html("<p>Use <code>/etc/sasldb</code> and/or <code>/etc/sasldb2</code>, which are\n"
                 "    the <a href='#'>defaults</a> (<b>bold</b><i>italic</i>).</p>")
    assert text == "Use /etc/sasldb and/or /etc/sasldb2, which are the defaults (bolditalic)."


def test_html_blocks_headings_lists_and_br_break_lines():
    text = _html("<h2>Set <em>up</em></h2><p>First line<br>second line</p>"
                 "<ul><li>One <code>x</code> item</li><li>Two<ol><li>nested</li></ol></li></ul>"
                 "<div>After <span>the</span> list</div>")
    assert text.split("\n") == ["Set up", "First line", "second line", "One x item", "Two", "nested",
                                "After the list"]


def test_html_tables_give_each_cell_its_line_and_pre_keeps_its_lines():
    text = _html("<table><tr><th>Agent <b>line</b></th><th>End</th></tr>"
                 "<tr><td>3.0.x</td><td>31 August 2025</td></tr></table>"
                 "<pre>lfx run\n  --follow\n</pre><!-- a comment --><p>end&nbsp;of page</p>")
    assert text.split("\n") == ["Agent line", "End", "3.0.x", "31 August 2025", "lfx run", "  --follow",
                                "end of page"]
