"""A document's title and outline: what contextual chunk headers and section parents are made of.

Contextual chunk headers prepend "title > section path" to what is embedded and BM25-indexed for a
chunk, never to what is shown, counted or scored as the chunk's text (that stays
`doc.text[chunk.start:chunk.end]`). Section parents (core.parents) hand the LLM the leaf section a
chunk sits in. Both read the outline found here.

Headings are read from the text itself, since every loader ends in plain text:
- Markdown ATX headings (`## Pricing`), level = number of `#`;
- setext headings (a line underlined with `===` for level 1 or `---` for level 2);
- numbered headings (`2. Security organization`, `3.1 Keys`): a short line of its own that starts
  with a section number and does not end like a sentence; level = 2 + the number's depth - 1.
A document with none of these (HTML and PDF text often lose their markup) has an empty outline: its
header is its title alone and its only section is the whole document.

The title is the document's first line when that line reads like a title (short, not ending like a
sentence), with any Markdown heading marks removed; otherwise the file name without its extension,
underscores and dashes read as spaces (a SQuAD article's name is its title).
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath

_ATX = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_SETEXT = re.compile(r"^(=+|-+)[ \t]*$")
# "2. Scope" or "3.1 Keys": a dot is required, so "28 February 2026" is not a heading.
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){1,3}\.?|\d{1,2}\.)[ \t]+(\S.*)$")
_TITLE_MAX_CHARS = 120
_HEADING_MAX_CHARS = 90
_SENTENCE_END = (".", ",", ";", ":", "?", "!")
SEPARATOR = " > "


@dataclass(frozen=True)
class Heading:
    start: int  # offset of the heading line in the document
    end: int  # end of the heading (its underline included for setext headings)
    level: int
    title: str


@dataclass(frozen=True)
class Section:
    """A leaf section: from one heading to the next heading of any level (or the document's end)."""

    start: int
    end: int
    path: tuple[str, ...]  # the titles of the enclosing headings, outermost first

    def label(self) -> str:
        return SEPARATOR.join(self.path)


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


@lru_cache(maxsize=256)
def outline(text: str) -> tuple[Heading, ...]:
    """Every heading of `text`, in order (see the module docstring for what counts)."""
    lines = _lines(text)
    headings: list[Heading] = []
    fenced = False
    for i, (pos, line) in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("```"):
            fenced = not fenced  # a "# comment" inside a code block is not a heading
            continue
        if fenced or not stripped:
            continue
        m = _ATX.match(stripped)
        if m:
            headings.append(Heading(pos, pos + len(line), len(m.group(1)), m.group(2).strip()))
            continue
        nxt = lines[i + 1][1].strip() if i + 1 < len(lines) else ""
        if nxt and _SETEXT.match(nxt) and len(nxt) >= 3 and len(stripped) <= _HEADING_MAX_CHARS \
                and not _SETEXT.match(stripped):
            level = 1 if nxt[0] == "=" else 2
            headings.append(Heading(pos, lines[i + 1][0] + len(lines[i + 1][1]), level, stripped))
            continue
        m = _NUMBERED.match(stripped)
        if m and len(stripped) <= _HEADING_MAX_CHARS and not stripped.endswith(_SENTENCE_END) \
                and len(m.group(2).split()) <= 10 and m.group(2)[0].isupper():
            depth = m.group(1).rstrip(".").count(".") + 1
            headings.append(Heading(pos, pos + len(line), 1 + depth, stripped))
    return tuple(headings)


def title_of(name: str, text: str) -> str:
    """The document's title: its first line if it reads like one, else its file name."""
    first = next((line.strip() for line in text.split("\n") if line.strip()), "")
    m = _ATX.match(first)
    if m:
        first = m.group(2).strip()
    if first and len(first) <= _TITLE_MAX_CHARS and not first.endswith(_SENTENCE_END[:2]) \
            and len(first.split()) <= 15:
        return first
    stem = PurePath(name).stem if "." in name else name
    return " ".join(re.sub(r"[_\-]+", " ", stem).split()) or name


@lru_cache(maxsize=256)
def sections(text: str) -> tuple[Section, ...]:
    """Leaf sections covering the whole of `text`, in order (text before the first heading is a
    section with an empty path)."""
    heads = outline(text)
    out: list[Section] = []
    stack: list[Heading] = []
    if not heads or heads[0].start > 0:
        out.append(Section(0, heads[0].start if heads else len(text), ()))
    for i, h in enumerate(heads):
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        end = heads[i + 1].start if i + 1 < len(heads) else len(text)
        out.append(Section(h.start, end, tuple(x.title for x in stack)))
    return tuple(s for s in out if s.end > s.start) or (Section(0, len(text), ()),)


def section_at(text: str, offset: int) -> Section:
    """The leaf section holding character `offset`."""
    secs = sections(text)
    starts = [s.start for s in secs]
    return secs[max(bisect.bisect_right(starts, offset) - 1, 0)]


def header(name: str, text: str, offset: int) -> str:
    """The contextual header of a chunk starting at `offset`: "title > section > subsection".

    The title is not repeated when the outermost heading is the title itself."""
    title = title_of(name, text)
    path = list(section_at(text, offset).path)
    if path and path[0].strip().lower() == title.lower():
        path = path[1:]
    return SEPARATOR.join([title, *path])
