"""The Chunking page's list of a document's chunks, a page of rows at a time.

A token splitter at size 16 / overlap 15 cuts a 300 KB document into ~85k chunks; sending all of
them to the browser as one table on every rerun is most of what made each Chunking interaction
take 18-26 s. The list shows PAGE_ROWS rows at a time, with a page picker.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from core.chunking import Chunk
from ui.text import md

PAGE_ROWS = 500


def page_bounds(n: int, page: int, *, rows: int = PAGE_ROWS) -> tuple[int, int]:
    """The [lo, hi) rows of 1-based `page` of `n` rows, with `page` clamped into range."""
    pages = max(1, -(-n // rows))
    page = min(max(page, 1), pages)
    return (page - 1) * rows, min(page * rows, n)


def chunk_list(doc_chunks: Sequence[Chunk], name: str) -> None:
    """An expander with one page of `doc_chunks` as a table (the document's name is user text)."""
    n = len(doc_chunks)
    with st.expander(f"All {n:,} chunks of {md(name)}"):
        pages = max(1, -(-n // PAGE_ROWS))
        page = 1
        if pages > 1:
            c1, c2 = st.columns([1, 3])
            page = int(c1.number_input("Page", min_value=1, max_value=pages, value=1, step=1, key="chunk_list_page"))
        lo, hi = page_bounds(n, page)
        if pages > 1:
            c2.caption(f"Chunks {lo + 1:,}-{hi:,} of {n:,} ({PAGE_ROWS} per page, {pages:,} pages).")
        table = pd.DataFrame([
            {"chunk": c.index, "start": c.start, "end": c.end, "chars": c.end - c.start, "tokens": c.n_tokens,
             "truncated": c.truncated, "page": c.page, "section": c.section, "begins": c.text[:80]}
            for c in doc_chunks[lo:hi]
        ])
        st.dataframe(table, hide_index=True, width="stretch", key="chunk_table")
