"""The workshop's slides: one reveal.js deck per session (`make slides`, into _build/slides/).

sphinx-revealjs ships reveal.js, so the decks need no network. The figures are drawn by the
package when the decks are built (:func:`figures`, into ``_generated/``, which git ignores),
and the explorer is copied beside the decks (``_static/explorer/``) to be embedded in iframes.
No MathJax: formulas are written as code, so nothing is fetched.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from convtranspose import diagrams
from convtranspose.diagrams import ConvCase, TransposedCase
from convtranspose.explorer import STATIC

project = "Transposed convolution: the workshop"
extensions = ["myst_parser", "sphinx_revealjs"]
exclude_patterns = ["_build", "_generated/*.py"]
revealjs_static_path = [str(STATIC.parent)]  # the explorer, as _static/explorer/
revealjs_style_theme = "white"
html_favicon = "../book/_static/favicon.svg"  # the book's own (a browser asks for one)
revealjs_script_conf = {"hash": True, "slideNumber": "c/t", "width": 1280, "height": 800}
revealjs_script_plugins = [
    {"name": "RevealNotes", "src": "revealjs/plugin/notes/notes.js"},
    {"name": "RevealHighlight", "src": "revealjs/plugin/highlight/highlight.js"},
]
revealjs_css_files = ["revealjs/plugin/highlight/zenburn.css", "slides.css"]
revealjs_static_path.append("_static")

GENERATED = Path(__file__).parent / "_generated"

#: Each figure the decks show: its file name and how the package draws it.
FIGURES = {
    "window.png": lambda: diagrams.draw_sliding_window(ConvCase((1, 2, 3, 4), (1, 1))),
    "stamps.png": lambda: diagrams.draw_stamps(TransposedCase((1, 1), (1, 2, 3))),
    "gaps.png": lambda: diagrams.draw_stamps(TransposedCase((1, 2), (1, 1), stride=3)),
    "crop.png": lambda: diagrams.draw_crop(TransposedCase((1, 1, 1), (1, 1, 1), stride=2, padding=1)),
    "output-padding.png": lambda: diagrams.draw_crop(
        TransposedCase((1, 1, 1, 1), (1, 1, 1), stride=2, padding=1, output_padding=1)
    ),
    "dilation.png": lambda: diagrams.draw_stamps(TransposedCase((1, 1), (1, 1, 1), dilation=2)),
    "matrix.png": lambda: diagrams.draw_matrix_pair([[[1.0, 2.0, 3.0]]], length=5, stride=2),
    "coverage.png": lambda: diagrams.draw_coverage([(3, 2), (4, 2), (3, 1), (5, 4)]),
    "zero-insertion.png": lambda: diagrams.draw_zero_insertion(TransposedCase((1, 2, 3), (1, 1, 1), stride=2)),
    "stamps-2d.png": lambda: diagrams.draw_stamps_2d([[1, 2], [3, 4]], [[1, 1], [1, 1]], stride=2),
}  # fmt: skip


def figures(app) -> None:
    """Draw every figure of :data:`FIGURES` into ``_generated/`` (skipping up-to-date ones
    would hide a changed drawing, and all of them take a few seconds)."""
    GENERATED.mkdir(exist_ok=True)
    for name, draw in FIGURES.items():
        figure = draw()
        figure.savefig(GENERATED / name, dpi=110, bbox_inches="tight")
        plt.close(figure)


def setup(app) -> None:
    app.connect("builder-inited", figures)
