"""The reference ``conv_transpose2d`` loop against ``torch.nn.functional.conv_transpose2d``.

Property-based over the whole parameter space (batched or not, groups, channels, each size
argument an int, a 1-sequence or a pair with different values per axis, bias, dtype,
non-finite values), and every bad input torch rejects is rejected too, with a message that
names the argument.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from convtranspose import reference

TOLERANCE = {torch.float32: (1e-5, 1e-5), torch.float64: (1e-12, 1e-10)}


def spelled(draw, values: tuple[int, int]):
    """torch reads an int, a 1-sequence (same on both axes) or a pair: use them all."""
    h, w = values
    if h == w:
        return draw(st.sampled_from([h, (h,), [h], (h, w), [h, w], np.int64(h)]))
    return draw(st.sampled_from([(h, w), [h, w]]))


@st.composite
def axis(draw):
    """One axis's (input length, kernel size, stride, padding, output_padding, dilation),
    drawn so that the output is at least one long."""
    kernel_size = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 2))
    output_padding = draw(st.integers(0, max(stride, dilation) - 1))
    length = draw(st.integers(1, 4))
    full = (length - 1) * stride + dilation * (kernel_size - 1) + output_padding + 1
    padding = draw(
        st.one_of(st.integers(0, min(1, (full - 1) // 2)), st.integers(0, (full - 1) // 2))
    )
    return length, kernel_size, stride, padding, output_padding, dilation


@st.composite
def cases(draw):
    rows, cols = draw(axis()), draw(st.one_of(axis(), st.just(None)))
    cols = rows if cols is None else cols  # square half the time, so ints come up
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 2))
    c_out_per_group = draw(st.integers(1, 2))
    batch = draw(st.sampled_from([None, 1, 2, 0]))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    make = lambda *s: torch.randn(*s, generator=gen, dtype=dtype)  # noqa: E731
    shape = (c_in, rows[0], cols[0])
    x = make(*((shape,) if batch is None else ((batch, *shape),)))
    weight = make(c_in, c_out_per_group, rows[1], cols[1])
    bias = make(c_out_per_group * groups) if draw(st.booleans()) else None
    names = ("stride", "padding", "output_padding", "dilation")
    kwargs = {name: spelled(draw, (rows[i], cols[i])) for i, name in enumerate(names, start=2)}
    kwargs["groups"] = groups
    return x, weight, bias, kwargs


@given(cases())
def test_matches_torch(case) -> None:
    x, weight, bias, kwargs = case
    expected = F.conv_transpose2d(x, weight, bias, **kwargs)
    got = reference.conv_transpose2d(x, weight, bias, **kwargs)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    atol, rtol = TOLERANCE[x.dtype]
    torch.testing.assert_close(got, expected, atol=atol, rtol=rtol)


@given(cases(), st.data())
def test_non_finite_values_go_where_torch_puts_them(case, data) -> None:
    """An inf or nan in the input reaches exactly the outputs its stamp reaches (and turns
    ``inf - inf`` into nan where two meet), as in torch: nothing multiplies a cropped tap."""
    x, weight, bias, kwargs = case
    if x.numel():
        flat = x.flatten()  # a copy's view: x itself is replaced below
        where = data.draw(st.lists(st.integers(0, flat.numel() - 1), min_size=1, max_size=3))
        values = data.draw(
            st.lists(st.sampled_from([np.inf, -np.inf, np.nan]), min_size=3, max_size=3)
        )
        flat = flat.clone()
        for i, v in zip(where, values, strict=False):
            flat[i] = v
        x = flat.reshape(x.shape)
    expected = F.conv_transpose2d(x, weight, bias, **kwargs)
    got = reference.conv_transpose2d(x, weight, bias, **kwargs)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5, equal_nan=True)


def test_seed_case_stamps_a_square_of_ones() -> None:
    """Two by two ones, a 3x3 kernel of ones, stride 2: the stamps overlap on the middle row
    and column, and 4 where all four meet."""
    out = reference.conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 3, 3), stride=2)
    assert (
        out[0, 0].tolist()
        == F.conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 3, 3), stride=2)[
            0, 0
        ].tolist()
    )
    assert out[0, 0, 2].tolist() == [2.0, 2.0, 4.0, 2.0, 2.0]


X = (1, 2, 4, 5)  # input shape of the valid call the cases perturb
W = (2, 3, 3, 2)  # weight shape

# (id, overrides of the valid call, exception, regex the message must match)
BAD = [
    ("stride-zero", {"stride": 0}, RuntimeError, r"stride must be >= 1.*height 0"),
    ("stride-zero-width", {"stride": (1, 0)}, RuntimeError, r"stride must be >= 1.*width 0"),
    ("stride-3-tuple", {"stride": (1, 2, 3)}, RuntimeError, r"stride.*list of 2 values.*\[1, 2, 3\]"),
    ("stride-float", {"stride": 1.5}, TypeError, r"'stride' must be an int or a pair"),
    ("stride-float-in-pair", {"stride": (1, 1.5)}, TypeError, r"'stride' must be an int or a pair"),
    ("stride-bool", {"stride": True}, TypeError, r"'stride' must be an int"),
    ("padding-negative", {"padding": (0, -1)}, RuntimeError, r"padding must be >= 0.*width -1"),
    ("padding-same", {"padding": "same"}, TypeError, r"'padding' must be an int"),
    ("padding-too-large", {"padding": (5, 0)}, RuntimeError, r"output size is \(-4, 6\)"),
    ("output-padding-not-below-stride", {"output_padding": 1}, RuntimeError,
     r"height axis output_padding < max\(stride, dilation\) = 1"),
    ("output-padding-width", {"output_padding": (0, 2), "stride": 2}, RuntimeError,
     r"width axis output_padding < max\(stride, dilation\) = 2"),
    ("output-padding-negative", {"output_padding": -1}, RuntimeError, r"output_padding must be >= 0"),
    ("dilation-zero", {"dilation": (1, 0)}, RuntimeError, r"dilation must be >= 1.*width 0"),
    ("groups-zero", {"groups": 0}, RuntimeError, r"groups must be >= 1"),
    ("groups-tuple", {"groups": (1,)}, TypeError, r"'groups' must be an int"),
    ("groups-not-dividing", {"groups": 3}, RuntimeError, r"groups=3.*multiple of groups"),
    ("input-2d", {"input": (4, 5)}, RuntimeError, r"3D \(unbatched\) or 4D \(batched\)"),
    ("input-5d", {"input": (1, 2, 4, 5, 1)}, RuntimeError, r"3D \(unbatched\) or 4D \(batched\)"),
    ("input-empty-height", {"input": (1, 2, 0, 5)}, RuntimeError, r"height and width must be >= 1"),
    ("weight-3d", {"weight": (2, 3, 3)}, RuntimeError, r"weight must be 4-dimensional"),
    ("weight-empty-kernel", {"weight": (2, 3, 0, 2)}, RuntimeError, r"kernel size should be greater than zero"),
    ("weight-no-outputs", {"weight": (2, 0, 3, 2)}, RuntimeError, r"weight.shape\[1\].*must be >= 1"),
    ("channel-mismatch", {"weight": (3, 3, 3, 2)}, RuntimeError, r"to have 3 channels.*got 2 channels"),
    ("bias-wrong-size", {"bias": (2,)}, RuntimeError, r"bias to be 1-dimensional with 3 elements"),
    ("bias-2d", {"bias": (3, 1)}, RuntimeError, r"bias to be 1-dimensional with 3 elements"),
    ("mixed-dtypes", {"weight_dtype": torch.float64}, TypeError, r"same dtype.*float32.*float64"),
    ("input-not-tensor", {"input": "list"}, TypeError, r"'input' must be a Tensor"),
]  # fmt: skip


def build_call(overrides: dict) -> tuple[tuple, dict]:
    """The valid call ``conv_transpose2d(ones(X), ones(W), ones(3))`` with ``overrides``."""
    o = dict(overrides)
    x = [[1.0]] if o.get("input") == "list" else torch.ones(o.pop("input", X))
    o.pop("input", None)
    w = torch.ones(o.pop("weight", W), dtype=o.pop("weight_dtype", torch.float32))
    b = torch.ones(o.pop("bias", (3,)))
    return (x, w, b), o


@pytest.mark.parametrize(
    ("overrides", "exc", "pattern"), [c[1:] for c in BAD], ids=[c[0] for c in BAD]
)
def test_rejects_bad_input_where_torch_does(overrides, exc, pattern) -> None:
    args, kwargs = build_call(overrides)
    with pytest.raises((RuntimeError, TypeError, ValueError)):
        F.conv_transpose2d(*args, **kwargs)
    with pytest.raises(exc, match=pattern):
        reference.conv_transpose2d(*args, **kwargs)


def test_valid_call_is_valid() -> None:
    args, kwargs = build_call({})
    expected = F.conv_transpose2d(*args, **kwargs)
    assert torch.equal(reference.conv_transpose2d(*args, **kwargs), expected)


def test_is_differentiable_like_torch() -> None:
    torch.manual_seed(0)
    x = torch.randn(1, 2, 3, 2, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 2, 2, 3, dtype=torch.float64, requires_grad=True)
    kwargs = {"stride": (2, 1), "padding": (0, 1), "groups": 2}
    ours = torch.autograd.grad(reference.conv_transpose2d(x, w, **kwargs).sum(), (x, w))
    theirs = torch.autograd.grad(F.conv_transpose2d(x, w, **kwargs).sum(), (x, w))
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b)
