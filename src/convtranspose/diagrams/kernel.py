"""Chapter 12's figure: which Triton program writes which output, and from which taps.

The per-phase forward kernel (:mod:`convtranspose.cuda`) gives each program one *phase*
``r = (t + padding) % stride`` of the output and a block of ``block_q`` consecutive
positions of that phase; within it only the taps with ``k*dilation % stride == r`` land.
:func:`programs` lists the programs of a single-channel :class:`~.case.TransposedCase` in
launch order, with the grid the launcher really uses (:mod:`convtranspose.cuda.phases`), and
:func:`draw_programs` draws them: one row per program under the output it assembles.
The figure carries the list as ``fig.programs`` for the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure

from ..cuda.phases import phase_grid, phase_taps
from .case import TransposedCase
from .grid import Drawing, fmt, render

__all__ = ["Program", "draw_programs", "programs", "programs_drawing"]


@dataclass(frozen=True)
class Program:
    """One program of the forward kernel's grid (single channel, one sample).

    It owns phase ``phase`` and block ``block`` of that phase's positions, uses ``taps``
    (the taps that land on the phase) and writes ``outputs``; ``sources[j]`` lists the
    ``(i, k)`` pairs it multiplies for ``outputs[j]`` (input ``i`` times tap ``k``, with
    ``i = (t + padding - k*dilation) / stride`` in range) and ``values[j]`` their sum.
    """

    pid: int
    phase: int
    block: int
    taps: tuple[int, ...]
    outputs: tuple[int, ...]
    sources: tuple[tuple[tuple[int, int], ...], ...]
    values: tuple[float, ...]


def programs(case: TransposedCase, block_q: int = 2) -> list[Program]:
    """The kernel's programs for ``case`` in launch order (block fastest, then phase),
    with ``block_q`` positions per program; programs that write nothing are left out."""
    s, p, d = case.stride, case.padding, case.dilation
    grid = phase_grid(case.output_length, s, p, block_q)
    result = []
    for r in range(s):
        taps = phase_taps(len(case.kernel), s, 0, d)[r]
        for b in range(grid.n_blocks):
            outputs = grid.positions(r, b)
            if not outputs:
                continue
            sources = tuple(
                tuple((i, k) for k in taps if 0 <= (i := (t + p - k * d) // s) < len(case.input))
                for t in outputs
            )
            values = tuple(
                sum(case.input[i] * case.kernel[k] for i, k in pairs) for pairs in sources
            )
            result.append(
                Program(r * grid.n_blocks + b, r, b, tuple(taps), tuple(outputs), sources, values)
            )
    return result


def programs_drawing(case: TransposedCase, block_q: int = 2) -> Drawing:
    """Row 0: the output; then one row per program with the values it computes, placed
    under the outputs it writes."""
    progs = programs(case, block_q)
    labels = ["output y"] + [
        f"program {q.pid}: (t+p)%s={q.phase}, taps {list(q.taps)}" for q in progs
    ]
    drawing = Drawing(
        f"{len(progs)} programs, {block_q} positions each: stride={case.stride}, "
        f"padding={case.padding}, dilation={case.dilation}",
        labels,
        column_labels={t: f"t={t}" for t in range(case.output_length)},
    )
    for q in progs:
        for t, value in zip(q.outputs, q.values, strict=True):
            drawing.add(0, t, fmt(value), "output")
            drawing.add(1 + progs.index(q), t, fmt(value), "sum" if q.taps else "zero")
    return drawing


def draw_programs(case: TransposedCase, block_q: int = 2) -> Figure:
    """The figure of :func:`programs_drawing`; ``fig.programs`` holds :func:`programs`."""
    fig = render(programs_drawing(case, block_q), label_width=6.5)
    fig.programs = programs(case, block_q)
    fig.case = case
    return fig
