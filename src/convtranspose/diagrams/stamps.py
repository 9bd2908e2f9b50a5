"""The seed chapters' figures: sliding windows, stamps and their sum, the crop.

Each function takes one case description (:class:`~.case.TransposedCase` or
:class:`~.case.ConvCase`) and returns a matplotlib Figure; the Figure carries
what it drew as ``fig.drawing`` (a :class:`~.grid.Drawing`) and the case as
``fig.case``. A new picture is one more call with another case.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from .case import ConvCase, TransposedCase
from .grid import Drawing, fmt, render

__all__ = ["describe", "draw_crop", "draw_sliding_window", "draw_stamps"]


def _numbers(values: tuple[float, ...]) -> str:
    return "[" + ", ".join(fmt(v) for v in values) + "]"


def describe(case: TransposedCase | ConvCase) -> str:
    """A one-line title: the input, the kernel and every argument that is not its default."""
    parts = [f"input {_numbers(case.input)}", f"kernel {_numbers(case.kernel)}"]
    defaults = {"stride": 1, "padding": 0, "output_padding": 0, "dilation": 1}
    for name, default in defaults.items():
        value = getattr(case, name, default)
        if value != default:
            parts.append(f"{name} {value}")
    return ", ".join(parts)


def _positions(length: int) -> dict[float, str]:
    return {t: str(t) for t in range(length)}


def draw_stamps(case: TransposedCase) -> Figure:
    """Overlap-add: one row per input element with its scaled kernel at
    ``i*stride + k*dilation`` in the full (uncropped) output, then a row with
    their sum. Row ``i`` of ``fig.drawing`` holds stamp ``i``; the last row is the sum."""
    stamps = case.stamps()
    labels = [f"stamp of x[{s.index}] = {fmt(s.value)}" for s in stamps] + ["sum"]
    drawing = Drawing(
        "stamps: " + describe(case), labels, column_labels=_positions(case.full_length)
    )
    for row, stamp in enumerate(stamps):
        cells = stamp.cells()
        for t in range(case.full_length):
            if t in cells:
                drawing.add(row, t, fmt(cells[t]), "stamp")
            else:
                drawing.add(row, t, "", "empty")
    for t, value in enumerate(case.full):
        drawing.add(len(stamps), t, fmt(value), "sum")
    fig = render(drawing)
    fig.case = case
    return fig


def draw_crop(case: TransposedCase) -> Figure:
    """Padding crops: the full output with the ``padding`` cells at each end
    shaded (cropped) and the ``output_padding`` cells marked, then the output
    that is returned, aligned under the cells it keeps. Row 0 of ``fig.drawing``
    is the full output, row 1 the output."""
    start, stop = case.kept
    extra = set(case.output_padding_positions)
    drawing = Drawing(
        "crop: " + describe(case),
        ["full output", f"output (L_out = {case.output_length})"],
        column_labels=_positions(case.full_length),
    )
    for t, value in enumerate(case.full):
        style = "cropped" if not start <= t < stop else "extra" if t in extra else "sum"
        drawing.add(0, t, fmt(value), style)
    for t, value in zip(range(start, stop), case.output, strict=True):
        drawing.add(1, t, fmt(value), "extra" if t in extra else "output")
    fig = render(drawing, label_width=4.0)
    fig.case = case
    return fig


def draw_sliding_window(case: ConvCase) -> Figure:
    """Ordinary convolution: the (padded) input on top, then one row per output
    with the kernel laid over the window it reads and the dot product written
    to the right, then the output. Row 0 of ``fig.drawing`` is the input, rows
    ``1..L_out`` the windows, the last row the output."""
    x = case.padded_input
    windows = case.windows()
    labels = ["input"] + [f"window {w.index}" for w in windows] + ["output"]
    drawing = Drawing("sliding window: " + describe(case), labels, column_labels=_positions(len(x)))
    data = {case.padding + i for i in range(len(case.input)) if i not in case.added_zeros}
    for p, value in enumerate(x):
        drawing.add(0, p, fmt(value), "input" if p in data else "zero")
    answer_col = len(x) + 0.5
    drawing.column_labels[answer_col] = "Σ w·x"
    for row, window in enumerate(windows, start=1):
        taps = dict(zip(window.positions, case.kernel, strict=True))
        for p in range(len(x)):
            if p in taps:
                drawing.add(row, p, fmt(taps[p]), "stamp")
            else:
                drawing.add(row, p, "", "empty")
        drawing.add(row, answer_col, fmt(window.value), "output")
    for t, window in enumerate(windows):
        drawing.add(len(windows) + 1, t, fmt(window.value), "output")
    fig = render(drawing)
    fig.case = case
    return fig
