"""The workshop's decks (`make slides`): each builds offline from slides/ and, in headless
Chromium with no network, steps through every slide with no console error and no request
that fails or leaves the server, every figure drawn and every embedded explorer shown."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import network_problems, serve, start_chromium, unavailable

SLIDES = Path(__file__).resolve().parent.parent / "slides"
DECKS = sorted(path.stem for path in SLIDES.glob("session-*.md"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The decks as `make slides` builds them (warnings are errors), in a fresh folder."""
    if importlib.util.find_spec("sphinx_revealjs") is None:
        unavailable("needs sphinx-revealjs (`pip install -r requirements.txt`)")
    out = tmp_path_factory.mktemp("slides")
    command = [sys.executable, "-m", "sphinx", "-b", "revealjs", "-W", "-n", "-q"]
    subprocess.run([*command, str(SLIDES), str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def served(built: Path) -> Iterator[str]:
    with serve(built) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


def test_one_deck_per_session(built: Path) -> None:
    assert len(DECKS) >= 4
    for deck in DECKS:
        assert (built / f"{deck}.html").is_file()
    index = (built / "index.html").read_text()
    assert all(f"{deck}.html" in index for deck in DECKS)


_CURRENT = """
const slide = Reveal.getCurrentSlide();
const images = [...slide.querySelectorAll('img')];
const frames = [...slide.querySelectorAll('iframe')];
return {
  index: Reveal.getIndices().h + '.' + (Reveal.getIndices().v || 0),
  last: Reveal.isLastSlide(),
  images: images.length,
  broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
  frames: frames.map(f => !!(f.contentDocument && f.contentDocument.querySelector('svg'))),
  notes: slide.querySelectorAll('aside.notes').length,
};
"""


def wait_for(driver, script: str, timeout: float = 30) -> object:
    """Poll ``script`` until it returns something true (or fail after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}")


@pytest.mark.parametrize("deck", DECKS)
def test_deck_steps_through_every_slide_offline(browser, served: str, deck: str) -> None:
    browser.get_log("browser")
    browser.get_log("performance")
    browser.get(f"{served}{deck}.html")
    wait_for(browser, "return window.Reveal && Reveal.isReady && Reveal.isReady();")
    total = browser.execute_script("return Reveal.getTotalSlides();")
    seen, images, frames, notes = [], 0, 0, 0
    for _ in range(total):
        time.sleep(0.2)  # let the slide's images and iframes settle
        state = browser.execute_script(_CURRENT)
        if state["frames"] and not all(state["frames"]):  # an explorer still loading
            state = wait_for(browser, _CURRENT.replace("return {", "const s = {") + ";"
                             "return s.frames.every(Boolean) && s;", timeout=15)  # fmt: skip
        assert not state["broken"], f"{deck}, slide {state['index']}: images not drawn"
        seen.append(state["index"])
        images, frames, notes = (
            images + state["images"],
            frames + len(state["frames"]),
            notes + state["notes"],
        )
        if state["last"]:
            break
        browser.execute_script("Reveal.next();")
    assert len(seen) == total == len(set(seen)), seen
    assert images >= 1, f"{deck}: no figure of the package"
    assert notes >= total - 1, f"{deck}: speaker notes missing ({notes} for {total} slides)"
    console = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert console + network_problems(browser.get_log("performance"), served) == []
