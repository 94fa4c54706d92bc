"""Bytes + file name -> Document, with a clear, per-file error for anything unusable.

Every loader returns plain text plus, for paged formats, the character offset where each page
starts, so a chunk's page can be derived from its offsets later.
"""
from __future__ import annotations

import bisect
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from core.limits import Limits, size

DEFAULT_MAX_BYTES = 25 * 1024 * 1024

KINDS = {
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".rst": "text",
    ".csv": "text",
    ".json": "text",
    ".docx": "docx",
}
SUPPORTED_EXTENSIONS = tuple(sorted(KINDS))


class DocumentError(ValueError):
    """A file that cannot become a Document; the message is meant for the user."""


@dataclass(frozen=True)
class Document:
    name: str
    text: str
    kind: str
    # Character offset at which each page starts (PDF only; empty for unpaged formats).
    page_starts: tuple[int, ...] = ()
    n_bytes: int = 0
    # Warnings that did not stop the load (e.g. "decoded as Latin-1").
    notes: tuple[str, ...] = ()
    digest: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(
                self, "digest", hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]
            )

    @property
    def pages(self) -> int:
        return len(self.page_starts) if self.page_starts else 1

    def page_at(self, offset: int) -> int | None:
        """1-based page holding character `offset`, or None for unpaged documents."""
        if not self.page_starts:
            return None
        return max(1, bisect.bisect_right(self.page_starts, offset))


@dataclass(frozen=True)
class LoadReport:
    documents: tuple[Document, ...]
    errors: tuple[tuple[str, str], ...]  # (file name, message)


def skip_empty(docs: Iterable[Document]) -> tuple[list[Document], list[str]]:
    """The documents that have text, and a note for each one left out.

    An empty document (a SQuAD article with an empty context, a file whose text is all whitespace)
    has no chunks, and downstream code divides by chunk counts: it is skipped where documents
    enter the session, with a note, rather than guarded against everywhere."""
    kept, notes = [], []
    for doc in docs:
        if doc.text.strip():
            kept.append(doc)
        else:
            notes.append(f"{doc.name}: has no text, so it was skipped.")
    return kept, notes


def has_extension(name: str) -> bool:
    """Whether the name ends in a file type. "LICENSE" has none, and neither has "LICENSE-2.0":
    a suffix without a letter is part of a version, not a type."""
    return any(c.isalpha() for c in Path(name).suffix)


def kind_of(name: str, data: bytes | None = None) -> str:
    """The loader a file needs: from its extension or, for a file without one (`LICENSE`,
    `README`) whose bytes are given, from its content."""
    if not has_extension(name) and data is not None:
        return _sniff(data, name)
    ext = Path(name).suffix.lower()
    if ext not in KINDS:
        raise DocumentError(
            f"{name}: unsupported file type '{ext or 'no extension'}'. "
            f"Supported: {', '.join(SUPPORTED_EXTENSIONS)}, or plain text without an extension."
        )
    return KINDS[ext]


def _sniff(data: bytes, name: str) -> str:
    """The kind of a file without an extension, from its first bytes: PDF and DOCX by their
    signatures, HTML by its opening tag, other text as plain text; other binary data is refused."""
    head = data[:1024].lstrip()
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04") and b"word/document.xml" in data:
        return "docx"
    if _utf16(data):
        return "text"
    if _looks_binary(data):
        raise DocumentError(
            f"{name}: has no extension and its content is binary, not text, so it cannot be read. "
            f"If it is a document, add its extension ({', '.join(SUPPORTED_EXTENSIONS)})."
        )
    if head.lower().startswith((b"<!doctype html", b"<html")):
        return "html"
    return "text"


def load_document(
    data: bytes, name: str, *, max_bytes: int = DEFAULT_MAX_BYTES, limits: Limits | None = None
) -> Document:
    """Parse one file, in this process. Raises DocumentError with a message a user can act on.

    `limits` (when given, its max_bytes wins over `max_bytes`) bounds what the file may become:
    characters out, unpacked archive size. Time and memory are bounded by running this in a worker
    (core.extract), which is how uploads are read; bundled samples and tests call it directly."""
    limits = limits or Limits(max_bytes=max_bytes)
    kind = kind_of(name, data)
    if len(data) == 0:
        raise DocumentError(f"{name}: the file is empty (0 bytes).")
    if len(data) > limits.max_bytes:
        raise DocumentError(
            f"{name}: {_size(len(data))} is over the {_size(limits.max_bytes)} limit per file. "
            "Split the file or raise the limit on the Documents page."
        )
    loader = {
        "pdf": _load_pdf,
        "html": _load_html,
        "docx": _load_docx,
        "markdown": _load_text,
        "text": _load_text,
    }[kind]
    text, page_starts, notes = loader(data, name, limits)
    _check_chars(len(text), name, limits)
    text = _normalise(text)
    if not text.strip():
        raise DocumentError(f"{name}: no text could be extracted from the file.")
    return Document(
        name=name, text=text, kind=kind, page_starts=page_starts, n_bytes=len(data), notes=notes
    )


def _check_chars(n: int, name: str, limits: Limits) -> None:
    if n > limits.max_chars:
        raise DocumentError(
            f"{name}: its text is over the limit of {limits.max_chars:,} characters per file "
            f"({n:,} read so far). Split the file, or raise RAG_EXPLORER_MAX_CHARS."
        )


def load_many(
    files: Iterable[tuple[str, bytes]], *, max_bytes: int = DEFAULT_MAX_BYTES, limits: Limits | None = None
) -> LoadReport:
    """Load each file independently, in this process: one bad file never stops the others."""
    docs, errors = [], []
    for name, data in files:
        try:
            docs.append(load_document(data, name, max_bytes=max_bytes, limits=limits))
        except DocumentError as exc:
            errors.append((name, str(exc)))
        except Exception as exc:  # a parser bug must not cost the user the other files
            errors.append((name, f"{name}: could not be read ({type(exc).__name__}: {exc})."))
    return LoadReport(tuple(docs), tuple(errors))


def load_directory(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadReport:
    """Every supported file in a directory (not recursive), sorted by name."""
    folder = Path(path)
    files = [
        (p.name, p.read_bytes())
        for p in sorted(folder.iterdir())
        if p.is_file() and p.suffix.lower() in KINDS
    ]
    return load_many(files, max_bytes=max_bytes)


def _size(n: int) -> str:
    return size(n)


def _normalise(text: str) -> str:
    # One newline convention and no NULs, so offsets mean the same thing everywhere.
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    # Control characters other than tab/newline/carriage return/form feed/escape.
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13, 27))
    return controls > len(sample) * 0.05


def _utf16(data: bytes) -> str | None:
    """"utf-16" (with a byte-order mark), "utf-16-le"/"-be" (without one, recognised by every other
    byte being NUL, as ASCII-range text is in UTF-16), or None when the bytes are not UTF-16 text."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    sample = data[:8192]
    if len(sample) < 4:
        return None
    sample = sample[: len(sample) // 2 * 2]
    even, odd = sample[0::2], sample[1::2]
    half = len(sample) // 2
    # Mostly NULs in one column and almost none in the other: that is UTF-16, not random binary.
    if odd.count(0) > 0.6 * half and even.count(0) < 0.05 * half:
        return "utf-16-le"
    if even.count(0) > 0.6 * half and odd.count(0) < 0.05 * half:
        return "utf-16-be"
    return None


def _decode(data: bytes, name: str) -> tuple[str, tuple[str, ...]]:
    encoding = _utf16(data)
    if encoding:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            pass
        else:
            if not _looks_binary(text[:8192].encode("utf-8")):
                return text.lstrip("\ufeff"), (f"{name}: decoded as UTF-16 text.",)
    if _looks_binary(data):
        raise DocumentError(
            f"{name}: this looks like binary data, not text. "
            "Upload the original document (PDF, DOCX, HTML) instead."
        )
    for encoding in ("utf-8-sig",):
        try:
            return data.decode(encoding), ()
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("cp1252")
        note = "not valid UTF-8; decoded as Windows-1252/Latin-1"
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        note = "not valid UTF-8; decoded as Latin-1"
    return text, (f"{name}: {note}. Check accented characters.",)


def _load_text(data: bytes, name: str, limits: Limits):
    text, notes = _decode(data, name)
    return text, (), notes


# Elements that start and end a line of text. Everything else (a, b, code, em, span, ...) is inline
# and stays inside its sentence: "Use <code>/etc/sasldb</code> and/or ..." reads as one line.
# Table cells each get a line of their own, as they always have here (the sample questions' gold
# passages quote table rows that way).
_HTML_BLOCKS = frozenset(
    """address article aside blockquote body caption center dd details dialog dir div dl dt fieldset
    figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main menu nav ol
    option p pre section summary table tbody td tfoot th thead title tr ul""".split()
)
_HTML_SPACE = re.compile(r"\s+")


_HTML_SKIP = frozenset({"script", "style", "noscript", "template", "head"})


class _HtmlText(HTMLParser):
    """Text of HTML as a browser lays it out, in one streaming pass: whitespace inside a line
    collapses to one space, block elements and <br> break lines, <pre> keeps its own lines, and
    scripts, styles, templates and the head are not content.

    Streaming (no tree) is what bounds it: a 24 MB file of nested <div>s took 60 s and 1.46 GB as a
    BeautifulSoup tree, and depth costs nothing here (no recursion, nothing kept per element)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._skip = 0  # depth inside elements that are not content
        self._pre = 0   # depth inside <pre>
        self._pre_text: list[str] = []

    def _end_line(self) -> None:
        text = _HTML_SPACE.sub(" ", "".join(self._line)).strip()
        if text:
            self.lines.append(text)
        self._line.clear()

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _HTML_SKIP:
            self._skip += 1
        elif self._skip:
            return
        elif tag == "pre":
            if not self._pre:
                self._end_line()
            self._pre += 1
        elif self._pre:
            return
        elif tag == "br" or tag in _HTML_BLOCKS:
            self._end_line()

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag not in _HTML_SKIP:  # <script/> opens nothing
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTML_SKIP:
            self._skip = max(0, self._skip - 1)
        elif self._skip:
            return
        elif tag == "pre" and self._pre:
            self._pre -= 1
            if not self._pre:
                text = "".join(self._pre_text)
                self._pre_text.clear()
                self.lines.extend(t.rstrip() for t in text.split("\n") if t.strip())
        elif self._pre:
            return
        elif tag in _HTML_BLOCKS:
            self._end_line()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        (self._pre_text if self._pre else self._line).append(data)

    def text(self) -> str:
        if self._pre_text:  # an unclosed <pre> runs to the end of the file
            self.lines.extend(t.rstrip() for t in "".join(self._pre_text).split("\n") if t.strip())
            self._pre_text.clear()
        self._end_line()
        return "\n".join(self.lines)


def _load_html(data: bytes, name: str, limits: Limits):
    raw, notes = _decode(data, name)
    parser = _HtmlText()
    parser.feed(raw)
    parser.close()
    return parser.text(), (), notes


def _load_pdf(data: bytes, name: str, limits: Limits):
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise DocumentError(f"{name}: not a PDF file (no PDF header); is it another format renamed?")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = bool(reader.decrypt(""))  # an empty user password opens many "encrypted" PDFs
            except Exception:
                opened = False
            if not opened:
                raise DocumentError(f"{name}: the PDF is password-protected; remove the password and retry.")
        parts, starts, pos = [], [], 0
        for page in reader.pages:
            page_text = (page.extract_text() or "").replace("\x00", "").strip()
            starts.append(pos)
            parts.append(page_text)
            pos += len(page_text) + 2  # joined with a blank line
            _check_chars(pos, name, limits)  # stop reading pages once the text is over budget
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise DocumentError(f"{name}: the PDF is damaged and cannot be read ({exc}).") from exc
    text = "\n\n".join(parts)
    if not text.strip():
        raise DocumentError(
            f"{name}: the PDF has no extractable text (probably scanned images); run OCR first."
        )
    return text, tuple(starts), ()


def _check_archive(data: bytes, name: str, limits: Limits) -> None:
    """Refuse a DOCX whose archive unpacks to more than the budget, before any XML is parsed.

    The declared sizes are checked first (cheap), then every entry is actually unpacked in pieces
    and counted, stopping at the budget, because a crafted archive can declare sizes it does not
    have. Nothing unpacked is kept."""
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise DocumentError(f"{name}: not a valid DOCX file ({exc}).") from exc
    if len(entries) > limits.max_zip_entries:
        raise DocumentError(
            f"{name}: the archive holds {len(entries):,} files, over the limit of "
            f"{limits.max_zip_entries:,} (RAG_EXPLORER_MAX_ZIP_ENTRIES); a Word document has a few dozen."
        )
    budget = limits.max_unzipped_bytes

    def refuse(unpacked: int, more: bool) -> DocumentError:
        return DocumentError(
            f"{name}: a {_size(len(data))} file that unpacks to {'over ' if more else ''}{_size(unpacked)}, "
            f"over the limit of {_size(budget)} of unpacked content (RAG_EXPLORER_MAX_UNZIPPED_MB). "
            "This is how zip bombs look; if the document is genuine, split it."
        )

    declared = sum(e.file_size for e in entries)
    if declared > budget:
        raise refuse(declared, False)
    total = 0
    try:
        for entry in entries:
            with archive.open(entry) as stream:
                while piece := stream.read(1024 * 1024):
                    total += len(piece)
                    if total > budget:
                        raise refuse(total, True)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        raise DocumentError(f"{name}: the DOCX archive is damaged ({exc}).") from exc


def _load_docx(data: bytes, name: str, limits: Limits):
    import zipfile

    _check_archive(data, name, limits)
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, SyntaxError) as exc:  # lxml's XMLSyntaxError is one
        raise DocumentError(f"{name}: not a valid DOCX file ({exc}).") from exc
    paragraphs = [p.text for p in document.paragraphs if p.text.strip()]
    return "\n\n".join(paragraphs), (), ()
