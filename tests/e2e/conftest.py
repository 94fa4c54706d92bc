"""Browser fixtures: one `streamlit run` server and one Debian Chromium per test module.

Each test gets a fresh browser context (a new Streamlit session with empty session state) on the
module's server. Pages are driven like a user would: clicks in the sidebar navigation (a URL
change would start a new session and lose the session's documents), keyboard on sliders, the real
file input. After every action we wait for the script run it caused to finish (counted from the
websocket, see tools/harness.py RunTracker) and for the page to be idle.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tools.harness import CHROMIUM, CHROMIUM_ARGS, IDLE_JS, RunTracker, StreamlitServer

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_docs"
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
LOGS = ARTIFACTS / "logs"
NO_CHROMIUM = f"Debian's Chromium is not installed at {CHROMIUM} (scripts/install-test-deps.sh installs it)"

RUN_TIMEOUT_S = 240  # the first index build loads the model and embeds the samples on 2 busy cores


def _need_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@pytest.fixture(scope="session")
def e2e_cache_dir(tmp_path_factory) -> Path:
    """One vector cache for all browser modules: only the first module pays for embedding."""
    return tmp_path_factory.mktemp("e2e-vector-cache")


@pytest.fixture(scope="module")
def server(request, e2e_cache_dir):
    _need_chromium()
    name = Path(request.module.__file__).stem
    log = LOGS / f"{name}.server.log"
    log.unlink(missing_ok=True)
    srv = StreamlitServer(cache_dir=e2e_cache_dir, log_path=log).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    # Per module, not per session: the sync API's event loop must not outlive the module and
    # meet the AppTest-based tests that run in the same process.
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class App:
    """One user's browser session on the app, with the few verbs the tests need."""

    def __init__(self, browser, url: str, name: str, init_scripts: tuple[str, ...] = ()) -> None:
        self.url = url
        self.name = name
        self.context = browser.new_context(viewport={"width": 1400, "height": 1400})
        for script in init_scripts:
            self.context.add_init_script(script)
        self.page = self.context.new_page()
        self.page.set_default_timeout(30_000)
        self.runs = RunTracker(self.page)
        self.dialogs: list[str] = []
        self.page.on("dialog", self._on_dialog)
        self.page_errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    # --- waiting -------------------------------------------------------------------------------
    def wait_run(self, before: int, timeout_s: float = RUN_TIMEOUT_S) -> None:
        """Wait until a script run finishes after `before` runs, then until the page is idle."""
        deadline = time.monotonic() + timeout_s
        while self.runs.finished <= before:
            if time.monotonic() > deadline:
                raise AssertionError(f"no Streamlit script run finished within {timeout_s:.0f} s")
            self.page.wait_for_timeout(25)  # lets Playwright deliver websocket frames
        self.page.wait_for_function(IDLE_JS, timeout=timeout_s * 1000)

    def act(self, action, timeout_s: float = RUN_TIMEOUT_S) -> None:
        """Do `action` (which must make the app rerun) and wait for that run to finish."""
        before = self.runs.finished
        action()
        self.wait_run(before, timeout_s)

    # --- verbs ---------------------------------------------------------------------------------
    def open(self) -> App:
        self.page.goto(self.url)
        self.wait_run(0, 120)
        return self

    def nav(self, title: str) -> None:
        link = self.page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=title, exact=True)
        self.act(link.click)

    def click(self, key: str) -> None:
        self.act(self.page.locator(f".st-key-{key} button").first.click)

    def key(self, key: str):
        return self.page.locator(f".st-key-{key}")

    def choose(self, key: str, option: str) -> None:
        """Pick `option` in the selectbox `key`. The dropdown sometimes ignores a click that lands
        while the page is still settling, so open it until its options show (at most 3 tries)."""
        box = self.key(key).get_by_role("combobox")
        choice = self.page.get_by_role("option", name=option, exact=False).first
        for _ in range(3):
            box.click()
            try:
                choice.wait_for(timeout=5_000)
                break
            except PlaywrightTimeoutError:
                continue
        self.act(choice.click)

    def load_samples(self) -> None:
        """The Home page's button: loads the samples and moves on to Chunking."""
        self.nav("Home")
        self.click("home_load_samples")
        self.page.get_by_role("heading", name="Chunking").wait_for()

    def slider_value(self, key: str) -> int:
        return int(self.key(key).locator("input[type=range]").get_attribute("value"))

    def slider_keys(self, key: str, *presses: str) -> int:
        """Move a slider from the keyboard; returns its new value."""
        thumb = self.key(key).locator("input[type=range]")
        for press in presses:
            self.act(lambda press=press: thumb.press(press))
        return self.slider_value(key)

    def upload(self, files) -> None:
        """Files through the real <input type=file> of the Documents page's uploader."""
        self.act(lambda: self.key("uploader").locator("input[type=file]").set_input_files(files))

    def ask(self, question: str) -> None:
        box = self.key("query").locator("input")
        box.fill(question)
        self.act(lambda: box.press("Enter"))

    def metrics(self) -> dict[str, str]:
        """Label -> value of every st.metric on screen."""
        cards = self.page.locator("[data-testid='stMetric']")
        out = {}
        for i in range(cards.count()):
            card = cards.nth(i)
            label = card.locator("[data-testid='stMetricLabel']").inner_text().strip()
            out[label] = card.locator("[data-testid='stMetricValue']").inner_text().strip()
        return out

    def metric(self, label: str) -> str:
        values = self.metrics()
        assert label in values, f"no metric {label!r} on screen; there are {sorted(values)}"
        return values[label]

    def nav_titles(self) -> list[str]:
        return self.page.locator("[data-testid='stSidebarNavLink'] span[label]").evaluate_all(
            "spans => spans.map(s => s.getAttribute('label'))"
        )

    def sidebar(self) -> str:
        return self.page.locator("[data-testid='stSidebarUserContent']").inner_text()

    def alerts(self, kind: str = "") -> list[str]:
        """Texts of the alerts on screen; kind is Error, Warning, Info or Success."""
        loc = self.page.locator(f"[data-testid='stAlertContent{kind}']")
        return [t.strip() for t in loc.all_inner_texts()]

    def chart_drawn(self, key: str) -> bool:
        """Wait for plotly to draw the chart with this key (its .main-svg), True once it has."""
        self.key(key).locator(".main-svg").first.wait_for(state="attached", timeout=30_000)
        return True

    def hit_cards(self):
        return self.page.locator("[class*='st-key-hit_']")

    # --- evidence ------------------------------------------------------------------------------
    def assert_clean(self) -> None:
        """No Streamlit exception element, no JavaScript dialog (an injected alert()) ever."""
        exceptions = self.page.locator("[data-testid='stException']")
        assert exceptions.count() == 0, f"{self.name}: exception on page: {exceptions.all_inner_texts()}"
        assert not self.dialogs, f"{self.name}: a dialog opened (script from a document ran?): {self.dialogs}"

    def shot(self, label: str) -> Path:
        """Whole-page screenshot under test-artifacts/screenshots/, after every plotly chart drew.

        Streamlit scrolls inside its main pane, so a "full page" screenshot of the window would
        stop at the fold: the viewport is stretched to the pane's height for the picture.
        """
        viewport = self.page.viewport_size
        height = self.page.evaluate(
            "() => Math.max(...[...document.querySelectorAll(\"[data-testid='stMain'], [data-testid='stAppViewContainer'], [data-testid='stSidebarContent']\")].map(e => e.scrollHeight), 0)"
        )
        self.page.set_viewport_size({"width": viewport["width"], "height": int(min(max(height, viewport["height"]), 10_000))})
        try:
            charts = self.page.locator("[data-testid='stPlotlyChart']")
            for i in range(charts.count()):
                charts.nth(i).locator(".main-svg").first.wait_for(state="attached", timeout=30_000)
            self.page.wait_for_function(IDLE_JS)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            path = SCREENSHOTS / f"{self.name}-{label}.png"
            self.page.screenshot(path=str(path), full_page=True)
        finally:
            self.page.set_viewport_size(viewport)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def new_app(browser, server, request):
    """Factory of user sessions; each is closed after the test."""
    opened: list[App] = []

    def make(name: str | None = None, *, init_scripts: tuple[str, ...] = ()) -> App:
        app = App(browser, server.url, name or request.node.name, init_scripts)
        opened.append(app)
        return app.open()

    yield make
    for app in opened:
        app.close()


@pytest.fixture
def app(new_app) -> App:
    return new_app()
