"""The Chunking page's chunk map at the issue-16 worst case: a token splitter at size 16 /
overlap 15 over a ~300 KB document (tens of thousands of chunks).

    python -m bench.chunk_map [--kb 300] [--old] [--old-limit 8000]

Prints one JSON object: chunk count, seconds to split, to render the map (core.render), and to
build one page of the chunk list. With --old, also the renderer it replaced (segments x chunks),
on the first --old-limit characters only (the whole map would take minutes), next to the new one
on the same cut, so the two are compared like for like.
"""
from __future__ import annotations

import argparse
import html
import json
import random
import time

from core.chunking import ChunkConfig, split_corpus
from core.documents import Document
from core.render import GAP_STYLE, OVERLAP_STYLE, PALETTE, chunk_map_html


def reference_chunk_map(text, chunks, *, limit=40_000):
    """The renderer before issue 16 (for every segment it scanned every chunk); the tests keep
    it as the definition of the right output."""
    end_at = min(len(text), limit)
    cuts = sorted({0, end_at, *(c.start for c in chunks if c.start < end_at), *(min(c.end, end_at) for c in chunks)})
    parts = ['<div class="chunk-map" style="white-space:pre-wrap;font-family:monospace;font-size:0.85rem;line-height:1.5">']
    starts = {c.start: c.index for c in chunks}
    for lo, hi in zip(cuts, cuts[1:]):
        if lo in starts:
            parts.append(f'<sup style="color:#1d4ed8;font-weight:600" title="chunk {starts[lo]} starts">[{starts[lo]}]</sup>')
        covering = [c for c in chunks if c.start <= lo and c.end >= hi]
        segment = html.escape(text[lo:hi])
        if not covering:
            parts.append(f'<span style="{GAP_STYLE}">{segment}</span>')
        elif len(covering) > 1:
            ids = ", ".join(str(c.index) for c in covering)
            parts.append(f'<span style="{OVERLAP_STYLE}" title="overlap of chunks {ids}">{segment}</span>')
        else:
            c = covering[0]
            parts.append(f'<span style="background:{PALETTE[c.index % len(PALETTE)]}" title="chunk {c.index}">{segment}</span>')
    if end_at < len(text):
        parts.append(f'<div style="{GAP_STYLE}">... {len(text) - end_at:,} more characters not shown</div>')
    parts.append("</div>")
    return "".join(parts)


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - t0, 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", type=int, default=300, help="document size in KB (default 300)")
    parser.add_argument("--old", action="store_true", help="also time the replaced renderer")
    parser.add_argument("--old-limit", type=int, default=8000, help="characters the --old comparison renders")
    args = parser.parse_args(argv)
    rng = random.Random(16)
    words = "the gateway rotates a ledger credential every ninety days unless an operator says otherwise".split()
    text = " ".join(rng.choice(words) for _ in range(args.kb * 1024 // 6))[: args.kb * 1024]
    doc = Document("synthetic.txt", text, "text")
    chunks, split_s = _timed(lambda: split_corpus([doc], config=ChunkConfig(size=16, overlap=15, splitter="tokens",
                                                                              unit="tokens")))
    _, map_s = _timed(lambda: chunk_map_html(text, chunks))
    from ui.chunk_list import PAGE_ROWS, page_bounds

    lo, hi = page_bounds(len(chunks), 1)
    _, page_s = _timed(lambda: [(c.index, c.text[:80]) for c in chunks[lo:hi]])
    out: dict = {"kb": args.kb, "chunks": len(chunks), "split_s": split_s, "chunk_map_s": map_s,
                 "chunk_list_rows_shown": hi - lo, "chunk_list_page_rows": PAGE_ROWS, "chunk_list_page_s": page_s}
    if args.old:
        old, old_s = _timed(lambda: reference_chunk_map(text, chunks, limit=args.old_limit))
        new, new_s = _timed(lambda: chunk_map_html(text, chunks, limit=args.old_limit))
        out.update({"compare_limit_chars": args.old_limit, "old_map_s": old_s, "new_map_s": new_s,
                    "same_html": old == new})
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
