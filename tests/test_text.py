"""ui.text: document text placed in Streamlit markdown stays text."""
from __future__ import annotations

from ui.text import code, md


def test_markdown_syntax_is_escaped():
    out = md("## [Reset](x) ![pixel](y) **bold** :red[alert] `tick`")
    for raw in ("[Reset]", "![pixel]", "**bold**", ":red[", "`tick`", "## "):
        assert raw not in out


def test_bare_urls_and_addresses_cannot_autolink():
    out = md("see https://evil.example/reset or www.evil.example or me@evil.example")
    assert "://evil" not in out and "www.evil" not in out and "@evil" not in out
    assert out.replace("\u200b", "").replace("\\", "") == "see https://evil.example/reset or www.evil.example or me@evil.example"


def test_code_cannot_be_closed_early():
    assert code("a`b") == "`a'b`"
