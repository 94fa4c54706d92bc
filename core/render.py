"""HTML views of document text: the chunk map and highlighted hits.

Document text is data, never markup: every piece of it goes through html.escape before it is
wrapped in our own tags, so a `<script>` in a document shows up as text.
"""
from __future__ import annotations

import html
import re
from typing import Sequence

from core.chunking import Chunk
from core.lexical import tokenize

PALETTE = ("#dbeafe", "#dcfce7", "#fef3c7", "#fce7f3", "#e0e7ff", "#ccfbf1")
OVERLAP_STYLE = "background:#fca5a5;border-bottom:2px solid #b91c1c"
GAP_STYLE = "color:#9ca3af"


def chunk_map_html(text: str, chunks: Sequence[Chunk], *, limit: int = 40_000) -> str:
    """The text with each chunk's span coloured and overlaps marked, from the chunks' offsets.

    Segments are cut at every chunk start and end; a segment covered by two or more chunks is an
    overlap, one covered by none was dropped by the splitter (whitespace between chunks).
    """
    end_at = min(len(text), limit)
    cuts = sorted({0, end_at, *(c.start for c in chunks if c.start < end_at), *(min(c.end, end_at) for c in chunks)})
    parts = ['<div class="chunk-map" style="white-space:pre-wrap;font-family:monospace;font-size:0.85rem;line-height:1.5">']
    starts = {c.start: c.index for c in chunks}
    for lo, hi in zip(cuts, cuts[1:]):
        if lo in starts:
            parts.append(
                f'<sup style="color:#1d4ed8;font-weight:600" title="chunk {starts[lo]} starts">[{starts[lo]}]</sup>'
            )
        covering = [c for c in chunks if c.start <= lo and c.end >= hi]
        segment = html.escape(text[lo:hi])
        if not covering:
            parts.append(f'<span style="{GAP_STYLE}">{segment}</span>')
        elif len(covering) > 1:
            ids = ", ".join(str(c.index) for c in covering)
            parts.append(f'<span style="{OVERLAP_STYLE}" title="overlap of chunks {ids}">{segment}</span>')
        else:
            c = covering[0]
            colour = PALETTE[c.index % len(PALETTE)]
            parts.append(f'<span style="background:{colour}" title="chunk {c.index}">{segment}</span>')
    if end_at < len(text):
        parts.append(f'<div style="{GAP_STYLE}">... {len(text) - end_at:,} more characters not shown</div>')
    parts.append("</div>")
    return "".join(parts)


def highlight_html(text: str, query: str) -> str:
    """Escaped text with the query's terms (as BM25 sees them) marked."""
    terms = {t for t in tokenize(query) if len(t) > 1}
    if not terms:
        return html.escape(text)
    out, pos = [], 0
    for m in re.finditer(r"[A-Za-z0-9]+", text):
        word = m.group(0).lower()
        hit = word in terms or (word.endswith("s") and word[:-1] in terms)
        if hit:
            out.append(html.escape(text[pos : m.start()]))
            out.append(f"<mark>{html.escape(m.group(0))}</mark>")
            pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)
