"""Shared fixtures: paths resolved from this file, one vector cache per test session.

Test tiers, by marker: the fast tier (`-m "not model and not browser"`) never loads the
embedding model; `-m model` uses the real model in this process; `-m browser` drives Chromium.
The model guard below makes the fast tier honest: an unmarked test that loads the model fails.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_docs"

# One on-disk vector cache for the whole run, away from the user's own cache.
_CACHE = Path(os.environ.get("PYTEST_RAG_CACHE", "/tmp/rag-explorer-test-cache"))
os.environ["RAG_EXPLORER_CACHE"] = str(_CACHE)
# Pages load the model when they need it, not in the background at start-up: a page test of the
# fast tier must never load it (the guard below would fail it), and the model tier loads it once.
os.environ["RAG_EXPLORER_PRELOAD"] = "0"


# --- the model guard ---------------------------------------------------------------------------

MODEL_TIERS = ("model", "browser")
_MODEL_ATTEMPT = pytest.StashKey[str]()


class ModelNotAllowed(RuntimeError):
    """Raised where an unmarked test would load the embedding model."""


def _may_load_model(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(name) for name in MODEL_TIERS)


def _refusal(item: pytest.Item, what: str) -> str:
    return (
        f"{item.nodeid} {what}: this test loads the embedding model: mark it @pytest.mark.model "
        "(or give it a fake embedder) so that the fast tier, -m 'not model and not browser', stays fast"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """The real_embedder fixture refuses an unmarked test before any fixture is set up, so the
    model is never loaded for it (and a session copy loaded by an earlier test is not handed out)."""
    if "real_embedder" in item.fixturenames and not _may_load_model(item):
        pytest.fail(_refusal(item, "requests the real_embedder fixture"), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem):
    """For an unmarked test, from its setup to its teardown (module and session fixtures it sets
    up included): constructing SentenceTransformerEmbedder (directly, via default_embedder or
    via a page run by AppTest in this process) or encoding with one already cached raises.

    A hook, not an autouse fixture: function-scoped fixtures are set up after the module and
    session fixtures a test uses, too late to stop those loading the model."""
    if _may_load_model(item):
        return (yield)
    from core.embedding import SentenceTransformerEmbedder

    def refuse(what: str):
        def refused(*_args, **_kwargs):
            message = _refusal(item, what)
            item.stash[_MODEL_ATTEMPT] = message
            raise ModelNotAllowed(message)

        return refused

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SentenceTransformerEmbedder, "__init__", refuse("constructs SentenceTransformerEmbedder"))
        mp.setattr(SentenceTransformerEmbedder, "embed", refuse("embeds with SentenceTransformerEmbedder"))
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """AppTest catches a page's exception and shows it as an element, and a test may not look at
    it: a refused model load fails the test with the refusal, whatever the test asserted."""
    try:
        result = yield
    except ModelNotAllowed:
        raise
    except Exception:
        if _MODEL_ATTEMPT in item.stash:
            raise pytest.fail.Exception(item.stash[_MODEL_ATTEMPT], pytrace=False) from None
        raise
    if _MODEL_ATTEMPT in item.stash:
        pytest.fail(item.stash[_MODEL_ATTEMPT], pytrace=False)
    return result


# --- shared fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def real_embedder():
    """The real bundled model behind an on-disk cache (loaded once per test run).

    Only for tests marked `model` (or `browser`): pytest_runtest_setup above refuses the others.
    """
    from core.embedding import default_embedder

    return default_embedder(cache_dir=_CACHE)


@pytest.fixture(scope="session")
def sample_docs():
    from core.documents import load_directory

    report = load_directory(SAMPLES)
    assert not report.errors, report.errors
    return list(report.documents)


@pytest.fixture(scope="session")
def sample_questions():
    from core.evaluation import load_questions

    qs = load_questions((SAMPLES / "questions.jsonl").read_bytes(), "questions.jsonl")
    assert not qs.errors, qs.errors
    return list(qs.questions)


@pytest.fixture
def app_test():
    """AppTest factory for the multipage app, with Streamlit caches cleared between tests."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()

    def make(timeout: float = 120):
        return AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)

    return make
