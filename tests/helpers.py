"""Helpers shared by the test modules: hypothesis strategies (random, valid
``conv_transpose1d`` calls over the whole parameter space; small single-channel cases for
the figures) and the check that a figure draws its layout. (conftest.py sets matplotlib's
backend and closes every figure after each test.)"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from convtranspose.diagrams import ConvCase, TransposedCase

#: (atol, rtol) per dtype. float32 sums of a few dozen unit-scale products differ from
#: torch's order of summation by a few ulps of the largest partial sum.
TOLERANCE = {torch.float32: (1e-5, 1e-5), torch.float64: (1e-12, 1e-10)}


@dataclass
class Case:
    """One draw of the parameter space: the tensors and the keyword arguments."""

    input: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor | None
    kwargs: dict

    def tensors(self) -> tuple[torch.Tensor, ...]:
        return tuple(t for t in (self.input, self.weight, self.bias) if t is not None)

    def to(self, device: str) -> Case:
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return Case(move(self.input), move(self.weight), move(self.bias), self.kwargs)

    def run(self, fn, input=None, weight=None, bias=None):
        return fn(
            self.input if input is None else input,
            self.weight if weight is None else weight,
            self.bias if bias is None else bias,
            **self.kwargs,
        )


def maybe_tuple(draw, value: int):
    """torch takes an int or a 1-tuple (or 1-list) for stride, padding, ...: exercise all."""
    return draw(st.sampled_from([value, (value,), [value]]))


@st.composite
def cases(draw, dtype=None, small: bool = False, requires_grad: bool = False) -> Case:
    """A random, valid ``conv_transpose1d`` call. ``small`` keeps it quick for slow
    implementations and gradcheck."""
    top = 2 if small else 4
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, top))
    c_out_per_group = draw(st.integers(1, top))
    kernel_size = draw(st.integers(1, 5))
    stride = draw(st.integers(1, 4))
    dilation = draw(st.integers(1, 3))
    output_padding = draw(st.integers(0, max(stride, dilation) - 1))
    length = draw(st.integers(1, 6 if small else 12))
    full = (length - 1) * stride + dilation * (kernel_size - 1) + output_padding + 1
    # Padding at most (full - 1) // 2 keeps the output at least 1 long. Drawn small half the
    # time, so that output_padding > padding (where output_padding adds samples past the last
    # stamp) comes up often, not only when the output happens to be short.
    most = (full - 1) // 2
    padding = draw(st.one_of(st.integers(0, min(1, most)), st.integers(0, most)))
    # An empty batch goes to torch's op in every implementation, so the algorithm under test
    # does not run: one draw in eight, not one in four or five.
    batches = [None, 1, 2, None, 1, 2, 0] if small else [None, 1, 2, 3, None, 1, 2, 3, 0]
    batch = draw(st.sampled_from(batches))
    with_bias = draw(st.booleans())
    dtype = dtype or draw(st.sampled_from([torch.float32, torch.float64]))
    seed = draw(st.integers(0, 2**31 - 1))

    gen = torch.Generator().manual_seed(seed)
    shape = (c_in, length) if batch is None else (batch, c_in, length)
    make = lambda *s: torch.randn(*s, generator=gen, dtype=dtype).requires_grad_(requires_grad)  # noqa: E731
    kwargs = {
        "stride": maybe_tuple(draw, stride),
        "padding": maybe_tuple(draw, padding),
        "output_padding": maybe_tuple(draw, output_padding),
        "groups": groups,
        "dilation": maybe_tuple(draw, dilation),
    }
    return Case(
        make(*shape),
        make(c_in, c_out_per_group, kernel_size),
        make(c_out_per_group * groups) if with_bias else None,
        kwargs,
    )


values = st.lists(st.integers(-3, 3).map(float), min_size=1, max_size=5)


@st.composite
def transposed_cases(draw: st.DrawFn) -> TransposedCase:
    """Small single-channel cases over every argument, output length >= 1."""
    x, w = draw(values), draw(values.filter(lambda v: len(v) <= 4))
    stride, dilation = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    output_padding = draw(st.integers(0, max(stride, dilation) - 1))
    covered = (len(x) - 1) * stride + dilation * (len(w) - 1) + 1
    padding = draw(st.integers(0, (covered + output_padding - 1) // 2))
    return TransposedCase(x, w, stride, padding, output_padding, dilation)


@st.composite
def conv_cases(draw: st.DrawFn) -> ConvCase:
    x, w = draw(values), draw(values.filter(lambda v: len(v) <= 3))
    stride, dilation, padding = (
        draw(st.integers(1, 3)),
        draw(st.integers(1, 2)),
        draw(st.integers(0, 2)),
    )
    reach = dilation * (len(w) - 1) + 1
    if len(x) + 2 * padding < reach:
        padding = (reach - len(x) + 1) // 2
    return ConvCase(x, w, stride, padding, dilation)


def assert_renders_its_drawing(fig) -> None:
    """Every cell of ``fig.drawing`` is written at its place in the rendered axes, and
    nothing else is written but the row and column labels."""
    d = fig.drawing
    (ax,) = fig.axes
    written = Counter((t.get_position(), t.get_text()) for t in ax.texts)
    cells = Counter(((c.col + 0.5, -c.row + 0.5), c.text) for c in d.cells)
    assert cells <= written
    assert len(ax.texts) == len(d.cells) + len(d.row_labels) + len(d.column_labels)
    assert len(ax.patches) == len(d.cells)
