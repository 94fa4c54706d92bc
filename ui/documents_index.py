"""Before an index build that will take many minutes: say so, with the estimate, and ask.

The estimate is tokens to embed over a throughput measured by this server's own earlier builds
(DEFAULT_TOKENS_PER_SECOND, measured on the reference machine, until one has been). A 24 MB text
indexed for ~24 minutes with no warning before; now the user sees the figure and decides.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence

import streamlit as st

from core import model
from core.chunking import Chunk
from core.limits import DEFAULT_TOKENS_PER_SECOND, LONG_BUILD_SECONDS, build_seconds, embedding_tokens

CONFIRMED = "_long_build_confirmed"  # the index key the user agreed to build
_lock = threading.Lock()
_measured: list[float] = []  # tokens/s of this process's recent builds that embedded enough to judge


def throughput() -> float:
    with _lock:
        return sorted(_measured)[len(_measured) // 2] if _measured else DEFAULT_TOKENS_PER_SECOND


def note_build(chunks: Sequence[Chunk], *, embedded: int, seconds: float) -> None:
    """Learn the throughput from a finished build (only one that embedded enough to measure)."""
    if embedded < 200 or seconds <= 1 or not chunks:
        return
    share = embedded / len(chunks)
    tokens = embedding_tokens([c.n_tokens for c in chunks], window=model.TEXT_WINDOW) * min(1.0, share)
    with _lock:
        _measured.append(tokens / seconds)
        del _measured[:-5]


def confirm_long_build(chunks: Sequence[Chunk], key: object) -> bool:
    """True when the build may start: it is short, or the user has agreed to this one."""
    tokens = embedding_tokens([c.n_tokens for c in chunks], window=model.TEXT_WINDOW)
    rate = throughput()
    seconds = build_seconds(tokens, tokens_per_second=rate)
    if seconds < LONG_BUILD_SECONDS or st.session_state.get(CONFIRMED) == key:
        return True
    st.warning(
        f"Building this index will take about **{seconds / 60:.0f} minutes**: {len(chunks):,} chunks, "
        f"{tokens:,} tokens to embed at about {rate:,.0f} tokens/s on this machine. Vectors embedded before "
        "are reused, so it can be shorter; you can cancel at any time and continue later. Fewer or smaller "
        "documents build faster.", icon=":material/hourglass_top:")
    st.button("Build it anyway", key="index_long_confirm", type="primary",
              on_click=lambda: st.session_state.__setitem__(CONFIRMED, key))
    return False
