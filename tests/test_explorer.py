"""The book's explorer (``src/convtranspose/explorer/static/explorer/``) in headless Chromium.

Its ``compute`` is arithmetic, and torch is its oracle: a generated table of random cases
(every size argument, non-integer and non-finite values) must give
``torch.nn.functional.conv_transpose1d``'s output, and every combination the package rejects
must be rejected with the package's exception type and message. Then the page: every preset
renders the right numbers without console errors or requests, pointing at an output
highlights the inputs and taps that made it, the PyTorch snippet reproduces the output, the
notebook's inlined copy works, and nothing overflows a phone's width.

The files are served from a local ``http.server`` on 127.0.0.1; Chromium resolves no other
host. Without Chromium the tests skip, as ``test_site.py``'s do (and fail under
``CONVTRANSPOSE_REQUIRE_BROWSER=1``).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from browser import network_problems, serve, start_chromium
from hypothesis import given
from hypothesis import strategies as st

from convtranspose import reference
from convtranspose.explorer import STATIC, VIEWS, explorer, page, query

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
#: The chapters that embed the explorer, and the case each one opens on.
CHAPTERS = {
    "02-unit-stride": dict(input=[1, 1]),
    "03-stride-larger-than-kernel": dict(input=[1, 1], stride=4),
    "04-stride-and-padding": dict(input=[1, 1], stride=2, padding=1, view="crop"),
    "05-output-padding": dict(input=[1, 1, 1], stride=2, padding=1, output_padding=1, view="crop"),
    "06-dilation": dict(input=[1, 1, 1], dilation=2),
    "09-equivalent-algorithms": dict(
        input=[1, 2, 3], kernel=[1, 10, 100], stride=2, padding=1, view="gather"
    ),
    "10-checkerboard-artifacts": dict(input=[1] * 6, stride=2, view="phases"),
}
SIZES = ("stride", "padding", "output_padding", "dilation")
SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


# --- the oracle --------------------------------------------------------------------------------


def encode(value: float) -> float | str:
    """JSON has no non-finite numbers: they travel as "nan", "inf", "-inf" (as in data-values)."""
    return value if math.isfinite(value) else {math.inf: "inf", -math.inf: "-inf"}.get(value, "nan")


def decode(value: float | str) -> float:
    return SPECIAL[value] if isinstance(value, str) else float(value)


def expected(case: dict) -> dict:
    """What the package says about ``case``: its error (type and message), or torch's output
    with, for each output, the sum of its terms' magnitudes (how far summation order may
    move it)."""
    x = torch.tensor(case["input"], dtype=torch.float64).reshape(1, 1, -1)
    w = torch.tensor(case["kernel"], dtype=torch.float64).reshape(1, 1, -1)
    sizes = [case[name] for name in SIZES]
    try:  # the package's checks, run first by every implementation
        reference.conv_transpose1d(x, w, None, sizes[0], sizes[1], sizes[2], 1, sizes[3])
    except (TypeError, RuntimeError, ValueError) as error:
        return {"error": str(error), "type": type(error).__name__}
    output = F.conv_transpose1d(x, w, None, *sizes[:3], 1, sizes[3]).flatten()
    scale = F.conv_transpose1d(x.abs(), w.abs(), None, *sizes[:3], 1, sizes[3]).flatten()
    return {"output": output, "scale": scale}


def assert_agrees(case: dict, got: dict) -> None:
    """The explorer's verdict is the package's; its output is torch's: the same non-finite
    values in the same places, and finite ones equal up to rounding in another order."""
    want = expected(case)
    if "error" in want:
        assert got == want, f"{case}: the package says {want}"
        return
    assert "error" not in got, f"{case}: explorer refused it ({got['error']}), torch did not"
    output = torch.tensor([decode(v) for v in got["output"]], dtype=torch.float64)
    assert got["length"] == want["output"].numel() == output.numel(), case
    finite = torch.isfinite(want["output"])
    assert torch.equal(torch.isnan(output), torch.isnan(want["output"])), (case, output)
    assert torch.equal(output[torch.isinf(output)], want["output"][torch.isinf(want["output"])])
    error = (output - want["output"]).abs()[finite]
    assert (error <= 1e-12 * want["scale"][finite] + 1e-300).all(), (case, output, want)


def value(rng: random.Random) -> float:
    """Small integers (sums readable by eye), non-integers, and now and then nan or ±inf."""
    kind = rng.random()
    if kind < 0.06:
        return rng.choice([math.nan, math.inf, -math.inf])
    if kind < 0.5:
        return float(rng.randint(-3, 3))
    return rng.uniform(-2.0, 2.0)


def random_case(rng: random.Random) -> dict:
    """Small sizes over every argument; about a fifth break a rule (mostly too much padding
    or output_padding), so valid and invalid cases come from the same table."""
    stride, dilation = rng.randint(1, 5), rng.randint(1, 4)
    return {
        "input": [value(rng) for _ in range(rng.randint(1, 8))],
        "kernel": [value(rng) for _ in range(rng.randint(1, 6))],
        "stride": stride,
        "padding": rng.randint(0, 7),
        "output_padding": rng.randint(0, max(stride, dilation) - (rng.random() > 0.1)),
        "dilation": dilation,
    }


#: Every rule of the package's checks, each broken once (and in combination, for the order).
INVALID = [
    {"stride": 0},
    {"stride": -2},
    {"padding": -1},
    {"dilation": 0},
    {"output_padding": -1},
    {"output_padding": 1},  # stride 1, dilation 1
    {"stride": 2, "output_padding": 2},
    {"stride": 2, "dilation": 3, "output_padding": 3},
    {"padding": 3},  # output length -2
    {"input": [1.0], "kernel": [1.0], "padding": 1},  # output length -1
    {"input": [], "kernel": [1.0]},
    {"kernel": []},
    {"input": [], "kernel": []},
    {"stride": 0, "padding": -1, "output_padding": 5},
    {"stride": 2.5},
    {"dilation": 1.5, "stride": 0},
    {"padding": [1, 2]},
]


def full_case(**changes: object) -> dict:
    case = {"input": [1.0, 1.0], "kernel": [1.0, 1.0, 1.0], "stride": 1, "padding": 0}
    case |= {"output_padding": 0, "dilation": 1}
    return case | changes


# --- the server and the browser ----------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The explorer's files under /explorer/, and a folder for host pages, on 127.0.0.1."""
    root = tmp_path_factory.mktemp("explorer-site")
    (root / "explorer").symlink_to(STATIC, target_is_directory=True)
    with serve(root) as url:
        yield url, root


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver, served: tuple[str, Path], query_string: str = "", width: int = 1280):
    """Open the explorer on ``query_string``; forget what earlier pages logged."""
    driver.set_window_size(width, 900)
    driver.get_log("browser")
    driver.get_log("performance")
    driver.get(f"{served[0]}explorer/index.html?{query_string}")


def problems(driver, served: tuple[str, Path]) -> list[str]:
    """Console errors and failed or outside requests since the page was opened."""
    console = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return console + network_problems(driver.get_log("performance"), served[0])


_COMPUTE = """
const special = {nan: NaN, inf: Infinity, "-inf": -Infinity};
const dec = (v) => typeof v === "string" ? special[v] : v;
const enc = (v) => Number.isFinite(v) ? v : (Number.isNaN(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
return arguments[0].map((c) => {
  const r = window.convtransposeExplorer.compute(
    Object.assign({}, c, {input: c.input.map(dec), kernel: c.kernel.map(dec)}));
  return r.error ? {error: r.error, type: r.type} : {output: r.output.map(enc), length: r.length};
});
"""


def compute(driver, cases: list[dict]) -> list[dict]:
    """``convtransposeExplorer.compute`` on every case, in one round trip."""
    sent = [c | {"input": list(map(encode, c["input"])), "kernel": list(map(encode, c["kernel"]))}
            for c in cases]  # fmt: skip
    return driver.execute_script(_COMPUTE, sent)


def shown(driver) -> list[float]:
    """The output the page renders (its data-values)."""
    element = driver.find_element("css selector", "[data-explorer-output]")
    return [decode(v) for v in json.loads(element.get_attribute("data-values"))]


# --- compute against torch ---------------------------------------------------------------------


def test_compute_agrees_with_torch_on_a_random_table(browser, served) -> None:
    open_page(browser, served)
    rng = random.Random(14)
    cases = [random_case(rng) for _ in range(1500)]
    results = compute(browser, cases)
    for case, got in zip(cases, results, strict=True):
        assert_agrees(case, got)
    valid = sum("output" in r for r in results)
    nonfinite = sum(any(isinstance(v, str) for v in r.get("output", [])) for r in results)
    # The table must reach both verdicts, every argument, and non-finite outputs.
    assert 900 < valid < 1400 and nonfinite > 100, (valid, nonfinite)
    for name in SIZES:
        assert len({c[name] for c, r in zip(cases, results, strict=True) if "output" in r}) > 3, (
            name
        )
    assert problems(browser, served) == []


@given(
    n=st.integers(1, 6),
    k=st.integers(1, 5),
    stride=st.integers(-1, 5),
    padding=st.integers(-1, 6),
    output_padding=st.integers(-1, 5),
    dilation=st.integers(0, 4),
    data=st.data(),
)
def test_compute_agrees_with_the_package_on_drawn_cases(
    browser, served, n, k, stride, padding, output_padding, dilation, data
) -> None:
    """Hypothesis draws the cases at test time (and shrinks a failure), rules broken too."""
    values = st.floats(allow_nan=True, allow_infinity=True, width=64)
    case = {
        "input": data.draw(st.lists(values, min_size=n, max_size=n)),
        "kernel": data.draw(st.lists(values, min_size=k, max_size=k)),
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
    }
    if browser.current_url.find("/explorer/index.html") < 0:
        open_page(browser, served)
    # Huge values overflow differently in different summation orders: compare the verdict
    # and the finite pattern there, the numbers elsewhere.
    (got,) = compute(browser, [case])
    want = expected(case)
    if "error" in want or all(
        abs(v) < 1e150 or math.isinf(v) for v in case["input"] + case["kernel"]
    ):
        assert_agrees(case, got)
    else:
        assert "output" in got and got["length"] == want["output"].numel()


@pytest.mark.parametrize("changes", INVALID, ids=str)
def test_invalid_combinations_are_refused_in_the_packages_words(browser, served, changes):
    case = full_case(**changes)
    want = expected(case)
    assert "error" in want, f"{case} is not invalid: the table is wrong"
    open_page(browser, served)
    (got,) = compute(browser, [case])
    assert got == want


# --- the page ----------------------------------------------------------------------------------


def presets() -> dict[str, str]:
    """The seed buttons' query strings and the chapters' cases, by name."""
    text = (STATIC / "index.html").read_text()
    buttons = [part.split('"')[0].replace("&amp;", "&") for part in text.split('data-query="')[1:]]
    assert len(buttons) == 4, "the four seed cases"
    return {f"seed {i}": q for i, q in enumerate(buttons)} | {
        name: query(**case) for name, case in CHAPTERS.items()
    }


def torch_output(query_string: str) -> list[float]:
    params = dict(part.split("=") for part in query_string.split("&"))
    numbers = {n: [decode(v) if v in SPECIAL else float(v) for v in params[n].split(",")]
               for n in ("input", "kernel")}  # fmt: skip
    sizes = {n: int(params.get(n, d)) for n, d in zip(SIZES, (1, 0, 0, 1), strict=True)}
    x = torch.tensor(numbers["input"], dtype=torch.float64).reshape(1, 1, -1)
    w = torch.tensor(numbers["kernel"], dtype=torch.float64).reshape(1, 1, -1)
    return F.conv_transpose1d(x, w, **sizes).flatten().tolist()


@pytest.mark.parametrize("name", list(presets()))
def test_every_preset_renders_its_case(browser, served, name) -> None:
    query_string = presets()[name]
    for width in (1280, 400):
        open_page(browser, served, query_string, width)
        assert shown(browser) == torch_output(query_string), (name, width)
        for view in VIEWS:  # each tab draws, and none widens the page
            browser.find_element("css selector", f"[data-view={view}]").click()
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} at {width} px, {view}: {overflow} px too wide"
        assert problems(browser, served) == [], (name, width)


def test_seed_buttons_and_controls_change_the_case(browser, served) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, served, "input=5")
    for button in browser.find_elements(By.CSS_SELECTOR, "[data-query]"):
        button.click()
        assert shown(browser) == torch_output(button.get_attribute("data-query"))
    # stride 2, padding 1 is showing: one more stride, by its + button
    browser.find_element(By.CSS_SELECTOR, "[data-for=stride][data-step='1']").click()
    assert shown(browser) == torch_output("input=1,1&kernel=1,1,1&stride=3&padding=1")
    field = browser.find_element(By.ID, "kernel-values")
    field.clear()
    field.send_keys("0.5, -1, nan")
    want = torch_output("input=1,1&kernel=0.5,-1,nan&stride=3&padding=1")
    assert str(shown(browser)) == str(want)  # nan == nan as text
    assert browser.find_element(By.ID, "kernel-length").get_attribute("value") == "3"
    assert "kernel=0.5,-1,nan" in browser.current_url  # the address holds the case


def test_an_invalid_combination_shows_the_rule_and_computes_nothing(browser, served) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, served, "input=1,1&stride=2&output_padding=2")
    error = browser.find_element(By.CSS_SELECTOR, ".error")
    want = expected(full_case(stride=2, output_padding=2))
    assert error.is_displayed() and error.text == want["error"]
    output = browser.find_element(By.CSS_SELECTOR, "[data-explorer-output]")
    assert output.get_attribute("data-values") == "[]"
    assert output.get_attribute("data-error") == want["error"]
    assert not browser.find_elements(By.CSS_SELECTOR, ".figure .cell")
    assert problems(browser, served) == []


def highlighted(driver, kind: str) -> set[int]:
    refs = driver.execute_script(
        "return [...document.querySelectorAll('.hl[data-ref]')].map((e) => e.dataset.ref)"
    )
    return {int(r[2:]) for r in refs if r[0] == kind}


def test_pointing_at_an_output_highlights_what_made_it(browser, served) -> None:
    """With the mouse on output o, the scatter view highlights exactly o's taps and inputs;
    on input i, exactly i's stamp; and the keyboard does the same as the pointer."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    case = full_case(input=[1.0, 2.0, 3.0], kernel=[1.0, 10.0, 100.0], stride=2, padding=1)
    open_page(browser, served, query(**case))
    r = browser.execute_script("return window.convtransposeExplorer.compute(arguments[0])", case)
    for o, taps in enumerate(r["contributions"]):
        cell = browser.find_element(By.CSS_SELECTOR, f"[data-explorer-output] [data-ref='o:{o}']")
        ActionChains(browser).move_to_element(cell).perform()
        assert highlighted(browser, "t") == set(taps), f"output {o}"
        assert highlighted(browser, "i") == {r["taps"][t]["i"] for t in taps}, f"output {o}"
        assert highlighted(browser, "o") == {o}
        caption = browser.find_element(By.CSS_SELECTOR, ".caption").text
        assert caption.startswith(f"y{'₀₁₂₃₄₅₆₇₈₉'[o]} = ") and caption.endswith(
            f"{r['output'][o]:g}"
        ), caption
    label = browser.find_element(By.CSS_SELECTOR, ".figure [data-ref='i:1']")
    ActionChains(browser).move_to_element(label).perform()
    assert highlighted(browser, "t") == set(r["stamps"][1])
    browser.execute_script("arguments[0].focus()", cell)  # the keyboard: focus the last output
    assert highlighted(browser, "t") == set(r["contributions"][-1])
    ActionChains(browser).send_keys(Keys.ARROW_LEFT).perform()  # and move left along the row
    assert highlighted(browser, "o") == {len(r["output"]) - 2}
    assert highlighted(browser, "t") == set(r["contributions"][-2])


def test_animation_steps_through_stamps_and_windows(browser, served) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, served, "input=1,1,1&stride=2")
    forward = browser.find_element(By.CSS_SELECTOR, "[data-play=forward]")
    progress = browser.find_element(By.CSS_SELECTOR, ".progress")
    forward.click()
    assert progress.text == "stamp 0 of 3" and not browser.find_elements(
        By.CSS_SELECTOR, ".figure [data-ref^='t:']"
    )
    forward.click()
    assert progress.text == "stamp 1 of 3"
    assert len(browser.find_elements(By.CSS_SELECTOR, ".figure [data-ref^='t:']")) == 3
    browser.find_element(By.CSS_SELECTOR, "[data-view=gather]").click()
    forward = browser.find_element(By.CSS_SELECTOR, "[data-play=forward]")
    forward.click()
    forward.click()
    texts = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".figure [data-ref^='o:']")]
    assert texts[:2] == ["1", "1"] and set(texts[2:]) == {""}, texts
    browser.find_element(By.CSS_SELECTOR, "[data-play=toggle]").click()
    assert browser.find_element(By.CSS_SELECTOR, "[data-play=toggle]").text == "pause"


def test_reduced_motion_turns_transitions_off(browser, served) -> None:
    browser.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]},
    )
    try:
        open_page(browser, served)
        duration = browser.execute_script(
            "return getComputedStyle(document.querySelector('.cell')).transitionDuration"
        )
        assert duration == "0s"
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def test_the_pytorch_snippet_reproduces_the_output(browser, served) -> None:
    from selenium.webdriver.common.by import By

    case = full_case(input=[0.5, -1.0, math.inf], kernel=[2.0, 0.25], stride=3, dilation=2)
    case |= {"padding": 1, "output_padding": 2}
    open_page(browser, served, query(**case, view="pytorch"))
    code = browser.find_element(By.CSS_SELECTOR, "[data-explorer-snippet]").text
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(code, {})
    assert printed.getvalue().split("  #")[0].strip() == str(expected(case)["output"].tolist())


def test_the_notebook_copy_is_the_same_explorer(browser, served) -> None:
    """explorer() inlines the very files the book serves; in an iframe it computes, fits its
    frame to its content, and makes no request."""
    from selenium.webdriver.common.by import By

    case = CHAPTERS["09-equivalent-algorithms"]
    inlined = page(query(**case))
    assert "<script src=" not in inlined and 'href="explorer.css"' not in inlined
    host = served[1] / "host.html"
    icon = '<link rel="icon" href="data:,">'
    host.write_text(f"<!doctype html><title>host</title>{icon}{explorer(**case)._repr_html_()}")
    browser.set_window_size(400, 900)
    browser.get_log("performance")
    browser.get(served[0] + "host.html")
    frame = browser.find_element(By.CSS_SELECTOR, "iframe.convtranspose-explorer")
    browser.switch_to.frame(frame)
    try:
        assert shown(browser) == torch_output(query(**case))
        assert (
            browser.find_element(By.CSS_SELECTOR, "[role=tab][aria-selected=true]").text == "Gather"
        )
        content = browser.execute_script("return document.documentElement.scrollHeight")
    finally:
        browser.switch_to.default_content()
    assert abs(frame.size["height"] - content) <= 4, (frame.size, content)
    assert problems(browser, served) == []


@pytest.mark.parametrize(
    "page",
    [
        "book/explorer.html",
        "notebooks/04-stride-and-padding.html",
        "notebooks/10-checkerboard-artifacts.html",
    ],
)
@pytest.mark.parametrize("width", [400, 1280])
def test_the_built_pages_show_the_explorer(browser, site_url, page, width) -> None:
    """In the built book (skipped without one), at a phone's width and a desktop's: the
    explorer shows its case, its frame fits it, and neither the page nor the explorer is
    wider than the screen; no console error, no request leaves the site."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(width, 900)
    browser.get_log("browser")
    browser.get_log("performance")
    browser.get(site_url + page)
    overflow = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    assert browser.execute_script(overflow) <= 0, f"{page} is wider than {width} px"
    frame = browser.find_element(By.CSS_SELECTOR, "iframe.convtranspose-explorer")
    browser.switch_to.frame(frame)
    try:
        WebDriverWait(browser, 10).until(lambda d: d.execute_script(
            "return document.readyState === 'complete' && !!document.querySelector('.figure svg')"
        ))  # fmt: skip
        assert browser.execute_script(overflow) <= 0, f"the explorer in {page} is too wide"
        search = browser.execute_script("return location.search") or browser.find_element(
            By.CSS_SELECTOR, "meta[name=explorer-query]"
        ).get_attribute("content")
        assert shown(browser) == torch_output(search.lstrip("?"))
        content = browser.execute_script("return document.documentElement.scrollHeight")
    finally:
        browser.switch_to.default_content()
    WebDriverWait(browser, 10).until(lambda d: abs(frame.size["height"] - content) <= 4)
    console = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert console + network_problems(browser.get_log("performance"), site_url) == []


@pytest.mark.parametrize("chapter", list(CHAPTERS))
def test_chapters_embed_the_explorer_on_their_case(chapter: str) -> None:
    """Each chapter has one explorer cell, on the chapter's case, and its stored output is
    the explorer as the package's files make it now (nbval checks that too, but its diff of
    a 50 kB line is unreadable): after changing the files, re-execute the chapters."""
    (path,) = NOTEBOOKS.glob(f"{chapter}.ipynb")
    cells = json.loads(path.read_text())["cells"]
    calls = [c for c in cells if c["cell_type"] == "code" and "explorer(" in "".join(c["source"])]
    assert len(calls) == 1, f"{chapter}: one explorer cell"
    namespace: dict = {}
    exec("".join(calls[0]["source"]).replace("explorer(", "_ = explorer(", 1), namespace)
    assert namespace["_"].query == query(**CHAPTERS[chapter])
    (stored,) = [o["data"]["text/html"] for o in calls[0]["outputs"] if "data" in o]
    assert "".join(stored) == namespace["_"]._repr_html_(), (
        f"{chapter}: the explorer's stored output is stale: re-execute the notebook"
    )


def test_query_spells_a_case_as_the_explorer_reads_it() -> None:
    """Without a browser: the query string of a case (values as the page parses them, sizes
    read as torch reads them, defaults left out), and the errors for what it cannot hold."""
    values = torch.tensor([1.0, -0.5, math.nan, math.inf, -math.inf, 1e-7], dtype=torch.float64)
    got = query(values, kernel=[2, 0.25], stride=(3,), padding=0, dilation=torch.tensor(2))
    assert got == "input=1,-0.5,nan,inf,-inf,1e-07&kernel=2,0.25&stride=3&dilation=2"
    assert query(view="phases") == "input=1,1&kernel=1,1,1&view=phases"
    with pytest.raises(TypeError, match="argument 'stride' must be an int"):
        query(stride=2.5)
    with pytest.raises(ValueError, match="view must be one of scatter, gather"):
        query(view="matrix")
    assert repr(explorer(stride=0)) == "Explorer(?input=1,1&kernel=1,1,1&stride=0)"
