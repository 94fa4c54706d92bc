"""ui.text in a real browser: every hostile string of tests/test_text.py, rendered through md()
and code() into the places the app puts user text (markdown, caption, info, expander label,
metric label), shows as its own text and nothing else: no image, link, maths, heading, list,
emoji, icon or colour (issue 16).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.test_text import HOSTILE
from tools.harness import IDLE_JS, free_port
from ui.text import one_line

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path("/tmp/shots/privacy")

SCRIPT = """
import sys
sys.path.insert(0, {root!r})
import streamlit as st
from tests.test_text import HOSTILE
from ui.text import code, md

for name, raw in HOSTILE.items():
    with st.container(key=f"case_{{name}}"):
        with st.container(key=f"md_{{name}}"):
            st.markdown(md(raw))
        with st.container(key=f"caption_{{name}}"):
            st.caption(md(raw))
        with st.container(key=f"info_{{name}}"):
            st.info(md(raw))
        with st.container(key=f"code_{{name}}"):
            st.markdown("Title: " + code(raw))
        with st.container(key=f"expander_{{name}}"):
            with st.expander(md(raw)):
                st.write("inside")
        with st.container(key=f"metric_{{name}}"):
            st.metric(md(raw), 1)
"""


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    script = tmp_path_factory.mktemp("markup") / "escape_app.py"
    script.write_text(SCRIPT.format(root=str(ROOT)))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.address", "127.0.0.1",
                             "--server.port", str(port), "--server.headless", "true"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env=dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false"))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)


def test_hostile_strings_render_as_their_own_text(browser, page_url):
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    page.goto(page_url)
    page.wait_for_selector(".st-key-case_unicode_breaks [data-testid='stMetric']", timeout=60_000)
    page.wait_for_function(IDLE_JS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "markup_escape.png"), full_page=True)
    problems = []
    for name, raw in HOSTILE.items():
        want = one_line(raw).strip()
        for where in ("md", "caption", "info", "code", "expander", "metric"):
            box = page.locator(f".st-key-{where}_{name}")
            label = box.locator("summary [data-testid='stMarkdownContainer']") if where == "expander" else box
            found = label.evaluate("""el => ({
                img: el.querySelectorAll('img').length,
                a: el.querySelectorAll('a[href]').length,
                math: el.querySelectorAll('.katex, math').length,
                heading: el.querySelectorAll('h1, h2, h3, h4, h5, h6').length,
                list: el.querySelectorAll('ul, ol, table, pre, blockquote, strong, em, del').length,
                icon: el.querySelectorAll('[data-testid="stIconMaterial"]').length,
                colour: [...el.querySelectorAll('span[style]')].filter(s => /color|background/.test(s.style.cssText)).length,
            })""")
            if any(found.values()):
                problems.append((name, where, {k: v for k, v in found.items() if v}))
            if where == "expander":
                shown = label.inner_text()
            elif where == "metric":
                shown = box.locator("[data-testid='stMetricLabel']").inner_text()
            else:
                shown = box.inner_text()
            shown = shown.replace("\u200b", "").strip()
            if where == "code":
                want_here = "Title: " + want.replace("`", "'")
            else:
                want_here = want
            if " ".join(shown.split()) != " ".join(want_here.split()):
                problems.append((name, where, f"shows {shown!r}, wanted {want_here!r}"))
    page.close()
    assert not problems, "\n".join(map(str, problems))
