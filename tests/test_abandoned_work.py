"""Long evaluations report progress and stop when asked (issue 16: an abandoned 12,000-question
evaluation kept the server busy for 98 s)."""
from __future__ import annotations

import pytest

from core.chunking import Chunk
from core.documents import Document
from core.evaluation import EvaluationStopped, Question, evaluate
from core.retrieval import RetrievalConfig, Retriever
from tests.fakes import WordEmbedder


class Recording(WordEmbedder):
    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed(self, texts, *, progress=None):
        self.embedded += list(texts)
        return super().embed(texts, progress=progress)


def _setup(n_questions: int):
    text = "Refunds take five days. Backups are kept for thirty days. Each seat costs ten dollars."
    doc = Document("faq.txt", text, "text")
    chunks = [Chunk("faq.txt", i, a, b, text[a:b], 8) for i, (a, b) in enumerate([(0, 23), (24, 57), (58, len(text))])]
    emb = Recording()
    retriever = Retriever.from_vectors(chunks, emb.embed([c.text for c in chunks]), embedder=emb)
    emb.embedded.clear()
    questions = [Question(f"How long are backups kept? ({i})", ("thirty days",), "faq.txt") for i in range(n_questions)]
    return retriever, questions, {"faq.txt": doc}, emb


def test_progress_is_reported_for_every_question_and_ends_at_the_total():
    retriever, questions, docs, _ = _setup(600)
    seen: list[tuple[int, int]] = []
    run = evaluate(retriever, questions, docs, config=RetrievalConfig(method="dense", k=2),
                   progress=lambda d, t: seen.append((d, t)))
    assert len(run.results) == 600
    assert seen == [(i, 600) for i in range(1, 601)]


def test_should_stop_ends_the_run_early_and_skips_the_remaining_work():
    retriever, questions, docs, emb = _setup(2_000)
    scored: list[int] = []
    with pytest.raises(EvaluationStopped):
        evaluate(retriever, questions, docs, config=RetrievalConfig(method="dense", k=2),
                 progress=lambda d, t: scored.append(d), should_stop=lambda: len(scored) >= 10)
    assert len(scored) == 10  # stopped at the next question, not at the end
    assert len(emb.embedded) <= 256  # only the first block of questions was embedded


def test_session_gone_is_false_outside_a_server():
    from ui.jobs import session_gone

    assert session_gone() is False
