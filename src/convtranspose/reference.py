"""The definitions, as plain loops.

These are slow on purpose: every output element is built the way the book
describes it, so a reader can follow (and check by hand) exactly what
``conv1d`` and ``conv_transpose1d`` compute. The fast implementations are
tested against torch, and this module is tested against torch too, so the
book's prose, this code and torch all say the same thing.

Both functions are differentiable (autograd records the loop's operations).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .arguments import check_conv1d, check_conv_transpose1d

__all__ = ["conv1d", "conv_transpose1d"]


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """Ordinary (cross-correlation) 1-d convolution: the *gather* definition.

    Output ``t`` of output channel ``co`` is a dot product of the kernel with the
    window of the (zero-padded) input that starts at ``t*stride``::

        out[n, co, t] = bias[co] + sum_{ci in group(co), k} weight[co, ci, k] * x[n, ci, t*stride + k*dilation - padding]

    Same signature and semantics as :func:`torch.nn.functional.conv1d`.
    """
    a = check_conv1d(input, weight, bias, stride, padding, dilation, groups)
    x, w = a.input, a.weight
    n_batch, _, length = x.shape
    c_out, c_in_per_group, k_size = w.shape
    c_out_per_group = c_out // a.groups
    out = torch.zeros(n_batch, c_out, a.output_length, dtype=x.dtype, device=x.device)
    for n in range(n_batch):
        for co in range(c_out):
            group = co // c_out_per_group
            ins = slice(group * c_in_per_group, (group + 1) * c_in_per_group)  # channels co sees
            for t in range(a.output_length):
                for k in range(k_size):
                    i = t * a.stride + k * a.dilation - a.padding  # the input tap under k
                    if 0 <= i < length:  # outside the input is zero padding
                        out[n, co, t] += (w[co, :, k] * x[n, ins, i]).sum()
    if a.bias is not None:
        out = out + a.bias[:, None]
    return a.restore(out)


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
    """Transposed 1-d convolution: the *scatter* definition.

    Every input element ``x[n, ci, i]`` stamps a copy of its kernel row
    ``weight[ci, :, :]``, scaled by the element, onto the output starting at
    position ``i*stride`` (the taps spaced ``dilation`` apart); overlapping
    stamps add up. ``padding`` then crops that many positions from each end of
    the full result, and ``output_padding`` keeps that many extra positions at
    the end::

        full[n, co, i*stride + k*dilation] += x[n, ci, i] * weight[ci, co - group_start, k]
        out = full[..., padding : padding + L_out]

    Same signature and semantics as :func:`torch.nn.functional.conv_transpose1d`.
    """
    a = check_conv_transpose1d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    x, w = a.input, a.weight
    n_batch, c_in, length = x.shape
    _, c_out_per_group, k_size = w.shape
    c_in_per_group = c_in // a.groups
    out = torch.zeros(n_batch, a.out_channels, a.output_length, dtype=x.dtype, device=x.device)
    for n in range(n_batch):
        for ci in range(c_in):
            group = ci // c_in_per_group
            outs = slice(
                group * c_out_per_group, (group + 1) * c_out_per_group
            )  # its group's outputs
            for i in range(length):
                for k in range(k_size):
                    # Where tap k of the stamp of x[n, ci, i] lands, after cropping `padding`.
                    t = i * a.stride + k * a.dilation - a.padding
                    if 0 <= t < a.output_length:  # cropped away otherwise
                        out[n, outs, t] += x[n, ci, i] * w[ci, :, k]
    if a.bias is not None:
        out = out + a.bias[:, None]
    return a.restore(out)


# --- Part V: the 2-d transposed convolution (chapter 13) ------------------------------------

from .arguments2d import check_conv_transpose2d  # noqa: E402

__all__ += ["conv_transpose2d"]


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
) -> Tensor:
    """Transposed 2-d convolution: the scatter definition, one axis at a time in each index.

    Every input pixel ``x[n, ci, i, j]`` stamps its kernel ``weight[ci, :, :, :]``, scaled
    by the pixel, onto the output with its corner at ``(i*stride_h, j*stride_w)`` (taps
    ``dilation`` apart on each axis); overlapping stamps add up; ``padding`` crops each
    axis at both ends and ``output_padding`` keeps that many more rows (columns) at the
    bottom (right)::

        full[n, co, i*s_h + kh*d_h, j*s_w + kw*d_w] += x[n, ci, i, j] * weight[ci, co - group_start, kh, kw]
        out = full[..., p_h : p_h + H_out, p_w : p_w + W_out]

    Every rule is the 1-d rule applied to each axis. Same signature and semantics as
    :func:`torch.nn.functional.conv_transpose2d`: each of ``stride``, ``padding``,
    ``output_padding``, ``dilation`` an int or a ``(height, width)`` pair.
    """
    a = check_conv_transpose2d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    x, w = a.input, a.weight
    n_batch, c_in, height, width = x.shape
    _, c_out_per_group, k_h, k_w = w.shape
    c_in_per_group = c_in // a.groups
    (s_h, s_w), (p_h, p_w), (d_h, d_w) = a.stride, a.padding, a.dilation
    h_out, w_out = a.output_size
    out = torch.zeros(n_batch, a.out_channels, h_out, w_out, dtype=x.dtype, device=x.device)
    for n in range(n_batch):
        for ci in range(c_in):
            group = ci // c_in_per_group
            outs = slice(group * c_out_per_group, (group + 1) * c_out_per_group)
            for i in range(height):
                for j in range(width):
                    for kh in range(k_h):
                        t = i * s_h + kh * d_h - p_h  # the output row of tap row kh
                        if not 0 <= t < h_out:  # cropped away
                            continue
                        for kw in range(k_w):
                            u = j * s_w + kw * d_w - p_w  # the output column of tap kw
                            if 0 <= u < w_out:
                                out[n, outs, t, u] += x[n, ci, i, j] * w[ci, :, kh, kw]
    if a.bias is not None:
        out = out + a.bias[:, None, None]
    return a.restore(out)
