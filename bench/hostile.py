"""Hostile files against the upload path: outcome, seconds and peak memory per file, as JSON.

    python -m bench.hostile [--only NAME ...] [--timeout 300] [--root PATH]

Every file is generated here (nothing large lives in the repo; generated files are kept in a temp
folder between runs, since a 3 GB zip bomb takes ~10 s to deflate). Each case runs in its own
process; the runner samples the resident memory of that process and all its children (the
extraction worker) every 50 ms and reports the peak of the sum, and kills the whole tree after
--timeout seconds (reported as a timeout, not a result).

--root points the cases at another checkout, for a before/after table:

    git worktree add /tmp/before HEAD
    python -m bench.hostile --root /tmp/before --timeout 60

A checkout without core.extract reads files in-process with core.documents.load_document (what
the Documents page did), and counts tokens and checks training files with its own code.

The generators are importable: the tests build small versions of the same files.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(tempfile.gettempdir()) / "rag-explorer-hostile"
MB = 1024 * 1024

# ---------------------------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------------------------


def pdf_bomb(*, pages: int, stream_bytes: int) -> bytes:
    """A PDF whose every page draws the same content stream: tiny on disk (the stream deflates
    ~1000:1 and is stored once), but a reader extracts the stream once per page."""
    op = b"BT /F1 12 Tf 72 720 Td (Lorem ipsum dolor sit amet) Tj ET\n"
    content = zlib.compress(op * max(1, stream_bytes // len(op)), 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
        + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>")
    objects += [page] * pages
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
_DOC_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
             b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
_DOC_TAIL = b"</w:body></w:document>"


def docx(paragraphs: list[str], *, extra_entries: int = 0) -> bytes:
    """A minimal valid DOCX (what python-docx needs and nothing more)."""
    from xml.sax.saxutils import escape

    body = b"".join(b"<w:p><w:r><w:t>" + escape(p).encode() + b"</w:t></w:r></w:p>" for p in paragraphs)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("word/document.xml", _DOC_HEAD + body + _DOC_TAIL)
        for k in range(extra_entries):
            archive.writestr(f"customXml/item{k}.xml", b"")
    return out.getvalue()


def docx_bomb(*, unzipped_bytes: int) -> bytes:
    """A valid DOCX whose one paragraph-filled document.xml unpacks to `unzipped_bytes`
    (deflate reaches ~750:1 on it: 1 GB of XML is a 1.4 MB file)."""
    paragraph = b"<w:p><w:r><w:t>" + b"a" * 4000 + b"</w:t></w:r></w:p>"
    block = paragraph * 256
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        with archive.open("word/document.xml", "w", force_zip64=True) as entry:
            entry.write(_DOC_HEAD)
            written = 0
            while written < unzipped_bytes:  # whole paragraphs: the XML stays valid
                piece = block if unzipped_bytes - written >= len(block) else paragraph
                entry.write(piece)
                written += len(piece)
            entry.write(_DOC_TAIL)
    return out.getvalue()


def with_declared_sizes(data: bytes, *, entry: str, declared: int) -> bytes:
    """The archive with `entry`'s uncompressed size rewritten (in its local header and the central
    directory) to `declared`: an archive that lies about what it unpacks to."""
    archive = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(entry)
    name = entry.encode()
    # Local file header: the uncompressed size is at offset 22.
    archive[info.header_offset + 22: info.header_offset + 26] = declared.to_bytes(4, "little")
    # Central directory record: the signature, then the uncompressed size at offset 24.
    at = archive.rfind(b"PK\x01\x02", 0, archive.rfind(name))
    archive[at + 24: at + 28] = declared.to_bytes(4, "little")
    return bytes(archive)


def nested_html(*, size_bytes: int) -> bytes:
    """Divs nested as deep as the size allows, with one word in the middle."""
    depth = size_bytes // 11
    return b"<html><body>" + b"<div>" * depth + b"deep" + b"</div>" * depth + b"</body></html>"


def big_text(*, size_bytes: int) -> bytes:
    line = b"The quick brown fox jumps over the lazy dog while lanternfish glow in the deep sea.\n"
    return (line * (size_bytes // len(line) + 1))[:size_bytes]


def utf16_text(*, bom: bool) -> bytes:
    text = "Résumé of the UTF-16 notes.\nSecond line with ünïcode and plain ASCII words.\n" * 20
    return text.encode("utf-16") if bom else text.encode("utf-16-le")


def deep_json_line(*, depth: int) -> bytes:
    return b'{"messages": ' + b"[" * depth + b"]" * depth + b"}\n"


def long_training_line(*, size_bytes: int) -> bytes:
    words = "word " * (size_bytes // 5)
    return json.dumps({"messages": [{"role": "user", "content": "Hi"},
                                    {"role": "assistant", "content": words}]}).encode() + b"\n"


# ---------------------------------------------------------------------------------------------
# Cases: (file name, what runs on it, generator). Sizes are those of issue 16's audit.
# ---------------------------------------------------------------------------------------------

CASES: dict[str, tuple[str, str, Callable[[], bytes]]] = {
    "pdf_bomb_20_pages": ("bomb20.pdf", "read", lambda: pdf_bomb(pages=20, stream_bytes=5 * MB)),
    "pdf_bomb_2000_pages": ("bomb2000.pdf", "read", lambda: pdf_bomb(pages=2000, stream_bytes=5 * MB)),
    "docx_bomb_small": ("bomb_small.docx", "read", lambda: docx_bomb(unzipped_bytes=200 * MB)),
    "docx_bomb_large": ("bomb_large.docx", "read", lambda: docx_bomb(unzipped_bytes=3500 * MB)),
    "docx_lying_sizes": ("lying.docx", "read", lambda: with_declared_sizes(
        docx_bomb(unzipped_bytes=200 * MB), entry="word/document.xml", declared=1000)),
    "docx_100k_entries": ("entries.docx", "read", lambda: docx(["Hello."], extra_entries=100_000)),
    "html_nested_24mb": ("nested.html", "read", lambda: nested_html(size_bytes=24 * MB)),
    "text_24mb": ("big.txt", "read", lambda: big_text(size_bytes=24 * MB)),
    "text_24mb_token_count": ("big.txt", "tokens", lambda: big_text(size_bytes=24 * MB)),
    "utf16_with_bom": ("utf16_bom.txt", "read", lambda: utf16_text(bom=True)),
    "utf16_without_bom": ("utf16.txt", "read", lambda: utf16_text(bom=False)),
    "docx_without_text": ("empty.docx", "read", lambda: docx([])),
    "training_deep_json": ("deep.jsonl", "readiness", lambda: deep_json_line(depth=100_000)),
    "training_40mb_line": ("long.jsonl", "readiness", lambda: long_training_line(size_bytes=40 * MB)),
    "sample_docs": ("sample_docs", "samples", lambda: b""),
}


def _data(case: str) -> bytes:
    name, _, make = CASES[case]
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{case}-{name}"
    if not path.exists():
        path.write_bytes(make())
    return path.read_bytes()


def run_case(case: str, root: Path) -> dict:
    """One case, in this process, against the checkout at `root`."""
    sys.path.insert(0, str(root))
    name, what, _ = CASES[case]
    data = _data(case)
    result: dict = {"file_kb": round(len(data) / 1024, 1)}
    started = time.perf_counter()
    if what in ("read", "samples"):
        files = ([(p.name, p.read_bytes()) for p in sorted((root / "sample_docs").iterdir())
                  if p.is_file() and p.suffix != ".jsonl"] if what == "samples" else [(name, data)])
        result["file_kb"] = round(sum(len(d) for _, d in files) / 1024, 1)
        try:
            from core.extract import extract
            from core.limits import Limits
        except ImportError:  # the committed code: read in the server's own process
            from core.documents import load_many

            report = load_many(files)
            docs, errors = list(report.documents), report.errors
            result["outcome"] = (f"loaded {sum(len(d.text) for d in docs):,} characters" if docs
                                 else "refused: " + errors[0][1][:150])
        else:
            outcomes = [extract(d, n, limits=Limits()) for n, d in files]
            result["worker_peak_mb"] = round(max(r.peak_mb for r in outcomes), 1)
            docs = [r.document for r in outcomes if r.document is not None]
            result["outcome"] = (f"loaded {sum(len(d.text) for d in docs):,} characters" if docs
                                 else f"{outcomes[0].outcome}: {outcomes[0].error[:150]}")
        if what == "samples":
            result["outcome"] = f"{len(docs)} of {len(files)} files loaded"
    elif what == "tokens":
        from core import model

        text = data.decode()
        counter = getattr(model, "count_tokens_long", model.count_tokens)
        result["outcome"] = f"{counter(text):,} tokens"
    elif what == "readiness":
        from core import finetune

        try:
            analysis = finetune.analyse(finetune.parse_jsonl(data))
            result["outcome"] = (f"{len(analysis.examples)} usable, {analysis.n_errors} error(s): "
                                 + (analysis.problems[0].message[:120] if analysis.problems else ""))
        except RecursionError:
            result["outcome"] = "crash: RecursionError (uncaught)"
    result["inner_seconds"] = round(time.perf_counter() - started, 2)
    return result


def _tree_rss_mb(proc) -> float:
    import psutil

    total = 0
    try:
        for p in [proc] + proc.children(recursive=True):
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total / MB


def measure(case: str, *, root: Path, timeout: float) -> dict:
    """Run one case in a child process; wall seconds, peak tree memory, outcome."""
    import psutil

    _data(case)  # generate outside the measurement
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen([sys.executable, "-m", "bench.hostile", "--case", case, "--root", str(root)],
                                 cwd=ROOT, stdout=out, stderr=err)
        proc = psutil.Process(child.pid)
        peak = 0.0
        while True:
            # wait4 reports the child's own peak and that of every process it reaped (its workers),
            # which catches peaks between two samples; the samples add up processes alive together.
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                peak = max(peak, usage.ru_maxrss / 1024)
                child.returncode = os.waitstatus_to_exitcode(status)
                break
            peak = max(peak, _tree_rss_mb(proc))
            if time.perf_counter() - started > timeout:
                for p in proc.children(recursive=True) + [proc]:
                    try:
                        p.kill()
                    except psutil.Error:
                        pass
                child.wait()
                return {"case": case, "outcome": f"timeout (killed after {timeout:.0f} s)",
                        "seconds": round(time.perf_counter() - started, 1), "peak_mb": round(peak)}
            time.sleep(0.05)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    row: dict = {"case": case}
    try:
        row.update(json.loads(stdout.decode().strip().splitlines()[-1]))
    except (ValueError, IndexError):
        tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit code {child.returncode}"]
        row["outcome"] = f"crash: {tail[0][:200]}"
    row["seconds"] = round(time.perf_counter() - started, 2)
    row["peak_mb"] = round(peak)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=sorted(CASES), help="run only these cases")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a case is killed")
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose code is measured")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case in this process
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.root.resolve())))
        return
    rows = []
    for case in args.only or list(CASES):
        row = measure(case, root=args.root.resolve(), timeout=args.timeout)
        print(json.dumps(row), file=sys.stderr, flush=True)  # progress, one line per case
        rows.append(row)
    print(json.dumps({"root": str(args.root.resolve()), "timeout_s": args.timeout, "cases": rows}, indent=2))


if __name__ == "__main__":
    main()
