"""The reformulations of chapter 9, on validated arguments (batched input): scatter, zero
insertion, GEMM + overlap-add, polyphase and sub-pixel convolution, each a function of a
:class:`~convtranspose.arguments.Conv1dArgs` that returns the batched output.

They multiply only what the definition multiplies, or zeros: inserted between input samples,
padded at the ends, or where a sub-pixel phase has fewer taps. A zero times a finite value
adds nothing; times ``inf`` or ``nan`` it is ``nan``, which the definition does not have,
so the routes that multiply zeros compute only the definition's terms
(:func:`_gemm_overlap_add`) when the value they would multiply a zero by is not finite.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ..arguments import Conv1dArgs
from ..shapes import kernel_span, phase_taps, rows_of, stamp_span, subpixel_rows, tap_step
from .torch_calls import _conv1d


def _uncropped(a: Conv1dArgs) -> int:
    """Length of the uncropped output (:func:`~convtranspose.shapes.stamp_span`)."""
    return stamp_span(a.input.shape[2], a.kernel_size, a.stride, a.dilation)


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
    full = a.input.new_zeros(n, a.out_channels, _uncropped(a))
    full = full.index_add(2, where, products)
    return _finish(full, a)


def _zero_insertion(a: Conv1dArgs) -> Tensor:
    if not _weight_finite(a):  # an inserted zero times inf would be nan: real terms only
        return _gemm_overlap_add(a)
    x, s = a.input, a.stride
    n, c_in, length = x.shape
    if s > 1:  # stride - 1 zeros between neighbouring samples
        spread = x.new_zeros(n, c_in, stamp_span(length, 1, s))
        spread[..., ::s] = x
    else:
        spread = x
    # A full convolution pads dilation*(K-1) on both sides; padding crops that much back
    # (a negative pad crops the input), output_padding adds zeros at the end.
    edge = a.dilation * (a.kernel_size - 1) - a.padding
    spread = F.pad(spread, (edge, edge + a.output_padding))
    weight = _conv1d_weight(a.weight, a.groups)
    return _conv1d(spread, weight, a.bias, 0, a.dilation, a.groups)


def _polyphase(a: Conv1dArgs) -> Tensor:
    if not _weight_finite(a):  # a padded zero times inf would be nan: real terms only
        return _gemm_overlap_add(a)
    x, s = a.input, a.stride
    n = x.shape[0]
    rows = rows_of(max(_uncropped(a), a.padding + a.output_length), s)
    full = x.new_zeros(n, a.out_channels, rows, s)  # full[..., q, r] is position q*s + r
    hop = a.dilation // math.gcd(s, a.dilation)  # output phase-samples between a phase's taps
    step = tap_step(s, a.dilation)  # the taps of one phase: first, first + step, ...
    for phase, taps_of_phase in enumerate(phase_taps(a.kernel_size, s, 0, a.dilation)):
        if not taps_of_phase:
            continue
        first = taps_of_phase[0]
        offset = first * a.dilation // s  # the row its first tap lands on
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
    rows = subpixel_rows(k_size, s, d)
    if d == 1:
        grid = F.pad(w, (0, rows * s - k_size))
    else:
        grid = w.new_zeros(c_in, c_out_g, rows * s)
        grid[..., : kernel_span(k_size, d) : d] = w
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
    extra = max(0, rows_of(a.padding + a.output_length, s) - total)
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
    torch's element-wise loops handle poorly), and one strided copy interleaves the phases.
    Tap ``k`` of input ``i`` lands at ``i*stride + k*dilation - padding``: row
    ``i + j``, phase ``r``, with ``j, r = divmod(k*dilation - padding, stride)``."""
    x, w, s, d, p = a.input, a.weight, a.stride, a.dilation, a.padding
    n, g, length = x.shape
    _, c_out_g, k_size = w.shape
    rows = rows_of(a.output_length, s)
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
    rows = rows_of(max(_uncropped(a), a.padding + a.output_length), s)
    full = x.new_zeros(n, a.out_channels, rows, s)  # full[..., q, r] is position q*s + r
    if d == 1:
        # Taps j*s .. j*s + s - 1 of stamp i land, contiguous, on row i + j.
        for j in range(rows_of(k_size, s)):
            width = min(s, k_size - j * s)
            full[:, :, j : j + length, :width] += stamps[..., j * s : j * s + width]
    else:
        for k in range(k_size):
            row, phase = divmod(k * d, s)
            full[:, :, row : row + length, phase] += stamps[..., k]
    return _finish(full.reshape(n, a.out_channels, rows * s), a)
