"""Vectorised CPU implementations of ``conv_transpose1d``, built from torch tensor ops.

Eight algorithms compute the same thing (chapter 09 derives the first five from the
definition, chapter 11 measures them all):

- :func:`scatter`: the definition. Every input element stamps its scaled kernel onto the
  output; one ``einsum`` makes all the stamps, one ``index_add_`` adds them where they land.
- :func:`zero_insertion`: put ``stride - 1`` zeros between input samples, pad, and run an
  ordinary convolution with the flipped, transposed kernel. Simple, but most multiplications
  are by the inserted zeros.
- :func:`gemm_overlap_add`: one matrix multiply computes every (input element x tap) product,
  then a few shifted additions put them in place (what torch's own CPU op does, "col2im").
- :func:`polyphase`: output position ``t`` only receives taps ``k`` with
  ``k*dilation = t (mod stride)``, so each of the ``stride`` output phases is an ordinary
  stride-1 convolution with a sub-kernel; no multiplication by an inserted zero.
- :func:`subpixel`: the polyphase convolutions fused into one convolution with
  ``stride * C_out`` output channels, followed by a reshape that interleaves the phases
  ("sub-pixel convolution"). One large call instead of ``stride`` small ones.
- :func:`onednn`: oneDNN's own transposed convolution, called directly: what torch's op runs
  for most shapes anyway, minus torch's shape heuristic.
- :func:`aten`: torch's own operator behind this package's checks, the baseline, for the
  shapes where no reformulation is faster.
- :func:`aten_aligned`: torch's operator asked for an output whose length is a multiple of
  the stride, then cropped: oneDNN computes such outputs markedly faster.

:func:`conv_transpose1d` picks one per call with the rule in :func:`choose_algorithm`.
Every algorithm keeps the contract of :func:`torch.nn.functional.conv_transpose1d`: all
parameters, batched or unbatched input, every floating dtype, differentiable (autograd
records the torch operations used).
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ._phases import tap_step
from .arguments import Conv1dArgs, check_conv_transpose1d, transposed_length
from .cost import stamp_multiplies

__all__ = [
    "ALGORITHMS",
    "aten",
    "aten_aligned",
    "choose_algorithm",
    "conv_transpose1d",
    "gemm_overlap_add",
    "onednn",
    "polyphase",
    "scatter",
    "subpixel",
    "torch_runs_onednn",
    "whole_strides",
    "workspace_elements",
    "zero_insertion",
]


# ---------------------------------------------------------------------------------------------
# Small shared pieces
# ---------------------------------------------------------------------------------------------


def _stamp_length(a: Conv1dArgs) -> int:
    """Length of the uncropped output: the last stamp ends at ``(L-1)*stride + dilation*(K-1)``."""
    return (a.input.shape[2] - 1) * a.stride + a.dilation * (a.kernel_size - 1) + 1


def _crop(full: Tensor, a: Conv1dArgs) -> Tensor:
    """Cut the output out of the uncropped result: drop ``padding`` samples at the start and
    keep ``output_length``; where ``output_padding`` reaches past the last stamp, those
    positions received nothing and are zero."""
    end = a.padding + a.output_length
    if full.shape[-1] < end:
        full = F.pad(full, (0, end - full.shape[-1]))
    return full[..., a.padding : end]


def _finish(full: Tensor, a: Conv1dArgs) -> Tensor:
    """The output from the uncropped result: cropped (:func:`_crop`), the bias added, and
    contiguous, as torch's output is (a cropped view would make ``.view()`` fail and keep
    the larger buffer alive); the bias addition makes the copy when there is a bias."""
    out = _crop(full, a)
    return out.contiguous() if a.bias is None else (out + a.bias[:, None]).contiguous()


def _bias_past_the_stamps(
    out: Tensor, bias: Tensor | None, length: int, kernel_size: int, stride: int,
    padding: int, output_padding: int, dilation: int,
) -> Tensor:  # fmt: skip
    """``out`` with the bias alone (or zero) at the positions ``output_padding`` adds past
    the last stamp, which no product reaches. oneDNN's deconvolution multiplies zeros by the
    weight there, so a non-finite tap would leave ``nan`` where the definition has the bias.
    Such positions exist only when ``output_padding > padding``: otherwise ``out`` as it is."""
    if output_padding <= padding:
        return out
    start = (length - 1) * stride + dilation * (kernel_size - 1) + 1 - padding
    if start >= out.shape[-1]:
        return out
    tail = out[..., max(start, 0) :]
    fill = torch.zeros_like(tail) if bias is None else bias[:, None].expand_as(tail)
    return torch.cat((out[..., : max(start, 0)], fill), dim=-1)


def _weight_finite(a: Conv1dArgs) -> bool:
    """Whether every tap is finite: then a zero (inserted, padded) times a tap is zero and
    adds nothing, as the definition, which has no such term, wants."""
    return bool(torch.isfinite(a.weight).all())


def _conv1d_weight(weight: Tensor, groups: int) -> Tensor:
    """The ordinary-convolution weight that undoes a transposed one: ``(C_in, C_out/g, K)``
    becomes ``(C_out, C_in/g, K)`` (in and out channels swap within each group) and the taps
    are flipped, because the gather reads the input backwards where the scatter wrote forwards."""
    c_in, c_out_g, k = weight.shape
    per_group = weight.reshape(groups, c_in // groups, c_out_g, k).transpose(1, 2)
    return per_group.reshape(groups * c_out_g, c_in // groups, k).flip(-1)


@functools.cache
def _onednn_bf16() -> bool:
    """Whether this CPU runs oneDNN's bfloat16 kernels (AVX-512 or newer)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _onednn_ok(x: Tensor) -> bool:
    """oneDNN's convolution runs float32, and bfloat16 where the CPU supports it, on builds
    with mkldnn support."""
    return (
        x.device.type == "cpu"
        and (x.dtype == torch.float32 or (x.dtype == torch.bfloat16 and _onednn_bf16()))
        and torch.backends.mkldnn.is_available()
        and torch.backends.mkldnn.enabled
    )


def _conv1d(
    x: Tensor, weight: Tensor, bias: Tensor | None, padding: int, dilation: int, groups: int
) -> Tensor:
    """``F.conv1d`` (stride 1), sent straight to oneDNN where it can run.

    For 1-d inputs with a batch of one and fewer than ~20k input elements, torch's dispatcher
    uses its generic im2col + GEMM path instead of oneDNN (a heuristic tuned for 2-d images);
    calling ``mkldnn_convolution`` directly skips that choice. It is differentiable.
    """
    if _onednn_ok(x) and x.shape[0] > 0:
        return torch.ops.aten.mkldnn_convolution(
            x.contiguous(), weight.contiguous(), bias, [padding], [1], [dilation], groups
        )
    return F.conv1d(x, weight, bias, padding=padding, dilation=dilation, groups=groups)


# ---------------------------------------------------------------------------------------------
# The algorithms, on validated arguments (batched input)
# ---------------------------------------------------------------------------------------------


def _products(a: Conv1dArgs) -> Tensor:
    """Every (input element x kernel tap) product, summed over the input channels of a group:
    ``P[n, g, o, k, i] = sum_c x[n, g*C_in/g + c, i] * w[g*C_in/g + c, o, k]`` (one GEMM per group)."""
    x, w, g = a.input, a.weight, a.groups
    n, c_in, length = x.shape
    _, c_out_g, k = w.shape
    return torch.einsum(
        "ngcl,gcok->ngokl", x.reshape(n, g, c_in // g, length), w.reshape(g, c_in // g, c_out_g, k)
    )


def _scatter(a: Conv1dArgs) -> Tensor:
    n, _, length = a.input.shape
    k = a.kernel_size
    products = _products(a).reshape(n, a.out_channels, k * length)
    # Where product (k, i) lands in the uncropped output: i*stride + k*dilation.
    taps = torch.arange(k, device=a.input.device) * a.dilation
    starts = torch.arange(length, device=a.input.device) * a.stride
    where = (taps[:, None] + starts[None, :]).reshape(-1)
    full = a.input.new_zeros(n, a.out_channels, _stamp_length(a))
    full = full.index_add(2, where, products)
    return _finish(full, a)


def _zero_insertion(a: Conv1dArgs) -> Tensor:
    if not _weight_finite(a):  # an inserted zero times inf would be nan: real terms only
        return _gemm_overlap_add(a)
    x, s = a.input, a.stride
    n, c_in, length = x.shape
    if s > 1:  # stride - 1 zeros between neighbouring samples
        spread = x.new_zeros(n, c_in, (length - 1) * s + 1)
        spread[..., ::s] = x
    else:
        spread = x
    # A full convolution pads dilation*(K-1) on both sides; padding crops that much back
    # (a negative pad crops the input), output_padding adds zeros at the end.
    edge = a.dilation * (a.kernel_size - 1) - a.padding
    spread = F.pad(spread, (edge, edge + a.output_padding))
    weight = _conv1d_weight(a.weight, a.groups)
    return _conv1d(spread, weight, a.bias, 0, a.dilation, a.groups)


def _tap_phases(a: Conv1dArgs) -> list[tuple[int, int, int, int]]:
    """For each output phase ``r`` (output position ``t = q*stride + r``) that receives taps:
    ``(r, first_tap, tap_step, first_offset)``. Tap ``k`` lands at ``k*dilation =
    (k*dilation // stride)*stride + phase``; the taps of one phase are ``first_tap,
    first_tap + tap_step, ...`` and move the output ``dilation // gcd`` phase-samples apart."""
    s, d, k_size = a.stride, a.dilation, a.kernel_size
    step = tap_step(s, d)  # the phase of k*d repeats every `step` taps
    phases = []
    for first in range(min(k_size, step)):
        phases.append(((first * d) % s, first, step, (first * d) // s))
    return phases


def _polyphase(a: Conv1dArgs) -> Tensor:
    if not _weight_finite(a):  # a padded zero times inf would be nan: real terms only
        return _gemm_overlap_add(a)
    x, s = a.input, a.stride
    n = x.shape[0]
    full_len = max(_stamp_length(a), a.padding + a.output_length)
    rows = -(-full_len // s)
    full = x.new_zeros(n, a.out_channels, rows, s)  # full[..., q, r] is position q*s + r
    hop = a.dilation // math.gcd(s, a.dilation)  # output phase-samples between a phase's taps
    for phase, first, step, offset in _tap_phases(a):
        sub = a.weight[..., first::step]  # this phase's taps only: no zero is multiplied
        taps = sub.shape[-1]
        gap = hop if taps > 1 else 1
        # A stride-1 transposed convolution is a full ordinary convolution, kernel flipped.
        y = _conv1d(x, _conv1d_weight(sub, a.groups), None, gap * (taps - 1), gap, a.groups)
        full[:, :, offset : offset + y.shape[-1], phase] = y
    return _finish(full.reshape(n, a.out_channels, rows * s), a)


def _subpixel_weight(a: Conv1dArgs) -> tuple[Tensor, int]:
    """The polyphase sub-kernels stacked into one ordinary-convolution weight.

    Lay the dilated kernel out on a grid of ``rows * stride`` positions (tap ``k`` at
    ``k*dilation``), read it as ``rows x stride``, and make every phase a block of output
    channels: ``(g, C_out/g, stride)`` output channels, ``rows`` taps, flipped. Positions of
    the grid that hold no tap stay zero (none when ``dilation == 1`` and ``stride`` divides ``K``).
    """
    w, s, d, g = a.weight, a.stride, a.dilation, a.groups
    c_in, c_out_g, k_size = w.shape
    rows = d * (k_size - 1) // s + 1
    if d == 1:
        grid = F.pad(w, (0, rows * s - k_size))
    else:
        grid = w.new_zeros(c_in, c_out_g, rows * s)
        grid[..., : d * (k_size - 1) + 1 : d] = w
    # (c_in, o, rows, s) -> (c_in, o, s, rows): channel (o, r) convolves with phase r's taps.
    phased = grid.reshape(c_in, c_out_g, rows, s).transpose(2, 3)
    return _conv1d_weight(phased.reshape(c_in, c_out_g * s, rows), g), rows


def _subpixel(a: Conv1dArgs) -> Tensor:
    x, s = a.input, a.stride
    n, _, length = x.shape
    # Zeros it multiplies: the padding, by the weight; where a phase has fewer taps than
    # the longest (dilated, or K not a multiple of the stride), the grid's zeros by the
    # input. On finite values they add nothing; a non-finite one would turn into nan, so
    # then only the definition's terms are computed. (The weight is small on this route.)
    gaps = a.dilation > 1 or a.kernel_size % s
    if not _weight_finite(a) or (gaps and not bool(torch.isfinite(x).all())):
        return _gemm_overlap_add(a)
    weight, rows = _subpixel_weight(a)
    bias = None if a.bias is None else a.bias.repeat_interleave(s)
    # Output rows q = 0 .. L + rows - 2 (a full convolution); extend to the right where
    # output_padding reaches further.
    total = length + rows - 1
    extra = max(0, -(-(a.padding + a.output_length) // s) - total)
    if extra:
        x = F.pad(x, (0, extra))
    y = _conv1d(x, weight, bias, rows - 1, 1, a.groups)  # (n, C_out*s, total + extra)
    # Channel (o, r), row q is output position q*s + r: interleave the phases.
    full = y.reshape(n, a.out_channels, s, -1).transpose(2, 3).reshape(n, a.out_channels, -1)
    return _crop(full, a).contiguous()  # the bias is in already


def _interleave(phases: Tensor, length: int) -> Tensor:
    """The output, ``length`` long, from its phase-major form ``phases[n, c, r, q]`` (output
    position ``q*stride + r``), in one strided copy: the whole rows, then the partial last one."""
    n, c_out, s, _ = phases.shape
    out = phases.new_empty(n, c_out, length)
    whole, tail = divmod(length, s)
    out[..., : whole * s].view(n, c_out, whole, s).copy_(phases[..., :whole].transpose(2, 3))
    if tail:
        out[..., whole * s :].copy_(phases[..., :tail, whole])
    return out


def _overlap_add_thin(a: Conv1dArgs) -> Tensor:
    """GEMM + overlap-add when every output channel reads a single input channel
    (``C_in/groups == 1``: depthwise, or one channel in): the "GEMM" is an outer product, so
    each block of taps is one fused multiply-add of the input, broadcast, into the output
    (``addcmul_``), with no products tensor at all.

    The output is accumulated *phase-major*, ``phases[n, c, r, q]`` for position
    ``q*stride + r`` counted after the ``padding`` crop: each multiply-add then runs along
    ``q``, a long contiguous row, instead of along the ``stride`` positions of one row (which
    torch's element-wise loops handle poorly: 2x slower on a depthwise HiFi-GAN-like layer),
    and one strided copy interleaves the phases.
    Tap ``k`` of input ``i`` lands at ``i*stride + k*dilation - padding``: row
    ``i + j``, phase ``r``, with ``j, r = divmod(k*dilation - padding, stride)``."""
    x, w, s, d, p = a.input, a.weight, a.stride, a.dilation, a.padding
    n, g, length = x.shape
    _, c_out_g, k_size = w.shape
    rows = -(-a.output_length // s)
    shape = (n, g, c_out_g, s, rows)
    # Every position receives the bias once: start from it (the same pass as zeroing; a
    # clone, never the caller's bias itself, which may be exactly this shape).
    if a.bias is None:
        phases = x.new_zeros(shape)
    else:
        bias = a.bias.reshape(g, c_out_g, 1, 1).expand(shape)
        phases = bias.clone(memory_format=torch.contiguous_format)
    inputs = x.reshape(n, g, 1, 1, length)  # broadcast over the group's outputs and phases
    # (j, r, k, width): taps k .. k + width - 1 land on phases r .. r + width - 1 of row i + j.
    if d == 1:  # taps p + j*s + r, r = 0 .. s-1, form block j: one multiply-add per block
        blocks = []
        for j in range(-p // s, (k_size - 1 - p) // s + 1):
            first, last = max(0, -p - j * s), min(s, k_size - p - j * s)
            blocks.append((j, first, p + j * s + first, last - first))
    else:  # every tap has its own row and phase: one multiply-add per tap
        blocks = [(*divmod(k * d - p, s), k, 1) for k in range(k_size)]
    for j, r, k, width in blocks:
        lo, hi = max(0, j), min(rows, length + j)  # the rows inputs land on
        if lo < hi:
            taps = w[:, :, k : k + width, None]  # (g, C_out/g, width, 1)
            phases[:, :, :, r : r + width, lo:hi].addcmul_(inputs[..., lo - j : hi - j], taps)
    return _interleave(phases.reshape(n, a.out_channels, s, rows), a.output_length)


def _stamps(a: Conv1dArgs) -> Tensor:
    """Every input element's stamp, ``(N, C_out, L, K)``: one GEMM ``(N*L, C_in/g) @
    (C_in/g, C_out/g*K)`` per group, rows being input positions so that a stamp
    (``C_out/g x K`` values) is contiguous."""
    x, w, g = a.input, a.weight, a.groups
    n, c_in, length = x.shape
    _, c_out_g, k_size = w.shape
    if g == 1:
        products = torch.matmul(x.transpose(1, 2), w.reshape(c_in, c_out_g * k_size))
        products = products.reshape(n, length, 1, c_out_g, k_size)
    else:
        xg = x.reshape(n, g, c_in // g, length)
        products = torch.einsum("ngcl,gcm->nlgm", xg, w.reshape(g, c_in // g, c_out_g * k_size))
        products = products.reshape(n, length, g, c_out_g, k_size)
    return products.permute(0, 2, 3, 1, 4).reshape(n, a.out_channels, length, k_size)


def _gemm_overlap_add(a: Conv1dArgs) -> Tensor:
    x, s, d = a.input, a.stride, a.dilation
    n, c_in, length = x.shape
    k_size = a.kernel_size
    if c_in == a.groups:
        return _overlap_add_thin(a)
    stamps = _stamps(a)
    if d == 1 and k_size == s:
        # Stamps tile the output exactly: no overlap, no addition, a reshape is the answer.
        return _finish(stamps.reshape(n, a.out_channels, length * s), a)
    rows = -(-max(_stamp_length(a), a.padding + a.output_length) // s)
    full = x.new_zeros(n, a.out_channels, rows, s)  # full[..., q, r] is position q*s + r
    if d == 1:
        # Taps j*s .. j*s + s - 1 of stamp i land, contiguous, on row i + j.
        for j in range(-(-k_size // s)):
            width = min(s, k_size - j * s)
            full[:, :, j : j + length, :width] += stamps[..., j * s : j * s + width]
    else:
        for k in range(k_size):
            row, phase = divmod(k * d, s)
            full[:, :, row : row + length, phase] += stamps[..., k]
    return _finish(full.reshape(n, a.out_channels, rows * s), a)


class _OneDNNTransposed(torch.autograd.Function):
    """oneDNN's transposed convolution, called directly, with torch's own backward."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, groups, dilation):
        if ctx is not None:
            ctx.save_for_backward(x, weight)
            ctx.conf = (stride, padding, output_padding, groups, dilation, bias is not None)
            ctx.bias_shape = None if bias is None else bias.shape
        return torch.ops.mkldnn._convolution_transpose_pointwise(
            x.contiguous(), weight.contiguous(), bias, [padding], [output_padding], [stride],
            [dilation], groups, "none", [], "",
        )  # fmt: skip

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        stride, padding, output_padding, groups, dilation, has_bias = ctx.conf
        mask = [
            ctx.needs_input_grad[0],
            ctx.needs_input_grad[1],
            has_bias and ctx.needs_input_grad[2],
        ]
        gx, gw, gb = torch.ops.aten.convolution_backward(
            grad.contiguous(), x, weight, list(ctx.bias_shape) if has_bias else None,
            [stride], [padding], [dilation], True, [output_padding], groups, mask,
        )  # fmt: skip
        return gx, gw, gb, None, None, None, None, None


def _onednn_deconv_ok(a: Conv1dArgs) -> bool:
    """oneDNN's deconvolution takes float32 or bfloat16 and ``output_padding < stride``
    (torch also allows ``output_padding < dilation``)."""
    return (
        _onednn_ok(a.input)
        and a.output_padding < a.stride
        and hasattr(torch.ops.mkldnn, "_convolution_transpose_pointwise")
    )


def _onednn(a: Conv1dArgs) -> Tensor:
    if not _onednn_deconv_ok(a):  # float64, or a torch without oneDNN: our own GEMM
        return _gemm_overlap_add(a)
    args = (a.input, a.weight, a.bias, a.stride, a.padding, a.output_padding, a.groups, a.dilation)
    tensors = (t for t in args[:3] if t is not None)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        out = _OneDNNTransposed.apply(*args)
    else:
        out = _OneDNNTransposed.forward(None, *args)  # inference: skip autograd's bookkeeping
    return _bias_past_the_stamps(
        out, a.bias, a.input.shape[-1], a.kernel_size, a.stride, a.padding, a.output_padding,
        a.dilation,
    )  # fmt: skip


def _aten(a: Conv1dArgs) -> Tensor:
    """torch's own operator, through its C++ binding ``torch.conv_transpose1d`` (what
    ``F.conv_transpose1d`` is): the kernel torch's dispatcher picks (its GEMM + col2im for
    small batch-one shapes, oneDNN for the rest), with torch's own autograd formula. The
    binding costs less per call than ``torch.ops.aten.convolution`` (~95 against ~115 us on
    cold caches for a 0.1 ms problem), whose Python-side operator lookup runs every call."""
    return _torch_op(
        a.input, a.weight, a.bias, a.stride, a.padding, a.output_padding, a.groups, a.dilation
    )


def _torch_op(
    x: Tensor, weight: Tensor, bias: Tensor | None, stride: int, padding: int,
    output_padding: int, groups: int, dilation: int,
) -> Tensor:  # fmt: skip
    """``torch.conv_transpose1d`` on checked integer arguments (batched or unbatched ``x``),
    with the definition's bias-only values past the last stamp (:func:`_bias_past_the_stamps`)."""
    out = torch.conv_transpose1d(x, weight, bias, stride, padding, output_padding, groups, dilation)
    return _bias_past_the_stamps(
        out, bias, x.shape[-1], weight.shape[-1], stride, padding, output_padding, dilation
    )


def whole_strides(output_length: int, stride: int, output_padding: int) -> tuple[int, int]:
    """How to ask torch's op for an output whose length is a multiple of ``stride`` (the
    smallest one at least ``output_length`` long, same start): ``(zeros, output_padding)``,
    the zero samples to append to the input (each lengthens the output by ``stride``) and the
    ``output_padding`` to use instead, always below ``stride``. ``(0, output_padding)`` when
    the length is already a multiple."""
    missing = -output_length % stride
    return (0, output_padding) if missing == 0 else divmod(output_padding + missing, stride)


def _aligned_call(
    x: Tensor, weight: Tensor, bias: Tensor | None, stride: int, padding: int,
    output_padding: int, groups: int, dilation: int, output_length: int,
) -> Tensor:  # fmt: skip
    """torch's op on an output of whole strides, cropped to ``output_length`` (see
    :data:`aten_aligned`), on checked integer arguments; batched or unbatched ``x``."""
    zeros, used = whole_strides(output_length, stride, output_padding)
    length = x.shape[-1]
    y = torch.conv_transpose1d(
        F.pad(x, (0, zeros)) if zeros else x, weight, bias, stride, padding, used, groups, dilation
    )
    out = y[..., :output_length].contiguous()  # already whole: the whole tensor, no copy
    if zeros and _nan_from(out, length * stride - padding):  # maybe an appended zero times inf
        return _torch_op(x, weight, bias, stride, padding, output_padding, groups, dilation)
    return _bias_past_the_stamps(
        out, bias, length, weight.shape[-1], stride, padding, output_padding, dilation
    )


def _nan_from(out: Tensor, start: int) -> bool:
    """Whether ``out`` has a ``nan`` from position ``start`` on: where the products of zeros
    appended to the input land (zero times the weight: zero, unless a tap is not finite).
    A short slice at the end of the output, checked instead of the whole weight."""
    return start < out.shape[-1] and bool(out[..., max(start, 0) :].isnan().any())


def _aten_aligned(a: Conv1dArgs) -> Tensor:
    return _aligned_call(
        a.input, a.weight, a.bias, a.stride, a.padding, a.output_padding, a.groups,
        a.dilation, a.output_length,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def _run(algorithm: Callable[[Conv1dArgs], Tensor], args: tuple) -> Tensor:
    return _run_checked(algorithm, check_conv_transpose1d(*args))


def _run_checked(algorithm: Callable[[Conv1dArgs], Tensor], a: Conv1dArgs) -> Tensor:
    """``algorithm`` on checked arguments, in the caller's shape. Where it would compute
    nothing (an empty batch) or record no autograd graph although an argument requires grad
    (every product cropped away, so the output is zeros plus no bias), torch's op answers
    instead: its output keeps the graph, with zero gradients, as torch's always does."""
    if a.input.numel() == 0:
        return a.restore(_aten(a))
    out = algorithm(a)
    if not out.requires_grad and torch.is_grad_enabled() and _requires_grad(a):
        out = _aten(a)
    return a.restore(out)


def _requires_grad(a: Conv1dArgs) -> bool:
    return (
        a.input.requires_grad
        or a.weight.requires_grad
        or (a.bias is not None and a.bias.requires_grad)
    )


def _public(implementation: Callable[[Conv1dArgs], Tensor], name: str, doc: str):
    """One public algorithm: the contract's signature, the shared argument checks, then
    ``implementation`` on the validated arguments."""

    def algorithm(
        input: Tensor,
        weight: Tensor,
        bias: Tensor | None = None,
        stride: int | tuple[int] = 1,
        padding: int | tuple[int] = 0,
        output_padding: int | tuple[int] = 0,
        groups: int = 1,
        dilation: int | tuple[int] = 1,
    ) -> Tensor:
        args = (input, weight, bias, stride, padding, output_padding, groups, dilation)
        return _run(implementation, args)

    algorithm.__name__ = algorithm.__qualname__ = name
    algorithm.__doc__ = doc
    return algorithm


scatter = _public(
    _scatter,
    "scatter",
    """The definition, vectorised: every input element ``x[n, c, i]`` stamps
    ``x[n, c, i] * weight[c, :, :]`` onto the output at ``i*stride + k*dilation``.

    One ``einsum`` forms all ``L x K`` stamps (summing over the input channels of each
    group), one ``index_add`` scatters them to where they land, then ``padding`` is cropped.
    Cost: ``N*C_in*C_out/g*K*L`` multiplications, every product of every stamp (including
    those ``padding`` crops away), and an intermediate of ``N*C_out*K*L`` elements. Same
    contract as :func:`torch.nn.functional.conv_transpose1d`.
    """,
)

zero_insertion = _public(
    _zero_insertion,
    "zero_insertion",
    """Zero insertion + an ordinary convolution (how the operator is often explained).

    Insert ``stride - 1`` zeros between input samples, pad both ends by
    ``dilation*(K-1) - padding`` (cropping where that is negative) plus ``output_padding`` at
    the end, and convolve (stride 1) with the kernel flipped and its in/out channels swapped.
    Cost: about ``stride`` times the minimum multiplications, since all but one in ``stride``
    inputs the kernel sees are inserted zeros; an intermediate of ``N*C_in*L*stride`` elements.
    Same contract as :func:`torch.nn.functional.conv_transpose1d`.
    """,
)

gemm_overlap_add = _public(
    _gemm_overlap_add,
    "gemm_overlap_add",
    """GEMM + overlap-add (col2im): one matrix multiply ``(N*L, C_in) @ (C_in, C_out*K)``
    gives every input element's stamp, then ``ceil(K/stride)`` shifted additions (``K`` when
    dilated) put the stamps in place, and ``padding`` is cropped.

    When ``K == stride`` (and no dilation) stamps tile the output without overlap and the
    additions disappear: the GEMM result, reordered, is the output. When every output channel
    reads one input channel (depthwise, or a single channel in) the GEMM is an outer product:
    one broadcast multiply-add per block of ``stride`` taps, straight into the output.
    Cost: the same multiplications as :func:`scatter`, an intermediate of ``N*C_out*K*L``
    elements. Same contract as :func:`torch.nn.functional.conv_transpose1d`.
    """,
)

polyphase = _public(
    _polyphase,
    "polyphase",
    """Polyphase: ``stride`` ordinary convolutions, one per output phase.

    Output position ``t = q*stride + r`` receives tap ``k`` of input ``i`` exactly when
    ``k*dilation = (q - i)*stride + r``: only the taps with ``k*dilation = r (mod stride)``
    (every ``stride/gcd(stride, dilation)``-th tap) reach phase ``r``, and for them the output
    is a stride-1 convolution of the *undilated-by-stride* input. Each phase is computed with
    its sub-kernel and written to every ``stride``-th output. Cost: the minimum
    multiplications plus products with the zero padding at the ends, no inserted zeros;
    ``stride`` calls. Same contract as
    :func:`torch.nn.functional.conv_transpose1d`.
    """,
)

subpixel = _public(
    _subpixel,
    "subpixel",
    """Sub-pixel convolution: the polyphase convolutions fused into one.

    The ``stride`` sub-kernels become ``stride`` blocks of output channels of a single
    ordinary convolution with ``ceil((dilation*(K-1)+1)/stride)`` taps; reshaping its
    ``(C_out, stride, rows)`` result to ``(C_out, rows*stride)`` interleaves the phases (the
    "pixel shuffle" of Shi et al., 2016). One large convolution keeps the matrix engine busy;
    the price is multiplications by zero where a phase has fewer taps than the longest
    (none when ``stride`` divides ``K``, as in HiFi-GAN's upsamplers). Same contract as
    :func:`torch.nn.functional.conv_transpose1d`.
    """,
)

onednn = _public(
    _onednn,
    "onednn",
    """oneDNN's transposed convolution, called directly.

    torch's CPU op already runs oneDNN's kernel for most shapes, but decides with a heuristic
    written for 2-d images: a batch of one with fewer than ~20k input elements goes to its
    generic GEMM + col2im path instead. This calls oneDNN whatever the shape (float32 and
    bfloat16; other dtypes run :func:`gemm_overlap_add`), with torch's own backward.
    Same contract as :func:`torch.nn.functional.conv_transpose1d`.
    """,
)

aten = _public(
    _aten,
    "aten",
    """torch's own transposed convolution (its C++ binding ``torch.conv_transpose1d``),
    called after this package's argument checks.

    Not a reformulation: it is the baseline itself, kept as an algorithm so that
    :func:`conv_transpose1d` can hand a shape back to torch where none of the
    reformulations is measurably faster (on cold caches, every dense shape measured: torch's
    op is then little more than one well-laid-out matrix multiply). Same contract as
    :func:`torch.nn.functional.conv_transpose1d`.
    """,
)


aten_aligned = _public(
    _aten_aligned,
    "aten_aligned",
    """torch's own operator, asked for an output whose length is a multiple of ``stride``,
    then cropped to the length wanted.

    oneDNN's transposed convolution (torch's op for most shapes) takes up to about 1.5 times
    as long when the output length is not a multiple of the stride: it computes the output as
    ``stride`` interleaved phases, and phases of unequal length take a slower path (chapter
    11). A longer output costs almost nothing more: ``output_padding`` (kept below ``stride``)
    and, where that cannot reach, one zero appended to the input lengthen it to whole
    strides, and the extra samples at the end are dropped (a copy of the output). The
    positions kept are computed exactly as torch computes them. Same contract as
    :func:`torch.nn.functional.conv_transpose1d`.
    """,
)


#: Every CPU algorithm by name; the shared test suite checks each one against torch.
ALGORITHMS: dict[str, Callable[..., Tensor]] = {
    "scatter": scatter,
    "zero_insertion": zero_insertion,
    "gemm_overlap_add": gemm_overlap_add,
    "polyphase": polyphase,
    "subpixel": subpixel,
    "onednn": onednn,
    "aten": aten,
    "aten_aligned": aten_aligned,
}


#: The same algorithms on validated arguments (what :func:`conv_transpose1d` dispatches to).
_IMPLEMENTATIONS: dict[str, Callable[[Conv1dArgs], Tensor]] = {
    "scatter": _scatter,
    "zero_insertion": _zero_insertion,
    "gemm_overlap_add": _gemm_overlap_add,
    "polyphase": _polyphase,
    "subpixel": _subpixel,
    "onednn": _onednn,
    "aten": _aten,
    "aten_aligned": _aten_aligned,
}


def workspace_elements(
    name: str,
    batch: int,
    in_channels: int,
    out_channels: int,
    length: int,
    kernel_size: int,
    stride: int = 1,
    dilation: int = 1,
    groups: int = 1,
    *,
    padding: int = 0,
    output_padding: int = 0,
) -> int:
    """Elements of the intermediate tensors ``name`` holds at its peak besides its output
    (computed from the code, not measured; for scatter and GEMM + overlap-add the stamps and
    the uncropped output they are added into, alive together): the memory an algorithm needs
    on top of torch's answer. Multiply by the element size for bytes. (Only ``aten_aligned``
    depends on ``padding`` and ``output_padding``.)"""
    n, c_in, c_out, length, k, s, d = (
        batch, in_channels, out_channels, length, kernel_size, stride, dilation,
    )  # fmt: skip
    if name == "aten_aligned":  # torch's op on a longer input and output, then the crop
        out_len = transposed_length(length, k, s, padding, output_padding, d)
        if out_len % s == 0:  # nothing to align: torch's op as asked
            return workspace_elements("aten", n, c_in, c_out, length, k, s, d, groups)
        zeros, _ = whole_strides(out_len, s, output_padding)
        padded_input = n * c_in * (length + zeros) if zeros else 0
        whole_output = n * c_out * -(-out_len // s) * s
        torch_op = workspace_elements("aten", n, c_in, c_out, length + zeros, k, s, d, groups)
        return torch_op + padded_input + whole_output
    stamps = n * c_out * k * length  # one product per (input element, tap, output channel)
    full = n * c_out * ((length - 1) * s + d * (k - 1) + 1)  # the uncropped output
    rows = d * (k - 1) // s + 1
    if name == "gemm_overlap_add" and c_in == groups:
        rows = -(-((length - 1) * s + d * (k - 1) + 1) // s)
        return n * c_out * s * rows  # the phase-major output (about the uncropped one)
    if name in ("scatter", "gemm_overlap_add"):
        return stamps + (0 if (name == "gemm_overlap_add" and k == s and d == 1) else full)
    if name == "zero_insertion":
        return n * c_in * ((length - 1) * s + 1 + 2 * d * (k - 1))
    if name == "polyphase":
        return full + n * c_out * (length + (k - 1) * d)  # + one phase's result at a time
    if name == "onednn":
        return 0  # oneDNN's scratch memory is its own, not counted here
    if name == "aten":  # torch's op: its col2im columns on its native path, else oneDNN's own
        return 0 if torch_runs_onednn(n, c_in, length, groups) else c_out * k * length
    if name == "subpixel":  # the stacked phase kernels (a copy of the whole weight, every
        # call), and the convolution's result, interleaved
        return c_in * (c_out // groups) * s * rows + 2 * n * c_out * s * (length + rows - 1)
    raise ValueError(f"unknown algorithm {name!r}; expected one of {sorted(ALGORITHMS)}")


def choose_algorithm(
    batch: int,
    in_channels: int,
    out_channels: int,
    length: int,
    kernel_size: int,
    stride: int = 1,
    groups: int = 1,
    dilation: int = 1,
    dtype: torch.dtype = torch.float32,
    *,
    padding: int = 0,
    output_padding: int = 0,
) -> str:
    """The algorithm :func:`conv_transpose1d` runs for a shape (a name in :data:`ALGORITHMS`).
    ``padding`` and ``output_padding`` are the call's: with the rest they give the output
    length, which one line of the rule reads (leaving them at 0 describes a call without).

    The rule, from interleaved best-of-15 to best-of-31 cold-cache timings (one call per
    reading, a 64 MiB buffer written before each, as ``python -m convtranspose.benchmark``
    measures) on the project's 2-core machine (float32, 2 threads, torch 2.13) of the default
    grid, of the random grids of seeds 1-3, 11, 13, 21 and 22, and of hand-made shapes (seeds
    12, 14, 23 and 24 were kept for checking it, 27-30 for a later version (28 and 29 then
    changed the rule for exact tilings) and 31-34 for the last one; the committed run is
    ``book/data/benchmark-cpu.json``, chapter 11).
    Speed-ups are torch's time over ours; single shapes vary 10-20% between runs:

    - dtypes oneDNN cannot compute (float64): ``gemm_overlap_add``, the only other algorithm
      that does the minimum work with one large GEMM;
    - one input channel per group (depthwise, or a single channel in, whatever the number of
      output channels) and at least 2**14 elements in each multiply-add (``N*C_out*L``):
      ``gemm_overlap_add``, whose "GEMM" is then a broadcast multiply-add per block of
      ``stride`` taps (per tap when dilated), accumulated phase-major. 1.2-7.6x on ten such
      shapes from 0.5 to 12 ms (the default grid's depthwise layer and long single-channel
      signal, random seeds 1-3, single channels in with 1 or 16 out, 20 dilated depthwise
      taps: 3.9x), 1.1-1.3x on three at 2**14-2**15 (seeds 12, 14 and 21: they set the
      threshold below them, so seeds 12 and 14 are not quite held out here). Smaller ones go to
      ``aten``: each of the 3-7 element-wise calls then costs more than its arithmetic
      (0.65-0.89x on 13 hand-made depthwise shapes with 2**9-2**13, where torch's op measured
      0.91-1.07x; 0.51x and 0.69x on seed 22, which therefore no longer counts as held out);
    - stamps that do not overlap (``dilation == 1`` and ``K <= stride``), with at least 2**20
      multiply-adds when grouped (0.9-3.3x on nine such shapes of the random grids, 1.4x or
      more on six); ungrouped, with at least
      2**22 multiply-adds and enough input positions in the batch (``batch * length``): 128
      where gaps are left between the stamps (``K < stride``; 1.3-2.5x on 24 hand-made
      shapes, 0.55-0.9x on shorter inputs), 512 where they tile the output exactly
      (``K == stride``: torch's op handles that well, 0.77-1.28x on 14 hand-made shapes,
      geometric mean about 1.0, but 1.3-2.4x on the four such shapes of seeds 12, 28 and 29,
      where torch's op ran at 10-120 GFLOP/s; 0.65-1.0x on shorter inputs):
      ``gemm_overlap_add``, one GEMM and one copy. Below those sizes torch's op wins
      (0.6-0.8x), its native path being one C++ call;
    - grouped, undilated, at most 8 input channels per group, at least 2**22 multiply-adds
      and at least 1024 input positions in the batch (``batch * length``): ``subpixel``, one
      grouped oneDNN convolution. Torch's grouped transposed convolution runs such thin
      groups at 1-12 GFLOP/s; sub-pixel was 1.1-8.9x faster on 33 of 34 such shapes
      (batches of 1, 2 and 4, 2 to 8 groups, K/stride 4/2, 4/3, 7/3, 8/4, 16/8; 0.89x once),
      and 6.7x on seed 51's. With 16 to 64 channels per group it is a coin toss (0.94x in
      geometric mean over 139 such shapes, 0.79-1.03x by family, 0.59-2.8x single shapes: it
      wins where torch's op happens to be slow for the kernel size and stride, 10/5 above
      all), so those go to ``aten``. (Until the benchmark shuffled its turns, this line took
      up to 64 channels per group and batches only, from fewer shapes.) Dilated grouped
      shapes lose with it (0.5-0.8x), and so do small ones (0.47x at 0.7 million
      multiply-adds, seed 13: oneDNN's ~0.15 ms setup per call) and short inputs, since it
      rearranges the weight on every call (0.52x at 128 positions, seed 21): they go to
      ``aten``;
    - shapes torch's op sends to oneDNN (:func:`torch_runs_onednn`: a batch, groups, or more
      than 20480 input elements), undilated, with at least 16 input channels per group, whose
      output length is not a multiple of the stride: ``aten_aligned``, torch's op asked for
      whole strides and cropped. oneDNN's deconvolution computes ``stride`` interleaved
      phases and takes up to about 1.5 times as long when they are of unequal length (a
      256->128-channel layer, K=16, stride 8, 1024 inputs: 113 GFLOP/s at padding 4, 74-79 at
      padding 1 or 3 or with ``output_padding=1``). On 35 random such shapes (a sweep drawn
      as :func:`convtranspose.benchmark.misaligned_grid` draws, before it existed;
      2**18.6-2**31.9 multiply-adds, strides 2-10) ``aten_aligned`` was 1.29x faster than
      torch in geometric mean (0.83-2.85x; the two below 0.95 are 0.2-0.3 ms calls, where
      ``aten`` measured 0.85 and 0.89), where ``aten`` measured 0.95x. It loses with thin
      groups (0.74x on 40 shapes with 2-8 channels per group: oneDNN takes another path
      there) and does not help dilated shapes (0.89x on 39), which go to ``aten``. The
      ``2**19`` floor comes from the misaligned grids of seeds 1 and 2 (1.61x and 1.26x, the
      losses 0.71-0.93x all below it); held out, seeds 3 and 4 gave 1.26x and 1.29x
      (slowest 0.88x and 0.99x; seed 3 is ``book/data/benchmark-cpu-misaligned.json``);
    - everything else, which is every dense shape of the grid (HiFi-GAN, WaveNet-style,
      MelGAN, channel-heavy, dilated, unit stride), all with outputs of whole strides: ``aten``,
      torch's own op. On cold caches it is little more than its one matrix multiply (for
      HiFi-GAN's first stage the GEMM alone, ``W^T @ x``, takes 1.6 of torch's 1.7-2.0 ms;
      reading the 8 MB weight from memory takes 0.2 ms of that),
      and no reformulation beat it on any of 30 such shapes: GEMM + overlap-add 0.5-0.9x
      (1.2x once, within noise), oneDNN direct 0.3-1.2x, sub-pixel 0.1-1.0x.
    """
    if dtype not in (torch.float32, torch.bfloat16):
        return "gemm_overlap_add"
    if in_channels == groups:
        return "gemm_overlap_add" if batch * out_channels * length >= 2**14 else "aten"
    multiply_adds = stamp_multiplies(batch, in_channels, out_channels, length, kernel_size, groups)
    if dilation == 1 and kernel_size <= stride:
        if groups > 1 and multiply_adds >= 2**20:
            return "gemm_overlap_add"
        positions = 128 if kernel_size < stride else 512
        if multiply_adds >= 2**22 and batch * length >= positions:
            return "gemm_overlap_add"
    if groups > 1 and dilation == 1 and in_channels // groups <= 8:
        return "subpixel" if multiply_adds >= 2**22 and batch * length >= 1024 else "aten"
    out_length = transposed_length(length, kernel_size, stride, padding, output_padding, dilation)
    if (
        out_length % stride
        and dilation == 1
        and in_channels // groups >= 16
        and multiply_adds >= 2**19
        and torch_runs_onednn(batch, in_channels, length, groups)
    ):
        return "aten_aligned"
    return "aten"


def torch_runs_onednn(batch: int, in_channels: int, length: int, groups: int = 1) -> bool:
    """Whether torch's CPU op hands a float32 shape to oneDNN (on a build with oneDNN
    enabled, the default): its dispatcher's test for 1-d inputs (``use_mkldnn`` in ATen's
    ``Convolution.cpp``, written for images) sends a batch of one with at most 20480 input
    elements and no groups to its own GEMM + col2im path instead."""
    return batch > 1 or groups > 1 or in_channels * length > 20480


#: Calls that passed the argument checks, by signature (:func:`_signature`): the algorithm
#: the rule chose and the checked arguments besides the tensors (no tensor is kept alive).
#: A bounded LRU: past :data:`_CHECKED_SIZE` signatures the least recently used is dropped.
#: See :func:`conv_transpose1d`.
_CHECKED: OrderedDict[tuple, tuple[str, tuple]] = OrderedDict()
_CHECKED_SIZE = 512


def _signature(input, weight, bias, stride, padding, output_padding, groups, dilation) -> tuple:
    """Everything :func:`~convtranspose.arguments.check_conv_transpose1d` and
    :func:`choose_algorithm` read from a call: types (so ``True`` is not ``1``, nor
    ``(1.0,)`` ``(1,)``, though they are equal and hash alike), shapes,
    dtypes, devices and the integer arguments, in one flat tuple (the cheapest to build).
    Two calls with the same signature get the same verdict. Raises ``AttributeError`` for an
    argument that is not a tensor; a list argument makes it unhashable (``TypeError`` when
    looked up): both then take the full checks."""
    return (
        type(input), input.shape, input.dtype, input.device,
        type(weight), weight.shape, weight.dtype, weight.device,
        None if bias is None else (type(bias), bias.shape, bias.dtype, bias.device),
        stride, padding, output_padding, groups, dilation,
        _kind(stride), _kind(padding), _kind(output_padding), _kind(groups), _kind(dilation),
    )  # fmt: skip


def _kind(value: object) -> object:
    """The type of an argument, and of its elements when it is a tuple. A tensor (an
    integer tensor given as ``stride``, say) raises ``TypeError``: it hashes by identity and
    may change in place, so such calls are never remembered."""
    if type(value) is tuple:
        if any(isinstance(v, Tensor) for v in value):
            raise TypeError("tensor arguments are not remembered")
        return (tuple, *map(type, value))
    if isinstance(value, Tensor):
        raise TypeError("tensor arguments are not remembered")
    return type(value)


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
    """The CPU ``conv_transpose1d``: runs the algorithm :func:`choose_algorithm` picks for
    the shape. Same contract as :func:`torch.nn.functional.conv_transpose1d`, differentiable.

    Per-call overhead: the argument checks cost ~5 us per call with warm caches but ~40 us
    when the interpreter's data is cold, as it is for a layer inside a network (chapter 11),
    which is 15-25% of a 0.2 ms problem. A call whose signature (:func:`_signature`) already
    passed the checks therefore skips them and the rule: the same signature can only get the
    same verdict and the same choice, and a call that fails the checks is never remembered,
    so every bad call still raises exactly as before. Calls routed to ``aten`` or
    ``aten_aligned`` go straight to torch's op.
    """
    try:
        key = _signature(input, weight, bias, stride, padding, output_padding, groups, dilation)
        known = _CHECKED.get(key)
    except (AttributeError, TypeError):
        key, known = None, None
    if known is not None:
        _CHECKED.move_to_end(key)
        name, checked = known
        # checked = (stride, padding, output_padding, groups, dilation, C_out, L_out)
        if name == "aten":
            return _torch_op(input, weight, bias, *checked[:5])
        if name == "aten_aligned":
            return _aligned_call(input, weight, bias, *checked[:5], checked[6])
        batched = input.dim() == 3
        x = input if batched else input.unsqueeze(0)
        b = None if bias is None else bias.contiguous()  # as the checks make it
        a = Conv1dArgs(x, weight, b, *checked[:5], batched, *checked[5:])
        return _run_checked(_IMPLEMENTATIONS[name], a)
    a = check_conv_transpose1d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    x = a.input
    name = choose_algorithm(
        x.shape[0], x.shape[1], a.out_channels, x.shape[2], a.kernel_size,
        a.stride, a.groups, a.dilation, x.dtype,
        padding=a.padding, output_padding=a.output_padding,
    )  # fmt: skip
    if key is not None and x.numel() > 0:
        checked = (a.stride, a.padding, a.output_padding, a.groups, a.dilation)
        _CHECKED[key] = (name, (*checked, a.out_channels, a.output_length))
        if len(_CHECKED) > _CHECKED_SIZE:
            _CHECKED.popitem(last=False)  # the least recently used
    return _run_checked(_IMPLEMENTATIONS[name], a)
