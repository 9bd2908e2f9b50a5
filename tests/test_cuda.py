"""Tests particular to the Triton implementation, :mod:`convtranspose.cuda`.

The shared suite (``test_conv_transpose1d.py``, ``test_bad_input.py``) already checks it
against torch through :mod:`implementations` (each forward variant of
``cuda.FORWARD_KERNELS`` too). These add what only this implementation has: determinism, the
tensor-core (``tl.dot``) path, every block of each forward variant, int64 offsets, half
precision, non-finite values against the definition, the gradient functions, the weight
cache, and clear errors when the kernels cannot run. Without a GPU everything
runs in Triton's interpreter on CPU tensors (conftest sets ``TRITON_INTERPRET=1``); tests
marked ``gpu`` need a CUDA device.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from convtranspose import cuda, reference
from convtranspose.cuda import launch

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"

# Without a GPU the tests need Triton's interpreter; with one they always run (and fail loudly
# if Triton is missing there).
pytestmark = pytest.mark.skipif(
    DEVICE == "cpu" and not cuda.is_available("cpu"),
    reason="no GPU, and Triton's interpreter is unavailable (Triton missing or TRITON_INTERPRET unset)",
)


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts and ends with no cached launch plan or prepared weight, so a test that
    patches the tile choice or the int64 threshold sees its change and leaves no trace."""
    launch.clear_caches()
    yield
    launch.clear_caches()


VARIANTS = pytest.mark.parametrize("variant", list(cuda.FORWARD_KERNELS))


def make(*shape, dtype=torch.float32, seed=0, scale=1.0, device=DEVICE) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).to(device, dtype)


def run_with_grads(fn, x, w, b, **kwargs) -> list[torch.Tensor]:
    """The output and the gradients of ``x``, ``w``, ``b`` for a fixed cotangent."""
    leaves = [t.detach().clone().requires_grad_() for t in (x, w, b)]
    y = fn(*leaves, **kwargs)
    cotangent = make(*y.shape, dtype=y.dtype, seed=99, device=y.device)
    return [y.detach(), *torch.autograd.grad(y, leaves, cotangent)]


# A channel-heavy call (tl.dot tiles, every side >= 16) and a depthwise, dilated one
# (the broadcast-and-sum tiles), small enough for the interpreter.
CALLS = {
    "channel-heavy": ((2, 32, 9), (32, 16, 4), {"stride": 2, "padding": 1, "output_padding": 1}),
    "depthwise": ((1, 4, 8), (4, 1, 5), {"stride": 3, "groups": 4, "dilation": 2}),
}


def call(name: str, dtype=torch.float32, device=DEVICE):
    x_shape, w_shape, kwargs = CALLS[name]
    c_out = w_shape[1] * kwargs.get("groups", 1)
    scale = (w_shape[0] * w_shape[2]) ** -0.5  # unit-scale outputs
    x = make(*x_shape, dtype=dtype, seed=1, device=device)
    w = make(*w_shape, dtype=dtype, seed=2, scale=scale, device=device)
    b = make(c_out, dtype=dtype, seed=3, device=device)
    return x, w, b, kwargs


@pytest.mark.parametrize("name", CALLS)
def test_forward_and_backward_match_torch(name: str) -> None:
    """Both tile kinds, forward and all three gradients, against torch in float64 on the CPU."""
    x, w, b, kwargs = call(name)
    got = run_with_grads(cuda.conv_transpose1d, x, w, b, **kwargs)
    want = run_with_grads(F.conv_transpose1d, x.cpu().double(), w.cpu().double(), b.cpu().double(), **kwargs)  # fmt: skip
    for g, e in zip(got, want, strict=True):
        assert g.dtype == torch.float32
        torch.testing.assert_close(g.cpu().double(), e, atol=1e-5, rtol=1e-5)


def test_channel_heavy_call_uses_tensor_core_tiles() -> None:
    """The tile chooser sends channel-heavy float32/half work to tl.dot and keeps float64 and
    channel-light work on the broadcast tiles (tl.dot needs every side >= 16 and no float64)."""
    assert cuda.choose_tiles(16, 32, 9, torch.float32).use_dot
    assert cuda.choose_tiles(256, 512, 1000, torch.bfloat16).use_dot
    assert not cuda.choose_tiles(16, 32, 9, torch.float64).use_dot
    assert not cuda.choose_tiles(1, 1, 10_000, torch.float32).use_dot
    for rows, red, cols in [(1, 1, 10_000), (3, 7, 5), (64, 2, 100)]:
        tiles = cuda.choose_tiles(rows, red, cols, torch.float64)
        assert tiles.rows * tiles.red * tiles.cols <= 4096 or tiles.cols == 16


def test_float32_follows_torchs_tf32_flag() -> None:
    """TF32 exactly where torch's own convolutions may use it: float32 CUDA tensors while
    ``torch.backends.cudnn.allow_tf32`` is set; exact products for every other dtype, for CPU
    tensors (the interpreter), and once the flag is cleared (as this suite's ``exact_float32``
    fixture does for every test)."""
    assert not torch.backends.cudnn.allow_tf32  # the autouse fixture
    assert cuda.dot_precision(torch.float32, "cuda") == "ieee"
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=True):
        assert cuda.dot_precision(torch.float32, "cuda") == "tf32"
        for dtype in (torch.float64, torch.float16, torch.bfloat16):
            assert cuda.dot_precision(dtype, "cuda") == "ieee"
        assert cuda.dot_precision(torch.float32, "cpu") == "ieee"


@pytest.mark.parametrize("name", CALLS)
def test_bit_identical_from_run_to_run(name: str) -> None:
    """A gather with no atomics: the output and the gradients repeat exactly."""
    x, w, b, kwargs = call(name)
    first = run_with_grads(cuda.conv_transpose1d, x, w, b, **kwargs)
    second = run_with_grads(cuda.conv_transpose1d, x, w, b, **kwargs)
    for a, c in zip(first, second, strict=True):
        assert torch.equal(a, c)


def test_gradcheck_channel_heavy_float64() -> None:
    """Finite differences agree with the three backward kernels on a grouped, strided,
    dilated call with bias (the shared suite gradchecks smaller ones; fast mode checks random
    projections of the Jacobian, which keeps the interpreter quick)."""
    x = make(1, 4, 3, dtype=torch.float64, seed=4).requires_grad_()
    w = make(4, 3, 3, dtype=torch.float64, seed=5).requires_grad_()
    b = make(6, dtype=torch.float64, seed=6).requires_grad_()
    kwargs = {"stride": 2, "padding": 2, "output_padding": 1, "groups": 2, "dilation": 2}
    fn = lambda *t: cuda.conv_transpose1d(*t, **kwargs)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (x, w, b), fast_mode=True)


def tiny_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every launch gets 2-channel, 16-position broadcast tiles."""
    monkeypatch.setattr(launch, "choose_tiles", lambda *args: cuda.Tiles(2, 2, 16, False))
    monkeypatch.setattr(
        launch, "choose_coalesced_tiles", lambda phases, *args: cuda.Tiles(2 * phases, 2, 16, False)
    )


def test_every_block_is_computed(monkeypatch: pytest.MonkeyPatch) -> None:
    """With tiny tiles, every loop over blocks runs several times (output channels, input
    channels, positions, the weight gradient's positions, the input gradient's output
    channels): forward and all three gradients still equal torch's, in float64."""
    tiny_tiles(monkeypatch)
    gen = torch.Generator().manual_seed(8)
    x, w, b = (torch.randn(*s, generator=gen, dtype=torch.float64) for s in ((2, 16, 40), (16, 16, 3), (16,)))  # fmt: skip
    kwargs = {"stride": 2, "padding": 1}
    got = run_with_grads(cuda.conv_transpose1d, x.to(DEVICE), w.to(DEVICE), b.to(DEVICE), **kwargs)
    want = run_with_grads(F.conv_transpose1d, x, w, b, **kwargs)
    for g, e in zip(got, want, strict=True):
        torch.testing.assert_close(g.cpu(), e, atol=1e-10, rtol=1e-10)


@VARIANTS
@pytest.mark.parametrize(
    "kwargs",
    [
        {"stride": 3, "padding": 4},  # stride not a power of two: a padding phase row
        {"stride": 4, "dilation": 3, "padding": 2, "output_padding": 2},  # phases shifted
        {"stride": 4, "dilation": 2},  # gcd 2: phases 1 and 3 get no tap (bias only)
        {"stride": 5, "padding": 2},  # K = stride: equal phases, unmasked inner blocks
    ],
    ids=["stride3", "dilated", "tapless-phases", "equal-phases"],
)
def test_every_block_of_each_forward_variant(monkeypatch, variant: str, kwargs: dict) -> None:
    """Each forward variant with tiny tiles (several blocks of output channels, input
    channels and positions) on strides and dilations that shift, pad or empty its phases."""
    tiny_tiles(monkeypatch)
    x, w, b = make(2, 5, 37, dtype=torch.float64, seed=9), make(5, 5, 5, dtype=torch.float64, seed=10), make(5, dtype=torch.float64, seed=11)  # fmt: skip
    got = cuda.FORWARD_KERNELS[variant](x, w, b, **kwargs)
    want = F.conv_transpose1d(x.cpu(), w.cpu(), b.cpu(), **kwargs)
    torch.testing.assert_close(got.cpu(), want, atol=1e-10, rtol=1e-10)


@VARIANTS
@pytest.mark.parametrize("name", CALLS)
def test_forward_variants_match_torch_on_both_tile_kinds(variant: str, name: str) -> None:
    """Every forward variant on the tl.dot tiles and on the broadcast ones; a forward only
    (no autograd: the result does not require a gradient)."""
    x, w, b, kwargs = call(name)
    got = cuda.FORWARD_KERNELS[variant](x, w.requires_grad_(), b, **kwargs)
    assert not got.requires_grad
    want = F.conv_transpose1d(x.cpu().double(), w.detach().cpu().double(), b.cpu().double(), **kwargs)  # fmt: skip
    torch.testing.assert_close(got.cpu().double(), want, atol=1e-5, rtol=1e-5)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # numpy's 0 * inf
def test_coalesced_inner_blocks_sum_without_masks() -> None:
    """The coalesced kernel's blocks inside the signal (every phase with K / stride taps, every
    input present) keep tl.dot's fused sum; the edge blocks mask. Both match torch, also with
    an ``inf`` weight, which reaches every output of its phase but no other."""
    x = make(2, 16, 40, dtype=torch.float64, seed=12)
    w = make(16, 16, 4, dtype=torch.float64, seed=13)
    w[3, 5, 1] = float("inf")
    b = make(16, dtype=torch.float64, seed=14)
    fn = cuda.FORWARD_KERNELS["coalesced"]
    for dtype in (torch.float32, torch.float64):  # tl.dot tiles, broadcast tiles
        got = fn(x.to(dtype), w.to(dtype), b.to(dtype), stride=2, padding=1).cpu().double()
        want = F.conv_transpose1d(x.cpu(), w.cpu(), b.cpu(), stride=2, padding=1)
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4, equal_nan=True)
        assert not got[:, :, ::2].isfinite().all() and got[:, :, 1::2].isfinite().all()


def test_default_forward_is_a_variant() -> None:
    assert cuda.DEFAULT_FORWARD in cuda.FORWARD_KERNELS


@pytest.mark.parametrize("name", CALLS)
def test_int64_offsets_give_the_same_result(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The int64-offset code path (taken for tensors of >= 2**31 elements) computes the same
    values: forced on here for a small call, in every kernel (each forward variant, both
    gradients)."""
    x, w, b, kwargs = call(name)
    expected = run_with_grads(cuda.conv_transpose1d, x, w, b, **kwargs)
    variants = {v: f(x, w, b, **kwargs) for v, f in cuda.FORWARD_KERNELS.items()}
    monkeypatch.setattr(launch, "INT64_THRESHOLD", 0)
    launch.clear_caches()
    got = run_with_grads(cuda.conv_transpose1d, x, w, b, **kwargs)
    for g, e in zip(got, expected, strict=True):
        assert torch.equal(g, e)
    for v, f in cuda.FORWARD_KERNELS.items():
        assert torch.equal(f(x, w, b, **kwargs), variants[v])


def test_int64_offsets_are_chosen_by_how_far_a_view_reaches() -> None:
    """The launcher switches to int64 offsets by the offsets the kernels compute, not by the
    element count: a 15-element slice of a 3 x (2**30 + 64) tensor reaches past 2**31.
    (Meta tensors: shapes and strides without memory.)"""
    big = torch.empty(3, 2**30 + 64, device="meta")
    view = big[:, :5].unsqueeze(0)  # (1, 3, 5), strides (3 * (2**30 + 64), 2**30 + 64, 1)
    assert view.numel() == 15
    assert cuda.address_span(view) == 2 * (2**30 + 64) + 5
    assert launch._common(view)["INT64"]
    assert not launch._common(big[:1, :5].unsqueeze(0))["INT64"]
    assert cuda.address_span(torch.empty(4, 5, device="meta")) == 20
    assert cuda.address_span(torch.empty(1, device="meta").expand(1000)) == 1


@pytest.mark.skipif(DEVICE != "cpu", reason="the interpreter's half-precision fallback")
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=str)
def test_half_precision_in_the_interpreter(dtype: torch.dtype) -> None:
    """The interpreter lacks bfloat16 arithmetic: CPU half tensors are computed in float32
    and rounded once, which is what the GPU's float32 accumulators do too."""
    x, w, b, kwargs = call("depthwise", dtype=dtype)
    got = cuda.conv_transpose1d(x, w, b, **kwargs)
    expected = F.conv_transpose1d(x.float(), w.float(), b.float(), **kwargs).to(dtype)
    assert got.dtype == dtype
    eps = torch.finfo(dtype).eps  # one rounding, give or take the order of the sum
    torch.testing.assert_close(got, expected, atol=eps, rtol=eps)


# --- non-finite values: the definition's, as torch's --------------------------------------

NON_FINITE = [float("nan"), float("inf"), float("-inf")]


def planted(name: str, where: str, value: float, index: int):
    """``call(name)`` in float64 with ``value`` planted at flat position ``index`` (modulo
    its size) of ``where`` (the input, the weight or the bias)."""
    x, w, b, kwargs = call(name, dtype=torch.float64)
    target = {"input": x, "weight": w, "bias": b}[where]
    target.view(-1)[index % target.numel()] = value
    return x, w, b, kwargs


PLANTS = [
    (where, value, index)
    for where in ("input", "weight", "bias")
    for value in NON_FINITE
    for index in (0, -1)  # the first element and the last (both at an edge of some tile)
]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # numpy's 0 * inf
@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize(("where", "value", "index"), PLANTS, ids=str)
def test_non_finite_values_as_torch(name: str, where: str, value: float, index: int) -> None:
    """``nan``/``inf``/``-inf`` in the input, the weight or the bias give non-finite outputs
    exactly where torch's (the definition's sum holds the element) and torch's finite values
    elsewhere, for every forward variant; no masked zero is multiplied in (``0 * inf``)."""
    x, w, b, kwargs = planted(name, where, value, index)
    want = F.conv_transpose1d(x.cpu(), w.cpu(), b.cpu(), **kwargs)
    assert want.isfinite().any()  # the plant does not reach everything
    for variant, fn in cuda.FORWARD_KERNELS.items():
        got = fn(x, w, b, **kwargs).cpu()
        torch.testing.assert_close(got, want, atol=1e-10, rtol=1e-10, equal_nan=True, msg=variant)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # numpy's 0 * inf
@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize(
    ("where", "value", "index"),
    [p for p in PLANTS if p[0] != "bias" and p[1] != -math.inf],
    ids=str,
)
def test_non_finite_gradients_as_the_definition(name, where, value, index) -> None:
    """The gradients with a non-finite input or weight. The input gradient is the gather
    convolution of the output gradient with the weight over real taps only: equal to
    :func:`convtranspose.reference.conv1d`'s (the definition's loops), ``nan`` and ``inf``
    included. torch's own backward multiplies padded zeros by the weight, so it may give
    ``nan`` where the definition is finite: the weight and bias gradients equal torch's
    wherever torch's are finite."""
    x, w, b, kwargs = planted(name, where, value, index)
    leaves = [t.detach().clone().requires_grad_() for t in (x, w, b)]
    y = cuda.conv_transpose1d(*leaves, **kwargs)
    cotangent = make(*y.shape, dtype=y.dtype, seed=99, device=y.device)
    got = [g.cpu() for g in torch.autograd.grad(y, leaves, cotangent)]
    s, p, d, groups = (kwargs.get(k, v) for k, v in (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1)))  # fmt: skip
    definition = reference.conv1d(cotangent.cpu(), w.cpu(), None, s, p, d, groups)
    torch.testing.assert_close(got[0], definition[..., : x.shape[2]], equal_nan=True)
    cpu_leaves = [t.detach().cpu().requires_grad_() for t in (x, w, b)]
    want = torch.autograd.grad(
        F.conv_transpose1d(*cpu_leaves, **kwargs), cpu_leaves, cotangent.cpu()
    )
    for g, e in zip(got[1:], want[1:], strict=True):
        finite = e.isfinite()
        torch.testing.assert_close(g[finite], e[finite], atol=1e-9, rtol=1e-9)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # numpy's 0 * nan
def test_a_nan_weight_does_not_reach_outputs_it_has_no_product_with() -> None:
    """The smallest case of the masked-zero bug: stride 2, one input, a ``nan`` in the last
    tap of a 3-tap kernel: the definition's output is ``[1, 1, nan]``, and every variant's
    first two outputs (whose blocks also read absent inputs beside the real one) stay 1."""
    x = torch.ones(1, 1, 1, dtype=torch.float64, device=DEVICE)
    w = torch.tensor([[[1.0, 1.0, float("nan")]]], dtype=torch.float64, device=DEVICE)
    for fn in [cuda.conv_transpose1d, *cuda.FORWARD_KERNELS.values()]:
        got = fn(x, w, stride=2).cpu()[0, 0]
        assert got[:2].tolist() == [1.0, 1.0] and got[2].isnan()


# --- the gradient functions and the weight cache ------------------------------------------


@pytest.mark.parametrize("name", CALLS)
def test_gradient_functions_match_torch(name: str) -> None:
    """The two gradient functions the registered operator's backward calls, on batched
    tensors with the forward's arguments: torch's input and weight gradients."""
    x, w, _, kwargs = call(name, dtype=torch.float64)
    kwargs = {"output_padding": 0, "padding": 0, "dilation": 1, "groups": 1, **kwargs}
    leaves = [t.detach().cpu().requires_grad_() for t in (x, w)]
    y = F.conv_transpose1d(*leaves, **kwargs)
    grad_y = make(*y.shape, dtype=y.dtype, seed=99, device="cpu")
    want_x, want_w = torch.autograd.grad(y, leaves, grad_y)
    geometry = (kwargs["stride"], kwargs["padding"], kwargs["dilation"], kwargs["groups"])
    got_x = cuda.conv_transpose1d_input_grad(grad_y.to(DEVICE), w, x.shape[2], *geometry)
    got_w = cuda.conv_transpose1d_weight_grad(x, grad_y.to(DEVICE), w.shape[2], *geometry)
    torch.testing.assert_close(got_x.cpu(), want_x, atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(got_w.cpu(), want_w, atol=1e-10, rtol=1e-10)


def test_weight_cache_follows_in_place_changes() -> None:
    """The weight's re-layout is prepared once per version: a second call reuses it, an
    in-place change (as an optimizer step makes) is seen at the next call, and the cache
    keeps no weight alive."""
    import gc
    import weakref

    x, w, b, kwargs = call("channel-heavy")  # tl.dot tiles: the weight is re-laid
    y1 = cuda.conv_transpose1d(x, w, b, **kwargs)
    first = launch.prepared_weight(w)
    assert launch.prepared_weight(w) is first  # same version: the same copy
    with torch.no_grad():
        w.mul_(2.0)
    assert launch.prepared_weight(w) is not first
    y2 = cuda.conv_transpose1d(x, w, b, **kwargs)
    torch.testing.assert_close(y2 - b[:, None], 2 * (y1 - b[:, None]), atol=1e-5, rtol=1e-5)
    other = w.clone()  # equal values, another tensor: its own entry
    assert launch.prepared_weight(other) is not launch.prepared_weight(w)
    ref = weakref.ref(other)
    entries = len(launch._weight_cache)
    del other
    gc.collect()
    assert ref() is None  # the cache kept no reference ...
    assert len(launch._weight_cache) == entries - 1  # ... and dropped the dead weight's copy


def test_weight_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch, "WEIGHT_CACHE_SIZE", 3)
    weights = [make(32, 16, 4, seed=s) for s in range(5)]
    for w in weights:
        launch.prepared_weight(w)
    assert len(launch._weight_cache) == 3


def test_inference_tensors_are_not_cached() -> None:
    """An inference-mode weight has no version counter: it is re-laid at every call, and the
    result is still right."""
    x, w, b, kwargs = call("channel-heavy")
    with torch.inference_mode():
        w_inf = w.clone()
        got = cuda.conv_transpose1d(x, w_inf, b, **kwargs)
    assert len(launch._weight_cache) == 0
    torch.testing.assert_close(got, F.conv_transpose1d(x.cpu(), w.cpu(), b.cpu(), **kwargs).to(got.device), atol=1e-5, rtol=1e-5)  # fmt: skip


# --- when the kernels cannot run: a clear RuntimeError, not a crash -----------------------


def test_without_triton_says_what_to_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch, "_kernels", None)
    monkeypatch.setattr(launch, "_IMPORT_ERROR", ImportError("No module named 'triton'"))
    assert not cuda.is_available("cpu")
    with pytest.raises(RuntimeError, match=r"needs Triton.*convtranspose\.cpu"):
        cuda.conv_transpose1d(torch.ones(1, 1, 2), torch.ones(1, 1, 3))


def test_bad_arguments_are_rejected_before_anything_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared argument checks come first, so even without Triton a bad call is named."""
    monkeypatch.setattr(launch, "_kernels", None)
    with pytest.raises(RuntimeError, match=r"stride must be >= 1"):
        cuda.conv_transpose1d(torch.ones(1, 1, 2), torch.ones(1, 1, 3), stride=0)


def test_cpu_tensors_without_the_interpreter_explain_the_fix() -> None:
    """In a fresh process with TRITON_INTERPRET unset, CPU tensors get instructions."""
    code = (
        "import torch\n"
        "from convtranspose import cuda\n"
        "try:\n"
        "    cuda.conv_transpose1d(torch.ones(1, 1, 2), torch.ones(1, 1, 3))\n"
        "except RuntimeError as e:\n"
        "    print(e)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    if "Triton" in out.stdout and "needs Triton" in out.stdout:  # no Triton at all here
        return
    assert "TRITON_INTERPRET=1" in out.stdout and ".cuda()" in out.stdout, out.stdout


# --- on a GPU ----------------------------------------------------------------------------

HALF_TOLERANCE = {torch.float16: 2e-3, torch.bfloat16: 1.6e-2}  # a few units of rounding


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", list(HALF_TOLERANCE), ids=str)
@pytest.mark.parametrize("name", CALLS)
def test_half_precision_on_gpu(name: str, dtype: torch.dtype) -> None:
    """float16/bfloat16 tensors, float32 accumulation: within a few roundings of the float32
    result for the same (rounded) inputs, gradients included."""
    x, w, b, kwargs = call(name, dtype=dtype, device="cuda")
    got = run_with_grads(cuda.conv_transpose1d, x, w, b, **kwargs)
    want = run_with_grads(F.conv_transpose1d, x.float(), w.float(), b.float(), **kwargs)
    tol = HALF_TOLERANCE[dtype]
    for g, e in zip(got, want, strict=True):
        assert g.dtype == dtype
        torch.testing.assert_close(g.float(), e, atol=tol * max(1.0, e.abs().max().item()), rtol=tol)  # fmt: skip


TF32_TOLERANCE = 5e-3  # TF32 keeps 10 bits of mantissa: ~5e-4 relative error per input


@pytest.mark.gpu
def test_tf32_on_gpu_when_torch_allows_it() -> None:
    """With torch's default flag, float32 channel-heavy tiles run on TF32 tensor cores, like
    cuDNN's: within TF32 rounding of the exact answer (gradients included), and not
    bit-identical to the exact products, which shows the flag reached the kernel. (On GPUs
    before Ampere there is no TF32 and the check of difference is skipped.)"""
    x, w, b, kwargs = call("channel-heavy", device="cuda")
    exact = run_with_grads(cuda.conv_transpose1d, x, w, b, **kwargs)  # TF32 off: the fixture
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=True):
        got = run_with_grads(cuda.conv_transpose1d, x, w, b, **kwargs)
    for g, e in zip(got, exact, strict=True):
        scale = max(1.0, e.abs().max().item())
        torch.testing.assert_close(g, e, atol=TF32_TOLERANCE * scale, rtol=TF32_TOLERANCE)
    if torch.cuda.get_device_capability()[0] >= 8:
        assert not torch.equal(got[0], exact[0])


LARGE = {  # realistic shapes: (x, w, kwargs)
    "hifigan-stage1": ((4, 512, 128), (512, 256, 16), {"stride": 8, "padding": 4}),
    "hifigan-stage3": ((4, 128, 2048), (128, 64, 4), {"stride": 2, "padding": 1}),
    "depthwise-long": ((2, 64, 50_000), (64, 1, 7), {"stride": 2, "groups": 64, "padding": 3}),
    "grouped-dilated": ((3, 96, 500), (96, 16, 5), {"groups": 4, "dilation": 3, "stride": 3}),
}


@pytest.mark.gpu
@pytest.mark.parametrize("name", LARGE)
def test_large_shapes_on_gpu(name: str) -> None:
    x_shape, w_shape, kwargs = LARGE[name]
    x = make(*x_shape, device="cuda")
    w = make(*w_shape, device="cuda", scale=(w_shape[0] * w_shape[2]) ** -0.5)
    b = make(w_shape[1] * kwargs.get("groups", 1), device="cuda")
    got = run_with_grads(cuda.conv_transpose1d, x, w, b, **kwargs)
    want = run_with_grads(F.conv_transpose1d, x, w, b, **kwargs)
    for g, e in zip(got, want, strict=True):
        scale = max(1.0, e.abs().max().item())
        torch.testing.assert_close(g, e, atol=2e-5 * scale, rtol=1e-4)
    again = run_with_grads(cuda.conv_transpose1d, x, w, b, **kwargs)
    assert all(torch.equal(a, c) for a, c in zip(got, again, strict=True))


@pytest.mark.gpu
def test_more_than_2_31_elements_on_gpu() -> None:
    """A signal of 2**31 + 64 float16 samples (4 GiB): offsets need int64. The last outputs
    only depend on the last inputs, so torch checks them on a slice."""
    length = 2**31 + 64
    free, _ = torch.cuda.mem_get_info()
    if free < 12 * 2**30:
        pytest.skip("needs 12 GiB of free GPU memory")
    x = torch.zeros(1, 1, length, dtype=torch.float16, device="cuda")
    x[..., -1000:] = make(1, 1, 1000, dtype=torch.float16, device="cuda")
    w = make(1, 1, 3, dtype=torch.float16, seed=7, device="cuda")
    y = cuda.conv_transpose1d(x, w)
    assert y.shape == (1, 1, length + 2)
    tail = F.conv_transpose1d(x[..., -1000:].float(), w.float())  # outputs length-998 ...
    torch.testing.assert_close(y[..., -1000:].float(), tail[..., 2:], atol=2e-3, rtol=2e-3)
    del x, y
    torch.cuda.empty_cache()


@pytest.mark.gpu
@VARIANTS
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize("name", LARGE)
def test_forward_variants_on_large_shapes_on_gpu(
    name: str, dtype: torch.dtype, variant: str
) -> None:
    """Every forward variant natively on realistic shapes (compiled tl.dot and broadcast
    tiles, inner and edge blocks): exact float32 within float32 rounding of torch's, bfloat16
    within a few bfloat16 roundings of the float32 answer for the same rounded inputs; and
    bit-identical when repeated."""
    x_shape, w_shape, kwargs = LARGE[name]
    x = make(*x_shape, device="cuda", dtype=dtype)
    w = make(*w_shape, device="cuda", dtype=dtype, scale=(w_shape[0] * w_shape[2]) ** -0.5)
    b = make(w_shape[1] * kwargs.get("groups", 1), device="cuda", dtype=dtype)
    fn = cuda.FORWARD_KERNELS[variant]
    got = fn(x, w, b, **kwargs)
    want = F.conv_transpose1d(x.float(), w.float(), b.float(), **kwargs)
    tol = 1e-4 if dtype == torch.float32 else HALF_TOLERANCE[dtype]
    scale = max(1.0, want.abs().max().item())
    assert got.dtype == dtype
    torch.testing.assert_close(got.float(), want, atol=tol * scale, rtol=tol)
    assert torch.equal(fn(x, w, b, **kwargs), got)


@pytest.mark.slow
def test_gpu_check_sweeps_the_coalesced_tiles(tmp_path) -> None:
    """``tools/gpu_check.py --sweep`` (a GPU session's tile sweep) runs end to end on one tiny
    shape in the interpreter: every configuration timed, the table's own among them."""
    if DEVICE == "cuda":
        pytest.skip("checks the script in Triton's interpreter")
    out = tmp_path / "sweep.json"
    script = os.path.join(os.path.dirname(__file__), "..", "tools", "gpu_check.py")
    env = dict(os.environ, TRITON_INTERPRET="1")
    cmd = [sys.executable, script, "--device", "cpu", "--quick", "--sweep", "--json", str(out)]
    subprocess.run(cmd, check=True, env=env, capture_output=True, timeout=300)
    rows = json.loads(out.read_text())["sweep"]
    assert [row["precision"] for row in rows] == ["float32", "bfloat16"]
    for row in rows:
        assert "table" in row["ms"] and len(row["ms"]) > 1
        assert all(isinstance(ms, float) and ms > 0 for ms in row["ms"].values()), row["ms"]
