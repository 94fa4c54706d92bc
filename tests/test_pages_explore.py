"""AppTest runs of Home, Documents, Chunking and Index & Retrieval through the real router."""
from __future__ import annotations

import pytest

from core import model
from core.chunking import ChunkConfig
from core.settings import SERVER_UPLOAD_MB
from tests.conftest import SAMPLES


def _documents_table(at):
    """The loaded-documents table (the page also shows a table of its reading limits)."""
    tables = [d.value for d in at.dataframe if "name" in d.value.columns]
    assert len(tables) == 1, [list(d.value.columns) for d in at.dataframe]
    return tables[0]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_home_shows_the_session_and_loads_samples(app_test):
    at = app_test()
    at.run()
    assert not at.exception
    assert metrics(at)["Documents loaded"] == "0"
    at.button(key="home_load_samples").click().run()
    assert not at.exception
    at.switch_page("pages/home.py").run()
    assert int(metrics(at)["Documents loaded"]) >= 6


def test_upload_through_the_file_uploader_with_a_bad_file(app_test):
    at = app_test()
    at.run()
    at.switch_page("pages/documents.py").run()
    uploader = at.get("file_uploader")[0]
    pdf = (SAMPLES / "pricing_and_plans.pdf").read_bytes()
    uploader.upload("pricing_and_plans.pdf", pdf, "application/pdf")
    uploader.upload("empty.txt", b"", "text/plain")
    uploader.upload("notes.md", b"# Notes\n\nThe <script>alert(1)</script> tag is text here.", "text/markdown").run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("empty.txt" in e and "empty" in e for e in errors)
    table = _documents_table(at)
    assert list(table["name"]) == ["pricing_and_plans.pdf", "notes.md"]
    assert int(table.loc[table["name"] == "pricing_and_plans.pdf", "pages"].iloc[0]) >= 2
    assert (table["tokens"] > 0).all()


def test_files_without_an_extension_are_sniffed_and_old_banners_go(app_test):
    at = app_test()
    at.run()
    at.switch_page("pages/documents.py").run()
    uploader = at.file_uploader(key="uploader")
    assert list(uploader.proto.type) == []  # no browser-side type filter: it refused LICENSE unread
    at.button(key="docs_load_samples").click().run()
    assert [s.value for s in at.success] == ["Loaded the sample documents."]

    uploader = at.file_uploader(key="uploader")
    uploader.upload("LICENSE", b"Apache License\nVersion 2.0, January 2004\n", "")
    uploader.upload("BSD", bytes(range(256)) * 8, "").run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Loaded 1 document(s)."]  # this upload's banner, not the old one
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("BSD:") and "binary" in errors[0]
    table = _documents_table(at)
    assert list(table["name"])[-1] == "LICENSE"
    assert table.loc[table["name"] == "LICENSE", "type"].iloc[0] == "text"


def test_documents_page_states_one_size_limit_with_the_server_cap(app_test):
    at = app_test()
    at.run()
    at.switch_page("pages/documents.py").run()
    limit = at.number_input(key="max_file_mb").value
    caption = next(c.value for c in at.caption if "Files up to" in c.value)
    assert f"**{limit} MB**" in caption and f"{SERVER_UPLOAD_MB} MB" in caption  # the page's limit, the uploader's cap
    at.number_input(key="max_file_mb").set_value(10).run()
    assert "**10 MB**" in next(c.value for c in at.caption if "Files up to" in c.value)
    # The limit survives a page switch and a sample load, and is the widget's default too: a browser
    # that redraws the field from its default shows the limit, not the 1 MB minimum.
    at.switch_page("pages/chunking.py").run()
    at.switch_page("pages/documents.py").run()
    at.button(key="docs_load_samples").click().run()
    field = at.number_input(key="max_file_mb")
    assert field.value == 10 and field.proto.default == 10


def test_chunking_first_view_with_the_default_does_not_warn(app_test):
    at = app_test()
    at.run()
    at.button(key="home_load_samples").click().run()
    at.switch_page("pages/chunking.py").run()
    assert not at.exception
    assert (at.slider(key="chunk_size").value, at.slider(key="chunk_overlap").value) == (
        ChunkConfig().size, ChunkConfig().overlap)
    assert metrics(at)["Truncated when embedded"] == "0 (0%)"
    assert not at.warning
    # Past the window the warning states the trade-off instead of ordering a smaller size.
    at.slider(key="chunk_size").set_value(400).run()
    (warning,) = [w.value for w in at.warning]
    assert "longer than the model's" in warning and "BM25 reads every chunk whole" in warning
    assert f"only the first {model.TEXT_WINDOW} tokens" in warning
    assert "Use a smaller chunk size" not in warning


def test_slider_change_rechunks_and_bad_overlap_is_refused(app_test):
    at = app_test()
    at.run()
    at.button(key="home_load_samples").click().run()
    at.switch_page("pages/chunking.py").run()
    assert not at.exception
    before = int(metrics(at)["Chunks"].replace(",", ""))
    at.slider(key="chunk_size").set_value(60).run()
    after = int(metrics(at)["Chunks"].replace(",", ""))
    assert after > before
    at.slider(key="chunk_overlap").set_value(90).run()
    assert any("must be smaller than the chunk size" in e.value for e in at.error)
    assert int(metrics(at)["Chunks"].replace(",", "")) == after  # the last valid setting stays
    at.slider(key="chunk_size").set_value(600).run()
    at.slider(key="chunk_overlap").set_value(0).run()
    assert any("truncate" in w.value or "window" in w.value for w in at.warning)


@pytest.mark.model
def test_query_shows_hits_with_scores_and_a_prompt(app_test):
    at = app_test(timeout=300)
    at.run()
    at.button(key="home_load_samples").click().run()
    at.switch_page("pages/retrieval.py").run()
    assert not at.exception
    assert metrics(at)["Dimensions"] == "384"
    at.text_input(key="query").input("What does error LF-1009 mean?").run()
    assert not at.exception
    whys = [c.value for c in at.caption if c.value.startswith("Why here")]
    assert len(whys) == 5 and "Z-score fusion = 0.6 x" in whys[0]  # the default fusion and weight (issue 13)
    assert any("chars" in m.value and "#1" in m.value for m in at.markdown)
    at.slider(key="retrieval_k_slider").set_value(2).run()
    assert len([c for c in at.caption if c.value.startswith("Why here")]) == 2
    assert at.session_state["retrieval_config"].k == 2  # the one typed config; no mirror key
    assert any("tokens" in m.value and "top-2" in m.value for m in at.markdown)


@pytest.mark.model
def test_sample_question_has_a_placeholder_and_follows_the_question_box(app_test):
    at = app_test(timeout=300)
    at.run()
    at.button(key="home_load_samples").click().run()
    at.switch_page("pages/retrieval.py").run()
    assert not at.exception
    box = at.selectbox(key="sample_question")
    assert box.value is None and "" not in box.options and box.proto.placeholder  # no empty first option
    first, second = box.options[0], box.options[1]

    box.set_value(first).run()  # a pick fills the question box
    assert at.text_input(key="query").value == first
    assert at.selectbox(key="sample_question").value == first

    at.text_input(key="query").input("What does error LF-1009 mean?").run()  # another question typed
    assert not at.exception
    assert at.selectbox(key="sample_question").value is None  # back to the placeholder
    assert at.text_input(key="query").value == "What does error LF-1009 mean?"

    at.selectbox(key="sample_question").set_value(second).run()  # and a new pick still works
    assert at.text_input(key="query").value == second
    at.selectbox(key="sample_question").set_value(first).run()
    assert at.text_input(key="query").value == first
