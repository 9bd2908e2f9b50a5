"""Tests particular to the Triton implementation, :mod:`convtranspose.cuda`.

The shared suite (``test_conv_transpose1d.py``, ``test_bad_input.py``) already checks it
against torch through :mod:`implementations`. These add what only this implementation
has: determinism, the tensor-core (``tl.dot``) path, int64 offsets, half precision, torch's
own sample inputs, and clear errors when the kernels cannot run. Without a GPU everything
runs in Triton's interpreter on CPU tensors (conftest sets ``TRITON_INTERPRET=1``); tests
marked ``gpu`` need a CUDA device.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from convtranspose import cuda

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"

# Without a GPU the tests need Triton's interpreter; with one they always run (and fail loudly
# if Triton is missing there).
pytestmark = pytest.mark.skipif(
    DEVICE == "cpu" and not cuda.is_available("cpu"),
    reason="no GPU, and Triton's interpreter is unavailable (Triton missing or TRITON_INTERPRET unset)",
)


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


def test_every_block_is_computed(monkeypatch: pytest.MonkeyPatch) -> None:
    """With tiny tiles, every loop over blocks runs several times (output channels, input
    channels, positions, the weight gradient's positions, the input gradient's output
    channels): forward and all three gradients still equal torch's, in float64."""
    monkeypatch.setattr(cuda, "choose_tiles", lambda *args: cuda.Tiles(2, 2, 16, False))
    gen = torch.Generator().manual_seed(8)
    x, w, b = (torch.randn(*s, generator=gen, dtype=torch.float64) for s in ((2, 16, 40), (16, 16, 3), (16,)))  # fmt: skip
    kwargs = {"stride": 2, "padding": 1}
    got = run_with_grads(cuda.conv_transpose1d, x.to(DEVICE), w.to(DEVICE), b.to(DEVICE), **kwargs)
    want = run_with_grads(F.conv_transpose1d, x, w, b, **kwargs)
    for g, e in zip(got, want, strict=True):
        torch.testing.assert_close(g.cpu(), e, atol=1e-10, rtol=1e-10)


def test_int64_offsets_give_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """The int64-offset code path (taken for tensors of >= 2**31 elements) computes the same
    values: forced on here for a small call, in all three kernels."""
    x, w, b, kwargs = call("channel-heavy")
    expected = run_with_grads(cuda.conv_transpose1d, x, w, b, **kwargs)
    monkeypatch.setattr(cuda, "INT64_THRESHOLD", 0)
    got = run_with_grads(cuda.conv_transpose1d, x, w, b, **kwargs)
    for g, e in zip(got, expected, strict=True):
        assert torch.equal(g, e)


def test_int64_offsets_are_chosen_by_how_far_a_view_reaches() -> None:
    """The launcher switches to int64 offsets by the offsets the kernels compute, not by the
    element count: a 15-element slice of a 3 x (2**30 + 64) tensor reaches past 2**31.
    (Meta tensors: shapes and strides without memory.)"""
    big = torch.empty(3, 2**30 + 64, device="meta")
    view = big[:, :5].unsqueeze(0)  # (1, 3, 5), strides (3 * (2**30 + 64), 2**30 + 64, 1)
    assert view.numel() == 15
    assert cuda.address_span(view) == 2 * (2**30 + 64) + 5
    assert cuda._common(view)["INT64"]
    assert not cuda._common(big[:1, :5].unsqueeze(0))["INT64"]
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


# --- when the kernels cannot run: a clear RuntimeError, not a crash -----------------------


def test_without_triton_says_what_to_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cuda, "_kernels", None)
    monkeypatch.setattr(cuda, "_IMPORT_ERROR", ImportError("No module named 'triton'"))
    assert not cuda.is_available("cpu")
    with pytest.raises(RuntimeError, match=r"needs Triton.*convtranspose\.cpu"):
        cuda.conv_transpose1d(torch.ones(1, 1, 2), torch.ones(1, 1, 3))


def test_bad_arguments_are_rejected_before_anything_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared argument checks come first, so even without Triton a bad call is named."""
    monkeypatch.setattr(cuda, "_kernels", None)
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
