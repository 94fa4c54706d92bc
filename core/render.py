"""HTML views of document text: the chunk map, highlighted hits, and answers with linked citations.

Document text is data, never markup: every piece of it goes through html.escape before it is
wrapped in our own tags, so a `<script>` in a document shows up as text. The same holds for an
answer, whether quoted from the documents or written by a model that read them.
"""
from __future__ import annotations

import html
import re
from collections.abc import Sequence

from core.answer import CITATION, Answer, Grounding, parse_citations
from core.chunking import Chunk
from core.lexical import tokenize

PALETTE = ("#dbeafe", "#dcfce7", "#fef3c7", "#fce7f3", "#e0e7ff", "#ccfbf1")
OVERLAP_STYLE = "background:#fca5a5;border-bottom:2px solid #b91c1c"
GAP_STYLE = "color:#9ca3af"


def chunk_map_html(text: str, chunks: Sequence[Chunk], *, limit: int = 40_000) -> str:
    """The text with each chunk's span coloured and overlaps marked, from the chunks' offsets.

    Segments are cut at every chunk start and end; a segment covered by two or more chunks is an
    overlap, one covered by none was dropped by the splitter (whitespace between chunks).

    A sweep line over the cuts keeps the set of chunks covering the current segment, so the cost
    is about (chunks + segments) x the overlap depth, not chunks x segments: 85k chunks of size 16
    with overlap 15 took seconds per page run with the old scan (bench/chunk_map.py).
    """
    end_at = min(len(text), limit)
    shown = [(pos, c) for pos, c in enumerate(chunks) if c.start < end_at]  # the rest start past the limit
    cuts = sorted({0, end_at, *(c.start for _, c in shown), *(min(c.end, end_at) for _, c in shown)})
    parts = ['<div class="chunk-map" style="white-space:pre-wrap;font-family:monospace;font-size:0.85rem;line-height:1.5">']
    starts = {c.start: c.index for _, c in shown}
    by_start = sorted(shown, key=lambda pc: pc[1].start)
    active: dict[int, Chunk] = {}  # position in `chunks` -> chunk, for the chunks covering `lo`
    ending: dict[int, list[int]] = {}  # end offset -> positions of active chunks ending there
    nxt = 0
    for lo, hi in zip(cuts, cuts[1:]):
        for pos in ending.pop(lo, ()):
            active.pop(pos, None)
        while nxt < len(by_start) and by_start[nxt][1].start <= lo:
            pos, c = by_start[nxt]
            nxt += 1
            if c.end > lo:  # covers [lo, hi): every end is a cut, so it reaches hi too
                active[pos] = c
                ending.setdefault(c.end, []).append(pos)
        if lo in starts:
            parts.append(
                f'<sup style="color:#1d4ed8;font-weight:600" title="chunk {starts[lo]} starts">[{starts[lo]}]</sup>'
            )
        segment = html.escape(text[lo:hi])
        if not active:
            parts.append(f'<span style="{GAP_STYLE}">{segment}</span>')
        elif len(active) > 1:
            ids = ", ".join(str(active[pos].index) for pos in sorted(active))
            parts.append(f'<span style="{OVERLAP_STYLE}" title="overlap of chunks {ids}">{segment}</span>')
        else:
            c = next(iter(active.values()))
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


# --- answers ------------------------------------------------------------------------------------


def _link_citations(escaped: str, ranks: set[int]) -> str:
    def one(n: int) -> str:
        if n in ranks:
            return f'<a href="#hit-{n}" class="answer-cite" title="jump to hit #{n}">[{n}]</a>'
        return f'<span style="color:#b91c1c" title="no retrieved passage has this number">[{n}]</span>'

    def repl(m: re.Match) -> str:
        numbers = parse_citations(m.group(0))
        return "".join(one(n) for n in numbers) if numbers else m.group(0)

    return CITATION.sub(repl, escaped)


def answer_html(answer: Answer, grounding: Grounding | None, ranks: set[int]) -> str:
    """The answer as escaped HTML: citations linked to the hit cards, flagged sentences marked.

    Answer text comes from documents or from a model that read them: it is data, escaped before
    any markup of ours is added.
    """
    text = answer.text
    flagged = {s.span: s for s in (grounding.sentences if grounding else ()) if s.flagged}
    sources = {s.span: s for s in answer.sentences}
    cuts = sorted({0, len(text), *(p for span in sources for p in span)})
    parts = []
    for lo, hi in zip(cuts, cuts[1:]):
        segment = _link_citations(html.escape(text[lo:hi]), ranks)
        span = (lo, hi)
        if span in flagged:
            s = flagged[span]
            title = html.escape(f"Weakly supported ({s.reason}). Closest retrieved sentence: {s.best_source}")
            parts.append(
                f'<span style="text-decoration:underline wavy #d97706;background:#fef3c7" title="{title}">{segment}</span>'
            )
        elif span in sources and sources[span].doc:
            quote = sources[span]
            title = html.escape(f"Quoted from {quote.doc}, characters {quote.start or 0:,}-{quote.end or 0:,}")
            parts.append(f'<span title="{title}">{segment}</span>')
        else:
            parts.append(segment)
    body = "".join(parts)
    if answer.kind == "extractive":
        items = "".join(f"<li>{line}</li>" for line in body.split("\n"))
        return f'<ul class="answer-text" style="margin:0;padding-left:1.2rem">{items}</ul>'
    return f'<div class="answer-text" style="white-space:pre-wrap;line-height:1.6">{body}</div>'


def cited_style(cited: frozenset[int]) -> str:
    """A style rule outlining the cited hit cards (their containers carry st-key-hit_{rank})."""
    if not cited:
        return ""
    selectors = ", ".join(f".st-key-hit_{int(r)}" for r in sorted(cited))
    return f"<style>{selectors} {{ box-shadow: inset 4px 0 0 #16a34a; }}</style>"
