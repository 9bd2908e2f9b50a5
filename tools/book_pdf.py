"""The book as one PDF, printed from the built website by headless Chromium.

    python tools/book_pdf.py [--site _build/html] [--out _build/pdf/transposed-convolution.pdf]
                             [--only DOCNAME ...]

`make pdf` runs it after `make book`. Every page of the table of contents (``_toc.yml``: the
root, then each part's chapters and their sections, in order) is opened from a local server,
left to finish typesetting its math (the site's own MathJax) and loading its images, printed
to A4 with Chromium's ``Page.printToPDF`` (the site's print style hides the navigation), and
the pages are merged with pypdf into one file with a bookmark per page, under a bookmark per
part. Solutions and other folded blocks are printed open (a closed fold would print as its
one-line summary). A formula left as TeX source or rejected by MathJax, or an image that did not
load, is reported as a problem and fails the run.

Offline: the browser resolves no host but 127.0.0.1, and a page that asks for anything off
the site (or gets an HTTP error) makes the run fail, naming the request. The browser is
started as the tests start it (``tests/browser.py``): Chromium and chromedriver from PATH,
or from the CHROMIUM and CHROMEDRIVER variables.
"""

from __future__ import annotations

import argparse
import base64
import io
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the browser's start and the network log's reading

from browser import INSTALL_HINT, browser_paths, network_problems, serve  # noqa: E402

DEFAULT_OUT = ROOT / "_build" / "pdf" / "transposed-convolution.pdf"

#: Opens every fold, wraps code lines too long for the page, makes lazy images eager, then waits
#: for MathJax's typesetting and every image (loaded or failed). Answers what would print wrong:
#: the images that failed, the formulas left as TeX source, and the formulas MathJax rejected.
_SETTLE = """
const done = arguments[arguments.length - 1];
// sphinx-togglebutton's folds (solutions) and plain <details>, open
for (const name of ["toggle-hidden", "toggle-button-hidden"]) {
  document.querySelectorAll("." + name).forEach((e) => e.classList.remove(name));
}
document.querySelectorAll("details").forEach((d) => { d.open = true; });
const style = document.createElement("style");  // paper does not scroll: wrap long code lines
style.textContent = "pre { white-space: pre-wrap !important; overflow: visible !important; }";
document.head.appendChild(style);
const images = [...document.images].map((img) => {
  img.loading = "eager";
  if (img.complete) return Promise.resolve();
  return new Promise((resolve) => { img.onload = img.onerror = resolve; });
});
const math = window.MathJax && MathJax.startup && MathJax.startup.promise
  ? MathJax.startup.promise : Promise.resolve();
const source = (e) => e.textContent.trim().slice(0, 60);
Promise.all([math, ...images]).then(
  () => done({
    images: [...document.images].filter((img) => img.naturalWidth === 0).map((i) => i.src),
    untypeset: [...document.querySelectorAll(".math")]
      .filter((e) => !e.querySelector("mjx-container")).map(source),
    rejected: [...document.querySelectorAll("mjx-merror")].map(
      (e) => e.getAttribute("data-mjx-error") || source(e)),
  }),
  (error) => done({error: String(error)}));
"""

#: A4 with 15 mm margins, backgrounds (code cells' shading) printed.
PRINT = {
    "paperWidth": 8.27,
    "paperHeight": 11.69,
    "marginTop": 0.6,
    "marginBottom": 0.6,
    "marginLeft": 0.6,
    "marginRight": 0.6,
    "printBackground": True,
}


class UsageError(Exception):
    """A problem the user can fix (no build, no browser): printed without a traceback."""


@dataclass
class Printed:
    """What printing the pages gave: the merged PDF's page count per docname, and problems."""

    pages: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _toc(toc: Path) -> list[tuple[str | None, list[str]]]:
    """``toc`` (a jupyter-book ``_toc.yml``) as (part caption, its docnames) in reading order;
    the root is a part of its own without a caption."""
    import yaml

    data = yaml.safe_load(toc.read_text())

    def walk(entries: list[dict]) -> list[str]:
        found = []
        for entry in entries:
            if "file" in entry:
                found.append(entry["file"])
            found += walk(entry.get("sections", []))
        return found

    parts = data.get("parts", [{"chapters": data.get("chapters", [])}])
    return [(None, [data["root"]])] + [
        (part.get("caption"), walk(part.get("chapters", []))) for part in parts
    ]


def toc_order(toc: Path) -> list[str]:
    """The docnames of ``toc`` (a jupyter-book ``_toc.yml``) in reading order."""
    return [docname for _, docnames in _toc(toc) for docname in docnames]


def toc_parts(toc: Path) -> dict[str, str | None]:
    """The first docname of each part of ``toc``, mapped to the part's caption (``None`` for
    the root and any part without one)."""
    return {docnames[0]: caption for caption, docnames in _toc(toc) if docnames}


def settle_problems(settled: dict) -> list[str]:
    """What :data:`_SETTLE` found wrong with a page, one line each."""
    if "error" in settled:
        return [f"waiting for the page failed: {settled['error']}"]
    return [
        *(f"image did not load: {src}" for src in settled["images"]),
        *(f"math not typeset (MathJax did not run?): {tex}" for tex in settled["untypeset"]),
        *(f"math rejected by MathJax: {error}" for error in settled["rejected"]),
    ]


def print_book(
    site: Path,
    out: Path,
    docnames: list[str],
    parts: dict[str, str | None] | None = None,
    log=print,
) -> Printed:
    """Print ``docnames`` (pages of the site built in ``site``) into the one PDF ``out``, with
    a bookmark per page, under a bookmark per part where ``parts`` maps the page that opens a
    part to its caption (:func:`toc_parts`)."""
    try:
        from pypdf import PdfReader, PdfWriter
        from selenium.common.exceptions import WebDriverException
    except ImportError as error:
        raise UsageError(f"needs {error.name}: pip install -r requirements.txt") from None
    if not (site / "index.html").is_file():
        raise UsageError(f"no built site in {site}: run `make book` first")
    missing = [d for d in docnames if not (site / f"{d}.html").is_file()]
    if missing:
        raise UsageError(f"not in the built site {site}: {', '.join(missing)}")
    paths = browser_paths()
    if paths is None:
        raise UsageError(f"printing {INSTALL_HINT}")

    from browser import start_chromium

    parts = parts or {}
    result, writer, part = Printed(), PdfWriter(), None
    with tempfile.TemporaryDirectory() as profile, serve(site) as url:
        try:
            driver = start_chromium(Path(profile))
        except WebDriverException as error:
            raise UsageError(f"Chromium did not start: {error.msg}") from None
        try:
            for docname in docnames:
                page_url = f"{url}{docname}.html"
                driver.get(page_url)
                settled = driver.execute_async_script(_SETTLE)
                result.problems += [
                    f"{docname}: {p}"
                    for p in [
                        *settle_problems(settled),
                        *network_problems(driver.get_log("performance"), url),
                    ]
                ]
                pdf = driver.execute_cdp_cmd("Page.printToPDF", PRINT)["data"]
                reader = PdfReader(io.BytesIO(base64.b64decode(pdf)))
                first = len(writer.pages)
                writer.append(reader)
                if docname in parts:  # this page opens a part: its pages' bookmarks go below
                    caption = parts[docname]
                    part = caption and writer.add_outline_item(title=caption, page_number=first)
                title = driver.title.split(" — ")[0].strip() or docname
                writer.add_outline_item(title=title, page_number=first, parent=part)
                result.pages[docname] = len(reader.pages)
                log(f"  {len(reader.pages):3d} pages  {docname}")
        finally:
            driver.quit()
    out.parent.mkdir(parents=True, exist_ok=True)
    writer.add_metadata({"/Title": "Transposed convolution, from the ground up"})
    with out.open("wb") as file:
        writer.write(file)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print the built book (make book) into one PDF, offline, in the "
        "table of contents' order.",
    )
    parser.add_argument(
        "--site",
        type=Path,
        default=ROOT / "_build" / "html",
        help="the built website (default: _build/html)",
    )
    parser.add_argument(
        "--toc",
        type=Path,
        default=ROOT / "_toc.yml",
        help="the table of contents giving the order (default: _toc.yml)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="the PDF to write (default: _build/pdf/transposed-convolution.pdf)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="DOCNAME",
        help="print only these pages, e.g. notebooks/05-output-padding",
    )
    args = parser.parse_args(argv)
    if not args.toc.is_file():
        parser.error(f"no table of contents at {args.toc}")
    docnames = args.only or toc_order(args.toc)
    parts = {} if args.only else toc_parts(args.toc)
    try:
        printed = print_book(args.site, args.out, docnames, parts)
    except UsageError as error:
        parser.error(str(error))
    for problem in printed.problems:
        print(f"problem: {problem}", file=sys.stderr)
    total = sum(printed.pages.values())
    size = args.out.stat().st_size / 2**20
    print(f"{args.out}: {total} pages from {len(printed.pages)} pages of the site, {size:.1f} MiB")
    return 1 if printed.problems else 0


if __name__ == "__main__":
    sys.exit(main())
