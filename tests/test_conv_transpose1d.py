"""Every implementation against ``torch.nn.functional.conv_transpose1d``.

Property-based: hypothesis draws the whole parameter space (batch or none,
groups, channels, kernel size, stride, padding, output_padding, dilation, bias,
int or 1-tuple arguments, dtype), so the implementations are checked on
configurations nobody wrote down.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import TOLERANCE, Case, cases
from hypothesis import given
from implementations import IMPLEMENTATIONS, Implementation

implementations = pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=str)
differentiable = pytest.mark.parametrize(
    "impl", [impl for impl in IMPLEMENTATIONS if impl.differentiable], ids=str
)


def assert_matches_torch(impl: Implementation, case: Case) -> None:
    expected = case.run(F.conv_transpose1d)
    got = case.to(impl.device).run(impl.fn)
    assert got.dtype == expected.dtype
    assert got.device.type == impl.device
    atol, rtol = TOLERANCE[expected.dtype]
    torch.testing.assert_close(got.cpu(), expected, atol=atol, rtol=rtol)


@implementations
def test_matches_torch_on_random_cases(impl: Implementation) -> None:
    @given(cases(small=impl.slow))
    def check(case: Case) -> None:
        assert_matches_torch(impl, case)

    check()


@implementations
def test_arguments_are_left_unchanged(impl: Implementation) -> None:
    """No implementation writes into its input, weight or bias (an in-place update of a
    tensor that happens to have the output's shape would corrupt the caller's data)."""

    def unchanged(case: Case) -> None:
        moved = case.to(impl.device)
        before = [t.clone() for t in moved.tensors()]
        moved.run(impl.fn)
        for t, b in zip(moved.tensors(), before, strict=True):
            assert torch.equal(t, b)

    given(cases(small=impl.slow))(unchanged)()
    # One output value, one channel: the output has the bias's shape, the case an in-place
    # update of a reshaped bias would corrupt (random draws rarely make it).
    one = torch.tensor([[[2.0]]])
    unchanged(Case(one, one.clone(), torch.tensor([3.0]), {}))


@differentiable
def test_gradients_match_torch(impl: Implementation) -> None:
    """Gradients for input, weight and bias equal torch's autograd through its own op."""

    @given(cases(dtype=torch.float64, small=True, requires_grad=True))
    def check(case: Case) -> None:
        expected = case.run(F.conv_transpose1d)
        cotangent = torch.randn_like(expected)
        want = torch.autograd.grad(expected, case.tensors(), cotangent)
        moved = case.to(impl.device)
        leaves = [t.detach().requires_grad_() for t in moved.tensors()]
        got = moved.run(impl.fn, *leaves)
        # materialize_grads: when every stamp is cropped away the output does not depend on
        # the inputs at all (a zero gradient), and the loop reference records no graph; every
        # other implementation must keep the graph, empty batches included (as torch does).
        assert got.requires_grad or impl.name == "reference"
        grads = (
            torch.autograd.grad(
                got, leaves, cotangent.to(impl.device), allow_unused=True, materialize_grads=True
            )
            if got.requires_grad
            else [torch.zeros_like(t) for t in leaves]
        )
        for g, w in zip(grads, want, strict=True):
            torch.testing.assert_close(g.cpu(), w, atol=1e-10, rtol=1e-8)

    check()


@differentiable
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"stride": 3, "padding": 1, "output_padding": 2},
        {"groups": 2, "dilation": 2, "output_padding": 1},
    ],
    ids=["plain", "strided", "grouped-dilated"],
)
def test_gradcheck(impl: Implementation, kwargs: dict) -> None:
    """Finite differences agree with the analytic gradient (float64, tiny shapes)."""
    gen = torch.Generator().manual_seed(0)
    make = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64).to(impl.device)  # noqa: E731
    x, w, b = make(1, 2, 3), make(2, 2, 3), make(2 * kwargs.get("groups", 1))
    inputs = tuple(t.requires_grad_() for t in (x, w, b))
    assert torch.autograd.gradcheck(lambda *t: impl.fn(*t, **kwargs), inputs)


# The four seed cases of the book, with their exact outputs.
SEED_CASES = [
    ({"stride": 1}, 1, [1.0, 1.0, 1.0]),
    ({"stride": 1}, 2, [1.0, 2.0, 2.0, 1.0]),
    ({"stride": 4}, 2, [1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0]),
    ({"stride": 2, "padding": 1}, 2, [1.0, 2.0, 1.0]),
]


@implementations
@pytest.mark.parametrize(("kwargs", "length", "expected"), SEED_CASES)
def test_seed_cases(impl: Implementation, kwargs: dict, length: int, expected: list) -> None:
    x = torch.ones(1, 1, length, device=impl.device)
    w = torch.ones(1, 1, 3, device=impl.device)
    assert impl.fn(x, w, None, **kwargs).cpu().tolist() == [[expected]]


@implementations
def test_tap_positions_with_distinct_weights(impl: Implementation) -> None:
    """A single 1 at position i puts the kernel's taps at i*stride + k*dilation - padding."""
    x = torch.tensor([[[0.0, 1.0, 0.0]]], device=impl.device)
    w = torch.tensor([[[1.0, 2.0, 3.0]]], device=impl.device)
    out = impl.fn(x, w, None, stride=3, padding=1, dilation=2)
    #  full output: stamp of x[1] starts at 3, taps at 3, 5, 7; crop one each side.
    assert out.cpu().tolist() == [[[0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 0.0]]]


@differentiable
def test_a_fully_cropped_output_keeps_the_graph(impl: Implementation) -> None:
    """Every product cropped away (stride 3, padding 1, output_padding 2 on one input): the
    output is zeros, does not depend on the inputs, and still carries an autograd graph with
    zero gradients, as torch's does (the loop reference aside)."""
    x, w = (torch.ones(1, 1, 1, dtype=torch.float64, device=impl.device).requires_grad_() for _ in range(2))  # fmt: skip
    got = impl.fn(x, w, stride=3, padding=1, output_padding=2)
    assert got.cpu().tolist() == [[[0.0]]]
    if impl.name == "reference":
        return
    assert got.requires_grad
    grads = torch.autograd.grad(got.sum(), (x, w))
    assert all(not g.any() for g in grads)


@implementations
def test_output_padding_past_the_last_stamp_gets_the_bias(impl: Implementation) -> None:
    """``output_padding`` reaching past the last stamp adds a position that only the bias
    reaches (sub-pixel must extend its rows for it)."""
    x, w = torch.ones(1, 1, 2, device=impl.device), torch.ones(1, 1, 2, device=impl.device)
    b = torch.tensor([5.0], device=impl.device)
    got = impl.fn(x, w, b, stride=2, output_padding=1)
    assert got.cpu().tolist() == [[[6.0, 6.0, 6.0, 6.0, 5.0]]]


@implementations
def test_outputs_are_contiguous(impl: Implementation) -> None:
    """Like torch's: ``.view()`` works on the result, and no larger uncropped buffer is kept
    alive behind a cropped view."""

    @given(cases(small=impl.slow))
    def check(case: Case) -> None:
        assert case.to(impl.device).run(impl.fn).is_contiguous()

    check()


@implementations
@pytest.mark.parametrize("layout", ["strided", "expanded"])
def test_bias_views(impl: Implementation, layout: str) -> None:
    """A bias that is a view (every other element of a tensor, or one value expanded) gives
    the values it shows: implementations that hand the bias to oneDNN or a kernel as a plain
    array must not read its storage as if it were contiguous. float32: the dtype oneDNN
    computes (float64 takes other paths)."""
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(2, 4, 5, generator=gen, dtype=torch.float32)
    w = torch.randn(4, 3, 3, generator=gen, dtype=torch.float32)
    if layout == "strided":
        bias = torch.arange(12.0, dtype=torch.float32)[::2]  # [0, 2, 4, ...], stride 2
    else:
        bias = torch.tensor([1.5], dtype=torch.float32).expand(6)  # stride 0
    kwargs = {"stride": 2, "padding": 1, "groups": 2}
    expected = F.conv_transpose1d(x, w, bias, **kwargs)
    got = impl.fn(x.to(impl.device), w.to(impl.device), bias.to(impl.device), **kwargs)
    torch.testing.assert_close(got.cpu(), expected, atol=1e-5, rtol=1e-5)


@implementations
def test_integer_like_arguments(impl: Implementation) -> None:
    """numpy integers and one-element integer tensors are read as ints, as torch reads them."""
    x, w = torch.ones(1, 2, 4, dtype=torch.float64), torch.ones(2, 2, 3, dtype=torch.float64)
    expected = F.conv_transpose1d(x, w, stride=2, padding=1, groups=2)
    for as_int in (np.int64, torch.tensor):
        got = impl.fn(
            x.to(impl.device), w.to(impl.device), stride=as_int(2), padding=(as_int(1),),
            groups=as_int(2),
        )  # fmt: skip
        torch.testing.assert_close(got.cpu(), expected)


@implementations
def test_non_contiguous_inputs(impl: Implementation) -> None:
    """Non-contiguous inputs (a transposed view) give the same values as contiguous ones."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(5, 4, 2, generator=gen, dtype=torch.float64).permute(2, 1, 0)  # (2, 4, 5)
    w = torch.randn(3, 4, 2, generator=gen, dtype=torch.float64).permute(1, 2, 0)  # (4, 2, 3)
    expected = F.conv_transpose1d(x, w, stride=2, groups=2)
    got = impl.fn(x.to(impl.device), w.to(impl.device), stride=2, groups=2)
    assert got.dtype == torch.float64
    torch.testing.assert_close(got.cpu(), expected, atol=1e-12, rtol=1e-10)


def pytorch_sample_inputs(device: str, dtype: torch.dtype) -> list:
    """PyTorch's own sample inputs for the op, from its OpInfo database (the cases torch's
    test suite runs its ``conv_transpose1d`` against)."""
    from torch.testing._internal.common_methods_invocations import op_db

    (op,) = [o for o in op_db if o.name == "nn.functional.conv_transpose1d"]
    return list(op.sample_inputs(device, dtype))


@implementations
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_pytorch_sample_inputs(impl: Implementation, dtype: torch.dtype) -> None:
    samples = pytorch_sample_inputs(impl.device, dtype)
    assert len(samples) >= 6
    atol, rtol = TOLERANCE[dtype]
    for sample in samples:
        args = (sample.input, *sample.args)
        expected = F.conv_transpose1d(*args, **sample.kwargs)
        got = impl.fn(*args, **sample.kwargs)
        assert got.shape == expected.shape and got.dtype == dtype
        torch.testing.assert_close(got, expected, atol=atol, rtol=rtol)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Triton is installed on Linux")
def test_the_triton_kernel_is_in_the_suite() -> None:
    """requirements.txt installs Triton on Linux, so the kernel must be checked there,
    natively or in the interpreter: a broken Triton must fail the run, not shrink it."""
    names = {impl.name for impl in IMPLEMENTATIONS}
    assert names & {"cuda", "cuda-interpreter"}, f"no Triton implementation among {names}"
