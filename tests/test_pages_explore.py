"""AppTest runs of Home, Documents, Chunking and Index & Retrieval through the real router."""
from __future__ import annotations

import pytest

from tests.conftest import SAMPLES


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
    table = at.dataframe[0].value
    assert list(table["name"]) == ["pricing_and_plans.pdf", "notes.md"]
    assert int(table.loc[table["name"] == "pricing_and_plans.pdf", "pages"].iloc[0]) >= 2
    assert (table["tokens"] > 0).all()


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
    assert len(whys) == 5 and "RRF" in whys[0]
    assert any("chars" in m.value and "#1" in m.value for m in at.markdown)
    at.slider(key="retrieval_k_slider").set_value(2).run()
    assert len([c for c in at.caption if c.value.startswith("Why here")]) == 2
    assert at.session_state["retrieval_config"].k == 2  # the one typed config; no mirror key
    assert any("tokens" in m.value and "top-2" in m.value for m in at.markdown)
