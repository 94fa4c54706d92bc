"""The question-set workbench's logic: checking each question against the loaded documents,
the editor's rows, and questions labelled from a retrieved chunk.

A question is *valid* (scored) when its source document is loaded, one of its answers occurs in
that document, and a given gold context occurs in the document with an answer inside it. Invalid
questions are kept with the reason, never dropped: the user fixes them in the editor. A repeated
question (same text, same source) is flagged and only its first copy is scored, since scoring it
twice would weigh it double.

Checking is cheap to repeat: each document is lower-cased once per corpus, and a question's
check depends only on the question and its document, so callers can keep a cache keyed on both
(`CheckCache`) and an edit re-checks only the rows it changed; 10,000 questions check in well
under a second.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace

from core.documents import Document
from core.evaluation import ORIGINS, Question
from core.sentences import sentence_spans

ANSWER_SEPARATOR = "|"  # several answers in one editor cell (as in the CSV format)
COLUMNS = ("question", "answers", "source", "context", "origin")


@dataclass(frozen=True)
class RowCheck:
    """What is wrong with one question (empty `problems`: it is scored)."""

    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # worth knowing, not excluding (e.g. one of two answers not found)

    @property
    def ok(self) -> bool:
        return not self.problems

    def reason(self) -> str:
        return "; ".join(self.problems) if self.problems else "ok" + (f" ({'; '.join(self.notes)})" if self.notes else "")


@dataclass(frozen=True)
class SetCheck:
    """Per-row checks of a whole set, in its order, and the counts the page shows."""

    rows: tuple[RowCheck, ...]

    @property
    def valid(self) -> tuple[int, ...]:
        return tuple(i for i, r in enumerate(self.rows) if r.ok)

    @property
    def n_invalid(self) -> int:
        return sum(1 for r in self.rows if not r.ok)


# Keyed on (question, document digest or "" when not loaded): a check depends on nothing else.
CheckCache = MutableMapping[tuple[Question, str], RowCheck]

_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """How two questions are compared for duplicates: case and runs of spaces ignored."""
    return _SPACE.sub(" ", text).strip().lower()


class _Lowered:
    """Each document's lower-cased text, made once per check of a set (not once per question)."""

    def __init__(self, docs: Mapping[str, Document]) -> None:
        self.docs = docs
        self._lower: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        if name not in self._lower:
            self._lower[name] = self.docs[name].text.lower()
        return self._lower[name]


def _check_one(q: Question, docs: Mapping[str, Document], lowered: _Lowered) -> RowCheck:
    problems: list[str] = []
    notes: list[str] = []
    if not q.question.strip():
        problems.append("no question text")
    answers = [a for a in q.answers if a.strip()]
    if not answers:
        problems.append("no answer text")
    if not q.source.strip():
        problems.append("no source document")
        return RowCheck(tuple(problems))
    if q.source not in docs:
        problems.append(f"source '{q.source}' is not loaded")
        return RowCheck(tuple(problems))
    text = lowered(q.source)
    found = [a for a in answers if a.lower() in text]
    if answers and not found:
        problems.append("no answer occurs in the source" if len(answers) > 1 else "the answer does not occur in the source")
    elif len(found) < len(answers):
        notes.append(f"{len(answers) - len(found)} of {len(answers)} answers not in the source")
    if q.context:
        context = q.context.lower()
        if context not in text:
            problems.append("the context passage is not in the source")
        elif found and not any(a.lower() in context for a in found):
            problems.append("no answer occurs inside the context passage")
    return RowCheck(tuple(problems), tuple(notes))


def check_questions(questions: Sequence[Question], docs: Mapping[str, Document], *,
                    cache: CheckCache | None = None) -> SetCheck:
    """Check every question; flag repeats (the first copy is scored, later ones name it)."""
    lowered = _Lowered(docs)
    rows: list[RowCheck] = []
    first_of: dict[tuple[str, str], int] = {}
    for i, q in enumerate(questions):
        key = (q, docs[q.source].digest if q.source in docs else "")
        row = cache.get(key) if cache is not None else None
        if row is None:
            row = _check_one(q, docs, lowered)
            if cache is not None:
                cache[key] = row
        dup_key = (normalise(q.question), q.source)
        if q.question.strip() and dup_key in first_of:
            row = replace(row, problems=(*row.problems, f"duplicate of row {first_of[dup_key] + 1}"))
        else:
            first_of.setdefault(dup_key, i)
        rows.append(row)
    return SetCheck(tuple(rows))


def origin_counts(questions: Iterable[Question]) -> dict[str, int]:
    """Questions per origin, every origin present (0 when none), in ORIGINS order."""
    counts = dict.fromkeys(ORIGINS, 0)
    for q in questions:
        counts[q.origin] += 1
    return counts


# -- the editor's rows ----------------------------------------------------------------------


def to_row(q: Question) -> dict[str, str]:
    return {"question": q.question, "answers": f" {ANSWER_SEPARATOR} ".join(q.answers), "source": q.source,
            "context": q.context, "origin": q.origin}


def _cell(value: object) -> str:
    # A cleared cell arrives as None (or NaN from pandas): both mean empty.
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def from_row(row: Mapping[str, object], *, base: Question | None = None) -> Question:
    """A question from an editor row; cells the row lacks keep `base`'s values. Nothing is
    rejected here: an empty or wrong cell becomes a row with a problem, shown to the user."""
    values = to_row(base) if base is not None else {c: "" for c in COLUMNS}
    values.update({c: _cell(row[c]) for c in COLUMNS if c in row})
    answers = tuple(a.strip() for a in values["answers"].split(ANSWER_SEPARATOR) if a.strip())
    origin = values["origin"] if values["origin"] in ORIGINS else (base.origin if base else "curated")
    return Question(values["question"].strip(), answers, values["source"].strip(), values["context"].strip(),
                    base.line if base else 0, origin)


def apply_edits(questions: Sequence[Question], positions: Sequence[int], edits: Mapping) -> list[Question]:
    """Apply st.data_editor's edit record to the set.

    The editor showed `questions[p]` for each p in `positions` (a page or filter of the set), so
    its row numbers are positions in that view. `edits` holds "edited_rows" {view row: {column:
    value}}, "added_rows" [{column: value}] and "deleted_rows" [view row]."""
    out = list(questions)
    for view_row, changes in (edits.get("edited_rows") or {}).items():
        at = positions[int(view_row)]
        out[at] = from_row(changes, base=out[at])
    deleted = {positions[int(r)] for r in edits.get("deleted_rows") or [] if int(r) < len(positions)}
    out = [q for i, q in enumerate(out) if i not in deleted]
    for added in edits.get("added_rows") or []:
        if any(_cell(added.get(c)).strip() for c in COLUMNS if c != "origin"):
            out.append(from_row({**added, "origin": added.get("origin") or "curated"}))
    return out


# -- labelling from a retrieved chunk --------------------------------------------------------


CONTEXT_KINDS = {"sentence": "the sentence that holds the answer", "chunk": "the whole chunk"}


def find_in(text: str, phrase: str, lo: int, hi: int) -> int:
    """Offset of `phrase` in text[lo:hi] (case-insensitive), or -1."""
    if not phrase.strip():
        return -1
    return text.lower().find(phrase.lower(), lo, hi)


def label_question(question: str, doc: Document, *, answer: str, within: tuple[int, int] | None = None,
                   context: str = "sentence") -> Question:
    """A labelled question whose gold passage is taken from the document's own text.

    `within` is the (start, end) of the chunk the user marked (None: anywhere in the document).
    The answer must occur there; it is stored as the document spells it. The context is the
    sentence holding the answer, or the whole marked span. Raises ValueError with a reason."""
    if not question.strip():
        raise ValueError("Type the question first.")
    if context not in CONTEXT_KINDS:
        raise ValueError(f"Unknown context kind '{context}'.")
    lo, hi = within if within is not None else (0, len(doc.text))
    at = find_in(doc.text, answer.strip(), lo, hi)
    if at < 0:
        where = "this chunk" if within is not None else f"'{doc.name}'"
        raise ValueError(f"'{answer.strip()}' does not occur in {where}: copy the answer phrase from its text.")
    end = at + len(answer.strip())
    if context == "chunk" and within is not None:
        start, stop = lo, hi
    else:
        start, stop = sentence_around(doc.text, at, end)
    return Question(question.strip(), (doc.text[at:end],), doc.name, doc.text[start:stop].strip(), 0, "labelled")


def sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence(s) of `text` covering [start, end): the shared sentence definition, widened
    when the phrase crosses a sentence end."""
    spans = sentence_spans(text)
    covering = [(a, b) for a, b in spans if a < end and b > start]
    if not covering:
        return start, end
    return covering[0][0], covering[-1][1]
