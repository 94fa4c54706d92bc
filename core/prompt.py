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
    c = hit.chunk
    where = f"p. {c.page}, " if c.page else ""
    return f"[{number}] {c.doc} ({where}chars {c.start}-{c.end})"


def context_block(hits: Sequence[Hit]) -> str:
    return "\n\n".join(f"{passage_header(n, h)}\n{h.chunk.text}" for n, h in enumerate(hits, start=1))


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
