"""The bundled sample documents load cleanly and their question set is consistent with them.

The question set is scored against the text the app's own loader extracts, so every gold passage
(`context`) must appear verbatim in that text and contain one of its answers.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.documents import load_directory

SAMPLES = Path(__file__).resolve().parents[1] / "sample_docs"
QUESTIONS = SAMPLES / "questions.jsonl"


@pytest.fixture(scope="module")
def report():
    return load_directory(SAMPLES)


@pytest.fixture(scope="module")
def texts(report):
    return {d.name: d.text for d in report.documents}


@pytest.fixture(scope="module")
def questions():
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_documents_load_without_errors(report):
    assert report.errors == ()
    assert len(report.documents) >= 6
    kinds = {d.kind for d in report.documents}
    assert len(kinds) >= 3 and "pdf" in kinds, kinds
    assert all(d.text.strip() for d in report.documents)


def test_pdf_has_several_pages(report):
    pdfs = [d for d in report.documents if d.kind == "pdf"]
    assert pdfs
    for doc in pdfs:
        assert doc.pages >= 2, doc.name
        # Page starts are real offsets: the last page begins inside the text.
        assert 0 < doc.page_starts[-1] < len(doc.text)


def test_html_drops_script_and_style(report):
    for doc in (d for d in report.documents if d.kind == "html"):
        assert "querySelectorAll" not in doc.text
        assert "border-collapse" not in doc.text


def test_total_size_suits_chunking_experiments(texts):
    total = sum(len(t) for t in texts.values())
    assert 50_000 <= total <= 80_000, total


def test_question_file_shape(questions):
    assert len(questions) >= 40
    for q in questions:
        assert set(q) >= {"question", "answers", "source", "context"}, q
        assert isinstance(q["question"], str) and q["question"].strip()
        assert isinstance(q["answers"], list) and q["answers"]
        assert all(isinstance(a, str) and a.strip() for a in q["answers"])
    assert len({q["question"] for q in questions}) == len(questions), "duplicate questions"


def test_every_document_has_questions(questions, texts):
    assert {q["source"] for q in questions} == set(texts)


@pytest.mark.parametrize("i", range(len(QUESTIONS.read_text(encoding="utf-8").splitlines())))
def test_question_is_grounded(i, questions, texts):
    q = questions[i]
    assert q["source"] in texts, f"unknown source {q['source']!r}"
    text = texts[q["source"]]
    assert q["context"] in text, f"context not verbatim in {q['source']}: {q['context'][:80]!r}"
    context = q["context"].lower()
    assert any(a.lower() in context for a in q["answers"]), (q["answers"], q["context"])
    for answer in q["answers"]:
        assert answer.lower() in text.lower(), f"answer {answer!r} not in {q['source']}"
