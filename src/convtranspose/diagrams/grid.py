"""Cell grids: the one drawing style every figure in the book shares.

A figure is a :class:`Drawing`, rows of labelled cells (conv_arithmetic style:
one square per sample, its value written inside), built from a case
description and then rendered by :func:`render`. The rendered figure keeps its
:class:`Drawing` as ``fig.drawing``, so tests can check what was drawn (texts,
rows, shading) without looking at pixels.

To add a figure: build a :class:`Drawing` from your case, call :func:`render`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

__all__ = ["STYLES", "Cell", "Drawing", "fmt", "render"]

#: Fill colour and hatch of each kind of cell.
STYLES: dict[str, tuple[str, str]] = {
    "input": ("#cfe2f3", ""),  # an input sample
    "zero": ("#f3f3f3", ""),  # a zero that padding or zero insertion put there
    "stamp": ("#fce5cd", ""),  # a kernel tap, or a scaled copy of the kernel
    "sum": ("#d9ead3", ""),  # an overlap-added total
    "output": ("#b6d7a8", ""),  # a value the operator returns
    "cropped": ("#d9d9d9", "///"),  # computed, then cropped away by padding
    "extra": ("#b6d7a8", "..."),  # kept because of output_padding
    "empty": ("white", ""),  # nothing lands here
}


def fmt(value: float) -> str:
    """A cell's text: whole numbers without a decimal point, others to 3 significant digits."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}"


@dataclass(frozen=True)
class Cell:
    """One square: grid ``row`` (0 at the top), ``col``, its text and its style (a key of
    :data:`STYLES`)."""

    row: int
    col: float
    text: str
    style: str


@dataclass
class Drawing:
    """What a figure shows: a title, one label per row, the cells, optional labels over
    the columns (e.g. positions in the output) and optional notes, text without a box at
    ``(row, column)`` (e.g. the title of a panel below the first)."""

    title: str
    row_labels: list[str]
    cells: list[Cell] = field(default_factory=list)
    column_labels: dict[float, str] = field(default_factory=dict)
    notes: dict[tuple[int, float], str] = field(default_factory=dict)

    def add(self, row: int, col: float, text: str, style: str) -> None:
        if style not in STYLES:
            raise ValueError(f"unknown cell style {style!r}; known: {sorted(STYLES)}")
        self.cells.append(Cell(row, col, text, style))

    def row(self, row: int) -> dict[float, str]:
        """``{column: text}`` of one row, the cells a test compares with the case."""
        return {c.col: c.text for c in self.cells if c.row == row}

    def styles(self, row: int) -> dict[float, str]:
        """``{column: style}`` of one row."""
        return {c.col: c.style for c in self.cells if c.row == row}


#: The widest figure, in inches: the book's text column at 100 dpi.
MAX_WIDTH = 7.5


def render(drawing: Drawing, label_width: float = 3.0, size: float = 0.5) -> Figure:
    """Draw ``drawing`` as a matplotlib figure (through pyplot, so ``plt.show()``
    displays it) and attach the drawing as ``fig.drawing``. Does not show it."""
    n_rows = len(drawing.row_labels)
    cols = [c.col for c in drawing.cells] + list(drawing.column_labels)
    first, last = min(cols, default=0), max(cols, default=0)
    header = 0.8 if drawing.column_labels else 0.0
    width = last - first + 1 + label_width
    # At most the text column's width (7.5 in at the book's 100 dpi), so that the figure is
    # not scaled down on the page and its 9-10 pt text displays at that size; cells shrink
    # to fit, down to 0.36 in (a 10 pt number still fits).
    size = max(min(size, (MAX_WIDTH - 0.4) / width), min(size, 0.36))
    fig_width = max(size * width + 0.4, 0.075 * len(drawing.title) + 0.4)  # room for the title
    fig, ax = plt.subplots(figsize=(fig_width, size * (n_rows + header) + 0.6))
    for cell in drawing.cells:
        colour, hatch = STYLES[cell.style]
        y = -cell.row
        ax.add_patch(
            Rectangle(
                (cell.col, y),
                1,
                1,
                facecolor=colour,
                edgecolor="#444444",
                hatch=hatch,
                linewidth=0.8,
            )
        )
        ax.text(cell.col + 0.5, y + 0.5, cell.text, ha="center", va="center", fontsize=10)
    for row, label in enumerate(drawing.row_labels):
        ax.text(first - 0.3, -row + 0.5, label, ha="right", va="center", fontsize=9)
    for col, label in drawing.column_labels.items():
        ax.text(col + 0.5, 1.3, label, ha="center", va="center", fontsize=9, color="#666666")
    for (row, col), note in drawing.notes.items():
        ax.text(col + 0.5, -row + 0.3, note, ha="center", va="center", fontsize=9, color="#666666")
    ax.set_xlim(first - label_width, last + 1.1)
    ax.set_ylim(-n_rows + 0.9, 1 + header + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(drawing.title, fontsize=10)
    fig.tight_layout()
    fig.drawing = drawing
    return fig
