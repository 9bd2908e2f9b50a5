"""Chapter 09's figures: the same transposed convolution computed four more ways.

Scatter is :func:`~.stamps.draw_stamps` (one row per input element). This module
draws the others, each from a :class:`~.case.TransposedCase`:

- :func:`draw_gather`: each output collects the inputs that land on it;
- :func:`draw_zero_insertion`: an ordinary convolution of the zero-stuffed input
  with the flipped kernel, most of whose multiplies meet a zero;
- :func:`draw_gemm_overlap_add`: one row of products per tap (the GEMM), added
  into the output at a stride (the overlap-add, col2im);
- :func:`draw_polyphase`: one small convolution per output phase, interleaved.

The layouts (:func:`gathers`, :func:`phases`, ...) are computed in plain Python
from the case and laid out as cells by one ``*_drawing`` function per figure (fast
to test without rendering); each ``draw_*`` renders that drawing, and the figure
carries it (``fig.drawing``, ``fig.case`` and one attribute per figure, named in each
docstring). The tests check layouts and drawings against torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure

from ..shapes import phase_taps
from .case import TransposedCase
from .grid import Drawing, fmt, render
from .stamps import describe

__all__ = [
    "Gather",
    "Phase",
    "draw_gather",
    "draw_gemm_overlap_add",
    "draw_polyphase",
    "draw_zero_insertion",
    "gather_drawing",
    "gathers",
    "gemm_overlap_add_drawing",
    "phases",
    "polyphase_drawing",
    "products",
    "zero_inserted",
    "zero_insertion_drawing",
]


@dataclass(frozen=True)
class Gather:
    """Output ``t`` (in the returned, cropped output) as a sum: ``pairs`` lists each
    ``(i, k)`` with tap ``k`` of input ``i`` landing on it, ``(t + padding - k*dilation)``
    being ``i*stride``; ``value`` is the sum of ``input[i] * kernel[k]`` over them."""

    t: int
    pairs: tuple[tuple[int, int], ...]
    value: float


def gathers(case: TransposedCase) -> list[Gather]:
    """One :class:`Gather` per output: the gather form of the definition. Tap ``k`` reaches
    output ``t`` from input ``i = (t + padding - k*dilation) / stride`` when that is a
    whole number inside the input: ``(t + padding - k*dilation) % stride == 0``."""
    result = []
    for t in range(case.output_length):
        pairs = []
        for k in range(case.kernel_size):
            j = t + case.padding - k * case.dilation
            if j % case.stride == 0 and 0 <= j // case.stride < len(case.input):
                pairs.append((j // case.stride, k))
        value = sum(case.input[i] * case.kernel[k] for i, k in pairs)
        result.append(Gather(t, tuple(pairs), float(value)))
    return result


def zero_inserted(case: TransposedCase) -> tuple[int | None, ...]:
    """What each position of the direct convolution's input holds: the index ``i`` of the
    input sample there, or ``None`` for a zero (inserted between samples, or padding).
    Aligned with ``case.as_direct_convolution().input``."""
    q = case.equivalent_padding  # the zero-stuffed input starts at position q
    length = len(case.as_direct_convolution().input)
    stuffed = len(case.zero_stuffed())
    held: list[int | None] = []
    for p in range(length):
        j = p - q  # position in the zero-stuffed input
        real = 0 <= j < stuffed and j % case.stride == 0
        held.append(j // case.stride if real else None)
    return tuple(held)


def products(case: TransposedCase) -> tuple[tuple[float, ...], ...]:
    """The GEMM's result for one channel: ``products[k][i] = kernel[k] * input[i]``,
    one row per tap (for many channels each entry is a dot product over input channels)."""
    return tuple(tuple(w * x for x in case.input) for w in case.kernel)


@dataclass(frozen=True)
class Phase:
    """Output phase ``r``: the outputs ``t`` with ``t % stride == r`` (``positions``), the
    taps that reach them (``taps``) and their values, a small ordinary convolution of the
    input with those taps alone."""

    r: int
    taps: tuple[int, ...]
    positions: tuple[int, ...]
    values: tuple[float, ...]


def phases(case: TransposedCase) -> list[Phase]:
    """One :class:`Phase` per output phase: the polyphase (sub-pixel) split."""
    by_t = {g.t: g.value for g in gathers(case)}
    taps = phase_taps(case.kernel_size, case.stride, case.padding, case.dilation)
    result = []
    for r in range(case.stride):
        positions = tuple(range(r, case.output_length, case.stride))
        values = tuple(by_t[t] for t in positions)
        result.append(Phase(r, tuple(taps[r]), positions, values))
    return result


def _outputs(length: int) -> dict[float, str]:
    return {t: str(t) for t in range(length)}


def _finish(drawing: Drawing, case: TransposedCase, label_width: float = 3.0, **data) -> Figure:
    fig = render(drawing, label_width=label_width)
    fig.case = case
    for name, value in data.items():
        setattr(fig, name, value)
    return fig


def gather_drawing(case: TransposedCase) -> Drawing:
    """Gather: row 0 is the input (column ``i`` holds ``x[i]``); then one row per output
    ``t`` with ``w[k]`` written under each input ``i`` that reaches it, and its value
    (the output) in the last column."""
    every = gathers(case)
    length = len(case.input)
    labels = ["input x[i]", *(f"out[{g.t}] gathers" for g in every)]
    drawing = Drawing("gather: " + describe(case), labels, column_labels=_outputs(length))
    for i, x in enumerate(case.input):
        drawing.add(0, i, fmt(x), "input")
    answer = length + 0.5
    drawing.column_labels[answer] = "Σ w·x"
    for row, g in enumerate(every, start=1):
        taps = dict(g.pairs)
        for i in range(length):
            drawing.add(
                row, i, f"w{taps[i]}" if i in taps else "", "stamp" if i in taps else "empty"
            )
        drawing.add(row, answer, fmt(g.value), "output")
    return drawing


def draw_gather(case: TransposedCase) -> Figure:
    """The figure of :func:`gather_drawing`; ``fig.gathers`` is :func:`gathers`."""
    return _finish(gather_drawing(case), case, gathers=gathers(case))


def zero_insertion_drawing(case: TransposedCase) -> Drawing:
    """Zero insertion: row 0 is the zero-stuffed, padded input (``stride - 1`` zeros
    between samples, ``dilation*(K-1) - padding`` at each end); then one row per output
    with the *flipped* kernel over the window it reads (taps over a zero hatched,
    style ``cropped``: a wasted multiply) and its value in the last column; the last row
    is the output."""
    conv = case.as_direct_convolution()
    held = zero_inserted(case)
    windows = conv.windows()
    labels = ["zero-stuffed input", *(f"out[{w.index}]" for w in windows), "output"]
    drawing = Drawing(
        "zero insertion, flipped kernel: " + describe(case),
        labels,
        column_labels=_outputs(len(held)),
    )
    for p, (value, i) in enumerate(zip(conv.input, held, strict=True)):
        drawing.add(0, p, fmt(value), "zero" if i is None else "input")
    answer = len(held) + 0.5
    drawing.column_labels[answer] = "Σ w·x"
    k_last = case.kernel_size - 1
    for row, window in enumerate(windows, start=1):
        taps = {p: k_last - j for j, p in enumerate(window.positions)}  # flipped: w[K-1] first
        for p in range(len(held)):
            if p not in taps:
                drawing.add(row, p, "", "empty")
            elif held[p] is None:
                drawing.add(row, p, f"w{taps[p]}", "cropped")
            else:
                drawing.add(row, p, f"w{taps[p]}", "stamp")
        drawing.add(row, answer, fmt(window.value), "output")
    for t, window in enumerate(windows):
        drawing.add(len(windows) + 1, t, fmt(window.value), "output")
    return drawing


def draw_zero_insertion(case: TransposedCase) -> Figure:
    """The figure of :func:`zero_insertion_drawing`. ``fig.conv`` is the equivalent
    :class:`~.case.ConvCase`, ``fig.held`` is :func:`zero_inserted`, ``fig.wasted`` counts
    the hatched taps (multiplies by a zero)."""
    drawing = zero_insertion_drawing(case)
    wasted = sum(c.style == "cropped" for c in drawing.cells)
    conv, held = case.as_direct_convolution(), zero_inserted(case)
    return _finish(drawing, case, conv=conv, held=held, wasted=wasted)


def gemm_overlap_add_drawing(case: TransposedCase) -> Drawing:
    """GEMM + overlap-add (col2im): row ``k`` is row ``k`` of the GEMM's result,
    ``w[k] * x[i]`` for every input ``i``, written where it lands in the full output,
    ``i*stride + k*dilation`` (one strided addition per tap); then the full sum, with the
    positions ``padding`` crops hatched; the last row is the output, under the positions it
    keeps."""
    rows = products(case)
    start, stop = case.kept
    labels = [f"tap {k}: w{k}·x" for k in range(case.kernel_size)] + ["sum", "output"]
    drawing = Drawing(
        "GEMM + overlap-add: " + describe(case),
        labels,
        column_labels=_outputs(case.full_length),
    )
    for k, row in enumerate(rows):
        landing = {i * case.stride + k * case.dilation: v for i, v in enumerate(row)}
        for t in range(case.full_length):
            drawing.add(
                k, t, fmt(landing[t]) if t in landing else "", "stamp" if t in landing else "empty"
            )
    for t, value in enumerate(case.full):
        drawing.add(case.kernel_size, t, fmt(value), "sum" if start <= t < stop else "cropped")
    for t, value in zip(range(start, stop), case.output, strict=True):
        drawing.add(case.kernel_size + 1, t, fmt(value), "output")
    return drawing


def draw_gemm_overlap_add(case: TransposedCase) -> Figure:
    """The figure of :func:`gemm_overlap_add_drawing`; ``fig.products`` is :func:`products`."""
    return _finish(gemm_overlap_add_drawing(case), case, products=products(case))


def polyphase_drawing(case: TransposedCase) -> Drawing:
    """Polyphase: one row per phase ``r``, labelled with its taps, holding the outputs
    ``t % stride == r`` it computes (a small convolution of the input with those taps);
    the last row interleaves them into the output, each cell styled by its phase."""
    every = phases(case)
    styles = ("stamp", "sum", "input")
    labels = [
        f"phase {p.r}: taps {', '.join(f'w{k}' for k in p.taps) or 'none'}" for p in every
    ] + ["output"]
    drawing = Drawing(
        "polyphase: " + describe(case), labels, column_labels=_outputs(case.output_length)
    )
    for p in every:
        for t, value in zip(p.positions, p.values, strict=True):
            drawing.add(p.r, t, fmt(value), styles[p.r % len(styles)])
            drawing.add(len(every), t, fmt(value), styles[p.r % len(styles)])
    return drawing


def draw_polyphase(case: TransposedCase) -> Figure:
    """The figure of :func:`polyphase_drawing`; ``fig.phases`` is :func:`phases`."""
    return _finish(polyphase_drawing(case), case, label_width=4.0, phases=phases(case))
