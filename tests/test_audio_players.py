"""Chapter 16's audio players on the built site: every ``<audio>`` carries its WAV inline and
Chromium, offline, decodes it (``make book`` first; skipped without a browser, as the other
browser tests are, and required in CI)."""

from __future__ import annotations

import pytest
from browser import network_problems, start_chromium

PAGE = "notebooks/16-a-learned-upsampler.html"
PLAYERS = 10  # target, input, four models at initialisation, four trained

LOAD_ALL = """
const done = arguments[arguments.length - 1];
const players = [...document.querySelectorAll('audio')];
Promise.all(players.map(a => new Promise(resolve => {
  a.addEventListener('loadedmetadata', () => resolve([a.src.slice(0, 22), a.duration]));
  a.addEventListener('error', () => resolve([a.src.slice(0, 22), -1]));
  a.load();
}))).then(done);
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


def test_players_play_offline_from_their_data_uris(browser, site_url) -> None:
    browser.get(site_url + PAGE)
    players = browser.execute_async_script(LOAD_ALL)
    assert len(players) == PLAYERS
    for prefix, duration in players:
        assert prefix == "data:audio/wav;base64,"
        assert duration == pytest.approx(1.5, abs=0.01)  # decoded: a second and a half
    assert network_problems(browser.get_log("performance"), site_url) == []
