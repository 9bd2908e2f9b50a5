"""Convolution as a matrix: the view that gives "transposed convolution" its name.

A ``conv1d`` is linear in its input, so for a fixed weight and fixed arguments it *is*
a matrix ``C`` of shape ``(C_out*L_out, C_in*L_in)``: flatten one sample ``x`` of shape
``(C_in, L_in)`` row by row, and ``C @ x.flatten()`` is the flattened output. This module
builds that matrix, and the matrix of ``conv_transpose1d``, each straight from its own
definition (the gather of :func:`convtranspose.reference.conv1d` and the scatter of
:func:`convtranspose.reference.conv_transpose1d`), so that the tests and chapter 8 can
show that the second is the transpose of the first.

Rows and columns are indexed channel-major: entry ``(co*L_out + t, ci*L_in + i)`` is the
weight with which input sample ``i`` of channel ``ci`` reaches output sample ``t`` of
channel ``co``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .arguments import check_conv1d, check_conv_transpose1d
from .shapes import kernel_span, single

__all__ = [
    "apply_matrix",
    "conv1d_matrix",
    "conv_transpose1d_matrix",
    "matching_output_padding",
]


def _probe_input(weight: Tensor, length: object, channels_dim: int, groups: object) -> Tensor:
    """A zero input of the shape the weight expects, so the shared checks can run.

    The matrix builders take an input *length*, not an input; this makes the input
    :mod:`convtranspose.arguments` validates. When the weight or ``groups`` is malformed
    the channel count is a guess, and the checks then raise their usual error.
    """
    length = single(length, "length")
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    channels = 1
    if isinstance(weight, Tensor) and weight.dim() == 3:
        channels = weight.shape[channels_dim]
        if channels_dim == 1 and isinstance(groups, int) and not isinstance(groups, bool):
            channels *= max(groups, 1)
    dtype = weight.dtype if isinstance(weight, Tensor) else torch.float32
    return torch.zeros(1, channels, length, dtype=dtype)


def conv1d_matrix(
    weight: Tensor,
    length: int,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Tensor:
    """The matrix ``C`` of ``conv1d(x, weight, stride=..., ...)`` for inputs of ``length`` samples.

    ``weight`` is ``conv1d``'s, ``(C_out, C_in/groups, K)``; the result has shape
    ``(C_out*L_out, C_in*length)`` and the weight's dtype. Row ``co*L_out + t`` holds the
    kernel of output channel ``co`` placed under the window of output ``t``: tap ``k``
    reads input ``i = t*stride + k*dilation - padding`` (taps on the zero padding read
    nothing, so they leave no entry). Groups make ``C`` block diagonal.
    """
    a = check_conv1d(
        _probe_input(weight, length, 1, groups), weight, None, stride, padding, dilation, groups
    )
    w = a.weight
    c_out, c_in_g, k_size = w.shape
    c_out_g, c_in = c_out // a.groups, c_in_g * a.groups
    l_in, l_out = a.input.shape[2], a.output_length
    blocks = w.new_zeros(c_out, l_out, c_in, l_in)  # C as (output channel, t, input channel, i)
    for g in range(a.groups):
        outs = slice(g * c_out_g, (g + 1) * c_out_g)  # the group's output channels...
        ins = slice(g * c_in_g, (g + 1) * c_in_g)  # ...see only the group's input channels
        for t in range(l_out):
            for k in range(k_size):
                i = t * a.stride + k * a.dilation - a.padding  # the input under tap k
                if 0 <= i < l_in:
                    blocks[outs, t, ins, i] += w[outs, :, k]
    return blocks.reshape(c_out * l_out, c_in * l_in)


def conv_transpose1d_matrix(
    weight: Tensor,
    length: int,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    output_padding: int | tuple[int] = 0,
    groups: int = 1,
    dilation: int | tuple[int] = 1,
) -> Tensor:
    """The matrix of ``conv_transpose1d(x, weight, ...)`` for inputs of ``length`` samples.

    ``weight`` is ``conv_transpose1d``'s, ``(C_in, C_out/groups, K)``; the result has shape
    ``(C_out*L_out, C_in*length)``. Column ``ci*length + i`` is the stamp input ``i`` of
    channel ``ci`` leaves on the output: tap ``k`` lands on ``t = i*stride + k*dilation -
    padding`` (stamps cropped by ``padding`` leave no entry). Built from the scatter
    definition alone, it equals ``conv1d_matrix(weight, L_out, ...).T`` when the
    arguments correspond: that is the sense in which the operation is "transposed".
    """
    a = check_conv_transpose1d(
        _probe_input(weight, length, 0, groups),
        weight, None, stride, padding, output_padding, groups, dilation,
    )  # fmt: skip
    w = a.weight
    c_in, c_out_g, k_size = w.shape
    c_in_g, l_in, l_out = c_in // a.groups, a.input.shape[2], a.output_length
    blocks = w.new_zeros(a.out_channels, l_out, c_in, l_in)
    for g in range(a.groups):
        ins = slice(g * c_in_g, (g + 1) * c_in_g)  # the group's input channels...
        outs = slice(g * c_out_g, (g + 1) * c_out_g)  # ...stamp only the group's outputs
        for i in range(l_in):
            for k in range(k_size):
                t = i * a.stride + k * a.dilation - a.padding  # where tap k of the stamp lands
                if 0 <= t < l_out:
                    blocks[outs, t, ins, i] += w[ins, :, k].T
    return blocks.reshape(a.out_channels * l_out, c_in * l_in)


def apply_matrix(matrix: Tensor, input: Tensor, channels: int) -> Tensor:
    """Apply a convolution's matrix to ``input`` (``(C_in, L_in)`` or ``(N, C_in, L_in)``).

    Flattens each sample, multiplies, and reshapes the product to ``(..., channels, L_out)``,
    so the result can be compared with the convolution itself.
    """
    flat = input.reshape(*input.shape[:-2], -1)
    out = flat @ matrix.T
    return out.reshape(*input.shape[:-2], channels, -1)


def matching_output_padding(
    length: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """The ``output_padding`` that makes ``conv_transpose1d`` return ``conv1d``'s input length.

    ``conv1d`` maps ``length`` samples to ``L_out = (length + 2*padding - dilation*(K-1) - 1)
    // stride + 1``; the floor forgets the remainder, which is exactly what
    ``output_padding`` gives back. With it, the transposed convolution's matrix has the shape
    of ``C.T``.
    """
    return (length + 2 * padding - kernel_span(kernel_size, dilation)) % stride
