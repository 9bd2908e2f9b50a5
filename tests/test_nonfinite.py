"""Non-finite values: every implementation gives ``nan`` and ``inf`` exactly where the
definition's sum has one, and finite values everywhere else.

``0 * inf`` is ``nan``, so an algorithm that multiplies an inserted, padded or masked zero by
the weight or the input turns one ``inf`` into a ``nan`` where the definition (and torch) give
a finite number. The definition's values come from torch's own op in float64 (its GEMM +
col2im multiplies only real input samples by real taps).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from helpers import Case, cases
from hypothesis import given
from hypothesis import strategies as st
from implementations import IMPLEMENTATIONS, Implementation

NON_FINITE = [math.nan, math.inf, -math.inf]

#: Implementations that hand float32 calls to torch's own op or to oneDNN's deconvolution.
#: oneDNN multiplies the zeros beyond the input's ends by the weight, so with a non-finite
#: tap torch's own float32 op has ``nan`` at some boundary positions where the definition
#: (and torch's float64 op) have a finite value. These implementations may give ``nan``
#: exactly where torch's float32 op does ("as torch"), and nowhere else.
AS_TORCH_FLOAT32 = {"cpu", "convtranspose", "cpu.onednn", "cpu.aten", "cpu.aten_aligned", "packed"}


@st.composite
def planted(draw, small: bool) -> Case:
    """A random call with ``nan``, ``inf`` or ``-inf`` planted in some elements of the
    input, the weight and the bias (at least one somewhere)."""
    case = draw(cases(small=small))
    tensors = [t for t in case.tensors() if t.numel() > 0]
    count = draw(st.integers(1, 4))
    for _ in range(count):
        tensor = draw(st.sampled_from(tensors))
        index = draw(st.integers(0, tensor.numel() - 1))
        tensor.view(-1)[index] = draw(st.sampled_from(NON_FINITE))
    return case


def definition(case: Case) -> torch.Tensor:
    """The definition's values: torch's op in float64 on the same numbers."""
    wide = lambda t: None if t is None else t.double()  # noqa: E731
    return F.conv_transpose1d(wide(case.input), wide(case.weight), wide(case.bias), **case.kwargs)


def torch_nan(impl: Implementation, case: Case) -> torch.Tensor | None:
    """Where torch's own op, in the case's dtype, gives ``nan``: accepted from the
    implementations in :data:`AS_TORCH_FLOAT32`, from no other."""
    return case.run(F.conv_transpose1d).isnan() if impl.name in AS_TORCH_FLOAT32 else None


def assert_same_non_finite(
    got: torch.Tensor, want: torch.Tensor, atol: float, torch_nan: torch.Tensor | None = None
) -> None:
    """``nan`` where ``want`` has ``nan``, ``inf`` of the same sign where it has ``inf``,
    and close finite values elsewhere; where ``torch_nan`` is set (torch's own float32 op
    gives ``nan``), ``nan`` is accepted too."""
    got = got.double()
    assert got.shape == want.shape
    if torch_nan is not None:
        accepted = torch_nan & got.isnan()
        want = torch.where(accepted, got, want)
    assert torch.equal(got.isnan(), want.isnan()), (got, want)
    assert torch.equal(got.isposinf(), want.isposinf()), (got, want)
    assert torch.equal(got.isneginf(), want.isneginf()), (got, want)
    finite = want.isfinite()
    torch.testing.assert_close(got[finite], want[finite], atol=atol, rtol=atol)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=str)
def test_non_finite_values_match_the_definition(impl: Implementation) -> None:
    @given(planted(small=impl.slow))
    def check(case: Case) -> None:
        got = case.to(impl.device).run(impl.fn).cpu()
        atol = 1e-4 if case.input.dtype == torch.float32 else 1e-10
        assert_same_non_finite(got, definition(case), atol, torch_nan(impl, case))

    check()


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=str)
def test_an_infinite_input_next_to_an_inserted_zero(impl: Implementation) -> None:
    """The issue's example: stride 2 inserts a zero between ``inf`` and ``1``; the position
    between them receives no tap at all and stays 0."""
    x = torch.tensor([[[math.inf, 1.0]]], device=impl.device)
    w = torch.ones(1, 1, 1, device=impl.device)
    assert impl.fn(x, w, stride=2).cpu().tolist() == [[[math.inf, 0.0, 1.0]]]


def table(slow: bool) -> list[Case]:
    """Every small geometry (stride, kernel, dilation, padding, output_padding, with and
    without bias), each with one non-finite value planted at every weight tap and at every
    input position in turn: the boundary, inserted-zero and past-the-stamp positions random
    draws rarely combine with a planted value. Float32, batch 2 (torch's op then runs oneDNN)."""
    gen = torch.Generator().manual_seed(0)
    out = []
    strides, kernels = ((2, 3), (2, 3)) if slow else ((1, 2, 3), (1, 2, 3, 4))
    for stride in strides:
        for kernel in kernels:
            for dilation in (1, 2):
                for output_padding in range(max(stride, dilation)):
                    for padding in (0, 1):
                        x = torch.randn(2, 2, 3, generator=gen)
                        w = torch.randn(2, 2, kernel, generator=gen)
                        b = torch.randn(2, generator=gen) if padding else None
                        kwargs = {"stride": stride, "padding": padding, "dilation": dilation}
                        kwargs["output_padding"] = output_padding
                        if (2 * 1 + dilation * (kernel - 1) + output_padding + 1) <= 2 * padding:
                            continue
                        value = NON_FINITE[len(out) % 3]
                        for index in range(kernel if slow else w.numel()):
                            planted_w = w.clone()
                            planted_w.view(-1)[index] = value
                            out.append(Case(x, planted_w, b, dict(kwargs)))
                        for index in range(3):
                            planted_x = x.clone()
                            planted_x[1, 1, index] = -value
                            out.append(Case(planted_x, w, b, dict(kwargs)))
    return out


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=str)
def test_non_finite_values_on_a_table_of_geometries(impl: Implementation) -> None:
    for case in table(slow=impl.slow):
        got = case.to(impl.device).run(impl.fn).cpu()
        assert_same_non_finite(got, definition(case), 1e-4, torch_nan(impl, case))
