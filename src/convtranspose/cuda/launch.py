"""Where the Triton kernels run, and how they are launched.

Each launch allocates its output, looks up its launch metadata (tiles, grid, constants),
cached per shape, and calls one kernel of :mod:`.kernels`. The weight's channels-last copy,
which the ``tl.dot`` tiles read in coalesced rows, is prepared once per weight *version*
(:func:`prepared_weight`), not once per call.

The public pieces: :data:`FORWARD_KERNELS` (the forward variants, each with the contract's
signature), :data:`DEFAULT_FORWARD`, and the two gradient functions
:func:`conv_transpose1d_input_grad` and :func:`conv_transpose1d_weight_grad`, on batched
tensors, which a registered operator's backward can call.
"""

from __future__ import annotations

import functools
import math
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from ..arguments import Conv1dArgs, check_conv_transpose1d
from .phases import phase_grid, phase_taps, tap_step
from .tiles import HALF_DTYPES, choose_coalesced_tiles, choose_tiles, pow2

try:
    from . import kernels as _kernels
except ImportError as error:  # no Triton on this platform (macOS, Windows) or not installed
    _kernels = None
    _IMPORT_ERROR: ImportError | None = error
else:
    _IMPORT_ERROR = None

__all__ = [
    "DEFAULT_FORWARD",
    "FORWARD_KERNELS",
    "INTERPRETED",
    "Geometry",
    "address_span",
    "clear_caches",
    "conv_transpose1d_input_grad",
    "conv_transpose1d_weight_grad",
    "dot_precision",
    "forward",
    "is_available",
    "prepared_weight",
]

#: True when the kernels were defined for Triton's interpreter (``TRITON_INTERPRET=1`` was set
#: before they were imported): they then run on CPU tensors.
INTERPRETED: bool = _kernels is not None and _kernels.INTERPRETED

#: Launches where some tensor's elements lie this many elements or more past its first one
#: (see :func:`address_span`) use int64 offsets (int32 would wrap around); smaller ones keep
#: the cheaper int32 arithmetic.
INT64_THRESHOLD = 2**31


def is_available(device: str | torch.device = "cuda") -> bool:
    """Whether the kernels can run on tensors of ``device`` in this process."""
    kind = torch.device(device).type
    if _kernels is None:
        return False
    if kind == "cpu":
        return INTERPRETED
    return kind == "cuda" and torch.cuda.is_available()


def check_runnable(device: torch.device) -> None:
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
            "TRITON_INTERPRET=1 *before* convtranspose.cuda is first used, e.g. "
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
    return max(_span(t.shape, t.stride()) for t in tensors)


def _span(shape: tuple[int, ...], strides: tuple[int, ...]) -> int:
    return 1 + sum((n - 1) * abs(st) for n, st in zip(shape, strides, strict=True) if n > 0)


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


# --- the weight, prepared once per version ---------------------------------------------


def _channels_last(w: Tensor) -> Tensor:
    """``w`` with the same indexing ``w[c, o, k]`` but stored as ``(K, C_out/G, C_in)``:
    the ``(o, c)`` tiles a program reads for one tap are then contiguous rows (coalesced
    loads) instead of elements ``K`` apart."""
    return w.permute(2, 1, 0).contiguous().permute(2, 1, 0)


@dataclass
class _Prepared:
    """A prepared copy of a weight, valid while the weight is the same tensor object, at the
    same address, of the same version (in-place changes bump it), shape, strides and dtype."""

    source: weakref.ReferenceType
    key: tuple
    copy: Tensor


#: At most this many prepared weights are kept (least recently used dropped first): a model's
#: layers, not every weight ever seen. Each holds only the copy and a weak reference, and is
#: dropped when its weight dies.
WEIGHT_CACHE_SIZE = 64
_weight_cache: OrderedDict[int, _Prepared] = OrderedDict()


def _weight_key(w: Tensor) -> tuple | None:
    """What must not change for a prepared copy of ``w`` to stay valid; None when ``w`` cannot
    be tracked (an inference tensor has no version counter)."""
    try:
        version = w._version
    except RuntimeError:  # inference tensors: no version counter
        return None
    return (w.data_ptr(), version, tuple(w.shape), w.stride(), w.dtype, w.device)


def _forget(ref: weakref.ReferenceType) -> None:
    """Drop the copy of a weight that has died (the weak reference's callback)."""
    for key, entry in list(_weight_cache.items()):
        if entry.source is ref:
            del _weight_cache[key]


def prepared_weight(w: Tensor) -> Tensor:
    """``w`` re-laid channels-last (see :func:`_channels_last`), computed once per weight
    version: a layer's weight is copied at its first call and after each in-place change (an
    optimizer step), not at every call. Keyed by the tensor object (weakly, so the cache never
    keeps a weight alive) and checked against its address, version, shape, strides, dtype and
    device. The copy is a plain tensor outside any autograd graph."""
    key = _weight_key(w)
    if key is None:
        return _channels_last(w.detach())
    entry = _weight_cache.get(id(w))
    if entry is not None and entry.source() is w and entry.key == key:
        _weight_cache.move_to_end(id(w))
        return entry.copy
    copy = _channels_last(w.detach())
    _weight_cache[id(w)] = _Prepared(weakref.ref(w, _forget), key, copy)
    while len(_weight_cache) > WEIGHT_CACHE_SIZE:
        _weight_cache.popitem(last=False)
    return copy


def clear_caches() -> None:
    """Drop every prepared weight (frees their memory) and every cached launch plan (after
    a change to the tile choice or the int64 threshold)."""
    _weight_cache.clear()
    _forward_plan.cache_clear()


# --- the forward kernels -----------------------------------------------------------------


def _phase_launch(shape_x, shape_w, geometry: Geometry, dtype: torch.dtype):
    """Per-phase kernel: (grid, tiles, per-launch integer arguments)."""
    n, c_in, l_in = shape_x
    _, c_out_g, k = shape_w
    g, s, p, d = geometry.groups, geometry.stride, geometry.padding, geometry.dilation
    l_out = geometry.output_length
    cols = phase_grid(l_out, s, p, 1).n_q  # positions per phase
    tiles = choose_tiles(c_out_g, c_in // g, cols, dtype)
    phases = phase_grid(l_out, s, p, tiles.cols)
    n_co_blocks = math.ceil(c_out_g / tiles.rows)
    # one program per (sample, group) x output-channel block x phase x block of q
    grid = (n * g * n_co_blocks * s * phases.n_blocks,)
    ints = (
        c_in // g, c_out_g, l_in, l_out, k, g,  # C_IN_G, C_OUT_G, L_IN, L_OUT, K, G
        s, p, d, tap_step(s, d),  # STRIDE, PADDING, DILATION, TAP_STEP
        phases.n_blocks, n_co_blocks,  # N_Q_BLOCKS, N_CO_BLOCKS
    )  # fmt: skip
    constexprs = {
        "BLOCK_CO": tiles.rows, "BLOCK_C": tiles.red, "BLOCK_Q": tiles.cols,
        "STRIDE_P2": max(2, pow2(s, 1 << 30)), "USE_DOT": tiles.use_dot,
    }  # fmt: skip
    return grid, tiles, ints, constexprs


def _coalesced_launch(shape_x, shape_w, geometry: Geometry, dtype: torch.dtype):
    """Coalesced kernel: (grid, tiles, per-launch integer arguments)."""
    n, c_in, l_in = shape_x
    _, c_out_g, k = shape_w
    g, s, p, d = geometry.groups, geometry.stride, geometry.padding, geometry.dilation
    l_out = geometry.output_length
    # Phase r's column q writes t = q*s + e_r - p, e_r = first_r*d (r when no tap reaches r):
    # the q that write something run from q_lo to q_hi over all phases.
    firsts = [min(taps, default=None) for taps in phase_taps(k, s, 0, d)]
    ends = [r if f is None else f * d for r, f in enumerate(firsts)]
    q_lo = min(-((e - p) // s) for e in ends)  # ceil((p - e) / s)
    q_hi = max((l_out - 1 + p - e) // s for e in ends)
    n_q = q_hi - q_lo + 1
    phases = max(2, pow2(s, 1 << 30))
    tiles = choose_coalesced_tiles(phases, c_out_g, c_in // g, n_q, n * g, dtype)
    block_co = tiles.rows // phases
    n_co_blocks = math.ceil(c_out_g / block_co)
    n_q_blocks = math.ceil(n_q / tiles.cols)
    # one program per (sample, group) x output-channel block x block of q (all phases)
    grid = (n * g * n_co_blocks * n_q_blocks,)
    ints = (
        c_in // g, c_out_g, l_in, l_out, k, g,  # C_IN_G, C_OUT_G, L_IN, L_OUT, K, G
        s, p, d, tap_step(s, d), d // math.gcd(s, d),  # STRIDE, PADDING, DILATION, TAP_STEP, SHIFT
        int(math.gcd(s, d) == 1 and k % s == 0),  # ALL_TAPS: every phase has K / stride taps
        q_lo, n_q_blocks, n_co_blocks,  # Q_START, N_Q_BLOCKS, N_CO_BLOCKS
    )  # fmt: skip
    constexprs = {
        "PHASES": phases, "BLOCK_CO": block_co, "BLOCK_C": tiles.red, "BLOCK_Q": tiles.cols,
        "USE_DOT": tiles.use_dot,
    }  # fmt: skip
    return grid, tiles, ints, constexprs


#: Each forward variant: its kernel's name in :mod:`.kernels` and its launch planner.
_VARIANTS: dict[str, tuple[str, Callable]] = {
    "phase": ("conv_transpose1d_kernel", _phase_launch),
    "coalesced": ("conv_transpose1d_coalesced_kernel", _coalesced_launch),
}


@dataclass(frozen=True)
class _Plan:
    """Everything a forward launch needs but the tensors and the TF32 flag."""

    kernel: object  # the @triton.jit kernel
    grid: tuple[int]
    use_dot: bool  # whether the weight is read re-laid channels-last
    ints: tuple[int, ...]  # the integer arguments before the strides
    y_shape: tuple[int, int, int]
    int64: bool  # offsets in int64
    kwargs: dict  # constexprs, warps, stages


@functools.lru_cache(maxsize=512)
def _forward_plan(
    variant, shape_x, stride_x, shape_w, stride_w, dtype, geometry, has_bias
) -> _Plan:
    """The launch plan of one forward call, cached per shape (a repeated shape costs one
    look-up): tiles, grid, integer arguments, offset width."""
    if geometry.stride == 1:  # one phase: the per-phase kernel's stores are contiguous already
        variant = "phase"
    kernel_name, planner = _VARIANTS[variant]
    grid, tiles, ints, constexprs = planner(shape_x, shape_w, geometry, dtype)
    c_out = shape_w[1] * geometry.groups
    y_shape = (shape_x[0], c_out, geometry.output_length)
    y_stride = (c_out * geometry.output_length, geometry.output_length, 1)
    # the dot tiles read a contiguous re-laid copy of the weight, the others the weight itself
    w_span = math.prod(shape_w) if tiles.use_dot else _span(shape_w, stride_w)
    span = max(_span(shape_x, stride_x), _span(y_shape, y_stride), w_span)
    kwargs = {
        "HAS_BIAS": has_bias, **constexprs,
        "num_warps": tiles.num_warps, "num_stages": tiles.num_stages,
    }  # fmt: skip
    kernel = getattr(_kernels, kernel_name)
    return _Plan(kernel, grid, tiles.use_dot, ints, y_shape, span >= INT64_THRESHOLD, kwargs)


def forward(variant: str, a: Geometry, x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    """``y = conv_transpose1d(x, w, b)`` for batched, validated ``x`` with forward kernel
    ``variant`` (a key of :data:`FORWARD_KERNELS`); no checks, no autograd."""
    plan = _forward_plan(
        variant, tuple(x.shape), x.stride(), tuple(w.shape), w.stride(), x.dtype, a,
        b is not None,
    )  # fmt: skip
    y = x.new_empty(plan.y_shape)
    if y.numel() == 0:
        return y
    if plan.use_dot:
        w = prepared_weight(w)
    precision = dot_precision(x.dtype, x.device.type)
    plan.kernel[plan.grid](
        x, w, y if b is None else b, y,  # input, weight, bias (y as a dummy), output
        *plan.ints,  # the shape, the convolution's arguments, the grid's block counts
        *x.stride(), *w.stride(), *y.stride(),  # strides in elements
        **plan.kwargs, **_constants(x.dtype, plan.int64, precision),
    )  # fmt: skip
    return y


# --- the gradients ---------------------------------------------------------------------


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
        w = prepared_weight(w)
    # one program per (sample, group) x input-channel block x block of input positions
    grid = (n * g * n_c_blocks * n_i_blocks,)
    _kernels.conv1d_kernel[grid](
        grad_y, w, grad_x,  # output gradient, weight, input gradient (written)
        c_in // g, c_out_g, l_in, l_out, k, g,  # C_IN_G, C_OUT_G, L_IN, L_OUT, K, G
        a.stride, a.padding, a.dilation,  # the transposed convolution's arguments
        n_i_blocks, n_c_blocks,  # N_I_BLOCKS, N_C_BLOCKS
        *grad_y.stride(), *w.stride(), *grad_x.stride(),  # strides in elements
        BLOCK_C=tiles.rows, BLOCK_O=tiles.red, BLOCK_I=tiles.cols, USE_DOT=tiles.use_dot,
        num_warps=tiles.num_warps, num_stages=tiles.num_stages, **_common(grad_y, w, grad_x),
    )  # fmt: skip
    return grad_x


def _launch_weight_grad(a: Geometry, x: Tensor, grad_y: Tensor, w_shape: tuple) -> Tensor:
    """``grad_w[c, o, k] = sum_{n,i} x[n, c, i] * grad_y[n, o, i*stride + k*dilation - padding]``."""
    n, c_in, l_in = x.shape
    _, c_out_g, k = w_shape
    g = a.groups
    grad_w = x.new_empty(w_shape)
    if n == 0 or l_in == 0:
        return grad_w.zero_()
    # A tl.dot here reduces over positions, so it needs both channel tiles >= 16.
    tiles = choose_tiles(c_in // g, c_out_g, l_in, x.dtype)
    if tiles.use_dot:
        rows, red, cols = tiles.rows, tiles.cols, tiles.red  # (C, I) @ (I, O): I reduces
        red = min(red, 64)
    else:
        rows, cols = pow2(c_in // g, 16), pow2(c_out_g, 16)
        red = pow2(l_in, max(16, 4096 // (rows * cols)))
    n_c_blocks = math.ceil(c_in // g / rows)
    n_o_blocks = math.ceil(c_out_g / cols)
    # one program per group x tap x input-channel block x output-channel block
    grid = (g * k * n_c_blocks * n_o_blocks,)
    _kernels.weight_grad_kernel[grid](
        x, grad_y, grad_w,  # input, output gradient, weight gradient (written)
        n, c_in // g, c_out_g, l_in, grad_y.shape[2], k,  # N, C_IN_G, C_OUT_G, L_IN, L_OUT, K
        a.stride, a.padding, a.dilation,  # the transposed convolution's arguments
        n_c_blocks, n_o_blocks,  # N_C_BLOCKS, N_O_BLOCKS
        *x.stride(), *grad_y.stride(), *grad_w.stride(),  # strides in elements
        BLOCK_C=rows, BLOCK_O=cols, BLOCK_I=red, USE_DOT=tiles.use_dot,
        num_warps=tiles.num_warps, num_stages=tiles.num_stages, **_common(x, grad_y, grad_w),
    )  # fmt: skip
    return grad_w


def _computable(*tensors: Tensor | None) -> tuple[torch.dtype, list[Tensor | None]]:
    """The tensors as the kernels compute them, and the dtype to return: in the interpreter
    (CPU tensors) half types are computed in float32, which it has arithmetic for."""
    dtype = tensors[0].dtype
    if tensors[0].device.type == "cpu" and dtype in HALF_DTYPES:
        return dtype, [None if t is None else t.float() for t in tensors]
    return dtype, list(tensors)


def conv_transpose1d_input_grad(
    grad_output: Tensor,
    weight: Tensor,
    input_length: int,
    stride: int,
    padding: int,
    dilation: int,
    groups: int,
) -> Tensor:
    """The gradient of ``conv_transpose1d`` with respect to its (batched) input:
    ``conv1d(grad_output, weight, stride, padding, dilation, groups)`` at ``input_length``
    positions, by a gather kernel (deterministic). ``grad_output`` is ``(N, C_out, L_out)``,
    ``weight`` ``(C_in, C_out/groups, K)``; the arguments are the forward call's, already
    validated by it."""
    check_runnable(grad_output.device)
    dtype, (gy, w) = _computable(grad_output, weight)
    a = Geometry(stride, padding, dilation, groups, gy.shape[2])
    return _launch_input_grad(a, gy, w, input_length).to(dtype)


def conv_transpose1d_weight_grad(
    input: Tensor,
    grad_output: Tensor,
    kernel_size: int,
    stride: int,
    padding: int,
    dilation: int,
    groups: int,
) -> Tensor:
    """The gradient of ``conv_transpose1d`` with respect to its weight, ``(C_in,
    C_out/groups, kernel_size)``: the correlation of the (batched) ``input`` with
    ``grad_output`` at each tap's shift, by a gather kernel (deterministic, no atomics). The
    arguments are the forward call's, already validated by it."""
    check_runnable(input.device)
    dtype, (x, gy) = _computable(input, grad_output)
    a = Geometry(stride, padding, dilation, groups, gy.shape[2])
    w_shape = (x.shape[1], gy.shape[1] // groups, kernel_size)
    return _launch_weight_grad(a, x, gy, w_shape).to(dtype)


# --- the forward variants with the contract's signature ---------------------------------


def _variant_function(variant: str) -> Callable[..., Tensor]:
    """The contract's ``conv_transpose1d`` running forward kernel ``variant`` (no autograd)."""

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
        a = check_conv_transpose1d(
            input, weight, bias, stride, padding, output_padding, groups, dilation
        )
        check_runnable(a.input.device)
        dtype, (x, w, b) = _computable(a.input, a.weight, a.bias)
        y = forward(variant, Geometry.of(a), x, w, b)  # a kernel's output records no graph
        return a.restore(y.to(dtype))

    conv_transpose1d.__name__ = conv_transpose1d.__qualname__ = f"conv_transpose1d_{variant}"
    conv_transpose1d.__doc__ = (
        f"``conv_transpose1d`` by the {variant!r} forward kernel: the contract of "
        ":func:`torch.nn.functional.conv_transpose1d`, forward only (no autograd)."
    )
    return conv_transpose1d


#: The forward-kernel variants, each a forward with the contract's signature (no autograd):
#: ``"phase"``, one output phase per program (stores ``stride`` apart);
#: ``"coalesced"``, every phase of a block of positions per program (one contiguous store;
#: stride 1 has one phase and runs the per-phase kernel).
FORWARD_KERNELS: dict[str, Callable[..., Tensor]] = {
    name: _variant_function(name) for name in _VARIANTS
}

#: The variant :func:`convtranspose.cuda.conv_transpose1d` runs.
DEFAULT_FORWARD = "phase"
