"""The book as one PDF (`make pdf`, tools/book_pdf.py), printed from the built site by headless
Chromium: the order of its pages, its text, and that printing needs no network.

Printing the whole book takes about 35 seconds, so the test prints a sample of pages (the
root, two chapters, the cheat sheet: a few seconds) into one PDF; `make pdf` prints them all.
Without Chromium (and chromedriver) it skips like the other browser tests, unless
``CONVTRANSPOSE_REQUIRE_BROWSER=1`` makes it fail.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import SITE, browser_paths, unavailable

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "book_pdf.py"
sys.path.insert(0, str(TOOL.parent))

import book_pdf  # noqa: E402

SAMPLE = [
    "book/intro",
    "notebooks/01-plain-convolution",
    "notebooks/05-output-padding",
    "book/cheatsheet",
]


def words(text: str) -> str:
    """``text`` with its whitespace runs as single spaces (the PDF breaks lines anywhere)."""
    return " ".join(text.split())


def page_title(docname: str) -> str:
    """The page's first heading in the built site, as text (its number included)."""
    page = (SITE / f"{docname}.html").read_text()
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
    return words(html.unescape(re.sub(r"<[^>]+>", "", heading)).replace("#", ""))


def solution_code(docname: str, number: int) -> str:
    """The first 40 characters of the code of the page's solution ``number``, as text."""
    page = (SITE / f"{docname}.html").read_text()
    start = page.index(f'id="{docname}-solution-{number}"')
    code = page[page.index("<pre>", start) :]
    return words(html.unescape(re.sub(r"<[^>]+>", "", code[: code.index("</pre>")])))[:40]


def test_toc_order_lists_every_page_once_root_first():
    """The order comes from _toc.yml: the root, then every `file:` entry once, in order."""
    order = book_pdf.toc_order(ROOT / "_toc.yml")
    listed = re.findall(r"file:\s*(\S+)", (ROOT / "_toc.yml").read_text())
    assert order == ["book/intro", *listed]
    assert len(set(order)) == len(order)
    assert order.index("notebooks/01-plain-convolution") < order.index("book/setup")


def test_missing_site_is_a_usage_error_not_a_traceback(tmp_path: Path):
    run = subprocess.run(
        [sys.executable, str(TOOL), "--site", str(tmp_path), "--out", str(tmp_path / "x.pdf")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "run `make book` first" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory):
    """The sample printed into one PDF: (what printing reported, the PDF's path)."""
    pytest.importorskip("pypdf", reason="needs pypdf (`pip install -r requirements.txt`)")
    if not (SITE / "index.html").is_file():
        unavailable(f"no built site in {SITE}: run `make book` first")
    if browser_paths() is None:
        unavailable(book_pdf.INSTALL_HINT)
    out = tmp_path_factory.mktemp("pdf") / "sample.pdf"
    return book_pdf.print_book(SITE, out, SAMPLE, log=lambda line: None), out


def test_every_page_printed_in_order_nothing_fetched_off_site(printed):
    result, out = printed
    from pypdf import PdfReader

    reader = PdfReader(out)
    assert result.problems == []  # no request left the site, every image loaded
    assert list(result.pages) == SAMPLE
    assert all(n >= 1 for n in result.pages.values())
    assert len(reader.pages) == sum(result.pages.values())
    # One bookmark per page of the site, at its first page.
    starts = [reader.get_destination_page_number(item) for item in reader.outline]
    assert starts == [sum(list(result.pages.values())[:i]) for i in range(len(SAMPLE))]


def test_text_is_extractable_titles_math_and_solutions(printed):
    _, out = printed
    from pypdf import PdfReader

    reader = PdfReader(out)
    pages = [words(page.extract_text()) for page in reader.pages]
    starts = [reader.get_destination_page_number(item) for item in reader.outline]
    for docname, start in zip(SAMPLE, starts, strict=True):
        # Each page's title is on its first page (so its pages are where the bookmark says).
        assert page_title(docname) in pages[start], docname
    text = " ".join(pages)
    assert "output_padding" in text
    # Math typeset by MathJax (its SVG/CHTML output), not left as TeX source.
    assert "\\frac" not in text and "$$" not in text
    # Folded solutions are printed open: chapter 5's first solution's code is in the PDF.
    assert solution_code("notebooks/05-output-padding", 1) in text
