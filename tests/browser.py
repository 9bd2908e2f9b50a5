"""Headless Chromium for the browser tests (`test_site.py`, `test_explorer.py`): where to find
it, how to start it offline, a quiet local file server, and what a page's network log says.

Without Chromium (and chromedriver) the browser tests skip with a message saying how to
install them, unless ``CONVTRANSPOSE_REQUIRE_BROWSER=1`` (CI sets it) makes them fail.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

#: The website as `make book` builds it.
SITE = Path(__file__).resolve().parent.parent / "_build" / "html"
REQUIRE = os.environ.get("CONVTRANSPOSE_REQUIRE_BROWSER", "") not in ("", "0")
INSTALL_HINT = (
    "needs Chromium and its driver: `sudo apt-get install chromium chromium-driver` "
    "(Debian/Ubuntu), or set CHROMIUM and CHROMEDRIVER to their paths"
)
#: How long a page may take to load and run its scripts (seconds).
PAGE_TIMEOUT = 30


def unavailable(reason: str) -> None:
    """Skip (on a laptop) or fail (in CI, where the browser must be there) with ``reason``."""
    if REQUIRE:
        pytest.fail(f"{reason} (CONVTRANSPOSE_REQUIRE_BROWSER is set)", pytrace=False)
    pytest.skip(reason)


def browser_paths() -> tuple[str, str] | None:
    """Chromium and chromedriver: from CHROMIUM/CHROMEDRIVER, else from PATH."""
    if "CHROMIUM" in os.environ:
        browsers = [os.environ["CHROMIUM"]]
    else:
        browsers = ["chromium", "chromium-browser", "google-chrome"]
    browser = next(filter(None, map(shutil.which, browsers)), None)
    driver = shutil.which(os.environ.get("CHROMEDRIVER") or "chromedriver")
    return (browser, driver) if browser and driver else None


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static file server that keeps pytest's output clean."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """``directory`` served from a thread on a free 127.0.0.1 port; yields its root URL."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site_url() -> Iterator[str]:
    """The built site (:data:`SITE`), served on localhost."""
    if not (SITE / "index.html").is_file():
        unavailable(f"no built site in {SITE}: run `make book` first")
    with serve(SITE) as url:
        yield url


def start_chromium(profile: Path):
    """Headless Chromium with the fresh profile folder ``profile``, offline for real: any
    host but 127.0.0.1 fails to resolve, and every such request is in the performance log
    (:func:`network_problems`). Skips or fails (:func:`unavailable`) without a browser."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("needs selenium (`pip install -r requirements.txt`)")
    paths = browser_paths()
    if paths is None:
        unavailable(INSTALL_HINT)
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=paths[1]))
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    driver.set_script_timeout(PAGE_TIMEOUT)
    return driver


def network_problems(log: list[dict], site_url: str) -> list[str]:
    """Failed requests, HTTP errors and requests that left ``site_url``, from Chromium's
    performance log (the DevTools protocol's Network events)."""
    urls: dict[str, str] = {}
    problems = []
    for entry in log:
        message = json.loads(entry["message"])["message"]
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            urls[params["requestId"]] = url
            leaves = urlsplit(url).scheme in ("http", "https", "ws", "wss", "ftp")
            if leaves and not url.startswith(site_url):  # chrome:// is the browser's own
                problems.append(f"request leaves the site: {url}")
        elif method == "Network.responseReceived" and params["response"]["status"] >= 400:
            problems.append(f"HTTP {params['response']['status']}: {params['response']['url']}")
        # Only the page's own requests fail it: one whose start is not in this page's log
        # was made by the browser itself before the page (seen right after its start).
        elif (
            method == "Network.loadingFailed"
            and not params.get("canceled")
            and params["requestId"] in urls
        ):
            problems.append(f"failed ({params.get('errorText')}): {urls[params['requestId']]}")
    return problems
