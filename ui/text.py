"""Document and user text made inert inside Streamlit markdown.

st.markdown, st.caption, st.info, expander and metric labels all interpret markdown, and
Streamlit adds its own syntax on top: emoji shortcodes (:smile:), Material icons
(:material/home:), colour and size directives (:red[...]), and LaTeX between dollar signs. File
names, SQuAD titles, questions and chunk text come from users, so every user string that reaches
one of those goes through `md` (prose) or `code` (inline code, for names): one set of rules, in
one place, tested against each of these (tests/test_text.py, and in a browser tests/e2e).

What they do, and why each is needed:
- whitespace runs, line breaks included, become one space: a newline let a question start a
  heading ("...\\n# x" or "...\\n===") or a list, and a blank line ended an inline-code span early,
  so the rest of a title rendered as markdown (an image from any host, a live link, LaTeX);
- markdown punctuation is backslash-escaped (links, images, emphasis, headings, tables, HTML,
  entities, dollar signs), and a list marker where the string starts ("- ", "1. ");
- a colon that could open Streamlit syntax gets a zero-width space after it: Streamlit replaces
  shortcodes and directives after markdown has removed the backslashes, so a backslash does
  not stop them, while ":\\u200bsmile:" is no shortcode at all;
- bare URLs, www. names and e-mail addresses get a zero-width space where GitHub-flavoured
  markdown would turn them into links.
A person reading the page sees the same characters as before (zero-width spaces are invisible).
"""
from __future__ import annotations

import re

_ZWSP = "\u200b"
_SPACE = re.compile(r"\s+")  # every line break too: \n, \r, \v, \f, \x1c-\x1e, \x85, \u2028, \u2029
# Markdown punctuation that means something anywhere in a line (CommonMark lets a backslash
# escape any ASCII punctuation; only these need it, so messages keep their plain full stops).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|<>$~!&])")
# What means something only at the start of a line, and a user string may open the markdown:
# a bullet ("- ", "+ ", "---") or a numbered item ("1. ", "2) ").
_LINE_START = re.compile(r"^(\s*)([-+=]|\d+(?=[.)]))")
# Streamlit syntax opened by a colon: :smile:, :material/home:, :red[...], :small[...].
_DIRECTIVE = re.compile(r":(?=[\w/+-])")
# GitHub-flavoured markdown links bare URLs, www. names and e-mail addresses by themselves.
_AUTOLINK = re.compile(r"(?<=://)|(?<=\bwww)(?=\.)|(?<=@)", re.IGNORECASE)


def one_line(text: str) -> str:
    """`text` on one line: every whitespace run (line breaks included) as one space."""
    return _SPACE.sub(" ", str(text))


def _inert_colons(text: str) -> str:
    return _DIRECTIVE.sub(":" + _ZWSP, _AUTOLINK.sub(_ZWSP, text))


def md(text: str) -> str:
    """User text made inert inside markdown: one line, no links, images, formatting, emoji,
    icons, colours or maths; it reads the same."""
    return _escape_line_start(_MD_SPECIAL.sub(r"\\\1", _inert_colons(one_line(text))))


def _escape_line_start(text: str) -> str:
    m = _LINE_START.match(text)
    if not m:
        return text
    lead, marker = m.groups()
    if marker[0].isdigit():  # "12." -> "12\." : the digits stay, the list marker goes
        return f"{lead}{marker}\\{text[m.end()]}{text[m.end() + 1:]}"
    return f"{lead}\\{marker}{text[m.end():]}"


def code(text: str) -> str:
    """User text as inline code. Markdown is not interpreted inside a code span, so only what
    could end the span early is changed: line breaks (a blank line ends it) and backticks; colons
    get the same treatment as in `md` in case a renderer expands shortcodes inside code."""
    return "`" + _inert_colons(one_line(text)).replace("`", "'") + "`"
