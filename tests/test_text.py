"""ui.text: user text placed in Streamlit markdown stays text (issue 16's escaping cases).

These check the escaped strings; tests/e2e/test_markup_escape.py renders the same cases in a
real browser and checks what the page shows.
"""
from __future__ import annotations

import re

import pytest

from ui.text import code, md, one_line

ZWSP = "\u200b"

# Every case of issue 16, and the classics. Each must render as its own text, nothing more.
HOSTILE = {
    "squad_title_breakout": "Harmless title\n\n![x](http://evil.example/pixel.png) [live](http://evil.example) $x^2$",
    "image": "![x](http://evil.example/a.png)",
    "js_link": "[a](javascript:alert(1))",
    "latex": "$x$ and $$\\frac{1}{2}$$",
    "heading_by_newline": "What is it?\n# Heading",
    "setext_heading": "What is it?\n===",
    "list_start": "- item\n1. first\n+ plus",
    "indented_code": "    four spaces make code",
    "emoji": "I am :smile: today :+1:",
    "material_icon": "an icon :material/home: here",
    "colour": ":red[alert] :rainbow-background[wow] :small[tiny]",
    "html": "<img src=x onerror=alert(1)><script>alert(1)</script>",
    "entity": "&lt;b&gt; and &amp;",
    "emphasis": "**bold** _it_ ~~gone~~ `tick`",
    "table": "| a | b |\n|---|---|\n| 1 | 2 |",
    "autolink": "see https://evil.example/reset or www.evil.example or me@evil.example",
    "unicode_breaks": "one\u2028two\u2029three\r\nfour\x0bfive\x85six",
}


def plain(s: str) -> str:
    """What a reader sees of an escaped string: backslash escapes and zero-width spaces removed."""
    return re.sub(r"\\(.)", r"\1", s).replace(ZWSP, "")


@pytest.mark.parametrize("name", HOSTILE)
def test_md_output_is_one_line_and_reads_the_same(name):
    raw = HOSTILE[name]
    out = md(raw)
    assert "\n" not in out and "\r" not in out and not re.search(r"\s{2,}", out)
    assert plain(out) == one_line(raw)


@pytest.mark.parametrize("name", HOSTILE)
def test_md_leaves_no_markup_open(name):
    out = md(HOSTILE[name])
    # Every character that is markdown anywhere in a line is escaped, and so is a list marker
    # where the string starts ...
    assert not re.search(r"(?<!\\)[`*_\[\]#<>$~!&|]", out.replace("\\\\", "")), out
    assert not re.match(r"\s*([-+=]|\d+[.)])", out), out
    # ... and no Streamlit shortcode, icon or directive survives (a backslash would not stop them).
    assert not re.search(r":[\w/+-]", out), out
    assert "://" not in out and "www." not in out.lower() and re.search(r"@\w", out) is None


@pytest.mark.parametrize("name", HOSTILE)
def test_code_spans_cannot_be_closed_or_broken(name):
    out = code(HOSTILE[name])
    assert out.startswith("`") and out.endswith("`") and out.count("`") == 2
    assert "\n" not in out and "\r" not in out and "\u2028" not in out
    assert not re.search(r":[\w/+-]", out)


@pytest.mark.parametrize("raw", ["- item", "+ plus", "---", "===", "12. twelve", "3) three", "  - indented"])
def test_a_list_marker_at_the_start_is_escaped(raw):
    out = md(raw)
    assert re.match(r"\s*\\", out) or re.match(r"\s*\d+\\[.)]", out), out
    assert plain(out) == one_line(raw)


def test_ordinary_punctuation_is_left_alone():
    assert md("Loaded 3 files (2.5 MB) - see the table.") == "Loaded 3 files (2.5 MB) - see the table."


def test_code_replaces_backticks():
    assert code("a`b") == "`a'b`"


def test_one_line_joins_every_kind_of_line_break():
    assert one_line("a\n\nb\r\nc\u2028d\te") == "a b c d e"
