"""Publish & serve in a real Chromium: start the embedded PostgreSQL with the page's button, publish
the samples, serve Index & Retrieval from the collection and see the database's scores on the hits.

The embedded server's data folder is the app's own (see core.pg.embedded_plan: as root, the
module's private temporary cache folder makes it /var/lib/rag-explorer/postgres); publishing
the same name again replaces it atomically, so repeated runs leave one collection.
"""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

QUESTION = "How long are backups kept on the Team plan?"
NAME = "e2e samples"


def test_publish_the_samples_and_query_the_served_collection(app):
    app.load_samples()
    app.nav("Publish & serve")
    app.click("pg_start_embedded")
    metrics = app.metrics()
    assert metrics["PostgreSQL"].startswith("16.") and metrics["pgvector"] == "0.6.2", metrics
    assert metrics["Server"] == "Embedded (this machine)"

    box = app.key("pg_collection_name").locator("input")
    box.fill(NAME)
    app.act(lambda: box.press("Enter"))
    app.click("pg_publish")
    successes = app.alerts("Success")
    assert any(f"Published '{NAME}'" in s for s in successes), successes
    app.choose("serve_from_production", f"PostgreSQL collection '{NAME}'")
    app.page.get_by_text("Standalone: the same single SQL statement").wait_for()
    app.shot("production")
    app.assert_clean()

    app.nav("Index & Retrieval")
    app.ask(QUESTION)
    assert any("Serving from PostgreSQL" in s for s in app.alerts("Info")), app.alerts("Info")
    cards = app.hit_cards()
    assert cards.count() == 5
    first = cards.first.inner_text()
    assert "Dense (pgvector cosine)" in first and "Full-text (PostgreSQL + IDF)" in first and "fusion" in first.lower()
    app.shot("retrieval_served")
    app.assert_clean()
