"""core.providers and the Answer section, with LangChain's fake chat models: no network, no key.

The provider path is driven by langchain-core's fake chat models (GenericFakeChatModel,
FakeListChatModel) and by small fakes that raise the errors real integrations raise.
"""
from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from langchain_core.exceptions import ModelAuthenticationError, ModelRateLimitError
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from core import providers
from core.prices import answer_cost, model_price
from core.providers import (
    AnswerStream,
    GenerationConfig,
    ProviderUnavailable,
    Usage,
    build_chat_model,
    classify_error,
    discover,
    find_key,
    probe_ollama,
)

FAKE_KEY = "sk-test-0123456789abcdefghijklmnop"


def words(text: str) -> int:
    return len(text.split())


class RaisingChatModel(BaseChatModel):
    """Streams `before` then raises `error`: how a provider fails mid-answer or at once."""

    error: Any
    before: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "raising-fake"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        raise self.error

    def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator[ChatGenerationChunk]:
        for piece in self.before:
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        raise self.error


class UsageChatModel(BaseChatModel):
    """Streams text, then a final chunk with usage metadata, like ChatOpenAI(stream_usage=True)."""

    @property
    def _llm_type(self) -> str:
        return "usage-fake"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="Hi [1]."))])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator[ChatGenerationChunk]:
        yield ChatGenerationChunk(message=AIMessageChunk(content="Hi [1]."))
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", usage_metadata={"input_tokens": 120, "output_tokens": 4, "total_tokens": 124})
        )


# --- discovery --------------------------------------------------------------------------------


def test_nothing_is_offered_without_packages_keys_or_server():
    statuses = discover(environ={"OPENAI_API_KEY": FAKE_KEY}, secrets={}, ollama_models=("llama3.2",),
                        importable=lambda module: False)
    assert [s.available for s in statuses] == [False, False, False]
    assert all("pip install langchain-" in s.reason for s in statuses)

    statuses = discover(environ={}, secrets={}, ollama_models=None, importable=lambda module: True)
    assert not any(s.available for s in statuses)
    assert "OPENAI_API_KEY" in statuses[0].reason and "11434" in statuses[2].reason


def test_keys_from_environment_or_secrets_enable_a_provider_without_exposing_the_key():
    statuses = {
        s.spec.name: s
        for s in discover(environ={"OPENAI_API_KEY": FAKE_KEY}, secrets={"ANTHROPIC_API_KEY": "sk-ant-" + "x" * 30},
                          ollama_models=("llama3.2:1b", "qwen2.5:0.5b"), importable=lambda module: True)
    }
    assert statuses["openai"].available and statuses["openai"].key_source == "environment"
    assert statuses["anthropic"].available and statuses["anthropic"].key_source == "secrets"
    assert statuses["ollama"].available and statuses["ollama"].models == ("llama3.2:1b", "qwen2.5:0.5b")
    assert FAKE_KEY not in repr(statuses) and "x" * 30 not in repr(statuses)


def test_ollama_without_models_is_not_offered():
    (ollama,) = [s for s in discover(environ={}, secrets={}, ollama_models=(), importable=lambda m: True)
                 if s.spec.name == "ollama"]
    assert not ollama.available and "ollama pull" in ollama.reason


def test_find_key_prefers_the_environment_and_survives_a_broken_secrets_store():
    class Broken:
        def get(self, name):
            raise FileNotFoundError("no secrets.toml")

    assert find_key(("K",), environ={"K": " env "}, secrets={"K": "sec"}) == ("env", "environment")
    assert find_key(("K",), environ={"K": ""}, secrets={"K": "sec"}) == ("sec", "secrets")
    assert find_key(("K",), environ={}, secrets=Broken()) == ("", "")


def _serve(handler_body: bytes):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/api/tags" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(handler_body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_probe_ollama_lists_models_and_returns_none_when_nothing_answers():
    server = _serve(json.dumps({"models": [{"name": "llama3.2:1b"}, {"model": "qwen2.5:0.5b"}]}).encode())
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert probe_ollama(url) == ("llama3.2:1b", "qwen2.5:0.5b")
    finally:
        server.shutdown()
        server.server_close()
    started = time.perf_counter()
    assert probe_ollama(url, timeout=0.3) is None  # the port is closed now
    assert time.perf_counter() - started < 2


def test_probe_ollama_rejects_a_server_that_is_not_ollama():
    server = _serve(b"<html>hello</html>")
    try:
        assert probe_ollama(f"http://127.0.0.1:{server.server_address[1]}") is None
    finally:
        server.shutdown()
        server.server_close()


def test_building_a_model_without_key_or_package_says_what_to_do():
    with pytest.raises(ProviderUnavailable, match="OPENAI_API_KEY"):
        build_chat_model(GenerationConfig(provider="openai", model="gpt-4o-mini"), environ={}, secrets={})
    if not providers.integration_importable("langchain_anthropic"):
        with pytest.raises(ProviderUnavailable, match="pip install langchain-anthropic"):
            build_chat_model(GenerationConfig(provider="anthropic", model="claude-haiku-4-5"),
                             environ={"ANTHROPIC_API_KEY": FAKE_KEY}, secrets={})


def test_generation_config_validates():
    with pytest.raises(ValueError, match="Unknown provider"):
        GenerationConfig(provider="nope", model="m")
    with pytest.raises(ValueError, match="Temperature"):
        GenerationConfig(provider="openai", model="gpt-4o-mini", temperature=3)
    with pytest.raises(ValueError, match="model"):
        GenerationConfig(provider="openai", model=" ")


# --- streaming through fake chat models ---------------------------------------------------------


def test_stream_yields_the_whole_answer_and_estimates_tokens_when_the_provider_sends_none():
    text = "Reef costs $17 per user per month [1]. Paid yearly it is $14 [1]."
    stream = AnswerStream(GenericFakeChatModel(messages=iter([text])), "the prompt has five words")
    pieces = list(stream)
    assert len(pieces) > 5 and "".join(pieces) == text == stream.text
    assert stream.error is None and stream.done and stream.first_token_seconds is not None
    assert stream.usage(words) == Usage(5, len(text.split()), False)


def test_stream_takes_token_counts_from_the_provider_when_sent():
    stream = AnswerStream(UsageChatModel(), "prompt")
    assert "".join(stream) == "Hi [1]."
    assert stream.usage(words) == Usage(120, 4, True)


def test_a_failure_mid_stream_keeps_the_partial_text_and_becomes_a_message():
    stream = AnswerStream(FakeListChatModel(responses=["Backups last thirty days."], error_on_chunk_number=7), "p")
    got = "".join(stream)  # must not raise
    assert got == "Backups" and stream.text == "Backups"
    assert stream.error is not None and stream.error.kind == "other"


@pytest.mark.parametrize(
    ("error", "kind", "retryable"),
    [
        (ModelAuthenticationError(f"Incorrect API key provided: {FAKE_KEY}"), "auth", False),
        (ModelRateLimitError("Rate limit reached for gpt-4o-mini"), "rate_limit", True),
        (TimeoutError("timed out"), "timeout", True),
        (ConnectionRefusedError(111, "Connection refused"), "connection", True),
    ],
)
def test_provider_errors_become_clear_messages_without_the_key(error, kind, retryable):
    stream = AnswerStream(RaisingChatModel(error=error), "p", secrets=(FAKE_KEY,))
    assert list(stream) == []
    e = stream.error
    assert (e.kind, e.retryable) == (kind, retryable)
    assert FAKE_KEY not in e.message and FAKE_KEY not in e.detail
    assert e.message == providers._ERROR_TEXT[kind]


def test_sdk_style_errors_are_classified_by_name_or_status():
    import httpx

    class AuthenticationError(Exception):  # the shape of openai's / anthropic's own classes
        status_code = 401

    class Response:
        status_code = 429

    class APIStatusError(Exception):
        response = Response()

    class ResponseError(Exception):  # ollama's: status on the exception
        status_code = 404

    assert classify_error(AuthenticationError(f"bad key {FAKE_KEY}")).kind == "auth"
    assert FAKE_KEY not in classify_error(AuthenticationError(f"bad key {FAKE_KEY}")).detail
    assert classify_error(APIStatusError("slow down")).kind == "rate_limit"
    assert classify_error(ResponseError("model 'x' not found")).kind == "not_found"
    assert classify_error(httpx.ConnectError("[Errno 111] Connection refused")).kind == "connection"
    assert classify_error(httpx.ReadTimeout("read timed out")).kind == "timeout"
    assert classify_error(ProviderUnavailable("OpenAI needs OPENAI_API_KEY")).message == "OpenAI needs OPENAI_API_KEY"
    assert classify_error(ValueError("something odd")).kind == "other"


def test_an_error_partway_keeps_what_arrived():
    stream = AnswerStream(RaisingChatModel(error=ModelRateLimitError("429"), before=["Part ", "one."]), "p")
    assert "".join(stream) == "Part one."
    assert stream.error.kind == "rate_limit"


# --- prices -----------------------------------------------------------------------------------


def test_prices_come_from_core_prices_local_is_free_and_unknown_is_none():
    p = model_price("openai", "gpt-4o-mini")
    assert p.input_per_mtok == pytest.approx(0.15) and p.output_per_mtok == pytest.approx(0.60)
    assert model_price("ollama", "llama3.2:1b").input_per_mtok == 0.0
    assert model_price("openai", "no-such-model-xyz") is None
    assert answer_cost(Usage(1_000_000, 500_000, True), p) == pytest.approx(0.15 + 0.30)
    assert answer_cost(Usage(10, 10, True), None) is None


# --- the Answer section, headless ---------------------------------------------------------------


class HashEmbedder:
    """Deterministic bag-of-words vectors: enough to drive the section's flow fast."""

    model_id, dimensions = "hash-test", 64

    def embed(self, texts, *, progress=None):
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, hash(w.strip(".,?[]")) % self.dimensions] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def _section_inputs():
    from core.chunking import Chunk
    from core.retrieval import RetrievalConfig, Retriever

    texts = [
        "Backups are kept for 30 days on the Team plan. Restores take an hour.",
        "The Reef plan costs $17 per user per month. <script>alert('x')</script> is just text.",
        "Support answers within two business days.",
    ]
    from core.documents import Document
    from core.sentences import SentenceBank
    from ui.state import BuiltIndex

    chunks = [Chunk(doc="kb.md", index=i, start=i * 100, end=i * 100 + len(t), text=t, n_tokens=len(t.split()))
              for i, t in enumerate(texts)]
    embedder = HashEmbedder()
    retriever = Retriever.build(chunks, embedder=embedder)
    bank = SentenceBank([Document("kb.md", "".join(t.ljust(100) for t in texts), "md")], embedder=embedder)
    query = "How long are backups kept on the Team plan?"
    built = BuiltIndex((), retriever, bank, 0.0, 0)
    return query, retriever.search(query, config=RetrievalConfig(k=3)), built


def _section_script():
    import streamlit as st

    from ui.answer import render_answer

    built = st.session_state["built"]
    st.session_state["cited"] = render_answer(st.session_state["q"], st.session_state["hits"], built,
                                              built.retriever.embed_queries([st.session_state["q"]])[0])


def _app(monkeypatch, *, statuses, chat_model=None):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    monkeypatch.setattr(providers, "discover", lambda **kwargs: statuses)
    if chat_model is not None:
        monkeypatch.setattr(providers, "build_chat_model", lambda config, **kwargs: chat_model())
    at = AppTest.from_function(_section_script, default_timeout=30)
    query, hits, built = _section_inputs()
    at.session_state["q"], at.session_state["hits"], at.session_state["built"] = query, hits, built
    return at, hits


def _fake_status(monkeypatch):
    spec = providers.ProviderSpec("fake", "Fake LLM", "langchain_core", "langchain-core", (), ("fake-1",), local=True)
    monkeypatch.setitem(providers.PROVIDERS, "fake", spec)
    return [providers.ProviderStatus(spec, True, "test double", ("fake-1",))]


def _html(at) -> str:
    return "\n".join(str(getattr(e, "proto", e)) for e in at.get("html"))


def test_section_defaults_to_the_extractive_answer_when_no_provider_is_available(monkeypatch):
    at, hits = _app(monkeypatch, statuses=[])
    at.run()
    assert not at.exception
    assert at.selectbox(key="answer_provider").value == "extractive"
    assert at.selectbox(key="answer_provider").options == ["Extractive (no LLM, $0)"]
    cited = at.session_state["cited"]
    backups = next(h.rank for h in hits if "Backups" in h.chunk.text)
    assert backups in cited
    page = _html(at)
    assert "Backups are kept for 30 days on the Team plan." in page and f'href=\\"#hit-{backups}\\"' in page
    assert any("Extractive answer" in c.value for c in at.caption)
    assert [m.value for m in at.metric][-1] == "$0.00"


def test_section_streams_a_generated_answer_with_citations_cost_and_grounding(monkeypatch):
    statuses = _fake_status(monkeypatch)
    answer = "Backups are kept for 30 days on the Team plan [1]. They are also printed on paper [2]."
    at, hits = _app(monkeypatch, statuses=statuses,
                    chat_model=lambda: GenericFakeChatModel(messages=iter([answer])))
    at.run()
    at.selectbox(key="answer_provider").set_value("fake").run()
    assert at.selectbox(key="answer_model_fake").value == "fake-1"
    assert at.text_area(key="answer_template").value.startswith("Answer the question")
    at.button(key="answer_generate").click().run()
    assert not at.exception
    assert at.session_state["cited"] == {1, 2}
    page = _html(at)
    assert "Backups are kept for 30 days on the Team plan" in page and 'href=\\"#hit-2\\"' in page
    assert "wavy" in page  # the invented "printed on paper" claim is marked weakly supported
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Cost"] == "$0.00000" and " / " in metrics["Tokens in / out"]
    # A rerun keeps the generated answer without calling the model again.
    at.run()
    assert at.session_state["cited"] == {1, 2}


def test_a_provider_error_shows_a_message_and_the_extractive_answer(monkeypatch):
    statuses = _fake_status(monkeypatch)
    at, hits = _app(monkeypatch, statuses=statuses,
                    chat_model=lambda: RaisingChatModel(error=ModelAuthenticationError(f"bad key {FAKE_KEY}")))
    at.run()
    at.selectbox(key="answer_provider").set_value("fake").run()
    at.button(key="answer_generate").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors and "API key was rejected" in errors[0] and FAKE_KEY not in " ".join(errors)
    assert any(c.value.startswith("Shown instead: Extractive answer") for c in at.caption)
    assert at.session_state["cited"]


def test_an_invalid_template_disables_generation(monkeypatch):
    statuses = _fake_status(monkeypatch)
    at, _ = _app(monkeypatch, statuses=statuses, chat_model=lambda: GenericFakeChatModel(messages=iter(["x"])))
    at.run()
    at.selectbox(key="answer_provider").set_value("fake").run()
    at.text_area(key="answer_template").set_value("No placeholders here").run()
    assert any("{context}" in e.value for e in at.error)
    assert at.button(key="answer_generate").disabled
    at.button(key="answer_template_reset").click().run()
    assert "{context}" in at.text_area(key="answer_template").value
    assert not at.button(key="answer_generate").disabled


def test_an_edited_template_survives_switching_to_extractive_and_back(monkeypatch):
    statuses = _fake_status(monkeypatch)
    at, _ = _app(monkeypatch, statuses=statuses, chat_model=lambda: GenericFakeChatModel(messages=iter(["x"])))
    at.run()
    at.selectbox(key="answer_provider").set_value("fake").run()
    at.text_area(key="answer_template").set_value("Be brief.\n{context}\nQ: {question}").run()
    at.selectbox(key="answer_provider").set_value("extractive").run()
    at.selectbox(key="answer_provider").set_value("fake").run()
    assert at.text_area(key="answer_template").value == "Be brief.\n{context}\nQ: {question}"


def test_a_configured_provider_is_preselected_but_nothing_is_sent_before_a_click(monkeypatch):
    statuses = _fake_status(monkeypatch)
    calls = []

    def model():
        calls.append(1)
        return GenericFakeChatModel(messages=iter(["x [1]."]))

    at, _ = _app(monkeypatch, statuses=statuses, chat_model=model)
    at.run()
    assert at.selectbox(key="answer_provider").value == "fake"
    assert calls == [] and any("Extractive answer" in c.value for c in at.caption)
