"""Checks a fine-tuning training file before anyone pays for a training run.

A training file is JSONL: one JSON object a line, either in chat format
(`{"messages": [{"role": ..., "content": ...}, ...]}`) or prompt/completion format
(`{"prompt": ..., "completion": ...}`). We validate every line and report problems by line number,
count examples and tokens, flag exact duplicates and near-empty answers, split off a seeded hold-out
set, and give a verdict against the rule of thumb that fine-tuning needs about 50-100 clean examples.

Token counts use the bundled embedding model's word-piece tokenizer (`core.model`): an approximation
of the LLM's own tokenizer, close enough to size a file and estimate a price, not an invoice.
Only message contents are counted; the few formatting tokens a provider adds per message are not.
"""
from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core import model

CHAT = "chat"
COMPLETION = "prompt/completion"
ROLES = ("system", "user", "assistant", "tool")
ERROR, WARNING = "error", "warning"

# The longest line read as an example. Hosted fine-tuning caps an example at tens of thousands of
# tokens (~65k-128k, a few hundred KB of text); a 40 MB line needed 6.1 GB here to parse and count.
MAX_LINE_CHARS = 1_000_000
MIN_ANSWER_TOKENS = 3     # an answer shorter than this teaches the model to say (almost) nothing
MIN_EXAMPLES = 50         # below this a training run mostly learns noise
GOOD_EXAMPLES = 100       # from here a first run is worth its cost
TOKENIZER_NOTE = (
    f"Tokens are counted with the bundled embedding model's tokenizer ({model.MODEL_ID}), an "
    "approximation of the LLM's own tokenizer; per-message formatting tokens are not included."
)

Counter = Callable[[list[str]], list[int]]


@dataclass(frozen=True)
class Problem:
    line: int
    severity: str
    message: str


@dataclass(frozen=True)
class Example:
    line: int
    format: str
    prompt: str   # everything the model reads
    answer: str   # what it learns to write
    raw: str      # canonical JSON of the line: what we export, and what duplicates are matched on


@dataclass(frozen=True)
class ParseResult:
    examples: tuple[Example, ...]
    problems: tuple[Problem, ...]
    format: str | None
    n_lines: int  # non-blank lines


def parse_jsonl(data: bytes | str) -> ParseResult:
    """Validate every line; keep the usable ones as Examples and the rest as Problems."""
    raw_lines: Sequence[bytes | str] = data.split(b"\n") if isinstance(data, bytes) else data.split("\n")
    examples: list[Example] = []
    problems: list[Problem] = []
    file_format: str | None = None
    n_lines = 0
    last = len(raw_lines)
    for number, raw in enumerate(raw_lines, start=1):
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            problems.append(Problem(number, ERROR, "Not valid UTF-8 text; save the file as UTF-8."))
            n_lines += 1
            continue
        if not text.strip():
            if number < last and any(r.strip() for r in raw_lines[number:]):
                problems.append(Problem(number, WARNING, "Blank line (ignored); some uploaders reject them."))
            continue
        n_lines += 1
        if len(text) > MAX_LINE_CHARS:
            problems.append(Problem(number, ERROR, f"The line is {len(text):,} characters long, over the "
                                    f"{MAX_LINE_CHARS:,} read here: far more than one training example "
                                    "can hold. Split it, or check that the file has one example per line."))
            continue
        example, errors = _parse_line(number, text.strip())
        if example is not None and file_format is not None and example.format != file_format:
            errors.append(f"Uses the {example.format} format, but earlier lines use {file_format}; "
                          "one file must use one format.")
            example = None
        problems.extend(Problem(number, ERROR if example is None else WARNING, e) for e in errors)
        if example is not None:
            file_format = file_format or example.format
            examples.append(example)
    return ParseResult(tuple(examples), tuple(problems), file_format, n_lines)


def _parse_line(number: int, text: str) -> tuple[Example | None, list[str]]:
    """An Example (with warnings) or None (with the errors that make the line unusable)."""
    try:
        obj = json.loads(text)
        raw = json.dumps(obj, ensure_ascii=False, sort_keys=True)
    except json.JSONDecodeError as exc:
        return None, [f"Not valid JSON: {exc.msg} at column {exc.colno}."]
    except RecursionError:  # "[[[[...": Python's parser recurses per level
        return None, ["The JSON is nested too deeply to read; a training example is an object of messages."]
    if not isinstance(obj, dict):
        return None, [f"Expected a JSON object, found a {type(obj).__name__}."]
    if "messages" in obj:
        return _parse_chat(number, obj["messages"], raw)
    if "prompt" in obj or "completion" in obj:
        return _parse_completion(number, obj, raw)
    return None, ["Needs either a 'messages' list (chat format) or 'prompt' and 'completion' fields."]


def _parse_chat(number: int, messages: object, raw: str) -> tuple[Example | None, list[str]]:
    if not isinstance(messages, list) or not messages:
        return None, ["'messages' must be a non-empty list of {role, content} objects."]
    errors: list[str] = []
    prompt: list[str] = []
    answer: list[str] = []
    for k, msg in enumerate(messages, start=1):
        if not isinstance(msg, dict):
            errors.append(f"Message {k} is not an object.")
            continue
        role, content = msg.get("role"), msg.get("content")
        if role not in ROLES:
            errors.append(f"Message {k}: role {role!r} is not one of {', '.join(ROLES)}.")
            continue
        if content is None and role == "assistant" and ("tool_calls" in msg or "function_call" in msg):
            continue  # a tool call carries no text to count
        if not isinstance(content, str):
            errors.append(f"Message {k} ({role}): 'content' must be a string.")
            continue
        (answer if role == "assistant" else prompt).append(content)
    if errors:
        return None, errors
    roles = [m["role"] for m in messages]
    if "assistant" not in roles:
        return None, ["No assistant message: there is no answer for the model to learn."]
    warnings = []
    if "user" not in roles:
        warnings.append("No user message: the model learns an answer without a question.")
    if roles[-1] != "assistant":
        warnings.append("Ends after the last assistant reply: the trailing messages teach nothing.")
    return Example(number, CHAT, "\n".join(prompt), "\n".join(answer), raw), warnings


def _parse_completion(number: int, obj: dict, raw: str) -> tuple[Example | None, list[str]]:
    errors = [f"'{field}' must be a string." for field in ("prompt", "completion")
              if not isinstance(obj.get(field), str)]
    if errors:
        return None, errors
    return Example(number, COMPLETION, obj["prompt"], obj["completion"], raw), []


@dataclass(frozen=True)
class Analysis:
    format: str | None
    n_lines: int
    examples: tuple[Example, ...]        # every usable line
    tokens: tuple[int, ...]              # per usable example (prompt + answer)
    problems: tuple[Problem, ...]        # sorted by line
    duplicates: tuple[tuple[int, int], ...]  # (line, line it repeats)
    near_empty: tuple[int, ...]          # lines whose answer is (almost) empty
    clean: tuple[Example, ...]           # usable, not a repeat, not near-empty

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens)

    @property
    def clean_tokens(self) -> int:
        keep = {e.line for e in self.clean}
        return sum(t for e, t in zip(self.examples, self.tokens) if e.line in keep)

    @property
    def n_errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == ERROR)


def analyse(parsed: ParseResult, *, counter: Counter = model.count_tokens_many) -> Analysis:
    """Token counts, exact duplicates and near-empty answers on top of the line checks."""
    examples = parsed.examples
    counts = counter([e.prompt for e in examples] + [e.answer for e in examples])
    prompt_tokens, answer_tokens = counts[: len(examples)], counts[len(examples):]
    tokens = tuple(p + a for p, a in zip(prompt_tokens, answer_tokens))

    problems = list(parsed.problems)
    first_seen: dict[str, int] = {}
    duplicates: list[tuple[int, int]] = []
    near_empty: list[int] = []
    clean: list[Example] = []
    for example, n_answer in zip(examples, answer_tokens):
        if example.raw in first_seen:
            duplicates.append((example.line, first_seen[example.raw]))
            problems.append(Problem(example.line, WARNING,
                                    f"Exact duplicate of line {first_seen[example.raw]}: it counts twice "
                                    "in training and can leak into the hold-out set."))
            continue
        first_seen[example.raw] = example.line
        if n_answer < MIN_ANSWER_TOKENS:
            near_empty.append(example.line)
            problems.append(Problem(example.line, WARNING,
                                    f"Near-empty answer ({n_answer} tokens): it teaches the model to say "
                                    "almost nothing."))
            continue
        clean.append(example)
    problems.sort(key=lambda p: (p.line, p.severity != ERROR))
    return Analysis(parsed.format, parsed.n_lines, examples, tokens, tuple(problems), tuple(duplicates),
                    tuple(near_empty), tuple(clean))


@dataclass(frozen=True)
class Split:
    train: tuple[Example, ...]
    holdout: tuple[Example, ...]
    share: float
    seed: int


def split_holdout(examples: Sequence[Example], *, share: float, seed: int) -> Split:
    """Set aside `share` of the examples (at least one) for evaluation; same seed, same split."""
    if not 0 < share < 1:
        raise ValueError(f"The hold-out share must be between 0 and 1 (e.g. 0.1 for 10%); got {share}.")
    if len(examples) < 2:
        raise ValueError("At least 2 examples are needed to set some aside for evaluation.")
    n_holdout = min(len(examples) - 1, max(1, round(len(examples) * share)))
    chosen = set(random.Random(seed).sample(range(len(examples)), n_holdout))
    # Both parts keep the file's order, so a diff against the original is easy to read.
    train = tuple(e for k, e in enumerate(examples) if k not in chosen)
    holdout = tuple(e for k, e in enumerate(examples) if k in chosen)
    return Split(train, holdout, share, seed)


def to_jsonl(examples: Sequence[Example]) -> bytes:
    return "".join(e.raw + "\n" for e in examples).encode("utf-8")


@dataclass(frozen=True)
class Verdict:
    level: str  # "not_ready" | "minimum" | "ready"
    title: str
    message: str


def _count(n: int) -> str:
    return f"{n:,} clean example{'' if n == 1 else 's'}"


def verdict(*, n_clean: int, n_errors: int = 0) -> Verdict:
    """Judge the file against the 50-100 clean examples rule of thumb."""
    fix = (f" First fix the {n_errors} line{'s' if n_errors != 1 else ''} with errors: hosted fine-tuning "
           "services reject a file with any invalid line.") if n_errors else ""
    if n_clean < MIN_EXAMPLES:
        return Verdict("not_ready", "Not enough data yet",
                       f"{_count(n_clean)}: fewer than the ~{MIN_EXAMPLES} a first run needs. Keep "
                       "improving prompts and retrieval, and collect corrected answers from real use." + fix)
    if n_clean < GOOD_EXAMPLES:
        return Verdict("minimum", "Enough for a first experiment",
                       f"{_count(n_clean)}: enough for the minimum. Expect a modest effect; making each "
                       f"example better will help more than adding noisy ones. Aim for {GOOD_EXAMPLES}+."
                       + fix)
    return Verdict("ready", "Ready for a first training run",
                   f"{_count(n_clean)}: enough to start. Compare the tuned model with the base "
                   "model on the hold-out set before switching over." + fix)
