"""Several users at once: each browser session sees only its own documents, settings and results,
while the embedding model is loaded once per server process and shared.

How "loaded once" is observed without exposing anything new in the app: the model is behind
st.cache_resource with a spinner ("Loading the embedding model (once per server)..."). A
MutationObserver in each browser records every time that spinner enters the page. The first user
on a fresh server must see it; a second user arriving later must never see it, because the model
is already in the process. An AppTest check counts the model's constructions directly.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tools.harness import MODEL_SPINNER_TEXT

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_docs"
SAMPLE_NAMES = {p.name for p in SAMPLES.iterdir() if p.is_file() and p.suffix != ".jsonl"}

SPINNER_WATCH_JS = """(() => {
  window.__modelSpinner = 0;
  const phrase = PHRASE;
  new MutationObserver((mutations) => {
    for (const m of mutations) for (const node of m.addedNodes) {
      if ((node.textContent || '').includes(phrase)) window.__modelSpinner++;
    }
  }).observe(document, {subtree: true, childList: true, characterData: true});
})();""".replace("PHRASE", repr(MODEL_SPINNER_TEXT))


def _hit_docs(app) -> set[str]:
    return set(app.hit_cards().locator("code").all_inner_texts())


@pytest.mark.model
def test_two_sessions_in_one_process_construct_the_model_once(app_test, monkeypatch):
    """AppTest complement: two sessions index different documents; the model is built once."""
    import streamlit as st

    import core.embedding as embedding

    constructed = []
    real = embedding.SentenceTransformerEmbedder

    class Counting(real):
        def __init__(self, *args, **kwargs):
            constructed.append(kwargs.get("backend"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(embedding, "SentenceTransformerEmbedder", Counting)
    st.cache_resource.clear()
    try:
        for name in ("faq.md", "api_overview.md"):
            at = app_test(timeout=300)
            at.run()
            at.switch_page("pages/documents.py").run()
            at.file_uploader(key="uploader").upload(name, (SAMPLES / name).read_bytes(), "text/markdown").run()
            at.switch_page("pages/retrieval.py").run()
            assert not at.exception
            assert int({m.label: m.value for m in at.metric}["Vectors"].replace(",", "")) > 0
    finally:
        st.cache_resource.clear()  # leave no Counting model cached for the tests that follow
    assert len(constructed) == 1, f"the model was constructed {len(constructed)} times"


def test_two_users_at_once_see_only_their_own_documents_settings_and_results(new_app):
    from core.chunking import ChunkConfig

    assert MODEL_SPINNER_TEXT in (ROOT / "ui" / "resources.py").read_text(), "spinner text changed: update the test"
    a = new_app("user-a", init_scripts=(SPINNER_WATCH_JS,))
    b = new_app("user-b", init_scripts=(SPINNER_WATCH_JS,))

    # A: the samples, a larger chunk size. B: one uploaded file, default chunking.
    a.load_samples()
    size_a = a.slider_keys("chunk_size", "PageUp")
    overlap_a = a.slider_value("chunk_overlap")
    b.nav("Documents")
    b.upload([str(SAMPLES / "release_notes.html")])
    assert b.page.get_by_role("heading", name="Loaded documents (1)").count() == 1

    # A indexes first on this fresh server: A's session loads the model, with the spinner.
    a.nav("Index & Retrieval")
    assert a.page.evaluate("window.__modelSpinner") > 0, "the first user never saw the model-loading spinner"
    b.nav("Index & Retrieval")
    assert b.page.evaluate("window.__modelSpinner") == 0, "the model was loaded again for the second user"
    vectors_a, vectors_b = (int(x.metric("Vectors").replace(",", "")) for x in (a, b))
    assert vectors_a != vectors_b

    # Both ask at the same moment; each gets hits from its own documents only.
    question = "What changed in the latest release?"
    for app in (a, b):
        app.key("query").locator("input").fill(question)
    before = {app.name: app.runs.finished for app in (a, b)}
    a.key("query").locator("input").press("Enter")
    b.key("query").locator("input").press("Enter")
    a.wait_run(before["user-a"])
    b.wait_run(before["user-b"])
    docs_a, docs_b = _hit_docs(a), _hit_docs(b)
    assert docs_a and docs_a <= SAMPLE_NAMES
    assert docs_b == {"release_notes.html"}
    assert a.hit_cards().count() == 5
    assert b.hit_cards().count() == min(5, vectors_b)

    assert "Documents: 8" in a.sidebar() and f"recursive {size_a}/{overlap_a} tokens" in a.sidebar()
    default = ChunkConfig()
    assert "Documents: 1" in b.sidebar() and f"{default.label()}" in b.sidebar()
    for app in (a, b):
        app.shot("retrieval")
        app.assert_clean()

    # Settings and documents stay apart when each goes back.
    a.nav("Chunking")
    b.nav("Chunking")
    assert a.slider_value("chunk_size") == size_a
    assert b.slider_value("chunk_size") == default.size
    a.nav("Documents")
    b.nav("Documents")
    assert a.page.get_by_role("heading", name="Loaded documents (8)").count() == 1
    assert b.page.get_by_role("heading", name="Loaded documents (1)").count() == 1
    for app in (a, b):
        app.assert_clean()


def test_a_third_user_starts_empty_while_others_work(new_app):
    c = new_app("user-c")
    assert "Documents: 0" in c.sidebar()
    c.nav("Chunking")
    assert c.page.get_by_text("Load documents first").count() == 1
    c.assert_clean()
