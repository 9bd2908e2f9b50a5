"""Part V's figures: 2-d stamps, the crop on each axis, and upsampled photographs (chapter 13).

The stamp and crop figures are cell grids in the house style (:mod:`.grid`): one
:class:`~.grid.Drawing` row per output row, so ``fig.drawing`` holds every number drawn.
Values come from :func:`convtranspose.reference.conv_transpose2d`, the definition; the
tests compare them with torch. :func:`draw_upsampled` shows images side by side, each
titled with its :func:`~convtranspose.images.phase_means`, and keeps what it drew.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from ..arguments2d import pair
from ..images import phase_means
from ..reference import conv_transpose2d
from .grid import Drawing, fmt, render

__all__ = ["draw_crop_2d", "draw_stamps_2d", "draw_upsampled"]


def _grid(values: Sequence[Sequence[float]]) -> torch.Tensor:
    grid = torch.as_tensor(values, dtype=torch.float64)
    if grid.dim() != 2 or min(grid.shape) == 0:
        raise ValueError(f"expected a non-empty 2-d grid of numbers, got shape {list(grid.shape)}")
    return grid


def draw_stamps_2d(
    input: Sequence[Sequence[float]], kernel: Sequence[Sequence[float]], stride: int = 1
) -> Figure:
    """Overlap-add in 2-d: one panel per input pixel, its kernel scaled by the pixel and
    placed with its corner at ``(i*stride_h, j*stride_w)`` on the full output, then a panel
    with the sum. ``fig.stamps`` maps ``(i, j)`` to that pixel's stamp (a full-size grid,
    zeros where it does not reach) and ``fig.sum`` is the sum, all computed by
    :func:`~convtranspose.reference.conv_transpose2d` (no padding)."""
    x, w = _grid(input), _grid(kernel)
    s_h, s_w = pair(stride, "stride")

    def transposed(image: torch.Tensor) -> torch.Tensor:
        return conv_transpose2d(image[None, None], w[None, None], stride=(s_h, s_w))[0, 0]

    stamps = {}
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            one = torch.zeros_like(x)
            one[i, j] = x[i, j]
            stamps[(i, j)] = transposed(one)
    total = transposed(x)
    height, width = total.shape
    panels = [
        *[(f"x[{i},{j}] = {fmt(x[i, j])}", g) for (i, j), g in stamps.items()],
        ("sum", total),
    ]
    drawing = Drawing(
        f"2-d stamps: {x.shape[0]}x{x.shape[1]} input, {w.shape[0]}x{w.shape[1]} kernel, "
        f"stride {(s_h, s_w)}",
        [f"row {t}" for t in range(height)],
    )
    for p, (title, grid) in enumerate(panels):
        left = p * (width + 1)
        drawing.column_labels[left] = title
        for t in range(height):
            for u in range(width):
                value = grid[t, u].item()
                style = "sum" if title == "sum" else ("stamp" if value else "empty")
                drawing.add(t, left + u, fmt(value) if value or title == "sum" else "", style)
    fig = render(drawing, label_width=2.0, size=0.32)
    fig.stamps = {k: g.tolist() for k, g in stamps.items()}
    fig.sum = total.tolist()
    return fig


def draw_crop_2d(
    input_size: tuple[int, int],
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
) -> Figure:
    """The crop, one axis at a time: the full output of ones stamped with a kernel of ones
    (each cell its coverage), rows and columns that ``padding`` crops hatched, those that
    ``output_padding`` keeps dotted (zeros where they lie past the last stamp), the returned
    output plain. ``fig.full`` is the full grid,
    ``fig.kept`` the ``((first row, end), (first column, end))`` kept, ``fig.output`` the
    returned grid, all from :func:`~convtranspose.reference.conv_transpose2d`."""
    k, s = pair(kernel_size, "kernel_size"), pair(stride, "stride")
    p, o = pair(padding, "padding"), pair(output_padding, "output_padding")
    height, width = pair(input_size, "input_size")
    ones = torch.ones(1, 1, height, width, dtype=torch.float64)
    kernel = torch.ones(1, 1, *k, dtype=torch.float64)
    output = conv_transpose2d(ones, kernel, stride=s, padding=p, output_padding=o)[0, 0]
    kept = tuple((p[a], p[a] + output.shape[a]) for a in range(2))
    full = conv_transpose2d(ones, kernel, stride=s)[0, 0]
    # output_padding past the last stamp keeps cells no stamp reaches: zeros, drawn too
    grow = [max(0, kept[a][1] - full.shape[a]) for a in range(2)]
    full = torch.nn.functional.pad(full, (0, grow[1], 0, grow[0]))
    extra = [
        range(max(kept[a][0], kept[a][1] - o[a]), kept[a][1]) for a in range(2)
    ]  # kept for output_padding
    drawing = Drawing(
        f"crop per axis: input {height}x{width}, kernel {k}, stride {s}, padding {p}, "
        f"output_padding {o}: output {tuple(output.shape)}",
        [f"row {t}" for t in range(full.shape[0])],
        column_labels={u: str(u) for u in range(full.shape[1])},
    )
    for t in range(full.shape[0]):
        for u in range(full.shape[1]):
            inside = kept[0][0] <= t < kept[0][1] and kept[1][0] <= u < kept[1][1]
            style = (
                "cropped" if not inside else "extra" if t in extra[0] or u in extra[1] else "output"
            )
            drawing.add(t, u, fmt(full[t, u].item()), style)
    fig = render(drawing, label_width=2.0, size=0.4)
    fig.full, fig.kept, fig.output = full.tolist(), kept, output.tolist()
    return fig


def draw_upsampled(
    images: Mapping[str, torch.Tensor], stride: int = 2, window: tuple[slice, slice] | None = None
) -> Figure:
    """Grey-scale images side by side (``window`` picks the same region of each, in the
    coordinates of the largest, the others scaled to it), each titled with its
    :func:`~convtranspose.images.phase_means` for ``stride``. ``fig.pixels`` holds the pixels
    drawn (lists) and ``fig.phase_means`` the tables in the titles."""
    if not images:
        raise ValueError("images must hold at least one named image")
    largest = max(img.shape[-1] for img in images.values())
    fig, axes = plt.subplots(1, len(images), figsize=(2.6 * len(images), 3.0), squeeze=False)
    fig.pixels, fig.phase_means = {}, {}
    for ax, (name, image) in zip(axes[0], images.items(), strict=True):
        image = image.detach().double().reshape(image.shape[-2:])
        scale = largest // image.shape[-1]
        rows, cols = window or (slice(None), slice(None))
        shown = image[
            slice(None if rows.start is None else rows.start // scale, None if rows.stop is None else rows.stop // scale),
            slice(None if cols.start is None else cols.start // scale, None if cols.stop is None else cols.stop // scale),
        ]  # fmt: skip
        ax.imshow(shown.numpy(), cmap="gray", interpolation="nearest", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        table = phase_means(image, stride) if image.shape[-1] % stride == 0 else None
        caption = (
            ""
            if table is None
            else "\nphase means " + " ".join(f"{v:.2f}" for row in table for v in row)
        )
        ax.set_title(name + caption, fontsize=9)
        fig.pixels[name], fig.phase_means[name] = shown.tolist(), table
    fig.tight_layout()
    return fig
