"""The matrix view (chapter 8) and coverage (chapter 10), asserted against torch.

The claims the book makes are checked here over many parameter choices, not only shown:
``C @ x`` is ``conv1d``; the transposed convolution's matrix is ``C.T``; the adjoint
identity ``<conv(x), y> == <x, conv_t(y)>``; autograd's gradient of ``conv1d`` with respect
to its input is ``conv_transpose1d`` of the upstream gradient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import convtranspose
from convtranspose import coverage as cov
from convtranspose.matrix import (
    apply_matrix,
    conv1d_matrix,
    conv_transpose1d_matrix,
    matching_output_padding,
)


@dataclass(frozen=True)
class Case:
    """One ``conv1d`` and the ``conv_transpose1d`` that corresponds to it."""

    groups: int
    c_in: int
    c_out: int
    kernel_size: int
    stride: int
    padding: int
    dilation: int
    length: int
    seed: int

    @property
    def conv_kwargs(self) -> dict:
        return {"stride": self.stride, "padding": self.padding, "dilation": self.dilation,
                "groups": self.groups}  # fmt: skip

    @property
    def output_padding(self) -> int:
        return matching_output_padding(
            self.length, self.kernel_size, self.stride, self.padding, self.dilation
        )

    @property
    def transposed_kwargs(self) -> dict:
        return {**self.conv_kwargs, "output_padding": self.output_padding}

    def tensors(self, batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
        """A random input and a ``conv1d`` weight, float64, from the case's seed."""
        gen = torch.Generator().manual_seed(self.seed)
        x = torch.randn(batch, self.c_in, self.length, generator=gen, dtype=torch.float64)
        w = torch.randn(self.c_out, self.c_in // self.groups, self.kernel_size, generator=gen,
                        dtype=torch.float64)  # fmt: skip
        return x, w


@st.composite
def cases(draw) -> Case:
    groups = draw(st.integers(1, 2))
    kernel_size, dilation = draw(st.integers(1, 4)), draw(st.integers(1, 2))
    padding = draw(st.integers(0, 2))
    span = dilation * (kernel_size - 1) + 1
    return Case(
        groups=groups,
        c_in=groups * draw(st.integers(1, 2)),
        c_out=groups * draw(st.integers(1, 2)),
        kernel_size=kernel_size,
        stride=draw(st.integers(1, 3)),
        padding=padding,
        dilation=dilation,
        length=max(1, span - 2 * padding) + draw(st.integers(0, 5)),
        seed=draw(st.integers(0, 2**31 - 1)),
    )


@given(cases())
def test_conv1d_matrix_times_input_is_conv1d(case: Case) -> None:
    x, w = case.tensors()
    c = conv1d_matrix(w, case.length, **case.conv_kwargs)
    expected = F.conv1d(x, w, **case.conv_kwargs)
    assert c.shape == (case.c_out * expected.shape[2], case.c_in * case.length)
    torch.testing.assert_close(apply_matrix(c, x, case.c_out), expected)


@given(cases(), st.integers(0, 2))
def test_conv_transpose1d_matrix_times_input_is_conv_transpose1d(case: Case, extra: int) -> None:
    """Built from the scatter definition alone (any legal output_padding), it matches torch."""
    # conv1d's weight (c_out, c_in/g, K) is a transposed weight for c_out input channels.
    _, w = case.tensors()
    y = torch.randn(2, case.c_out, 3, dtype=torch.float64)
    output_padding = min(extra, max(case.stride, case.dilation) - 1)
    kwargs = {**case.conv_kwargs, "output_padding": output_padding}
    try:
        expected = F.conv_transpose1d(y, w, **kwargs)
    except RuntimeError:  # padding crops more than the output: the builder must refuse too
        with pytest.raises(RuntimeError):
            conv_transpose1d_matrix(w, 3, **kwargs)
        return
    m = conv_transpose1d_matrix(w, 3, **kwargs)
    torch.testing.assert_close(apply_matrix(m, y, case.c_in), expected)


@given(cases())
def test_transposed_matrix_is_the_transpose(case: Case) -> None:
    _, w = case.tensors()
    c = conv1d_matrix(w, case.length, **case.conv_kwargs)
    l_out = c.shape[0] // case.c_out
    t = conv_transpose1d_matrix(w, l_out, **case.transposed_kwargs)
    assert torch.equal(t, c.T)


@given(cases())
def test_adjoint_identity(case: Case) -> None:
    """<conv1d(x), y> == <x, conv_transpose1d(y)>, with this package's conv_transpose1d."""
    x, w = case.tensors()
    conv_x = F.conv1d(x, w, **case.conv_kwargs)
    y = torch.randn_like(conv_x)
    conv_t_y = convtranspose.conv_transpose1d(y, w, **case.transposed_kwargs)
    assert conv_t_y.shape == x.shape
    torch.testing.assert_close((conv_x * y).sum(), (x * conv_t_y).sum())


@given(cases())
def test_gradient_of_conv1d_is_conv_transpose1d(case: Case) -> None:
    x, w = case.tensors()
    x.requires_grad_(True)
    out = F.conv1d(x, w, **case.conv_kwargs)
    upstream = torch.randn_like(out)
    (grad,) = torch.autograd.grad(out, x, upstream)
    torch.testing.assert_close(
        grad, convtranspose.conv_transpose1d(upstream, w, **case.transposed_kwargs)
    )
    torch.testing.assert_close(grad, F.conv_transpose1d(upstream, w, **case.transposed_kwargs))
    c = conv1d_matrix(w, case.length, **case.conv_kwargs)
    torch.testing.assert_close(grad, apply_matrix(c.T, upstream, case.c_in))


def test_small_case_by_hand() -> None:
    """Kernel [1, 2, 3], stride 2, five inputs: each row is the kernel, shifted by two."""
    c = conv1d_matrix(torch.tensor([[[1.0, 2.0, 3.0]]]), 5, stride=2)
    assert c.tolist() == [[1, 2, 3, 0, 0], [0, 0, 1, 2, 3]]


@pytest.mark.parametrize(
    ("call", "exc"),
    [
        (lambda: conv1d_matrix(torch.ones(1, 1, 3), 0), ValueError),
        (lambda: conv1d_matrix(torch.ones(1, 1, 3), 2), RuntimeError),
        (lambda: conv1d_matrix(torch.ones(1, 1, 3), 5, stride=0), RuntimeError),
        (lambda: conv1d_matrix(torch.ones(3, 3), 5), RuntimeError),
        (lambda: conv1d_matrix(torch.ones(3, 1, 3), 5, groups=2), RuntimeError),
        (lambda: conv_transpose1d_matrix(torch.ones(1, 1, 3), 2, output_padding=1), RuntimeError),
        (lambda: conv_transpose1d_matrix(torch.ones(1, 1, 1), 1, padding=1), RuntimeError),
    ],
)
def test_builders_reject_bad_arguments(call, exc) -> None:
    with pytest.raises(exc):
        call()


# --- coverage (chapter 10) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kernel_size", "stride", "expected"),
    [
        (3, 1, [3]),
        (3, 2, [2, 1]),
        (4, 2, [2, 2]),
        (3, 3, [1, 1, 1]),
        (5, 3, [2, 2, 1]),
        (2, 3, [1, 1, 0]),
    ],
)
def test_period_coverage_table(kernel_size, stride, expected) -> None:
    assert cov.period_coverage(kernel_size, stride) == expected


@given(st.integers(1, 6), st.integers(1, 4), st.integers(1, 3))
def test_coverage_matches_a_ones_transposed_convolution(kernel_size, stride, dilation) -> None:
    """Coverage is conv_transpose1d of ones with a ones kernel; its middle repeats the period."""
    length = 8
    counts = cov.coverage(length, kernel_size, stride, dilation=dilation)
    ones = F.conv_transpose1d(
        torch.ones(1, 1, length, dtype=torch.float64),
        torch.ones(1, 1, kernel_size, dtype=torch.float64),
        stride=stride,
        dilation=dilation,
    )
    assert counts == [int(v) for v in ones.flatten().tolist()]
    period = cov.period_coverage(kernel_size, stride, dilation)
    span = dilation * (kernel_size - 1)
    for t in range(span, (length - 1) * stride + 1):  # every stamp that could reach t exists
        assert counts[t] == period[t % stride]


def test_unevenness() -> None:
    assert cov.unevenness(3, 2) == 2.0
    assert cov.unevenness(4, 2) == 1.0
    assert cov.unevenness(5, 3) == 2.0
    assert math.isinf(cov.unevenness(2, 3))
    assert cov.unevenness(2, 2, dilation=2) == math.inf  # both taps on even outputs
    with pytest.raises(ValueError, match="stride"):
        cov.unevenness(3, 0)


def test_roughness() -> None:
    assert cov.roughness(torch.ones(10)) == 0.0
    assert cov.roughness(torch.tensor([1.0, 3.0, 1.0, 3.0, 1.0])) == pytest.approx(4 / (9 / 5))
    assert cov.roughness(torch.tensor([0.0, 1.0, 1.0, 1.0, 1.0, 7.0]), trim=1) == 0.0
    with pytest.raises(ValueError):
        cov.roughness(torch.ones(4), trim=1)
    with pytest.raises(ValueError):
        cov.roughness(torch.ones(2, 4))


@given(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_resize_convolution_is_nearest_upsample_then_conv(kernel_size, scale, seed) -> None:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 2, 6, generator=gen, dtype=torch.float64)
    w = torch.randn(3, 2, kernel_size, generator=gen, dtype=torch.float64)
    expected = F.conv1d(F.interpolate(x, scale_factor=scale, mode="nearest"), w)
    torch.testing.assert_close(cov.resize_convolution(x, w, scale=scale), expected)


def test_resize_convolution_of_a_constant_is_constant() -> None:
    w = torch.randn(1, 1, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    out = cov.resize_convolution(torch.ones(1, 1, 8, dtype=torch.float64), w, scale=2)
    torch.testing.assert_close(out, torch.full_like(out, w.sum().item()))
    with pytest.raises(ValueError, match="scale"):
        cov.resize_convolution(torch.ones(1, 1, 8), w.float(), scale=0)
