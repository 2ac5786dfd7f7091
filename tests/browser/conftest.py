"""Headless Chromium (Debian's package) driven by Playwright, against pytest-django's live server.

Pages are tried at a laptop's 1366x768 (`page`) and at a tablet's 1024x768 or 768x1024 (`new_page`)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
DOCS_IMAGES = ROOT / "docs" / "images"
LAPTOP = {"width": 1366, "height": 768}
TABLET_LANDSCAPE = {"width": 1024, "height": 768}
TABLET_PORTRAIT = {"width": 768, "height": 1024}


@pytest.fixture
def demo(transactional_db):
    """The demo network and logins (tests/browser/scenario.py)."""
    from tests.browser import scenario

    scenario.demo_network()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        message = "Debian's chromium is not installed: apt-get install -y chromium (.ci/run does it)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must run the browser tests, never skip them
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's async-safety check would refuse the
    # ORM calls the tests make between page actions. Only while the browser runs.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync"],
        )
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def new_page(browser):
    """Pages in contexts of their own (a viewport, a signed-in session's storage state), closed after the test."""
    contexts = []

    def make(viewport=LAPTOP, storage_state=None, locale="en-GB", bypass_csp=False):
        context = browser.new_context(viewport=viewport, locale=locale, timezone_id="Asia/Shanghai",
                                      storage_state=storage_state, bypass_csp=bypass_csp)
        contexts.append(context)
        page = context.new_page()
        # How long an action may wait for its element or page: a limit for a page that never comes, which a
        # passing test never reaches, so it is generous (parallel workers on a busy 2-core machine).
        page.set_default_timeout(60_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page(LAPTOP)


@pytest.fixture
def screenshot():
    """Keep a screenshot in test-artifacts/screenshots/. With `docs="name"` and DOCS_IMAGES=1 in the environment
    (`make docs-images`), also the visible part of the page as docs/images/<name>.png for the user guide, made
    smaller with pngquant where it is installed."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, full_page: bool = True, docs: str = "", scroll_to: str = "") -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        if docs and os.environ.get("DOCS_IMAGES"):
            DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
            image = DOCS_IMAGES / f"{docs}.png"
            if scroll_to:  # the part of the page the guide is about, at the top of the picture
                page.locator(scroll_to).first.evaluate("element => element.scrollIntoView({block: 'start'})")
            page.screenshot(path=str(image), full_page=False)
            if shutil.which("pngquant"):
                subprocess.run(["pngquant", "--force", "--skip-if-larger", "--quality=60-90", "--output",
                                str(image), str(image)], check=False)
        return path

    return take
