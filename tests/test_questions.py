"""The question-set workbench's core: loaders (incl. hostile SQuAD files), per-row checks, the
editor's edit record, export/import round-trip, and labelling from a chunk."""
from __future__ import annotations

import json
import time

import pytest

from core.chunking import ChunkConfig, split_corpus
from core.documents import Document
from core.evaluation import Question, dump_questions, gold_span, load_questions
from core.questions import apply_edits, check_questions, from_row, label_question, origin_counts, to_row

GUIDE = Document(
    name="guide.md",
    text=("# Login\n\nThe device code is valid for 10 minutes. After that, run lfx login again.\n\n"
          "# Flows\n\nLanternfish keeps the last 50 versions of every flow. Any of them can be restored."),
    kind="markdown",
)
FAQ = Document(name="faq.md", text="Refunds are paid within 14 days. Invoices are sent monthly.", kind="markdown")
DOCS = {d.name: d for d in (GUIDE, FAQ)}


def q(question="How long is the code valid?", answers=("10 minutes",), source="guide.md", context="", origin="curated"):
    return Question(question, tuple(answers), source, context, 0, origin)


# -- checks ------------------------------------------------------------------------------------


def test_each_row_gets_its_reason():
    rows = [
        q(),                                                                     # 0 ok
        q(source="missing.md"),                                                  # 1 not loaded
        q(answers=("twelve minutes",)),                                          # 2 answer not in source
        q(question="Versions?", answers=("50 versions",), context="keeps the last 50 versions of every flow"),  # 3 ok
        q(question="Ctx?", answers=("10 minutes",), context="This sentence is not there."),  # 4 context missing
        q(question="Ctx2?", answers=("10 minutes",), context="Any of them can be restored."),  # 5 answer not in ctx
        q(question="", answers=("10 minutes",)),                                 # 6 no question text
        q(question="How LONG is the code   valid?"),                             # 7 duplicate of 0
        q(question="Two?", answers=("10 minutes", "an hour")),                   # 8 ok, with a note
    ]
    check = check_questions(rows, DOCS)
    reasons = [r.reason() for r in check.rows]
    assert check.rows[0].ok and check.rows[3].ok and check.rows[8].ok
    assert "is not loaded" in reasons[1]
    assert "does not occur in the source" in reasons[2]
    assert "context passage is not in the source" in reasons[4]
    assert "no answer occurs inside the context" in reasons[5]
    assert "no question text" in reasons[6]
    assert reasons[7] == "duplicate of row 1"
    assert "1 of 2 answers not in the source" in reasons[8]
    assert check.valid == (0, 3, 8) and check.n_invalid == 6


def test_a_cached_check_equals_a_fresh_one_and_follows_a_changed_document():
    rows = [q(), q(question="Refund?", answers=("14 days",), source="faq.md")]
    cache: dict = {}
    first = check_questions(rows, DOCS, cache=cache)
    assert first == check_questions(rows, DOCS) and len(cache) == 2
    changed = {**DOCS, "faq.md": Document(name="faq.md", text="Refunds take a month.", kind="markdown")}
    assert not check_questions(rows, changed, cache=cache).rows[1].ok  # new digest: checked again


def test_ten_thousand_questions_check_quickly():
    rows = [q(question=f"Question {i}?", answers=("10 minutes" if i % 3 else "nowhere",)) for i in range(10_000)]
    started = time.perf_counter()
    check = check_questions(rows, DOCS)
    assert time.perf_counter() - started < 2.0
    assert check.n_invalid == 3334


def test_origin_counts_cover_every_origin():
    counts = origin_counts([q(), q(origin="generated"), q(origin="generated")])
    assert counts == {"curated": 1, "labelled": 0, "generated": 2}


def test_an_unknown_origin_is_refused():
    with pytest.raises(ValueError, match="origin"):
        Question("x?", ("y",), "guide.md", origin="invented")


# -- the editor's record and the round-trip ------------------------------------------------------


def test_edit_export_import_gives_the_same_set():
    start = [q(), q(question="Versions?", answers=("50 versions",), context="keeps the last 50 versions of every flow"),
             q(question="Refund?", answers=("14 days",), source="faq.md", origin="labelled"),
             q(question="Gen?", answers=("monthly",), source="faq.md", origin="generated")]
    # The editor shows rows 1..3 (a page); edit one, delete one, add one.
    edits = {"edited_rows": {0: {"answers": "50 versions | last 50 versions"}},
             "deleted_rows": [1],
             "added_rows": [{"question": "When are invoices sent?", "answers": "monthly", "source": "faq.md"},
                            {"question": None, "answers": None}]}  # an untouched new row is not a question
    edited = apply_edits(start, [1, 2, 3], edits)
    assert [x.question for x in edited] == ["How long is the code valid?", "Versions?", "Gen?", "When are invoices sent?"]
    assert edited[1].answers == ("50 versions", "last 50 versions") and edited[1].context == start[1].context
    assert edited[3].origin == "curated" and edited[2].origin == "generated"
    back = load_questions(dump_questions(edited), "questions.jsonl")
    assert not back.errors
    assert [(x.question, x.answers, x.source, x.context, x.origin) for x in back.questions] == \
           [(x.question, x.answers, x.source, x.context, x.origin) for x in edited]


def test_a_row_round_trips_through_the_editor_cells():
    original = q(answers=("10 minutes", "ten minutes"), context="The device code is valid for 10 minutes.",
                 origin="labelled")
    assert from_row(to_row(original), base=original) == original
    cleared = from_row({"answers": None}, base=original)  # a cleared cell keeps the row, with no answer
    assert cleared.answers == () and not check_questions([cleared], DOCS).rows[0].ok


# -- loaders: CSV, JSONL, SQuAD findings (issue 16) -------------------------------------------------


def test_csv_with_origin_loads():
    data = b"question,answers,source,context,origin\nHow long?,10 minutes|ten minutes,guide.md,,labelled\n"
    qs = load_questions(data, "q.csv")
    assert not qs.errors and qs.questions[0].origin == "labelled" and qs.questions[0].answers == ("10 minutes", "ten minutes")


@pytest.mark.parametrize("squad, where", [
    ({"data": 5}, "'data' is not a list"),
    ({"data": [5]}, "article 1: expected an object"),
    ({"data": [{"title": "T", "paragraphs": 3}]}, "'paragraphs' must be a list"),
    ({"data": [{"title": "T", "paragraphs": [{"context": 7, "qas": []}]}]}, "paragraph 1: expected an object"),
    ({"data": [{"title": "T", "paragraphs": [{"context": "Some text.", "qas": 3}]}]}, "'qas' must be a list"),
    ({"data": [{"title": "T", "paragraphs": [{"context": "Some text.", "qas": [{"question": "Q?", "answers": 1}]}]}]},
     "has no answer text"),
    ({"data": [{"title": "T", "paragraphs": [{"context": "Some text.", "qas": [7]}]}]}, "has no question text"),
])
def test_malformed_squad_files_give_messages_not_python_errors(squad, where):
    qs = load_questions(json.dumps(squad).encode(), "bad.json")
    messages = " ".join(m for _, m in qs.errors)
    assert where in messages, messages
    assert "object is not" not in messages and "Error" not in messages


def test_a_one_line_jsonl_with_a_data_key_is_a_question_not_squad():
    line = {"question": "How long?", "answers": ["10 minutes"], "source": "guide.md", "data": [1, 2]}
    qs = load_questions(json.dumps(line).encode(), "one.jsonl")
    assert not qs.errors and not qs.documents
    assert [x.question for x in qs.questions] == ["How long?"]


def _article(title, context, question="What year?", answer="1871"):
    return {"title": title, "paragraphs": [{"context": context, "qas": [
        {"id": title, "question": question, "answers": [{"text": answer, "answer_start": 0}]}]}]}


def test_two_squad_articles_with_one_title_both_survive():
    squad = {"data": [_article("Harbour", "First lit in 1871."), _article("Harbour", "Rebuilt in 1871 after a storm.")]}
    qs = load_questions(json.dumps(squad).encode(), "s.json")
    names = [d.name for d in qs.documents]
    assert names == ["Harbour.txt", "Harbour (2).txt"]
    assert [x.source for x in qs.questions] == names
    assert qs.documents[1].text == "Rebuilt in 1871 after a storm."


def test_an_empty_squad_article_is_skipped_with_a_note():
    squad = {"data": [_article("Empty", "   "), _article("Full", "First lit in 1871.")]}
    qs = load_questions(json.dumps(squad).encode(), "s.json")
    assert [d.name for d in qs.documents] == ["Full.txt"]
    assert all(d.text.strip() for d in qs.documents)
    assert len(qs.questions) == 1 and qs.questions[0].source == "Full.txt"
    assert any("Empty" in n and "no text" in n and "1 question" in n for n in qs.notes)


def test_a_squad_title_with_a_blank_line_becomes_one_line_name():
    qs = load_questions(json.dumps({"data": [_article("Evil\n\n![x](http://e/x.png)", "First lit in 1871.")]}).encode(),
                        "s.json")
    assert "\n" not in qs.documents[0].name


# -- labelling --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sentence", "chunk"])
def test_a_labelled_questions_gold_span_is_the_documents_text(kind):
    chunk = next(c for c in split_corpus([GUIDE], config=ChunkConfig(size=20, overlap=0)) if "10 minutes" in c.text)
    labelled = label_question("How long is the device code valid?", GUIDE, answer="10 MINUTES",
                              within=(chunk.start, chunk.end), context=kind)
    assert labelled.origin == "labelled" and labelled.answers == ("10 minutes",)  # as the document spells it
    span = gold_span(labelled, GUIDE)
    assert span is not None
    assert GUIDE.text[span[0]:span[1]] == labelled.context
    assert "10 minutes" in labelled.context
    if kind == "sentence":
        assert labelled.context == "The device code is valid for 10 minutes."
    else:
        assert labelled.context == chunk.text.strip()
    assert check_questions([labelled], DOCS).rows[0].ok


def test_labelling_refuses_an_answer_outside_the_chunk_and_takes_any_place_in_the_document():
    chunk = next(c for c in split_corpus([GUIDE], config=ChunkConfig(size=20, overlap=0)) if "10 minutes" in c.text)
    with pytest.raises(ValueError, match="does not occur in this chunk"):
        label_question("How many versions?", GUIDE, answer="50 versions", within=(chunk.start, chunk.end))
    missed = label_question("How many versions?", GUIDE, answer="50 versions")  # "none of these": whole document
    assert missed.context == "Lanternfish keeps the last 50 versions of every flow."
