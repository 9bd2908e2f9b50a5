"""``conv_transpose1d`` as Triton kernels: native on NVIDIA GPUs, on the CPU in Triton's interpreter.

The kernels (in :mod:`convtranspose._triton_kernels`) are *gathers*: each program owns a
block of outputs, reads the inputs and taps that land on it and stores it once, so results
are deterministic (no atomics) and bit-identical from run to run. This module picks their
tile sizes, launches them, and wraps them in a :class:`torch.autograd.Function`.

Where it runs:

- CUDA tensors run natively (Linux with an NVIDIA GPU; Triton ships with torch's CUDA wheels);
- CPU tensors run in Triton's interpreter, *if* ``TRITON_INTERPRET=1`` was set before this
  module was first imported::

      import os
      os.environ["TRITON_INTERPRET"] = "1"  # before importing convtranspose.cuda
      import convtranspose.cuda

  The interpreter executes the very same kernel code with numpy: slow, but exact, and it
  needs no GPU. Half-precision CPU tensors are computed in float32 there (the interpreter
  lacks bfloat16 arithmetic) and rounded back.
- Without Triton (macOS, Windows) or with CPU tensors and no interpreter, calls raise a
  ``RuntimeError`` that says what to do; :mod:`convtranspose.cpu` runs everywhere.

Precision follows torch's own convolutions: float32 tiles may be rounded to TF32 (10 bits of
mantissa) for the tensor cores exactly when torch's cuDNN convolutions may
(``torch.backends.cudnn.allow_tf32``, on by default; it takes effect on Ampere and newer GPUs),
and are multiplied in exact IEEE float32 otherwise, as they always are in the interpreter;
float64 is computed on CUDA cores in float64; float16 and bfloat16 on tensor cores,
accumulating in float32.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from ._phases import phase_grid, tap_step
from .arguments import Conv1dArgs, check_conv_transpose1d

try:
    from . import _triton_kernels as _kernels
except ImportError as error:  # no Triton on this platform (macOS, Windows) or not installed
    _kernels = None
    _IMPORT_ERROR: ImportError | None = error
else:
    _IMPORT_ERROR = None

__all__ = ["INTERPRETED", "address_span", "conv_transpose1d", "dot_precision", "is_available"]

#: True when the kernels were defined for Triton's interpreter (``TRITON_INTERPRET=1`` was set
#: before this module was imported): they then run on CPU tensors.
INTERPRETED: bool = _kernels is not None and _kernels.INTERPRETED

HALF_DTYPES = (torch.float16, torch.bfloat16)

#: Launches where some tensor's elements lie this many elements or more past its first one
#: (see :func:`address_span`) use int64 offsets (int32 would wrap around); smaller ones keep
#: the cheaper int32 arithmetic.
INT64_THRESHOLD = 2**31


def is_available(device: str | torch.device = "cuda") -> bool:
    """Whether :func:`conv_transpose1d` can run on tensors of ``device`` in this process."""
    kind = torch.device(device).type
    if _kernels is None:
        return False
    if kind == "cpu":
        return INTERPRETED
    return kind == "cuda" and torch.cuda.is_available()


def _check_runnable(device: torch.device) -> None:
    """Raise a ``RuntimeError`` that says what to do when the kernels cannot run here."""
    if _kernels is None:
        raise RuntimeError(
            "convtranspose.cuda needs Triton, which could not be imported "
            f"({_IMPORT_ERROR}). Triton comes with PyTorch's CUDA builds on Linux "
            "(`pip install triton` otherwise); it does not exist for macOS or Windows. "
            "Use convtranspose.cpu.conv_transpose1d (or convtranspose.conv_transpose1d) instead."
        )
    if device.type == "cpu" and not INTERPRETED:
        raise RuntimeError(
            "convtranspose.cuda got CPU tensors, but its kernels were compiled for the GPU. "
            "To run them on the CPU in Triton's interpreter, set the environment variable "
            "TRITON_INTERPRET=1 *before* convtranspose.cuda is first imported, e.g. "
            "`import os; os.environ['TRITON_INTERPRET'] = '1'` in a fresh kernel's first cell "
            "(or restart the kernel); or move the tensors to a GPU with `.cuda()`."
        )
    if device.type not in ("cpu", "cuda"):
        raise RuntimeError(
            f"convtranspose.cuda runs on CUDA tensors (or CPU tensors in Triton's interpreter), "
            f"not on {device.type!r} tensors: use convtranspose.cpu or move them with .cuda()"
        )


@dataclass(frozen=True)
class Geometry:
    """The integer arguments the kernels need (kept by autograd instead of the tensors)."""

    stride: int
    padding: int
    dilation: int
    groups: int
    output_length: int

    @classmethod
    def of(cls, a: Conv1dArgs) -> Geometry:
        return cls(a.stride, a.padding, a.dilation, a.groups, a.output_length)


@dataclass(frozen=True)
class Tiles:
    """Tile sizes of one launch: ``rows`` channels written per program, ``red`` channels
    reduced per step, ``cols`` positions per program, and whether ``tl.dot`` multiplies them."""

    rows: int
    red: int
    cols: int
    use_dot: bool
    num_warps: int = 4
    num_stages: int = 3


def _pow2(n: int, cap: int) -> int:
    """The smallest power of two >= ``n``, at most ``cap``."""
    return min(cap, 1 << max(0, n - 1).bit_length())


@functools.lru_cache(maxsize=1024)
def choose_tiles(rows: int, red: int, cols: int, dtype: torch.dtype) -> Tiles:
    """Tile sizes for writing ``rows`` channels x ``cols`` positions, reducing over ``red``
    channels (measured on an H100, see chapter 12).

    Channel-heavy problems (both channel counts >= 16, not float64) use ``tl.dot``, which
    needs every tile side >= 16: half types on tensor cores, up to 128 channels x 64
    positions per program reducing 64 channels per step; float32 (TF32 tensor cores or exact
    CUDA-core FMAs, see :func:`dot_precision`; the tiles were measured exact) up to 64
    channels x 128 positions reducing 32 (a float32 element takes twice the shared memory of
    a half one); 8 warps for the big tiles. Channel-light
    ones (depthwise, a few channels) and float64 multiply a 3-d broadcast tile and sum it on
    CUDA cores, at most 4096 elements so it stays in registers, spent on positions.
    """
    if dtype in HALF_DTYPES and rows >= 16 and red >= 16:
        tiles = Tiles(
            rows=_pow2(rows, 128), red=_pow2(red, 64), cols=max(16, _pow2(cols, 64)), use_dot=True
        )
        return replace(tiles, num_warps=8 if tiles.rows * tiles.cols >= 8192 else 4)
    if dtype == torch.float32 and rows >= 16 and red >= 16:  # TF32 or exact: dot_precision
        tiles = Tiles(
            rows=_pow2(rows, 64), red=_pow2(red, 32), cols=max(16, _pow2(cols, 128)), use_dot=True
        )
        return replace(tiles, num_warps=8 if tiles.rows * tiles.cols >= 8192 else 4)
    rows_t = _pow2(rows, 16)
    red_t = _pow2(red, 4)
    cols_t = max(16, _pow2(cols, min(1024, 4096 // (rows_t * red_t))))
    return Tiles(rows_t, red_t, cols_t, use_dot=False)


def dot_precision(dtype: torch.dtype, device_type: str) -> str:
    """``tl.dot``'s input precision for this call: ``"tf32"`` for float32 CUDA tensors while
    ``torch.backends.cudnn.allow_tf32`` is set (torch's default), the flag under which torch's
    own convolutions round float32 to TF32; ``"ieee"`` (exact products) otherwise. The flag is
    read at every launch, so a backward pass follows it as torch's does. (Half types are
    multiplied exactly either way; the interpreter ignores the setting.)"""
    if dtype == torch.float32 and device_type == "cuda" and torch.backends.cudnn.allow_tf32:
        return "tf32"
    return "ieee"


def address_span(*tensors: Tensor) -> int:
    """One more than the largest offset, in elements, from a tensor's first element to any of
    its elements, over ``tensors``: what the kernels' offset arithmetic must reach. It is the
    element count for a contiguous tensor, but a view can reach much further (a slice of a
    large tensor, a large stride), and an expanded one less far (stride 0)."""
    return max(
        1 + sum((n - 1) * abs(st) for n, st in zip(t.shape, t.stride(), strict=True) if n > 0)
        for t in tensors
    )


def _common(*tensors: Tensor) -> dict:
    """Launch arguments every kernel takes: precision and accumulator (from the first
    tensor's dtype and device), offset width (from all of them)."""
    x = tensors[0]
    int64 = address_span(*tensors) >= INT64_THRESHOLD
    return _constants(x.dtype, int64, dot_precision(x.dtype, x.device.type))


@functools.lru_cache(maxsize=16)
def _constants(dtype: torch.dtype, int64: bool, precision: str) -> dict:
    import triton.language as tl

    return {
        "PRECISION": precision,
        "ACC": tl.float64 if dtype == torch.float64 else tl.float32,
        "INT64": int64,
    }


def _channels_last_weight(w: Tensor) -> Tensor:
    """``w`` with the same indexing ``w[c, o, k]`` but stored as ``(K, C_out/G, C_in)``:
    the ``(o, c)`` tiles a program reads for one tap are then contiguous rows (coalesced
    loads) instead of elements ``K`` apart. A copy of the (small) weight per call."""
    return w.permute(2, 1, 0).contiguous().permute(2, 1, 0)


def _launch_forward(a: Geometry, x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    """``y = conv_transpose1d(x, w, b)`` for batched ``x``; one program per output block."""
    n, c_in, l_in = x.shape
    _, c_out_g, k = w.shape
    g, s, p, d = a.groups, a.stride, a.padding, a.dilation
    l_out = a.output_length
    y = x.new_empty(n, c_out_g * g, l_out)
    if y.numel() == 0:
        return y
    # Phase r holds the outputs t = q*s + r - p: one program per (phase, block of q) ...
    cols = phase_grid(l_out, s, p, 1).n_q  # positions per phase
    tiles = choose_tiles(c_out_g, c_in // g, cols, x.dtype)
    phases = phase_grid(l_out, s, p, tiles.cols)
    n_co_blocks = math.ceil(c_out_g / tiles.rows)
    if tiles.use_dot:
        w = _channels_last_weight(w)
    # ... per block of output channels, per (sample, group).
    grid = (n * g * n_co_blocks * s * phases.n_blocks,)
    _kernels.conv_transpose1d_kernel[grid](
        x, w, y if b is None else b, y,
        c_in // g, c_out_g, l_in, l_out, k, g,
        s, p, d, tap_step(s, d),
        phases.n_blocks, n_co_blocks,
        *x.stride(), *w.stride(), *y.stride(),
        HAS_BIAS=b is not None, BLOCK_CO=tiles.rows, BLOCK_C=tiles.red, BLOCK_Q=tiles.cols,
        STRIDE_P2=max(2, _pow2(s, 1 << 30)), USE_DOT=tiles.use_dot,
        num_warps=tiles.num_warps, num_stages=tiles.num_stages, **_common(x, w, y),
    )  # fmt: skip
    return y


def _launch_input_grad(a: Geometry, grad_y: Tensor, w: Tensor, l_in: int) -> Tensor:
    """``grad_x = conv1d(grad_y, w, stride, padding, dilation, groups)`` at ``l_in`` positions."""
    n, _, l_out = grad_y.shape
    c_in, c_out_g, k = w.shape
    g = a.groups
    grad_x = grad_y.new_empty(n, c_in, l_in)
    if grad_x.numel() == 0:
        return grad_x
    tiles = choose_tiles(c_in // g, c_out_g, l_in, grad_y.dtype)
    n_i_blocks = math.ceil(l_in / tiles.cols)
    n_c_blocks = math.ceil(c_in // g / tiles.rows)
    if tiles.use_dot:
        w = _channels_last_weight(w)
    grid = (n * g * n_c_blocks * n_i_blocks,)
    _kernels.conv1d_kernel[grid](
        grad_y, w, grad_x,
        c_in // g, c_out_g, l_in, l_out, k, g,
        a.stride, a.padding, a.dilation,
        n_i_blocks, n_c_blocks,
        *grad_y.stride(), *w.stride(), *grad_x.stride(),
        BLOCK_C=tiles.rows, BLOCK_O=tiles.red, BLOCK_I=tiles.cols, USE_DOT=tiles.use_dot,
        num_warps=tiles.num_warps, num_stages=tiles.num_stages, **_common(grad_y, w, grad_x),
    )  # fmt: skip
    return grad_x


def _launch_weight_grad(a: Geometry, x: Tensor, grad_y: Tensor, w: Tensor) -> Tensor:
    """``grad_w[c, o, k] = sum_{n,i} x[n, c, i] * grad_y[n, o, i*stride + k*dilation - padding]``."""
    n, c_in, l_in = x.shape
    _, c_out_g, k = w.shape
    g = a.groups
    grad_w = torch.empty_like(w, memory_format=torch.contiguous_format)
    if n == 0:
        return grad_w.zero_()
    # A tl.dot here reduces over positions, so it needs both channel tiles >= 16.
    tiles = choose_tiles(c_in // g, c_out_g, l_in, x.dtype)
    if tiles.use_dot:
        rows, red, cols = tiles.rows, tiles.cols, tiles.red  # (C, I) @ (I, O): I reduces
        red = min(red, 64)
    else:
        rows, cols = _pow2(c_in // g, 16), _pow2(c_out_g, 16)
        red = _pow2(l_in, max(16, 4096 // (rows * cols)))
    n_c_blocks = math.ceil(c_in // g / rows)
    n_o_blocks = math.ceil(c_out_g / cols)
    grid = (g * k * n_c_blocks * n_o_blocks,)
    _kernels.weight_grad_kernel[grid](
        x, grad_y, grad_w,
        n, c_in // g, c_out_g, l_in, grad_y.shape[2], k,
        a.stride, a.padding, a.dilation,
        n_c_blocks, n_o_blocks,
        *x.stride(), *grad_y.stride(), *grad_w.stride(),
        BLOCK_C=rows, BLOCK_O=cols, BLOCK_I=red, USE_DOT=tiles.use_dot,
        num_warps=tiles.num_warps, num_stages=tiles.num_stages, **_common(x, grad_y, grad_w),
    )  # fmt: skip
    return grad_w


class _ConvTranspose1dFunction(torch.autograd.Function):
    """The kernels as an autograd op on batched tensors.

    Forward: ``y = conv_transpose1d(x, w, b)`` (:func:`~convtranspose._triton_kernels.conv_transpose1d_kernel`).

    Backward, each gradient a gather kernel of its own (deterministic, no atomics):

    - ``grad_x = conv1d(grad_y, w, stride, padding, dilation, groups)``: input ``i`` reached
      output ``i*stride + k*dilation - padding`` through tap ``k``, so it collects the output
      gradient from there; the transposed convolution's transpose is the ordinary
      convolution (``conv1d_kernel``);
    - ``grad_w[c, o, k] = sum_{n, i} x[n, c, i] * grad_y[n, o, i*stride + k*dilation - padding]``:
      the correlation of the input with the output gradient (``weight_grad_kernel``);
    - ``grad_b[o] = sum_{n, t} grad_y[n, o, t]``: the bias was added to every output of channel
      ``o`` once (a plain ``torch.sum``, deterministic).

    The backward is itself not differentiable (``once_differentiable``): no second derivatives.
    """

    @staticmethod
    def forward(ctx, x: Tensor, w: Tensor, b: Tensor | None, a: Geometry) -> Tensor:
        ctx.save_for_backward(x, w)
        ctx.args = a
        return _launch_forward(a, x, w, b)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y: Tensor):
        x, w = ctx.saved_tensors
        a: Geometry = ctx.args
        need_x, need_w, need_b, _ = ctx.needs_input_grad
        grad_x = _launch_input_grad(a, grad_y, w, x.shape[2]) if need_x else None
        grad_w = _launch_weight_grad(a, x, grad_y, w) if need_w else None
        grad_b = grad_y.sum(dim=(0, 2)) if need_b else None
        return grad_x, grad_w, grad_b, None


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    output_padding: int | tuple[int] = 0,
    groups: int = 1,
    dilation: int | tuple[int] = 1,
) -> Tensor:
    """Transposed 1-d convolution by Triton kernels: the contract of
    :func:`torch.nn.functional.conv_transpose1d`, differentiable, deterministic.

    Runs natively on CUDA tensors, and on CPU tensors in Triton's interpreter when
    ``TRITON_INTERPRET=1`` was set before this module was imported (see the module's
    docstring); raises ``RuntimeError`` explaining what to do otherwise.
    """
    a = check_conv_transpose1d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    _check_runnable(a.input.device)
    x, w, b = a.input, a.weight, a.bias
    dtype = x.dtype
    if x.device.type == "cpu" and dtype in HALF_DTYPES:  # the interpreter: compute in float32
        x, w = x.float(), w.float()
        b = None if b is None else b.float()
    geometry = Geometry.of(a)
    needs_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, w, b)
    )
    if needs_grad:
        y = _ConvTranspose1dFunction.apply(x, w, b, geometry)
    else:  # nothing to differentiate: skip autograd's bookkeeping (a few microseconds)
        y = _launch_forward(geometry, x, w, b)
    return a.restore(y.to(dtype))
