"""The built website, opened in a real browser (headless Chromium driven by Selenium).

`make test` builds the site (`_build/html`) before pytest runs; this module serves it on
localhost and opens every page, asserting what a reader would notice: no console errors, no
failed requests (and no request leaves localhost: the site must work offline), every image
loaded, math typeset by the site's own MathJax, launch and download buttons on notebook
pages, solutions collapsed, internal links (and their #anchors) that resolve, and a search
that finds ``output_padding``. A screenshot of each page lands in `_build/screenshots/`.

Without Chromium (and chromedriver) the browser tests skip with a message saying how to
install them, unless ``CONVTRANSPOSE_REQUIRE_BROWSER=1`` (CI sets it) makes them fail.
"""

from __future__ import annotations

import contextlib
import functools
import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
from browser import (
    PAGE_TIMEOUT,
    SITE,
    network_problems,
    start_chromium,
    unavailable,
)

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "_build" / "screenshots"
#: The book's launch buttons, by the host each one links to (see `launch_buttons` in _config.yml).
LAUNCH_HOSTS = ("mybinder.org", "colab.research.google.com", "jupyterhub.example.org")


def _pages() -> list[str]:
    """Every HTML page of the built site, relative to its root (assets under _static excluded)."""
    if not SITE.is_dir():
        return []
    return sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if not p.relative_to(SITE).parts[0].startswith("_")
    )


PAGES = _pages()


# --- the server ------------------------------------------------------------------------------


# --- the browser -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, site_url: str):
    """Headless Chromium with a fresh profile; any host but localhost fails to resolve."""
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


# Waits until MathJax has typeset the page (when it has MathJax) and every image has loaded
# or failed; lazy images are made eager first, so images below the fold count too.
_SETTLE = """
const done = arguments[arguments.length - 1];
const images = [...document.images].map((img) => {
  img.loading = "eager";
  if (img.complete) return Promise.resolve();
  return new Promise((resolve) => { img.onload = img.onerror = resolve; });
});
const math = window.MathJax && MathJax.startup && MathJax.startup.promise
  ? MathJax.startup.promise : Promise.resolve();
Promise.all([math, ...images]).then(() => done(true), (error) => done(String(error)));
"""

# What the page shows, gathered in one round trip.
_INSPECT = """
const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
return {
  brokenImages: [...document.images]
    .filter((img) => !(img.complete && img.naturalWidth > 0))
    .map((img) => img.currentSrc || img.src),
  mathSources: document.querySelectorAll(".math").length,
  mathTypeset: document.querySelectorAll("mjx-container").length,
  mathErrors: document.querySelectorAll("mjx-merror").length,
  links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
  solutions: document.querySelectorAll(".solution.dropdown").length,
  solutionsShown: [...document.querySelectorAll(".solution.dropdown section")]
    .filter(visible).length,
};
"""


@functools.cache
def _anchors(path: Path) -> frozenset[str]:
    """The ids (and old-style names) a page defines: what `#fragment` links can point at."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return frozenset(html.unescape(m) for m in re.findall(r'\b(?:id|name)="([^"]*)"', text))


def _broken_links(links: list[str], site_url: str) -> list[str]:
    """Links into the site whose file (or #anchor in it) does not exist."""
    broken = []
    for link in links:
        if not link.startswith(site_url):
            continue  # external links (the bibliography's DOIs, launch buttons) are not fetched
        address, fragment = urldefrag(link)
        relative = unquote(urlsplit(address).path)[1:]
        target = SITE / relative
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{link} (no file {relative or '/'})")
        elif fragment and target.suffix == ".html" and unquote(fragment) not in _anchors(target):
            broken.append(f"{link} (no #{fragment} in {relative})")
    return broken


def _screenshot(driver, page: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(
        str(SCREENSHOTS / (page.removesuffix(".html").replace("/", "__") + ".png"))
    )


def _open(driver, site_url: str, page: str) -> dict:
    """Load ``page``, wait until it has settled, and return what _INSPECT found plus the
    console errors and network problems it caused."""
    driver.get_log("browser")  # forget what earlier pages logged
    driver.get_log("performance")
    driver.get(site_url + page)
    settled = driver.execute_async_script(_SETTLE)
    found = driver.execute_script(_INSPECT)
    found["settled"] = settled
    found["console"] = [
        e["message"] for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")
    ]
    found["network"] = network_problems(driver.get_log("performance"), site_url)
    return found


# --- the tests -------------------------------------------------------------------------------


def test_site_is_built_with_pages() -> None:
    if not (SITE / "index.html").is_file():
        unavailable(f"no built site in {SITE}: run `make book` first")
    notebooks = [p for p in PAGES if p.startswith("notebooks/")]
    assert len(notebooks) >= 4, f"only {len(notebooks)} chapter pages in {SITE}"
    for page in (
        "book/api/index.html",
        "book/bibliography.html",
        "book/workshop.html",
        "search.html",
    ):
        assert page in PAGES, f"{page} missing from the built site"


#: What each page showed, kept for the site-wide checks below (so pages load once per run).
_FOUND: dict[str, dict] = {}


@pytest.mark.parametrize("page", PAGES)
def test_page_in_browser(browser, site_url: str, page: str) -> None:
    found = _FOUND[page] = _open(browser, site_url, page)
    _screenshot(browser, page)
    assert found["settled"] is True, f"page did not settle: {found['settled']}"
    assert not found["console"], "console errors:\n" + "\n".join(found["console"])
    assert not found["network"], "network problems:\n" + "\n".join(found["network"])
    assert not found["brokenImages"], f"images that did not load: {found['brokenImages']}"
    if found["mathSources"]:
        assert found["mathTypeset"] >= found["mathSources"], (
            f"{found['mathSources']} math elements but {found['mathTypeset']} typeset by MathJax"
        )
        assert not found["mathErrors"], f"{found['mathErrors']} MathJax errors"
    assert found["solutionsShown"] == 0, "solutions must start collapsed"
    broken = _broken_links(found["links"], site_url)
    assert not broken, "broken internal links:\n" + "\n".join(broken)
    if page.startswith("notebooks/"):
        links = found["links"]
        for host in LAUNCH_HOSTS:
            assert any(urlsplit(link).hostname == host for link in links), f"no {host} button"
        source = "_sources/" + page.removesuffix(".html") + ".ipynb"
        assert site_url + source in links, f"no download button for {source}"


def test_chapters_have_math_and_solutions(browser, site_url: str) -> None:
    """The per-page checks above must not pass vacuously: chapters have typeset math, and
    every chapter has exercise solutions, collapsed, that their toggle button opens."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    chapters = [p for p in PAGES if p.startswith("notebooks/")]
    found = {p: _FOUND.get(p) or _open(browser, site_url, p) for p in chapters}
    assert any(f["mathTypeset"] for f in found.values()), "no chapter has math typeset by MathJax"
    without = [p for p, f in found.items() if not f["solutions"]]
    assert not without, f"chapters without exercise solutions: {without}"
    page = chapters[-1]
    _open(browser, site_url, page)
    solution = browser.find_element(By.CSS_SELECTOR, ".solution.dropdown")
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", solution
    )
    # A script's click: the test is that the button opens the solution, not where it sits
    # under the sticky header while the page is still scrolling.
    browser.execute_script(
        "arguments[0].click()", solution.find_element(By.CSS_SELECTOR, ".toggle-button")
    )
    body = solution.find_element(By.CSS_SELECTOR, "section")
    try:
        WebDriverWait(browser, 5).until(lambda _: body.is_displayed())
    except TimeoutException:
        pytest.fail(f"{page}: the solution's toggle button does not open it")


#: Widths at which the theme hides the chapter list behind its toggle (phone, tablet).
NARROW_WIDTHS = (400, 800)
#: Pages on which the toggle is tried: the home page, a chapter, and a reference page.
TOGGLE_PAGES = ("book/intro.html", "notebooks/02-unit-stride.html", "book/api/public.html")


@contextlib.contextmanager
def _window_width(driver, width: int) -> Iterator[None]:
    """The browser window ``width`` pixels wide inside, as it was after."""
    size = driver.get_window_size()
    driver.set_window_size(width, 900)
    try:
        yield
    finally:
        driver.set_window_size(size["width"], size["height"])


def _visible_chapter_links(driver) -> int:
    """How many links to chapters of the book a reader can see in the navigation now."""
    return driver.execute_script(
        """
        return [...document.querySelectorAll(".bd-sidebar-primary a, dialog a")]
          .filter((a) => a.href.includes("/notebooks/"))
          .filter((a) => {
            const r = a.getBoundingClientRect();
            return r.width > 0 && r.height > 0 && r.right > 0 && r.left < innerWidth
              && getComputedStyle(a).visibility !== "hidden";
          }).length;
        """
    )


@pytest.mark.parametrize("width", NARROW_WIDTHS)
def test_sidebar_toggle_opens_the_chapter_list(browser, site_url: str, width: int) -> None:
    """On phones and tablets the chapter list starts hidden and the visible toggle shows it
    (with pydata-sphinx-theme 0.17 it did nothing: requirements.txt pins the theme stack)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with _window_width(browser, width):
        for page in TOGGLE_PAGES:
            _open(browser, site_url, page)
            assert _visible_chapter_links(browser) == 0, f"{page} at {width} px: list not hidden"
            toggles = [
                t
                for t in browser.find_elements(By.CSS_SELECTOR, ".primary-toggle")
                if t.is_displayed()
            ]
            assert toggles, f"{page} at {width} px: no visible sidebar toggle"
            toggles[0].click()
            WebDriverWait(browser, 5).until(lambda d: _visible_chapter_links(d) >= 4)


def test_no_page_is_wider_than_a_phone(browser, site_url: str) -> None:
    """At 400 px no page scrolls sideways: wide code blocks scroll inside themselves, long
    inline code and signatures wrap (book/_static/site.css)."""
    if not PAGES:
        unavailable(f"no built site in {SITE}: run `make book` first")
    wide = []
    with _window_width(browser, 400):
        for page in PAGES:
            browser.get(site_url + page)
            browser.execute_async_script(_SETTLE)
            scroll, client = browser.execute_script(
                "const e = document.documentElement; return [e.scrollWidth, e.clientWidth];"
            )
            if scroll > client:
                wide.append(f"{page}: {scroll} px wide on a {client} px screen")
    assert not wide, "pages wider than a phone:\n" + "\n".join(wide)


def test_search_finds_output_padding(browser, site_url: str) -> None:
    """A parameter's name finds the chapter that explains it first, the API pages after."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(site_url + "search.html?q=output_padding")
    results = WebDriverWait(browser, PAGE_TIMEOUT).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#search-results ul.search li")
    )
    _screenshot(browser, "search-output_padding")
    hrefs = [r.find_element(By.TAG_NAME, "a").get_attribute("href") for r in results]
    assert "/notebooks/" in hrefs[0], f"the first result is not a chapter: {hrefs}"
    api = [i for i, h in enumerate(hrefs) if "/book/api/" in h]
    chapters = [i for i, h in enumerate(hrefs) if "/notebooks/" in h]
    assert not api or max(chapters) < min(api), f"an API page outranks a chapter: {hrefs}"


def test_no_page_refers_to_resources_on_another_host() -> None:
    """Offline, statically: no script, stylesheet, image or frame comes from another host
    (links to other sites are fine: they are only followed when clicked)."""
    if not PAGES:
        unavailable(f"no built site in {SITE}: run `make book` first")
    tag = re.compile(r"<(script|link|img|iframe|source|embed)\b[^>]*>", re.IGNORECASE)
    remote = re.compile(r'\b(src|href)="(https?:)?//', re.IGNORECASE)
    found = [
        f"{page}: {m.group(0)[:120]}"
        for page in PAGES
        for m in tag.finditer((SITE / page).read_text(encoding="utf-8"))
        if remote.search(m.group(0)) and 'rel="canonical"' not in m.group(0)
    ]
    assert not found, "resources from other hosts:\n" + "\n".join(found)


def test_api_pages_document_every_public_module() -> None:
    """book/api/*.md are written by hand: a new module of the package must be added to one."""
    package = ROOT / "src" / "convtranspose"
    api = "\n".join(p.read_text() for p in sorted((ROOT / "book" / "api").glob("*.md")))
    documented = set(re.findall(r"automodule:: (convtranspose[\w.]*)", api))
    modules = {
        "convtranspose" + ("" if p.stem == "__init__" else "." + p.stem)
        for p in package.glob("*.py")
        if p.stem == "__init__" or not p.stem.startswith("_")
    }
    modules |= {f"convtranspose.{p.parent.name}" for p in package.glob("*/__init__.py")}
    assert modules <= documented, f"add to a page of book/api/: {sorted(modules - documented)}"


def test_every_api_page_is_in_the_table_of_contents() -> None:
    toc = (ROOT / "_toc.yml").read_text()
    pages = sorted(p.stem for p in (ROOT / "book" / "api").glob("*.md"))
    missing = [p for p in pages if f"file: book/api/{p}\n" not in toc]
    assert len(pages) > 1 and not missing, f"add to _toc.yml: {missing}"


#: A line of code in a notebook fits a phone-free text column without scrolling at this length.
CODE_LINE_LIMIT = 88


def test_notebook_code_lines_fit_the_column() -> None:
    import nbformat

    long = [
        f"{path.name}, cell {cell.get('id', i)}: {len(line)} characters: {line[:60]}..."
        for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells)
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if len(line) > CODE_LINE_LIMIT
    ]
    assert not long, f"code lines over {CODE_LINE_LIMIT} characters:\n" + "\n".join(long)


#: The text column's width at a desktop window (772 px at 1400 px, measured in Chromium),
#: less a margin: a wider figure is scaled down on the page, and its 9-10 pt text with it.
FIGURE_WIDTH_LIMIT = 760


def _displayed_width(output: dict) -> int:
    """The width a PNG output is displayed at: its metadata's width (figures are stored at
    2x with half their pixel width there), else its pixel width."""
    import base64
    import struct

    png = base64.b64decode(output["data"]["image/png"])
    width = struct.unpack(">I", png[16:20])[0]
    return output.get("metadata", {}).get("image/png", {}).get("width", width)


def test_notebook_figures_fit_the_text_column() -> None:
    import nbformat

    wide = [
        f"{path.name}, cell {cell.get('id', i)}: {_displayed_width(output)} px"
        for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells)
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
        if _displayed_width(output) > FIGURE_WIDTH_LIMIT
    ]
    assert not wide, f"figures over {FIGURE_WIDTH_LIMIT} px wide:\n" + "\n".join(wide)


def test_notebooks_mark_tests_with_tags_not_comments() -> None:
    """nbval's markers are cell tags (``nbval-ignore-output``): a comment would show on the page."""
    import nbformat

    marked = [
        f"{path.name}, cell {cell.get('id', i)}"
        for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells)
        if re.search(r"#\s*NBVAL_", cell.source)
    ]
    assert not marked, "NBVAL comments (use the cell tag instead):\n" + "\n".join(marked)


def _built(pages: list[str]) -> dict[str, str]:
    if not PAGES:
        unavailable(f"no built site in {SITE}: run `make book` first")
    return {page: (SITE / page).read_text(encoding="utf-8") for page in pages}


def test_no_test_marker_or_double_numbering_on_any_page() -> None:
    """Headings carry the book's numbers only ("9.2. Scatter", never "9.2. 1. Scatter"), and no
    nbval marker shows in rendered code."""
    numbered_twice = re.compile(
        r'<span class="section-number">[\d.]+\s*</span>\s*(\d+|[IVX]+)[.)]\s'
    )
    found = [
        f"{page}: {problem}"
        for page, text in _built(PAGES).items()
        for problem in (["a test marker (NBVAL_)"] if "NBVAL_" in text else [])
        + [m.group(0) for m in numbered_twice.finditer(text)]
    ]
    assert not found, "\n".join(found)


#: Sentences of torch's docstrings that a subclass inherits when its method has none of its own.
TORCH_BOILERPLATE = (
    "Return the extra representation of the module",  # nn.Module.extra_repr
    "Define the computation performed at every call",  # nn.Module.forward
)


def test_api_pages_carry_no_inherited_boilerplate() -> None:
    pages = _built([p for p in PAGES if p.startswith("book/api/")])
    assert len(pages) > 1, "the API reference is not split into pages under book/api/"
    found = [
        f"{page}: {s!r}" for page, text in pages.items() for s in TORCH_BOILERPLATE if s in text
    ]
    assert not found, "torch's docstrings on the API pages:\n" + "\n".join(found)


#: Chapter 11 is a lesson, not a lab log: its prose and exercises stay near 3,000 words (the
#: run history lives in book/lab-notes.md), besides its closing section on the native kernel
#: (the loop nest, the register tile, the ends of rows, the measurements), at most 1,000.
LESSON_WORDS = 3200
KERNEL_SECTION_WORDS = 1000


def test_chapter_11_is_a_lesson_not_a_log() -> None:
    import nbformat

    cells = nbformat.read(ROOT / "notebooks" / "11-fast-cpu.ipynb", as_version=4).cells
    headings = [c.source.split("\n", 1)[0] for c in cells]
    first = headings.index("## A kernel of our own")
    last = headings.index("## Summary")
    assert first < last, "the kernel section closes the chapter, before its summary"

    def words(part: list) -> int:
        return sum(len(c.source.split()) for c in part if c.cell_type == "markdown")

    kernel, rest = words(cells[first:last]), words(cells[:first] + cells[last:])
    assert rest <= LESSON_WORDS, f"chapter 11 has {rest} words of prose (at most {LESSON_WORDS})"
    assert kernel <= KERNEL_SECTION_WORDS, f"its kernel section has {kernel} words"
    prose = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    for log_phrase in ("seeds 81", "not met", "over three runs"):
        assert log_phrase not in prose, f"chapter 11 reads as a run log: {log_phrase!r}"
