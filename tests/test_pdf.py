"""The book as one PDF (`make pdf`, tools/book_pdf.py), printed from the built site by headless
Chromium: the order of its pages and bookmarks, its text, its math, and that printing needs no
network.

Printing the whole book takes about half a minute, so `make test` prints a sample of pages
(the root, two chapters, the cheat sheet: a few seconds) into one PDF, and a made-up page to
see that problems are caught; ``CONVTRANSPOSE_PDF=1 pytest tests/test_pdf.py`` also prints
the whole book, as `make pdf` does. Without Chromium (and chromedriver) the browser tests skip
like the other browser tests, unless ``CONVTRANSPOSE_REQUIRE_BROWSER=1`` makes them fail.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import SITE, browser_paths, unavailable

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "book_pdf.py"
TOC = ROOT / "_toc.yml"
sys.path.insert(0, str(TOOL.parent))

import book_pdf  # noqa: E402

FULL = os.environ.get("CONVTRANSPOSE_PDF", "") not in ("", "0")

SAMPLE = [
    "book/intro",
    "notebooks/01-plain-convolution",
    "notebooks/05-output-padding",
    "book/cheatsheet",
]
#: The sample's parts, as `toc_parts` gives them for the whole book (a made-up grouping).
SAMPLE_PARTS = {
    "book/intro": None,
    "notebooks/01-plain-convolution": "Seed and signature",
    "book/cheatsheet": "Workshop",
}


def words(text: str) -> str:
    """``text`` with its whitespace runs as single spaces (the PDF breaks lines anywhere)."""
    return " ".join(text.split())


def strip_tags(fragment: str) -> str:
    return words(html.unescape(re.sub(r"<[^>]+>", "", fragment)))


def page_title(docname: str) -> str:
    """The page's first heading in the built site, as text (its number included)."""
    page = (SITE / f"{docname}.html").read_text()
    return strip_tags(re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)).replace("#", "").strip()


def solution_code(docname: str, number: int) -> str:
    """The first 40 characters of the code of the page's solution ``number``, as text."""
    page = (SITE / f"{docname}.html").read_text()
    start = page.index(f'id="{docname}-solution-{number}"')
    code = page[page.index("<pre>", start) :]
    return strip_tags(code[: code.index("</pre>")])[:40]


def tex_commands(docname: str) -> set[str]:
    """The TeX commands (``\\frac``, ``\\cdot``...) in the page's math, as the site has it
    before MathJax typesets it."""
    page = (SITE / f"{docname}.html").read_text()
    math = re.findall(r'class="math notranslate nohighlight">(.*?)</(?:span|div)>', page, re.S)
    return {c for m in math for c in re.findall(r"\\[A-Za-z]{2,}", html.unescape(m))}


def bookmarks(reader, outline=None, depth: int = 0) -> list[tuple[int, str, int]]:
    """The PDF's bookmarks in order: (depth, title, index of its page)."""
    found = []
    for item in reader.outline if outline is None else outline:
        if isinstance(item, list):
            found += bookmarks(reader, item, depth + 1)
        else:
            found.append((depth, item.title, reader.get_destination_page_number(item)))
    return found


def test_toc_order_lists_every_page_once_root_first():
    """The order comes from _toc.yml: the root, then every `file:` entry once, in order."""
    order = book_pdf.toc_order(TOC)
    listed = re.findall(r"file:\s*(\S+)", TOC.read_text())
    assert order == ["book/intro", *listed]
    assert len(set(order)) == len(order)
    assert order.index("notebooks/01-plain-convolution") < order.index("book/setup")


def test_toc_parts_map_each_parts_first_page_to_its_caption():
    captions = re.findall(r"caption:\s*(.+)", TOC.read_text())
    parts = book_pdf.toc_parts(TOC)
    assert parts["book/intro"] is None  # the root opens the book, in no part
    assert [c for c in parts.values() if c] == captions
    assert parts["notebooks/01-plain-convolution"] == "I. The seed cases"
    assert parts["book/setup"] == "Workshop"
    order = book_pdf.toc_order(TOC)
    assert [d for d in order if d in parts] == list(parts)  # in reading order


def test_missing_site_is_a_usage_error_not_a_traceback(tmp_path: Path):
    run = subprocess.run(
        [sys.executable, str(TOOL), "--site", str(tmp_path), "--out", str(tmp_path / "x.pdf")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "run `make book` first" in run.stderr
    assert "Traceback" not in run.stderr


def needs_printing() -> None:
    pytest.importorskip("pypdf", reason="needs pypdf (`pip install -r requirements.txt`)")
    if browser_paths() is None:
        unavailable(book_pdf.INSTALL_HINT)


def needs_site() -> None:
    needs_printing()
    if not (SITE / "index.html").is_file():
        unavailable(f"no built site in {SITE}: run `make book` first")


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory):
    """The sample printed into one PDF: (what printing reported, the PDF's reader)."""
    needs_site()
    from pypdf import PdfReader

    out = tmp_path_factory.mktemp("pdf") / "sample.pdf"
    result = book_pdf.print_book(SITE, out, SAMPLE, SAMPLE_PARTS, log=lambda line: None)
    return result, PdfReader(out)


def test_every_page_printed_in_order_nothing_fetched_off_site(printed):
    result, reader = printed
    assert result.problems == []  # no request left the site, every image and formula rendered
    assert list(result.pages) == SAMPLE
    assert all(n >= 1 for n in result.pages.values())
    assert result.pages["book/cheatsheet"] == 1  # the cheat sheet's print style: one A4 page
    assert len(reader.pages) == sum(result.pages.values())


def page_marks(reader) -> list[tuple[str, int]]:
    """The bookmarks of the site's pages (the root's, then those inside parts): (title, page)."""
    marks = bookmarks(reader)
    return [(t, p) for d, t, p in marks[:1] + [m for m in marks[1:] if m[0] == 1]]


def test_bookmarks_one_per_page_under_its_part(printed):
    result, reader = printed
    counts = list(result.pages.values())
    starts = [sum(counts[:i]) for i in range(len(SAMPLE))]
    marks = bookmarks(reader)
    assert [(d, p) for d, _, p in marks] == [
        (0, starts[0]),  # the root: in no part
        (0, starts[1]),  # "Seed and signature", at its first page's start
        (1, starts[1]),
        (1, starts[2]),
        (0, starts[3]),  # "Workshop"
        (1, starts[3]),
    ]
    assert [t for d, t, _ in marks if d == 0][1:] == ["Seed and signature", "Workshop"]
    assert [p for _, p in page_marks(reader)] == starts


def test_text_is_extractable_titles_math_and_solutions(printed):
    _, reader = printed
    pages = [words(page.extract_text()) for page in reader.pages]
    for docname, (_, start) in zip(SAMPLE, page_marks(reader), strict=True):
        # Each page's title is on its first page (so its pages are where the bookmark says).
        assert page_title(docname) in pages[start], docname
    text = " ".join(pages)
    assert "output_padding" in text
    # Math typeset by MathJax, not left as TeX source: the pages' TeX commands are gone.
    commands = tex_commands("notebooks/05-output-padding") | tex_commands("book/cheatsheet")
    assert commands, "no math on the sampled pages: the check below would pass vacuously"
    assert not [c for c in commands if c in text]
    # Folded solutions are printed open: chapter 5's first solution's code is in the PDF.
    assert solution_code("notebooks/05-output-padding", 1) in text


BROKEN_PAGE = """<!DOCTYPE html><html><head><title>broken — test</title></head><body>
<h1>A page that would print wrong</h1>
<img src="missing.png" alt="not on the site">
<img src="http://example.com/figure.png" alt="off the site">
<p><span class="math notranslate nohighlight">\\(L_{out}\\)</span> without MathJax.</p>
</body></html>"""


def test_problems_are_caught_offline(tmp_path: Path):
    """A page with an image the site lacks, one from another host, and math no MathJax
    typeset: each is a problem, and the other host is never reached."""
    needs_printing()
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(BROKEN_PAGE)
    (site / "broken.html").write_text(BROKEN_PAGE)
    result = book_pdf.print_book(site, tmp_path / "b.pdf", ["broken"], log=lambda line: None)
    problems = "\n".join(result.problems)
    assert "HTTP 404" in problems and "missing.png" in problems
    assert "request leaves the site: http://example.com/figure.png" in problems
    assert "math not typeset" in problems and "L_{out}" in problems
    assert result.pages == {"broken": 1}  # still printed, so the PDF shows what went wrong


@pytest.mark.skipif(
    not FULL, reason="prints the whole book (about a minute): set CONVTRANSPOSE_PDF=1"
)
def test_whole_book_as_make_pdf_prints_it(tmp_path: Path):
    """The command `make pdf` runs, on the built site: every page of _toc.yml, in order, a
    bookmark per part and per page, each title on its first page, and no problem."""
    needs_site()
    from pypdf import PdfReader

    out = tmp_path / "book.pdf"
    run = subprocess.run(
        [sys.executable, str(TOOL), "--out", str(out)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    reader = PdfReader(out)
    order = book_pdf.toc_order(TOC)
    marks = page_marks(reader)
    assert len(marks) == len(order)
    captions = [t for d, t, _ in bookmarks(reader) if d == 0][1:]
    assert captions == [c for c in book_pdf.toc_parts(TOC).values() if c]
    text = [words(page.extract_text()) for page in reader.pages]
    for docname, (_, start) in zip(order, marks, strict=True):
        assert page_title(docname) in text[start], docname
    starts = [p for _, p in marks]
    assert starts == sorted(set(starts)) and len(reader.pages) > starts[-1]
    assert f"{len(reader.pages)} pages from {len(order)} pages of the site" in run.stdout
