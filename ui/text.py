"""Document and user text made inert inside Streamlit markdown.

st.markdown, st.error, st.caption and friends interpret markdown, links, images and colour
directives; file names, section headers and chunk text come from users' documents, so they go
through these before being placed in such strings.
"""
from __future__ import annotations

import re

# A colon matters only where it opens a directive or shortcode (":red[", ":smile:") or a URL
# ("https://"), so "name: text" keeps its plain colon.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|<>$~!]|:(?=[\w/-]))")
# GitHub-flavoured markdown links bare URLs, www. names and e-mail addresses by themselves;
# a zero-width space at these points breaks the pattern without changing what a person reads.
_AUTOLINK = re.compile(r"(?<=://)|(?<=\bwww)(?=\.)|(?<=@)", re.IGNORECASE)
_ZWSP = "\u200b"


def md(text: str) -> str:
    """User text made inert inside markdown (no links, images, colours or formatting)."""
    return _MD_SPECIAL.sub(r"\\\1", _AUTOLINK.sub(_ZWSP, text))


def code(text: str) -> str:
    """User text as inline code: markdown is not interpreted inside, only a backtick could end it."""
    return "`" + text.replace("`", "'") + "`"
