"""The book's interactive explorer of the transposed convolution, in a notebook.

The explorer is plain JavaScript and SVG in ``static/explorer/`` beside this module:
``compute.js`` (the definition, the package's argument checks in the package's words, the
query string) and ``views.js`` (the drawings), loaded by ``index.html``. The book serves
those very files from its ``_static/explorer/`` (``html_static_path`` in ``_config.yml``),
and :func:`explorer` inlines them into one HTML document shown in an ``<iframe srcdoc>``:
one copy of the files serves the website, an installed package and a notebook, with no
server, network or build step.

Chapters 2 to 6, 9 and 10 store that inlined output, so a change to the files means
re-executing them (``tests/test_explorer.py`` names any chapter whose copy is stale).

In JupyterLab, HTML output is shown only in a trusted notebook: if the explorer does not
appear under its cell, run the cell (output you produce is trusted) or trust the notebook
(command palette, "Trust Notebook"; or ``jupyter trust notebook.ipynb``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..arguments import single

__all__ = ["STATIC", "VIEWS", "Explorer", "explorer", "page", "query"]

#: The explorer's files: ``index.html``, ``compute.js``, ``views.js``, ``explorer.css``.
STATIC = Path(__file__).parent / "static" / "explorer"
#: The explorer's tabs, in order; ``view=`` in the query string opens one.
VIEWS = ("scatter", "gather", "phases", "crop", "pytorch")


def _number(value: float) -> str:
    """A value as the query string spells it: ``1``, ``0.5``, ``nan``, ``-inf``."""
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def query(
    input: Iterable[float] = (1, 1),
    kernel: Iterable[float] = (1, 1, 1),
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
    view: str = "scatter",
) -> str:
    """The query string that opens the explorer on this case, e.g.
    ``input=1,1&kernel=1,1,1&stride=2&padding=1`` (arguments at their defaults are left out).

    Sizes are read as torch reads them (an int or a 1-tuple); combinations torch rejects are
    allowed here, since the explorer shows the rule they break.
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, got {view!r}")
    parts = [
        "input=" + ",".join(map(_number, input)),
        "kernel=" + ",".join(map(_number, kernel)),
    ]
    sizes = {
        "stride": (stride, 1),
        "padding": (padding, 0),
        "output_padding": (output_padding, 0),
        "dilation": (dilation, 1),
    }
    for name, (value, default) in sizes.items():
        value = single(value, name)
        if value != default:
            parts.append(f"{name}={value}")
    if view != "scatter":
        parts.append(f"view={view}")
    return "&".join(parts)


def page(query_string: str = "") -> str:
    """The explorer as one self-contained HTML document (its stylesheet and scripts inlined),
    opening on the case ``query_string`` describes."""
    document = (STATIC / "index.html").read_text(encoding="utf-8")
    meta = f'<meta name="explorer-query" content="{html.escape(query_string)}">\n'
    inlined = {
        '<link rel="stylesheet" href="explorer.css">': "style",
        '<script src="compute.js"></script>': "script",
        '<script src="views.js"></script>': "script",
    }
    for tag, element in inlined.items():
        name = tag.split('"')[-2]
        text = (STATIC / name).read_text(encoding="utf-8")
        if tag not in document or f"</{element}" in text:
            raise RuntimeError(f"cannot inline {name} into {STATIC / 'index.html'}")
        document = document.replace(tag, f"<{element}>\n{text}</{element}>")
    return document.replace("</head>", meta + "</head>", 1)


@dataclass(frozen=True)
class Explorer:
    """The explorer on one case; a notebook shows it as HTML (an ``<iframe srcdoc>`` that
    grows to fit its content), a terminal as its query string."""

    query: str
    height: int = 720

    def _repr_html_(self) -> str:
        return (
            '<iframe class="convtranspose-explorer" title="Transposed convolution explorer" '
            f'style="width: 100%; height: {self.height}px; border: 0;" '
            f'srcdoc="{html.escape(page(self.query), quote=True)}"></iframe>'
        )

    def __repr__(self) -> str:
        return f"Explorer(?{self.query})"


def explorer(
    input: Iterable[float] = (1, 1),
    kernel: Iterable[float] = (1, 1, 1),
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
    view: str = "scatter",
) -> Explorer:
    """The interactive explorer preset to one case of ``ConvTranspose1d`` (one channel, no
    bias): display it in a notebook. The arguments are those of :func:`query`."""
    return Explorer(query(input, kernel, stride, padding, output_padding, dilation, view))
