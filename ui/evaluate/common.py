"""Small helpers and session keys the Evaluate page's tabs share."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from core.chunking import ChunkConfig
from core.evaluation import METRIC_LABELS, TOKEN_METRIC_LABELS
from core.render import highlight_html
from core.retrieval import METHODS, RetrievalConfig
from core.stats import Interval

FLASH = "_eval_flash"  # a message to show once after st.rerun()
CUSTOM = "(type your own question)"


def choose(where: Any, label: str, options: Sequence, *, key: str, default: Any = None,
           format_func: Callable[[Any], str] = str, **kwargs: Any) -> Any:
    """A selectbox whose remembered value is dropped when it is no longer among the options."""
    options = list(options)
    if st.session_state.get(key) not in options:
        st.session_state[key] = default if default in options else options[0]
    return where.selectbox(label, options, key=key, format_func=format_func, **kwargs)


def method_label(name: str) -> str:
    # A sweep may hold rows of a method that has since been unregistered: show its bare name.
    return METHODS[name].label if name in METHODS else name


def methods_help() -> str:
    return "\n\n".join(METHODS[name].help for name in METHODS)


def settings_label(cc: ChunkConfig, rc: RetrievalConfig) -> str:
    return f"{cc.label()}, {rc.method} top-{rc.k}" + (", MMR" if rc.mmr else "")


def html_block(text: str, query: str) -> None:
    """A chunk's text with the query's terms highlighted (highlight_html escapes the text)."""
    st.html(f'<div style="white-space:pre-wrap;font-size:0.9rem">{highlight_html(text, query)}</div>')


def flash(message: str) -> None:
    """Show `message` once, on the next run (the caller is about to st.rerun())."""
    st.session_state[FLASH] = message


def show_flash() -> None:
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH))


# -- how sure each number is (issue 12) -----------------------------------------------------

TRADE_OFF = ("**Token-level metrics** count characters of the gold passage (the question's context, else its "
             "answer): *token recall* is the share of it the top-K chunks cover, *token precision* the share of "
             "what the LLM reads that is gold, *IoU* both at once. Bigger chunks or a larger K buy recall with "
             "precision and prompt tokens: compare the prompt tokens before taking the highest hit rate.")
CI_HELP = ("95% interval from a bootstrap that resamples whole documents (questions about one document "
           "succeed or fail together), 2,000 resamples, seeded.")


def metric_name(metric: str, k: int | str = "K") -> str:
    """hit@5, MRR@5, ... and the token-level names (which carry no @: they are not rank metrics)."""
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric].replace("K", str(k))
    return TOKEN_METRIC_LABELS[metric]


def value_text(metric: str, value: float) -> str:
    return f"{value:,.0f}" if metric == "tokens" else f"{value:.3f}"


def interval_text(metric: str, iv: Interval) -> str:
    if metric == "tokens":
        return f"95% CI {iv.lo:,.0f}–{iv.hi:,.0f}"
    return f"95% CI {iv.lo:.3f}–{iv.hi:.3f}"
