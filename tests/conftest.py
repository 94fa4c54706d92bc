"""Shared fixtures: paths resolved from this file, one vector cache per test session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_docs"

# One on-disk vector cache for the whole run, away from the user's own cache.
_CACHE = Path(os.environ.get("PYTEST_RAG_CACHE", "/tmp/rag-explorer-test-cache"))
os.environ["RAG_EXPLORER_CACHE"] = str(_CACHE)


@pytest.fixture(scope="session")
def real_embedder():
    """The real bundled model behind an on-disk cache (loaded once per test run)."""
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
