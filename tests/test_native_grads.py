"""The native CPU gradient kernels (``torch.ops.convtranspose_native.conv_transpose1d_input_grad``
and ``..._weight_grad``): against torch's ``convolution_backward`` over the whole parameter space,
against the definition with non-finite values, bit for bit across thread counts, and routed to
by the package's backward where the rule says so (and only there)."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import convtranspose
from convtranspose import reference
from convtranspose.cpu import extension, rule

pytestmark = pytest.mark.skipif(
    not extension.available(), reason=f"native CPU kernel unavailable: {extension.reason()}"
)

INPUT_GRAD = "convtranspose_native::conv_transpose1d_input_grad"
WEIGHT_GRAD = "convtranspose_native::conv_transpose1d_weight_grad"


def native(x, w, go, s, p, d, g):
    ops = torch.ops.convtranspose_native
    gi = ops.conv_transpose1d_input_grad(go, w, x.shape[2], s, p, d, g)
    gw = ops.conv_transpose1d_weight_grad(x, go, w.shape[2], s, p, d, g)
    return gi, gw


def torch_grads(x, w, go, s, p, op, d, g):
    gi, gw, _ = torch.ops.aten.convolution_backward(
        go, x, w, None, [s], [p], [d], True, [op], g, [True, True, False]
    )
    return gi, gw


@st.composite
def shapes(draw):
    """A valid call, wide enough to straddle the kernels' register tiles (6 channels x 16
    positions or channels), their chunks and their batch pieces, narrow and wide groups (the
    weight gradient's two kernels): short and long lengths, K > L, every stride, padding,
    output_padding, dilation and grouping."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    rows = draw(st.integers(1, 14))
    cols = draw(st.one_of(st.integers(1, 14), st.integers(30, 70)))  # narrow and wide groups
    k = draw(st.integers(1, 9))
    s = draw(st.integers(1, 5))
    d = draw(st.integers(1, 4))
    length = draw(st.one_of(st.integers(1, 40), st.integers(1, 2500)))
    op = draw(st.integers(0, max(s, d) - 1))
    full = (length - 1) * s + d * (k - 1) + op + 1
    p = draw(st.integers(0, (full - 1) // 2))
    batch = draw(st.integers(1, 3))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    x = torch.randn(batch, rows * groups, length, generator=gen, dtype=dtype)
    w = torch.randn(rows * groups, cols, k, generator=gen, dtype=dtype)
    out_length = full - 2 * p
    go = torch.randn(batch, cols * groups, out_length, generator=gen, dtype=dtype)
    return x, w, go, s, p, op, d, groups


@given(shapes())
def test_against_torch(case):
    """Both kernels equal torch's float64 gradients: float64 to 1e-12 of the sum of the
    terms' magnitudes, float32 to 1e-5 of it (a float32 sum's rounding error is bounded by a
    multiple of its precision, 6e-8, times that magnitude)."""
    x, w, go, s, p, op, d, g = case
    gi, gw = native(x, w, go, s, p, d, g)
    assert gi.dtype == gw.dtype == x.dtype
    expected = torch_grads(x.double(), w.double(), go.double(), s, p, op, d, g)
    magnitude = torch_grads(x.double().abs(), w.double().abs(), go.double().abs(), s, p, op, d, g)
    rtol = 1e-12 if x.dtype == torch.float64 else 1e-5
    for got, want, scale in zip((gi, gw), expected, magnitude, strict=True):
        assert got.shape == want.shape
        error = (got.double() - want).abs()
        assert (error <= rtol * scale + 1e-300).all(), error.max()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_long_rows_many_channels(dtype):
    """A shape with several chunks per row and several units of batch pieces, and channel
    counts that leave partial tiles."""
    torch.manual_seed(0)
    x = torch.randn(2, 13, 9000, dtype=dtype)
    w = torch.randn(13, 11, 5, dtype=dtype)
    s, p, op, d = 3, 4, 1, 2
    out_length = (9000 - 1) * s - 2 * p + d * 4 + op + 1
    go = torch.randn(2, 11, out_length, dtype=dtype)
    got = native(x, w, go, s, p, d, 1)
    want = torch_grads(x.double(), w.double(), go.double(), s, p, op, d, 1)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a.double(), b, rtol=1e-4 if dtype == torch.float32 else 1e-10,
                                   atol=1e-3 if dtype == torch.float32 else 1e-9)  # fmt: skip


@st.composite
def planted(draw):
    """A small float64 call with nan, inf or -inf planted in grad_output, input or weight."""
    groups = draw(st.sampled_from([1, 2]))
    rows, cols = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    k, s, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    length = draw(st.integers(1, 30))
    op = draw(st.integers(0, max(s, d) - 1))
    full = (length - 1) * s + d * (k - 1) + op + 1
    p = draw(st.integers(0, (full - 1) // 2))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    x = torch.randn(2, rows * groups, length, generator=gen, dtype=torch.float64)
    w = torch.randn(rows * groups, cols, k, generator=gen, dtype=torch.float64)
    go = torch.randn(2, cols * groups, full - 2 * p, generator=gen, dtype=torch.float64)
    for _ in range(draw(st.integers(1, 3))):
        t = draw(st.sampled_from([x, w, go]))
        index = draw(st.integers(0, t.numel() - 1))
        t.view(-1)[index] = draw(st.sampled_from([math.nan, math.inf, -math.inf]))
    return x, w, go, s, p, op, d, groups


@given(planted())
def test_non_finite_as_the_definition(case):
    """nan and inf exactly where the definition's sums have them: the gradients of the
    package's loop definition (autograd adds only real terms), which never multiply a
    padding zero by a non-finite value."""
    x, w, go, s, p, op, d, g = case
    gi, gw = native(x, w, go, s, p, d, g)
    xr, wr = x.clone().requires_grad_(), w.clone().requires_grad_()
    out = reference.conv_transpose1d(xr, wr, None, s, p, op, g, d)
    if out.requires_grad:
        want_gi, want_gw = torch.autograd.grad(out, (xr, wr), go, materialize_grads=True)
    else:  # no input sample reaches the output: no terms at all
        want_gi, want_gw = torch.zeros_like(x), torch.zeros_like(w)
    torch.testing.assert_close(gi, want_gi, equal_nan=True)
    torch.testing.assert_close(gw, want_gw, equal_nan=True)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_same_bits_on_one_and_two_threads(dtype):
    """Deterministic: each output element is reduced in an order fixed by the shape alone."""
    torch.manual_seed(1)
    x = torch.randn(3, 10, 5000, dtype=dtype)
    w = torch.randn(10, 7, 4, dtype=dtype)
    go = torch.randn(3, 7, (5000 - 1) * 2 - 2 + 4, dtype=dtype)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = native(x, w, go, 2, 1, 1, 1)
        torch.set_num_threads(2)
        two = native(x, w, go, 2, 1, 1, 1)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(one[0], two[0]) and torch.equal(one[1], two[1])


def test_bad_arguments_are_named():
    x, w, go = torch.randn(1, 2, 5), torch.randn(2, 3, 3), torch.randn(1, 3, 7)
    ops = torch.ops.convtranspose_native
    with pytest.raises(RuntimeError, match="same dtype"):
        ops.conv_transpose1d_input_grad(go, w.double(), 5, 1, 0, 1, 1)
    with pytest.raises(RuntimeError, match="float32 and float64"):
        ops.conv_transpose1d_weight_grad(x.half(), go.half(), 3, 1, 0, 1, 1)
    with pytest.raises(RuntimeError, match="groups"):
        ops.conv_transpose1d_input_grad(go, w, 5, 1, 0, 1, 2)


# ---------------------------------------------------------------------------------------------
# Through the package's backward
# ---------------------------------------------------------------------------------------------


def called(fn) -> set[str]:
    """The native gradient operators that ``fn()`` ran."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        fn()
    return {e.key for e in prof.key_averages()} & {INPUT_GRAD, WEIGHT_GRAD}


@pytest.fixture
def everywhere(monkeypatch):
    """The rule sends every shape to the native gradients."""
    huge = dataclasses.replace(
        rule.THRESHOLDS, native_input_grad_reduction=2**62, native_weight_grad_channels=2**62
    )
    monkeypatch.setattr(rule, "THRESHOLDS", huge)


#: Every way a CPU call reaches the native kernel with a gradient: the registered operator,
#: the CPU dispatch, and the algorithm called by name.
ENTRIES = {
    "op": lambda *a, **k: convtranspose.conv_transpose1d(*a, **k),
    "cpu": lambda *a, **k: convtranspose.cpu.conv_transpose1d(*a, **k),
    "cpu.native": lambda *a, **k: convtranspose.cpu.ALGORITHMS["native"](*a, **k),
}


@pytest.mark.parametrize("entry", ENTRIES)
def test_training_shape_routes_to_native(entry):
    """With the measured thresholds, a training-sized backward runs both native kernels, and
    its gradients equal torch's, whichever entry point ran the forward."""
    torch.manual_seed(0)
    x = torch.randn(8, 24, 1000, requires_grad=True)
    w = torch.randn(24, 24, 3, requires_grad=True)
    b = torch.randn(24, requires_grad=True)
    assert rule.native_gradients(24, 24, 3) == (True, True)
    out = ENTRIES[entry](x, w, b, stride=2, padding=1)
    grad = torch.randn_like(out)
    assert called(lambda: out.backward(grad)) == {INPUT_GRAD, WEIGHT_GRAD}
    x2, w2, b2 = (t.detach().requires_grad_() for t in (x, w, b))
    torch.nn.functional.conv_transpose1d(x2, w2, b2, stride=2, padding=1).backward(grad)
    for got, want in ((x.grad, x2.grad), (w.grad, w2.grad), (b.grad, b2.grad)):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-3)


def test_wide_shapes_go_to_torch(monkeypatch):
    """Past the rule's thresholds the backward runs torch's convolution_backward alone."""
    none = dataclasses.replace(
        rule.THRESHOLDS, native_input_grad_reduction=0, native_weight_grad_channels=0
    )
    monkeypatch.setattr(rule, "THRESHOLDS", none)
    assert rule.native_gradients(24, 24, 3) == (False, False)
    x = torch.randn(2, 24, 100, requires_grad=True)
    w = torch.randn(24, 24, 3, requires_grad=True)
    out = convtranspose.conv_transpose1d(x, w, stride=2)
    assert called(lambda: out.sum().backward()) == set()
    assert x.grad is not None and w.grad is not None


@pytest.mark.parametrize("entry", ENTRIES)
def test_double_backward_stays_with_torch(everywhere, entry):
    """create_graph records the backward: torch's differentiable convolution_backward runs
    (no native kernel), and the second derivatives equal those of torch's op."""
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(2, 4, 30, dtype=torch.float64, generator=gen, requires_grad=True)
    w = torch.randn(4, 3, 3, dtype=torch.float64, generator=gen, requires_grad=True)

    def second(op):
        out = op(x, w, stride=2)
        first = []
        runs = called(
            lambda: first.extend(torch.autograd.grad(out.square().sum(), (x, w), create_graph=True))
        )
        return runs, torch.autograd.grad(first[0].sum() + first[1].sum(), (x, w))

    runs, got = second(ENTRIES[entry])
    assert runs == set()
    _, want = second(torch.nn.functional.conv_transpose1d)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("wanted", ["both", "input", "weight", "bias"])
def test_backward_cases(everywhere, batched, wanted):
    """Unbatched inputs, gradients wanted for some arguments only, the expanded gradient of
    ``sum()``: the package's backward equals torch's, running native kernels only for what is
    wanted."""
    torch.manual_seed(2)
    shape = (3, 5, 40) if batched else (5, 40)
    x, w, b = torch.randn(*shape), torch.randn(5, 4, 3), torch.randn(4)
    x.requires_grad_(wanted in ("both", "input"))
    w.requires_grad_(wanted in ("both", "weight"))
    b.requires_grad_(wanted == "bias")
    out = convtranspose.conv_transpose1d(x, w, b, stride=3, padding=2, dilation=2)
    runs = called(lambda: out.sum().backward())
    expect = {"both": {INPUT_GRAD, WEIGHT_GRAD}, "input": {INPUT_GRAD}, "weight": {WEIGHT_GRAD}}
    assert runs == expect.get(wanted, set())
    x2, w2, b2 = (t.detach().requires_grad_(t.requires_grad) for t in (x, w, b))
    F = torch.nn.functional
    F.conv_transpose1d(x2, w2, b2, stride=3, padding=2, dilation=2).sum().backward()
    for got, want in ((x.grad, x2.grad), (w.grad, w2.grad), (b.grad, b2.grad)):
        assert (got is None) == (want is None)
        if got is not None:
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-4)


def test_empty_batch(everywhere):
    x = torch.randn(0, 3, 10, requires_grad=True)
    w = torch.randn(3, 2, 3, requires_grad=True)
    convtranspose.conv_transpose1d(x, w, stride=2).sum().backward()
    assert x.grad.shape == x.shape and torch.equal(w.grad, torch.zeros_like(w))


def test_gradcheck_and_gradgradcheck(everywhere):
    """First derivatives through the native kernels, second through torch's."""
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(2, 4, 9, dtype=torch.float64, generator=gen, requires_grad=True)
    w = torch.randn(4, 3, 4, dtype=torch.float64, generator=gen, requires_grad=True)
    b = torch.randn(6, dtype=torch.float64, generator=gen, requires_grad=True)

    def f(x, w, b):
        return convtranspose.conv_transpose1d(x, w, b, 2, 1, 1, 2, 2)

    assert called(lambda: f(x, w, b).sum().backward()) == {INPUT_GRAD, WEIGHT_GRAD}
    assert torch.autograd.gradcheck(f, (x, w, b))
    assert torch.autograd.gradgradcheck(f, (x, w, b))
