"""Browser tests: the workbench served by uvicorn on loopback, driven by Playwright in Debian's Chromium.

The server listens on a socket bound before its thread starts, so the first request simply waits in the
socket's queue (no sleeping). Chromium is /usr/bin/chromium (``make test`` installs Debian's package
when it can) or ``FAIRSHARE_CHROMIUM``; without it the browser tests are skipped, saying why.
Screenshots go to ``FAIRSHARE_SCREENSHOTS`` (default: the test's temporary directory).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn

from fairshare.web.app import create_app
from fairshare.web.seed import DEMO_PASSWORD
from fairshare.web.settings import Settings

CHROMIUM = os.environ.get("FAIRSHARE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium not installed (apt-get install chromium)")


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """The workbench on a fresh demo database, at http://127.0.0.1:<port>."""
    app = create_app(Settings(data_dir=tmp_path / "db", demo=True))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
        app.state.db.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    d = Path(os.environ.get("FAIRSHARE_SCREENSHOTS", tmp_path / "screens"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture
def page_as(browser: object, live_server: str) -> Iterator[Callable[[str], object]]:
    """``page_as(email)``: a new browser context signed in through the sign-in form, on the home page."""
    contexts: list[object] = []

    def open_as(email: str) -> object:
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(live_server + "/")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Signed in as")
        return page

    yield open_as
    for ctx in contexts:
        ctx.close()  # type: ignore[attr-defined]
