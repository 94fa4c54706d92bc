"""The decision flowchart: every combination of answers, partial answers, conflicts and the diagram."""
from __future__ import annotations

import itertools

import pytest

from core import decision as d

IDS = [q.id for q in d.QUESTIONS]

# The expected verdict for every answer combination once Q1 is "no", written out by hand from
# REFERENCE.md's rules (not computed by the code under test). Columns: problem, attribution,
# latency, examples -> outcome.
EXPECTED_AFTER_NO = {
    ("knows", "yes", "yes", "yes"): d.RAG,
    ("knows", "yes", "yes", "no"): d.NOT_YET,
    ("knows", "yes", "no", "yes"): d.RAG,
    ("knows", "yes", "no", "no"): d.RAG,
    ("knows", "no", "yes", "yes"): d.RAG,
    ("knows", "no", "yes", "no"): d.NOT_YET,
    ("knows", "no", "no", "yes"): d.RAG,
    ("knows", "no", "no", "no"): d.RAG,
    ("behaves", "yes", "yes", "yes"): d.HYBRID,
    ("behaves", "yes", "yes", "no"): d.NOT_YET,
    ("behaves", "yes", "no", "yes"): d.HYBRID,
    ("behaves", "yes", "no", "no"): d.NOT_YET,
    ("behaves", "no", "yes", "yes"): d.FINE_TUNING,
    ("behaves", "no", "yes", "no"): d.NOT_YET,
    ("behaves", "no", "no", "yes"): d.FINE_TUNING,
    ("behaves", "no", "no", "no"): d.NOT_YET,
    ("both", "yes", "yes", "yes"): d.HYBRID,
    ("both", "yes", "yes", "no"): d.NOT_YET,
    ("both", "yes", "no", "yes"): d.HYBRID,
    ("both", "yes", "no", "no"): d.NOT_YET,
    ("both", "no", "yes", "yes"): d.HYBRID,
    ("both", "no", "yes", "no"): d.NOT_YET,
    ("both", "no", "no", "yes"): d.HYBRID,
    ("both", "no", "no", "no"): d.NOT_YET,
}
ALL_COMBINATIONS = list(itertools.product(*[[o.id for o in q.options] for q in d.QUESTIONS]))


def expected(combo: tuple[str, ...]) -> str:
    return d.RAG if combo[0] == "yes" else EXPECTED_AFTER_NO[combo[1:]]


def test_the_table_covers_every_combination():
    assert len(ALL_COMBINATIONS) == 2 * 3 * 2 * 2 * 2
    assert set(EXPECTED_AFTER_NO) == {c[1:] for c in ALL_COMBINATIONS if c[0] == "no"}


@pytest.mark.parametrize("combo", ALL_COMBINATIONS, ids=["-".join(c) for c in ALL_COMBINATIONS])
def test_every_path(combo):
    rec = d.evaluate(dict(zip(IDS, combo)))
    assert rec.complete and rec.next_question is None
    assert rec.approach == expected(combo)
    assert rec.outcome is d.OUTCOMES[rec.approach]
    assert rec.rule in d.RULE_TEXT
    if combo[0] == "yes":
        # The first answer stops the chart: later answers are ignored, not weighed.
        assert [c.question_id for c in rec.contributions] == ["changes"]
        assert rec.not_reached == tuple(IDS[1:])
        assert rec.conflicts == () and rec.rule == "stop"
    else:
        assert [c.question_id for c in rec.contributions] == IDS
        assert all(c.reason for c in rec.contributions)
        assert rec.not_reached == ()
    # Each contribution is the option's own reason and direction.
    for c in rec.contributions:
        opt = d.QUESTION_BY_ID[c.question_id].option(c.answer_id)
        assert (c.points_to, c.reason, c.answer) == (opt.points_to, opt.reason, opt.label)


@pytest.mark.parametrize("combo", ALL_COMBINATIONS, ids=["-".join(c) for c in ALL_COMBINATIONS])
def test_conflicts_are_shown_exactly_when_answers_disagree(combo):
    rec = d.evaluate(dict(zip(IDS, combo)))
    if combo[0] == "yes":
        assert not rec.conflicts
        return
    _, problem, attribution, latency, examples = combo
    wants_ft = problem in ("behaves", "both") or latency == "yes"
    wants_rag = problem in ("knows", "both") or attribution == "yes"
    if examples == "no":
        # The only conflict without data is the data gate, and it appears whenever fine-tuning is wanted.
        assert bool(rec.conflicts) == wants_ft
        if wants_ft:
            assert "examples" in rec.conflicts[0].question_ids
    else:
        assert bool(rec.conflicts) == (wants_ft and wants_rag)
    for conflict in rec.conflicts:
        assert conflict.description and conflict.resolution
        assert set(conflict.question_ids) <= set(IDS)


def test_knows_and_behaves_is_resolved_as_hybrid_with_an_explicit_conflict():
    rec = d.evaluate({"changes": "no", "problem": "both", "attribution": "no", "latency": "no", "examples": "yes"})
    assert rec.approach == d.HYBRID
    assert len(rec.conflicts) == 1
    assert "Hybrid" in rec.conflicts[0].resolution


def test_behaves_without_examples_is_prompt_engineering_and_rag_first():
    rec = d.evaluate({"changes": "no", "problem": "behaves", "attribution": "no", "latency": "no", "examples": "no"})
    assert rec.approach == d.NOT_YET
    assert rec.rule == "data_gate"
    assert rec.conflicts[0].question_ids == ("problem", "examples")
    assert "prompt engineering" in rec.conflicts[0].resolution


def test_latency_against_citations_keeps_retrieval_and_says_why():
    rec = d.evaluate({"changes": "no", "problem": "knows", "attribution": "yes", "latency": "yes", "examples": "yes"})
    assert rec.approach == d.RAG
    (conflict,) = rec.conflicts
    assert conflict.question_ids == ("problem", "attribution", "latency")
    assert "Retrieval stays" in conflict.resolution


def test_partial_answers_name_the_next_question():
    rec = d.evaluate({})
    assert not rec.complete and rec.next_question == "changes" and rec.outcome is None
    rec = d.evaluate({"changes": "no", "problem": "knows", "latency": "yes"})
    assert not rec.complete and rec.next_question == "attribution"
    assert [c.question_id for c in rec.contributions] == ["changes", "problem"]
    assert rec.conflicts == ()
    # None counts as unanswered (what an untouched radio returns).
    assert d.evaluate({"changes": None}).next_question == "changes"


def test_a_stop_needs_no_further_answers():
    rec = d.evaluate({"changes": "yes"})
    assert rec.complete and rec.approach == d.RAG and rec.not_reached == tuple(IDS[1:])


@pytest.mark.parametrize("answers, fragment", [
    ({"colour": "blue"}, "Unknown question 'colour'"),
    ({"changes": "maybe"}, "'maybe' is not an answer to 'changes'"),
])
def test_unknown_ids_are_rejected(answers, fragment):
    with pytest.raises(ValueError, match=fragment):
        d.evaluate(answers)


def _highlighted(dot: str) -> set[str]:
    """Lines of the DOT source drawn in the highlight colour."""
    return {line.strip() for line in dot.splitlines() if d._ON in line}


@pytest.mark.parametrize("combo", ALL_COMBINATIONS, ids=["-".join(c) for c in ALL_COMBINATIONS])
def test_diagram_highlights_the_path_taken(combo):
    rec = d.evaluate(dict(zip(IDS, combo)))
    dot = d.to_dot(rec)
    assert dot.startswith("digraph decision {") and dot.rstrip().endswith("}")
    lit = _highlighted(dot)
    outcome_node = {d.RAG: "out_rag", d.FINE_TUNING: "out_fine_tuning", d.HYBRID: "out_hybrid",
                    d.NOT_YET: "out_not_yet"}[rec.approach]
    lit_outcomes = {line.split()[0] for line in lit if line.startswith("out_")}
    assert lit_outcomes == {outcome_node}
    lit_edges = [line for line in lit if "->" in line]
    # One highlighted edge per answer on the path, plus the edge into the verdict after question 5.
    assert len(lit_edges) == len(rec.contributions) + (0 if combo[0] == "yes" else 1)
    for c in rec.contributions:
        assert any(line.startswith(f"q_{c.question_id} ->") and f'"{c.answer_id}:' in line for line in lit_edges)


def test_diagram_of_an_unanswered_chart_highlights_no_edge():
    lit = _highlighted(d.to_dot(d.evaluate({})))
    assert not [line for line in lit if "->" in line]
    assert [line.split()[0] for line in lit] == ["q_changes"]  # where to start


def test_comparison_and_use_cases_are_filled_in():
    dims = [r.dimension for r in d.COMPARISON]
    assert len(dims) == len(set(dims)) == 8
    assert all(r.rag and r.fine_tuning for r in d.COMPARISON)
    assert len(d.USE_CASES[d.RAG]) >= 3 and len(d.USE_CASES[d.FINE_TUNING]) >= 3
