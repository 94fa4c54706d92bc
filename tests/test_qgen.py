"""Generated questions: the offline cloze generator, the LLM generator (LangChain's fake chat model,
no key, no network), and the rank agreement of two sweeps."""
from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.exceptions import ModelRateLimitError
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from core.documents import Document
from core.evaluation import gold_span
from core.providers import classify_error
from core.qgen import GenConfig, generate_llm, generate_offline, kendall_tau, parse_reply, passages, rank_agreement
from core.questions import check_questions
from core.sweep import SweepRow


@pytest.fixture(scope="module")
def corpus(sample_docs):
    return sample_docs


def test_every_offline_answer_occurs_in_its_passage_and_its_document(corpus):
    result = generate_offline(corpus, config=GenConfig(per_doc=8, seed=3))
    docs = {d.name: d for d in corpus}
    assert len(result.questions) == 8 * len(corpus) and not result.shortfall
    for q in result.questions:
        assert q.origin == "generated" and q.question.endswith("?")
        assert q.answers[0].lower() in q.context.lower()
        assert q.answers[0].lower() not in q.question.lower() or q.answers[0].isdigit()
        span = gold_span(q, docs[q.source])
        assert span is not None and docs[q.source].text[span[0]:span[1]] == q.context
    assert check_questions(result.questions, docs).n_invalid == 0


def test_offline_generation_is_seeded(corpus):
    a = generate_offline(corpus, config=GenConfig(per_doc=5, seed=1)).questions
    b = generate_offline(corpus, config=GenConfig(per_doc=5, seed=1)).questions
    c = generate_offline(corpus, config=GenConfig(per_doc=5, seed=2)).questions
    assert a == b and a != c


def test_asking_for_more_than_the_passages_allow_returns_what_is_possible():
    doc = Document(name="tiny.txt", text="The backup window opens at 02:00 and lasts 45 minutes every night.", kind="text")
    result = generate_offline([doc], config=GenConfig(per_doc=20))
    assert len(result.questions) == 1 and result.per_doc == {"tiny.txt": 1}
    assert result.shortfall == ("tiny.txt: asked for 20, only 1 usable sentence(s)",)
    assert "1 of 20 requested" in result.message() and "fewer usable passages" in result.message()
    assert result.questions[0].answers == ("45 minutes",)
    assert result.questions[0].question == "The backup window opens at 02:00 and lasts how long every night?"


def test_a_number_glued_to_a_word_is_not_taken_apart():
    doc = Document(name="sec.txt", text="All customer data is encrypted at rest with AES-256 by the storage layer here.",
                   kind="text")
    result = generate_offline([doc], config=GenConfig(per_doc=1))
    assert all(q.answers[0] != "256" for q in result.questions)


# -- LLM -------------------------------------------------------------------------------------------


def reply(question: str, answer: str) -> str:
    return "Sure:\n" + json.dumps({"question": question, "answer": answer})


class FailingAfter(BaseChatModel):
    """Answers from `replies`, then raises `error` (a provider failing mid-run)."""

    replies: list[str]
    error: Any
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "failing-after"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        if self.calls >= len(self.replies):
            raise self.error
        self.calls += 1
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.replies[self.calls - 1]))])


DOC = Document(name="guide.md", kind="markdown", text=(
    "The device code is valid for 10 minutes. After that, run lfx login again to get a new one. "
    "Codes are single use and tied to one machine.\n\n"
    "Lanternfish keeps the last 50 versions of every flow. Any of them can be restored from the History tab "
    "in one click, and restoring creates a new version.\n\n"
    "Webhook addresses keep working for 30 days after a rename and then return HTTP 410 to every sender."))


def test_llm_questions_keep_verified_answers_and_reject_the_rest():
    spans = passages(DOC)
    assert len(spans) == 3
    chat = FakeListChatModel(responses=[
        reply("How long is the device code valid?", "10 MINUTES"),
        reply("How many versions are kept?", "fifty versions"),  # paraphrased: not in the passage
        "I cannot do that.",
    ])
    result = generate_llm([DOC], chat_model=chat, config=GenConfig(per_doc=3), label="fake")
    assert [q.question for q in result.questions] == ["How long is the device code valid?"]
    q = result.questions[0]
    assert q.answers == ("10 minutes",) and q.origin == "generated" and q.answers[0] in q.context
    assert DOC.text[slice(*gold_span(q, DOC))] == q.context
    assert [r.reason for r in result.rejected] == ["the answer does not occur in the passage", "the reply held no JSON object"]
    assert not result.error and result.per_doc == {"guide.md": 1}


def test_an_llm_error_mid_way_keeps_what_was_generated():
    chat = FailingAfter(replies=[reply("How long is the device code valid?", "10 minutes")],
                        error=ModelRateLimitError("429 slow down"))
    seen = []
    result = generate_llm([DOC], chat_model=chat, config=GenConfig(per_doc=3), on_question=seen.append,
                          classify=lambda e: classify_error(e).message)
    assert len(result.questions) == 1 and seen == list(result.questions)
    assert "rate limit" in result.error
    assert "stopped by an error" in result.message() and "kept" in result.message()


def test_a_timeout_mid_way_is_reported_and_cancel_stops():
    chat = FailingAfter(replies=[reply("Q?", "50 versions")] * 2, error=TimeoutError("read timed out"))
    result = generate_llm([DOC], chat_model=chat, config=GenConfig(per_doc=3),
                          classify=lambda e: classify_error(e).kind)
    assert len(result.questions) == 1 and result.error == "timeout"  # one reply had an answer outside its passage
    stop_after = iter([False, True])
    cancelled = generate_llm([DOC], chat_model=FakeListChatModel(responses=[reply("Q?", "10 minutes")] * 3),
                             config=GenConfig(per_doc=3), should_stop=lambda: next(stop_after))
    assert cancelled.cancelled and len(cancelled.questions) == 1


def test_parse_reply_reasons():
    assert parse_reply('```json\n{"question": "Q?", "answer": "A"}\n```') == ("Q?", "A")
    with pytest.raises(ValueError, match="lacked"):
        parse_reply('{"question": "Q?"}')


# -- rank agreement ---------------------------------------------------------------------------------


def row(size: int, method: str, hit: float) -> SweepRow:
    return SweepRow("recursive", "tokens", size, 0, 5, method, "pooled", hit, hit, hit, hit, 10, 0.0, 0.0)


def test_kendall_tau_and_same_best():
    sizes = [100, 200, 300, 400]
    cur = [row(s, "dense", h) for s, h in zip(sizes, [0.5, 0.6, 0.7, 0.8])]
    same = [row(s, "dense", h) for s, h in zip(sizes, [0.1, 0.2, 0.3, 0.9])]
    reverse = [row(s, "dense", h) for s, h in zip(sizes, [0.9, 0.8, 0.7, 0.6])]
    a = rank_agreement(cur, same)
    assert a.tau == pytest.approx(1.0) and a.same_best and a.best_curated == "recursive 400/0 tokens, dense"
    b = rank_agreement(cur, reverse)
    assert b.tau == pytest.approx(-1.0) and not b.same_best and "opposite orders" in b.verdict()
    assert "strong agreement" in a.verdict() and "same best" in a.verdict()
    flat = rank_agreement(cur, [row(s, "dense", 1.0) for s in sizes])
    assert flat.tau is None and "scores every setting the same" in flat.verdict()
    tau, _ = kendall_tau([1, 2, 2, 3], [1, 3, 2, 4])  # tau-b with a tie on one side
    assert tau == pytest.approx(0.9128709, abs=1e-6)
