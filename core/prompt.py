"""The prompt the retrieved chunks would build, and what it costs in tokens.

Token counts use the embedding model's word-piece tokenizer: an approximation of an LLM's own
tokenizer (typically within ~10-20% for English), labelled as such in the UI.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core import model
from core.retrieval import Hit

DEFAULT_TEMPLATE = """Answer the question using only the numbered context passages below.
Cite the passages you use as [1], [2], ... after the sentence they support.
If the passages do not contain the answer, say that you do not know.

Context:
{context}

Question: {question}
Answer:"""


@dataclass(frozen=True)
class Prompt:
    text: str
    context: str
    n_tokens: int
    context_tokens: int


def validate_template(template: str) -> None:
    missing = [f for f in ("{context}", "{question}") if f not in template]
    if missing:
        raise ValueError(f"The prompt template must contain {' and '.join(missing)}.")


def passage_header(number: int, hit: Hit) -> str:
    """The passage's reference line. With contextual headers on it carries the chunk's title and
    section path; with parent-document retrieval it names the parent and its span (issue 13)."""
    c, p = hit.chunk, hit.passage
    where = f"p. {c.page}, " if c.page else ""
    context = f" - {c.header}" if c.header else ""
    if hit.parent is not None:
        return f"[{number}] {c.doc}{context} ({where}{p.label}, chars {p.start}-{p.end})"
    return f"[{number}] {c.doc}{context} ({where}chars {c.start}-{c.end})"


def context_block(hits: Sequence[Hit]) -> str:
    """What the LLM reads: each hit's passage (its parent when parent-document retrieval is on)."""
    return "\n\n".join(f"{passage_header(n, h)}\n{h.passage.text}" for n, h in enumerate(hits, start=1))


def build_prompt(question: str, hits: Sequence[Hit], *, template: str = DEFAULT_TEMPLATE) -> Prompt:
    validate_template(template)
    context = context_block(hits)
    # str.replace, not str.format: documents may contain braces.
    text = template.replace("{context}", context).replace("{question}", question.strip())
    return Prompt(
        text=text,
        context=context,
        n_tokens=model.count_tokens(text),
        context_tokens=model.count_tokens(context),
    )
