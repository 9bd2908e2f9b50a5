"""The matrix view (chapter 8): a convolution's matrix beside its transposed convolution's.

:func:`draw_matrix_pair` takes the numbers of one case (a weight, an input length and
the convolution's arguments), builds both matrices with :mod:`convtranspose.matrix`
and draws them as heatmaps side by side, each entry's value written in its cell. The
figure keeps the matrices it drew as ``fig.matrices`` so tests can check them.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from torch import Tensor

from ..matrix import conv1d_matrix, conv_transpose1d_matrix, matching_output_padding
from .grid import fmt

__all__ = ["draw_matrix_pair", "matrix_labels"]


def _as_weight(weight: object) -> Tensor:
    """A float64 ``(C_out, C_in/groups, K)`` weight; a flat list of taps means one channel."""
    w = torch.as_tensor(weight, dtype=torch.float64)
    return w.reshape(1, 1, -1) if w.dim() == 1 else w


def matrix_labels(channels: int, length: int, name: str) -> list[str]:
    """Tick labels of a matrix's rows or columns: ``x3`` for one channel, ``x1[3]`` for several
    (``name`` is the signal, the number in brackets the position, the other the channel)."""
    if channels == 1:
        return [f"{name}{t}" for t in range(length)]
    return [f"{name}{c}[{t}]" for c in range(channels) for t in range(length)]


def _heatmap(
    ax: Axes,
    matrix: Tensor,
    rows: list[str],
    cols: list[str],
    title: str,
    blocks: tuple[int, int] = (0, 0),
) -> None:
    """One matrix: colour by value (zero is white), the nonzero values written in; with
    ``blocks = (row_block, col_block)``, black lines between channels (every ``row_block``
    rows, every ``col_block`` columns)."""
    values = matrix.detach().cpu()
    bound = max(values.abs().max().item(), 1e-12)
    ax.imshow(values.numpy(), cmap="RdBu_r", vmin=-bound, vmax=bound)
    for (r, c), value in zip(torch.cartesian_prod(*map(torch.arange, values.shape)).tolist(),
                             values.flatten().tolist(), strict=True):  # fmt: skip
        if value != 0:
            colour = "white" if abs(value) > 0.6 * bound else "black"  # readable on dark cells
            ax.text(c, r, fmt(value), ha="center", va="center", fontsize=9, color=colour)
    ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=9)
    ax.set_yticks(range(len(rows)), rows, fontsize=9)
    ax.set_xticks([x - 0.5 for x in range(1, len(cols))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(rows))], minor=True)
    ax.grid(which="minor", color="#dddddd", linewidth=0.5)
    ax.tick_params(which="minor", length=0)
    row_block, col_block = blocks
    for line, block, n in ((ax.axhline, row_block, len(rows)), (ax.axvline, col_block, len(cols))):
        for b in range(block, n, block) if block else ():  # block 0: one channel, no lines
            line(b - 0.5, color="black", linewidth=1.2)
    ax.set_title(title, fontsize=10)


def draw_matrix_pair(
    weight: object,
    length: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    groups: int = 1,
) -> Figure:
    """``C`` of ``conv1d(x, weight, ...)`` for ``length`` input samples (left), and the
    matrix of ``conv_transpose1d(y, weight, ...)`` with the same weight and arguments
    (right; ``output_padding`` chosen so it returns ``length`` samples).

    ``weight`` is ``conv1d``'s ``(C_out, C_in/groups, K)``, or a flat list of taps for one
    channel. ``fig.matrices`` is ``{"conv1d": C, "conv_transpose1d": T}`` (float64) and
    ``fig.output_padding`` the ``output_padding`` used; the figure shows ``T == C.T``.
    """
    w = _as_weight(weight)
    c = conv1d_matrix(w, length, stride, padding, dilation, groups)
    c_out, c_in = w.shape[0], w.shape[1] * groups
    l_out = c.shape[0] // c_out
    output_padding = matching_output_padding(length, w.shape[2], stride, padding, dilation)
    t = conv_transpose1d_matrix(w, l_out, stride, padding, output_padding, groups, dilation)
    ys, xs = matrix_labels(c_out, l_out, "y"), matrix_labels(c_in, length, "x")
    size = 0.42 if c_out * c_in == 1 else 0.5
    fig, axes = plt.subplots(
        1,
        2,
        figsize=(size * (c.shape[1] + t.shape[1]) + 2.5, size * max(c.shape[0], t.shape[0]) + 1.8),
        gridspec_kw={"width_ratios": [c.shape[1], t.shape[1]]},
    )
    # With channels, black lines separate them: blocks of l_out (y) and length (x) samples.
    y_block, x_block = (l_out if c_out > 1 else 0), (length if c_in > 1 else 0)
    _heatmap(axes[0], c, ys, xs, f"conv1d: C, {c.shape[0]} x {c.shape[1]}\n(y = C x)", (y_block, x_block))  # fmt: skip
    _heatmap(axes[1], t, xs, ys, f"conv_transpose1d: {t.shape[0]} x {t.shape[1]}\n(x' = Cᵀ y)", (x_block, y_block))  # fmt: skip
    fig.tight_layout()
    fig.matrices = {"conv1d": c, "conv_transpose1d": t}
    fig.output_padding = output_padding
    return fig
