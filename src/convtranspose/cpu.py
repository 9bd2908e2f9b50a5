"""Vectorised CPU implementations of ``conv_transpose1d``, built from torch tensor ops.

This first version holds one algorithm, GEMM followed by overlap-add: one
batched matrix multiply computes every (input element x kernel tap) product at
once, then ``K`` strided additions put the taps where they land. Faster
algorithms and a rule that picks between them are added later; every algorithm
keeps the contract of :func:`torch.nn.functional.conv_transpose1d`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .arguments import Conv1dArgs, check_conv_transpose1d

__all__ = ["ALGORITHMS", "conv_transpose1d", "gemm_overlap_add"]


def _gemm_overlap_add(a: Conv1dArgs) -> Tensor:
    x, w, g = a.input, a.weight, a.groups
    n, c_in, length = x.shape
    _, c_out_g, k_size = w.shape
    # products[n, g, o, k, i] = sum_c x[n, g, c, i] * w[g, c, o, k]: one GEMM per group.
    products = torch.einsum(
        "ngcl,gcok->ngokl",
        x.reshape(n, g, c_in // g, length),
        w.reshape(g, c_in // g, c_out_g, k_size),
    )
    # The full, uncropped output has room for every tap of every stamp (and output_padding).
    full_length = a.output_length + 2 * a.padding
    full = x.new_zeros(n, g, c_out_g, full_length)
    span = (length - 1) * a.stride + 1  # positions covered by one tap's strided row
    for k in range(k_size):
        start = k * a.dilation  # tap k of input i lands at i*stride + k*dilation
        full[..., start : start + span : a.stride] += products[:, :, :, k, :]
    out = full[..., a.padding : a.padding + a.output_length].reshape(
        n, a.out_channels, a.output_length
    )
    if a.bias is not None:
        out = out + a.bias[:, None]
    return out


def gemm_overlap_add(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    output_padding: int | tuple[int] = 0,
    groups: int = 1,
    dilation: int | tuple[int] = 1,
) -> Tensor:
    """GEMM + overlap-add (col2im): multiply every input element by every tap, then add the
    products into place. Same contract as :func:`torch.nn.functional.conv_transpose1d`."""
    a = check_conv_transpose1d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    return a.restore(_gemm_overlap_add(a))


#: Every CPU algorithm by name; the shared test suite checks each one against torch.
ALGORITHMS = {"gemm_overlap_add": gemm_overlap_add}


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
    """The CPU ``conv_transpose1d``: same contract as
    :func:`torch.nn.functional.conv_transpose1d`, differentiable."""
    return gemm_overlap_add(input, weight, bias, stride, padding, output_padding, groups, dilation)
