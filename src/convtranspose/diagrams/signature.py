"""Figures for the rest of the signature: ``output_padding``, ``dilation``, channels and groups.

Each function takes the numbers of a case, builds a :class:`~.grid.Drawing` from
them (through :class:`~.case.ConvCase`, :class:`~.case.TransposedCase` and
:mod:`convtranspose.lengths`, never hand-placed cells) and renders it, so the
figure's data is ``fig.drawing`` and a new case is one more call.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from ..lengths import conv1d_input_lengths, effective_kernel_size
from .case import ConvCase, TransposedCase
from .grid import Drawing, fmt, render

__all__ = [
    "draw_channel_stamps",
    "draw_dilated_kernels",
    "draw_length_ambiguity",
    "draw_output_padding_choices",
    "draw_weight_blocks",
]


def _arguments(kernel_size: int, **arguments: int) -> str:
    """``kernel_size 3, stride 2``: the kernel size and every argument that is not its default."""
    defaults = {"stride": 1, "padding": 0, "output_padding": 0, "dilation": 1}
    parts = [f"kernel_size {kernel_size}"]
    parts += [f"{name} {value}" for name, value in arguments.items() if value != defaults[name]]
    return ", ".join(parts)


def draw_length_ambiguity(
    output_length: int, kernel_size: int, stride: int, padding: int = 0, dilation: int = 1
) -> Figure:
    """Every input length a strided ``Conv1d`` maps to ``output_length``, one row each.

    A cell is one (padded) input sample, its text the sample's index; samples some
    window reads are ``input``, the padding is ``zero``, and samples no window reads
    are hatched ``cropped``: the tail of fewer than ``stride`` samples after the last
    window (and, when ``dilation > stride``, gaps between taps). The tail is what the
    output length forgets.
    """
    lengths = conv1d_input_lengths(output_length, kernel_size, stride, padding, dilation)
    drawing = Drawing(
        f"Conv1d, {_arguments(kernel_size, stride=stride, padding=padding, dilation=dilation)}"
        " (hatched: never read)",
        [f"L_in={length} → {output_length}" for length in lengths],
    )
    cases = []
    for row, length in enumerate(lengths):
        case = ConvCase.ones(length, kernel_size, stride=stride, padding=padding, dilation=dilation)
        cases.append(case)
        read = {p for window in case.windows() for p in window.positions}
        for p in range(length + 2 * padding):
            if not padding <= p < padding + length:
                drawing.add(row, p, "0", "zero")
            else:
                drawing.add(row, p, str(p - padding), "input" if p in read else "cropped")
    fig = render(drawing)
    fig.cases = cases
    return fig


def draw_output_padding_choices(
    length: int, kernel_size: int, stride: int, padding: int = 0, dilation: int = 1
) -> Figure:
    """``conv_transpose1d`` of ``length`` ones (kernel of ones) for every ``output_padding``
    torch accepts, one row each: the same values, and ``output_padding`` more positions at
    the end (style ``extra``) that no stamp reached unless ``padding`` had cropped them."""
    choices = range(max(stride, dilation))
    drawing = Drawing(
        f"ConvTranspose1d, {_arguments(kernel_size, stride=stride, padding=padding, dilation=dilation)}"
        f", on {length} ones",
        [],
    )
    cases = []
    for row, output_padding in enumerate(choices):
        case = TransposedCase.ones(
            length,
            kernel_size,
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            dilation=dilation,
        )
        cases.append(case)
        extra = {t - padding for t in case.output_padding_positions}
        drawing.row_labels.append(f"output_padding={output_padding}: L_out={case.output_length}")
        for t, value in enumerate(case.output):
            drawing.add(row, t, fmt(value), "extra" if t in extra else "output")
    fig = render(drawing, label_width=5.0)
    fig.cases = cases
    return fig


def draw_dilated_kernels(kernel_size: int, dilations: tuple[int, ...] = (1, 2, 3)) -> Figure:
    """One kernel of ``kernel_size`` taps ``w0, w1, ...`` at each dilation: the taps land
    ``dilation`` apart and the zeros between them are the gaps, so the kernel spans
    ``dilation*(kernel_size - 1) + 1`` positions."""
    drawing = Drawing(
        f"A kernel of {kernel_size} taps, dilated",
        [f"dilation={d}: spans {effective_kernel_size(kernel_size, d)}" for d in dilations],
    )
    widest = 0
    for row, dilation in enumerate(dilations):
        (stamp,) = TransposedCase((1.0,), (1.0,) * kernel_size, dilation=dilation).stamps()
        taps = dict(zip(stamp.positions, range(kernel_size), strict=True))
        span = effective_kernel_size(kernel_size, dilation)
        widest = max(widest, span)
        for p in range(span):
            if p in taps:
                drawing.add(row, p, f"w{taps[p]}", "stamp")
            else:
                drawing.add(row, p, "0", "zero")
    drawing.column_labels = {p: str(p) for p in range(widest)}
    return render(drawing, label_width=4.0)


def draw_channel_stamps(
    input: Sequence[Sequence[float]], weight: Sequence[Sequence[Sequence[float]]], stride: int = 1
) -> Figure:
    """Channel mixing, stamp by stamp: for each output channel ``co``, one row per nonzero
    input sample ``x[ci, i]`` with its stamp ``x[ci, i] * weight[ci, co, :]`` at
    ``i*stride + k``, then the row ``out[co]``, their sum. ``input`` is ``(C_in, L)``,
    ``weight`` ``(C_in, C_out, K)`` (one group, no padding or dilation): every input channel
    writes into every output channel, through its own row of the weight.
    ``fig.outputs[co]`` is the sum row's values."""
    c_in, c_out, kernel_size = len(input), len(weight[0]), len(weight[0][0])
    if len(weight) != c_in:
        raise ValueError(f"weight has {len(weight)} input channels, input {c_in}")
    rows: list[tuple[str, dict[int, float], str]] = []  # (label, {position: value}, style)
    outputs = []
    for co in range(c_out):
        # Output channel co is the sum of single-channel cases: input channel ci, kernel
        # weight[ci, co] (the overlap-add of each, from TransposedCase).
        cases = [TransposedCase(input[ci], weight[ci][co], stride=stride) for ci in range(c_in)]
        for ci, case in enumerate(cases):
            for stamp in case.stamps():
                if stamp.value != 0:
                    label = f"x[{ci},{stamp.index}]={fmt(stamp.value)} · weight[{ci},{co}]"
                    rows.append((label, stamp.cells(), "stamp"))
        total = [sum(values) for values in zip(*(case.full for case in cases), strict=True)]
        rows.append((f"out[{co}]", dict(enumerate(total)), "sum"))
        outputs.append(total)
    full = cases[0].full_length
    drawing = Drawing(
        f"ConvTranspose1d({c_in}, {c_out}, {kernel_size}): every input channel stamps into "
        "every output channel",
        [label for label, _, _ in rows],
        column_labels={t: str(t) for t in range(full)},
    )
    for r, (_, cells, style) in enumerate(rows):
        for t in range(full):
            drawing.add(r, t, fmt(cells[t]) if t in cells else "", style if t in cells else "empty")
    fig = render(drawing, label_width=5.0)
    fig.outputs = outputs
    return fig


def _check_channels(in_channels: int, out_channels: int, groups: int) -> None:
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        if value < 1 or value % groups:
            raise ValueError(f"{name}={value} must be a positive multiple of groups={groups}")


def draw_weight_blocks(
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    groups: int = 1,
    layer: str = "ConvTranspose1d",
) -> Figure:
    """Which channel feeds which, and through which slice of the weight.

    One row per ``weight[r]`` (its first index), one column per channel on the other
    side; a filled cell ``(r, c)`` holds ``j``, the weight's second index, meaning the
    kernel ``weight[r, j, :]`` connects the two. Groups are the diagonal blocks
    (alternating styles); empty cells are channel pairs the groups keep apart.

    ``layer="ConvTranspose1d"``: rows are input channels, columns output channels;
    ``weight`` is ``(in_channels, out_channels // groups, kernel_size)``.
    ``layer="Conv1d"``: rows are output channels, columns input channels; ``weight``
    is ``(out_channels, in_channels // groups, kernel_size)``. ``Conv1d(a, b)`` and
    ``ConvTranspose1d(b, a)`` therefore draw the same cells.
    """
    if groups < 1:
        raise ValueError(f"groups must be >= 1, got {groups}")
    _check_channels(in_channels, out_channels, groups)
    if layer == "ConvTranspose1d":
        rows, cols, row_name, col_name = in_channels, out_channels, "in", "out"
    elif layer == "Conv1d":
        rows, cols, row_name, col_name = out_channels, in_channels, "out", "in"
    else:
        raise ValueError(f"layer must be 'ConvTranspose1d' or 'Conv1d', got {layer!r}")
    rows_per_group, cols_per_group = rows // groups, cols // groups
    drawing = Drawing(
        f"{layer}({in_channels}, {out_channels}, {kernel_size}, groups={groups}): "
        f"weight {(rows, cols_per_group, kernel_size)}",
        [f"weight[{r}] ({row_name} {r})" for r in range(rows)],
        column_labels={c: f"{col_name} {c}" for c in range(cols)},
    )
    for r in range(rows):
        group = r // rows_per_group
        for c in range(cols):
            if c // cols_per_group == group:
                style = "stamp" if group % 2 == 0 else "sum"
                drawing.add(r, c, str(c - group * cols_per_group), style)
            else:
                drawing.add(r, c, "", "empty")
    return render(drawing, label_width=4.0)
