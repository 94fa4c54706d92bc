"""Training-file checks: validation by line, duplicates, near-empty answers, split, verdict, sample."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import finetune as ft

SAMPLE = Path(__file__).resolve().parent.parent / "sample_docs" / "training" / "support_assistant.jsonl"


def words(texts: list[str]) -> list[int]:
    """A stand-in tokenizer for logic tests: one token per word."""
    return [len(t.split()) for t in texts]


def chat(question: str, answer: str, system: str | None = None) -> str:
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return json.dumps({"messages": messages})


def test_valid_chat_and_completion_lines():
    parsed = ft.parse_jsonl((chat("How do I reset it?", "Hold the button for ten seconds.", "Be brief.") + "\n").encode())
    assert parsed.format == ft.CHAT and not parsed.problems
    (example,) = parsed.examples
    assert example.prompt == "Be brief.\nHow do I reset it?" and example.answer == "Hold the button for ten seconds."
    parsed = ft.parse_jsonl(b'{"prompt": "Classify: refund please", "completion": "billing"}\n')
    assert parsed.format == ft.COMPLETION and parsed.examples[0].answer == "billing"


@pytest.mark.parametrize("line, severity, fragment", [
    ("not json", ft.ERROR, "Not valid JSON"),
    ("[1, 2]", ft.ERROR, "Expected a JSON object, found a list"),
    ('{"text": "hi"}', ft.ERROR, "Needs either a 'messages' list"),
    ('{"messages": []}', ft.ERROR, "non-empty list"),
    ('{"messages": "hello"}', ft.ERROR, "non-empty list"),
    ('{"messages": [{"role": "bot", "content": "x"}]}', ft.ERROR, "role 'bot' is not one of"),
    ('{"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "a b c"}]}', ft.ERROR,
     "'content' must be a string"),
    ('{"messages": ["hi"]}', ft.ERROR, "Message 1 is not an object"),
    ('{"messages": [{"role": "user", "content": "q"}]}', ft.ERROR, "No assistant message"),
    ('{"prompt": "q", "completion": null}', ft.ERROR, "'completion' must be a string"),
    ('{"messages": [{"role": "assistant", "content": "a b c"}]}', ft.WARNING, "No user message"),
    ('{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a b c"}, '
     '{"role": "user", "content": "and?"}]}', ft.WARNING, "Ends after the last assistant reply"),
])
def test_each_problem_is_reported_with_its_line_number(line, severity, fragment):
    good = chat("What is it?", "It is a scheduler for workflows.")
    parsed = ft.parse_jsonl(f"{good}\n{good}\n{line}\n".encode())
    (problem,) = [p for p in parsed.problems if p.line == 3]
    assert problem.severity == severity and fragment in problem.message
    assert len(parsed.examples) == (3 if severity == ft.WARNING else 2)


def test_blank_lines_bad_bytes_and_mixed_formats():
    data = (chat("a?", "b c d") + "\n\n" + '{"prompt": "p", "completion": "c"}\n').encode() + b"\xff\xfe\n"
    parsed = ft.parse_jsonl(data)
    by_line = {p.line: p for p in parsed.problems}
    assert by_line[2].severity == ft.WARNING and "Blank line" in by_line[2].message
    assert by_line[3].severity == ft.ERROR and "one file must use one format" in by_line[3].message
    assert by_line[4].severity == ft.ERROR and "UTF-8" in by_line[4].message
    assert parsed.n_lines == 3 and len(parsed.examples) == 1
    # The trailing newline of a file is not a blank line.
    assert not ft.parse_jsonl((chat("a?", "b c d") + "\n").encode()).problems


def test_byte_order_mark_and_str_input_are_accepted():
    assert ft.parse_jsonl(b"\xef\xbb\xbf" + chat("a?", "b c d").encode()).examples
    assert ft.parse_jsonl(chat("a?", "b c d")).examples


def test_exact_duplicates_ignore_key_order_and_spacing():
    a = '{"prompt": "q", "completion": "one two three"}'
    b = '{ "completion":"one two three",  "prompt":"q" }'
    result = ft.analyse(ft.parse_jsonl(f"{a}\n{b}\n".encode()), counter=words)
    assert result.duplicates == ((2, 1),)
    assert [e.line for e in result.clean] == [1]
    assert "Exact duplicate of line 1" in result.problems[0].message


def test_near_empty_answers_are_flagged():
    lines = [chat("Thanks!", "OK."), chat("Thanks!", "   "), chat("Where?", "In the settings page, under Billing.")]
    result = ft.analyse(ft.parse_jsonl("\n".join(lines).encode()), counter=words)
    assert result.near_empty == (1, 2)
    assert [e.line for e in result.clean] == [3]


def test_token_counts_with_the_real_tokenizer():
    result = ft.analyse(ft.parse_jsonl(chat("How do I cancel?", "Open Billing and choose Cancel plan.").encode()))
    (tokens,) = result.tokens
    assert 8 <= tokens <= 20  # two short sentences in word pieces
    assert result.total_tokens == result.clean_tokens == tokens


def test_split_is_seeded_disjoint_and_sized_by_share():
    examples = ft.analyse(ft.parse_jsonl("\n".join(chat(f"q{i}?", f"answer number {i}") for i in range(40)).encode()),
                          counter=words).clean
    split = ft.split_holdout(examples, share=0.125, seed=7)
    assert len(split.holdout) == 5 and len(split.train) == 35
    assert {e.line for e in split.train}.isdisjoint({e.line for e in split.holdout})
    assert ft.split_holdout(examples, share=0.125, seed=7) == split
    assert ft.split_holdout(examples, share=0.125, seed=8).holdout != split.holdout
    assert [e.line for e in split.train] == sorted(e.line for e in split.train)


@pytest.mark.parametrize("share, n, fragment", [(0, 10, "between 0 and 1"), (1.5, 10, "between 0 and 1"),
                                                (0.1, 1, "At least 2 examples")])
def test_split_rejects_bad_requests(share, n, fragment):
    examples = ft.parse_jsonl("\n".join(chat(f"q{i}", "a b c") for i in range(n)).encode()).examples
    with pytest.raises(ValueError, match=fragment):
        ft.split_holdout(examples, share=share, seed=1)


def test_exported_jsonl_reads_back_as_the_same_examples():
    examples = ft.parse_jsonl("\n".join(chat(f"q{i}?", f"a {i} b") for i in range(5)).encode()).examples
    again = ft.parse_jsonl(ft.to_jsonl(examples))
    assert [e.raw for e in again.examples] == [e.raw for e in examples] and not again.problems


@pytest.mark.parametrize("n, errors, level", [(0, 0, "not_ready"), (49, 0, "not_ready"), (50, 0, "minimum"),
                                              (99, 2, "minimum"), (100, 0, "ready"), (500, 1, "ready")])
def test_verdict_follows_the_50_to_100_rule(n, errors, level):
    v = ft.verdict(n_clean=n, n_errors=errors)
    assert v.level == level
    assert f"{n:,} clean example" in v.message
    assert ("fix the" in v.message) == bool(errors)


def test_the_sample_file_has_the_planted_problems_and_enough_clean_examples():
    result = ft.analyse(ft.parse_jsonl(SAMPLE.read_bytes()))
    assert result.format == ft.CHAT
    assert 60 <= len(result.examples) <= 80
    assert len(result.duplicates) == 1
    assert len(result.near_empty) == 1
    assert result.n_errors == 1
    assert ft.verdict(n_clean=len(result.clean), n_errors=result.n_errors).level == "minimum"


def test_length_histogram_separates_flagged_examples():
    from core.plots.finetune import length_histogram

    fig = length_histogram([10, 20, 30], flagged=[2])
    bars = [t for t in fig.data if t.type == "histogram"]  # the median line is a legend entry too
    assert [t.name for t in bars] == ["clean examples", "flagged (duplicate or near-empty)"]
    assert list(bars[0].x) == [10, 20, 30] and list(bars[1].x) == [2]
    assert len([t for t in length_histogram([5, 6]).data if t.type == "histogram"]) == 1
