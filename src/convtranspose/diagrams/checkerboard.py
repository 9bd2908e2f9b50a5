"""Checkerboard artifacts (chapter 10): uneven coverage, and the ripple it leaves.

:func:`draw_coverage` draws, from one table of ``(kernel_size, stride)`` pairs, how many
kernel taps reach each output sample; :func:`draw_signals` draws signals one above the
other with their :func:`~convtranspose.coverage.roughness`. Both keep what they drew on
the figure (``fig.coverage``, ``fig.signals``) so tests can check it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..coverage import coverage, period_coverage, roughness, unevenness
from ..shapes import kernel_span, stamp_span

__all__ = ["draw_coverage", "draw_coverage_2d", "draw_signals"]

EVEN, UNEVEN, EDGE = "#6aa84f", "#e69138", "#cccccc"


def _ratio(value: float) -> str:
    return "∞ (gaps)" if value == float("inf") else f"{value:g}"


def draw_coverage(pairs: Sequence[tuple[int, int]], length: int = 6, dilation: int = 1) -> Figure:
    """One bar chart per ``(kernel_size, stride)``: contributions per output sample of a
    transposed convolution of ``length`` inputs (no padding).

    Bars away from the ends are green where they reach the most taps of the period and
    orange where they get fewer; the ends, where fewer stamps overlap in any case, are grey.
    ``fig.coverage`` maps each pair to its list of counts, ``fig.periods`` to
    :func:`~convtranspose.coverage.period_coverage`.
    """
    if not pairs:
        raise ValueError("pairs must hold at least one (kernel_size, stride) pair")
    fig, axes = plt.subplots(len(pairs), 1, figsize=(7, 1.5 * len(pairs) + 0.4), squeeze=False)
    fig.coverage, fig.periods = {}, {}
    for ax, (kernel_size, stride) in zip(axes[:, 0], pairs, strict=True):
        counts = coverage(length, kernel_size, stride, dilation=dilation)
        period = period_coverage(kernel_size, stride, dilation)
        # every stamp that could land here does: past the first stamp's reach, up to the last
        middle = range(kernel_span(kernel_size, dilation) - 1, stamp_span(length, 1, stride))
        colours = [
            EDGE if t not in middle else EVEN if n == max(period) else UNEVEN
            for t, n in enumerate(counts)
        ]
        ax.bar(range(len(counts)), counts, color=colours, edgecolor="#444444", linewidth=0.6)
        ax.set_xlim(-0.6, (length - 1) * max(s for _, s in pairs) + max(k for k, _ in pairs))
        ax.set_ylim(0, max(*counts, 1) + 0.5)
        ax.set_yticks(range(max(counts) + 1))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(
            f"kernel_size {kernel_size}, stride {stride}: period {period}, "
            f"max/min {_ratio(unevenness(kernel_size, stride, dilation))}",
            fontsize=9,
        )
        ax.spines[["top", "right"]].set_visible(False)
        fig.coverage[(kernel_size, stride)] = counts
        fig.periods[(kernel_size, stride)] = period
    axes[-1, 0].set_xlabel("output position")
    fig.supylabel("contributions")
    fig.tight_layout()
    return fig


def draw_coverage_2d(
    pairs: Sequence[tuple[int, int]], length: int = 6, dilation: int = 1
) -> Figure:
    """The coverage of a 2-d transposed convolution (the same kernel size and stride along
    both axes, ``length x length`` inputs, no padding), one grey-scale panel per
    ``(kernel_size, stride)``: a pixel's count is its row's count times its column's
    (:func:`~convtranspose.coverage.coverage` along each axis), darker is more taps. Where
    ``stride`` does not divide ``kernel_size`` the counts alternate along both axes: the
    checkerboard. ``fig.coverage`` maps each pair to its grid (a list of rows)."""
    if not pairs:
        raise ValueError("pairs must hold at least one (kernel_size, stride) pair")
    fig, axes = plt.subplots(1, len(pairs), figsize=(3.4 * len(pairs), 3.6), squeeze=False)
    fig.coverage = {}
    top = 0
    grids = []
    for kernel_size, stride in pairs:
        counts = torch.tensor(coverage(length, kernel_size, stride, dilation=dilation))
        grids.append(torch.outer(counts, counts))
        top = max(top, int(grids[-1].max()))
    for ax, (kernel_size, stride), grid in zip(axes[0], pairs, grids, strict=True):
        fig.coverage[(kernel_size, stride)] = grid.tolist()
        ax.imshow(grid.numpy(), cmap="Greys", vmin=0, vmax=top, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(
            f"kernel {kernel_size}x{kernel_size}, stride {stride}:\ntaps per output pixel",
            fontsize=9,
        )
    fig.tight_layout()
    return fig


def draw_signals(signals: Mapping[str, Sequence[float]], trim: int = 0) -> Figure:
    """Each signal in its own panel, samples joined by lines, titled with its name and its
    roughness (``trim`` samples left out at each end). ``fig.signals`` holds the values
    drawn (as lists) and ``fig.roughness`` the numbers in the titles."""
    if not signals:
        raise ValueError("signals must hold at least one named signal")
    fig, axes = plt.subplots(len(signals), 1, figsize=(7, 1.6 * len(signals) + 0.3), squeeze=False)
    fig.signals, fig.roughness = {}, {}
    for ax, (name, values) in zip(axes[:, 0], signals.items(), strict=True):
        values = torch.as_tensor(values, dtype=torch.float64).flatten()
        rough = roughness(values, trim)
        ax.plot(values.tolist(), marker="o", markersize=3, linewidth=1, color="#3d85c6")
        ax.set_title(f"{name}: roughness {rough:.3f}", fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
        fig.signals[name] = values.tolist()
        fig.roughness[name] = rough
    axes[-1, 0].set_xlabel("position")
    fig.tight_layout()
    return fig
