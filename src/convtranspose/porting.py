"""Porting transposed convolutions from Keras/TensorFlow and JAX to torch (chapter 14).

Neither library is needed: each one's documented semantics is re-implemented here in a few
lines of torch, channels first, one spatial axis:

- :func:`keras_conv_transpose1d`: Keras's ``Conv1DTranspose`` (and ``tf.nn.conv_transpose``)
  computes the *gradient* of a strided ``conv1d`` whose input has the length of
  :func:`keras_output_length`, padded the TensorFlow way: ``"valid"`` no padding,
  ``"same"`` a total of ``max(k - s, 0)`` (``k`` the dilated kernel size) with the odd one
  at the end. Its kernel is ``(K, C_out, C_in)``.
- :func:`jax_conv_transpose1d`: ``jax.lax.conv_transpose`` is a fractionally strided
  convolution: zeros inserted between the input samples (``lhs_dilation = strides``), the
  padding ``(low, high)`` of :func:`jax_padding` added, then a plain cross-correlation with the
  kernel, which is ``(K, C_in, C_out)`` (``"HIO"``) and *not* flipped unless
  ``transpose_kernel=True`` (which flips it and swaps its channel axes, taking Keras's layout).

:func:`from_keras` and :func:`from_jax` are the ports: the torch ``conv_transpose1d`` call
(weight, padding, output_padding, and a crop where no ``output_padding`` can express it) that
computes the same thing. The tests check every port against its re-implementation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .lengths import effective_kernel_size

__all__ = [
    "from_jax",
    "from_keras",
    "jax_conv_transpose1d",
    "jax_padding",
    "keras_conv_transpose1d",
    "keras_output_length",
]


def _mode(padding: str, name: str = "padding") -> str:
    if not isinstance(padding, str) or padding.lower() not in ("same", "valid"):
        raise ValueError(f"{name} must be 'same' or 'valid', got {padding!r}")
    return padding.lower()


def keras_output_length(
    length: int, kernel_size: int, stride: int, padding: str, dilation: int = 1
) -> int:
    """Keras's output length of a transposed convolution with ``output_padding=None``:
    ``length*stride`` for ``"same"``, ``length*stride + max(k - stride, 0)`` for ``"valid"``
    (``k`` the dilated kernel size)."""
    k = effective_kernel_size(kernel_size, dilation)
    extra = 0 if _mode(padding) == "same" else max(k - stride, 0)
    return length * stride + extra


def keras_conv_transpose1d(
    x: Tensor, kernel: Tensor, stride: int, padding: str, dilation: int = 1
) -> Tensor:
    """Keras/TensorFlow's transposed convolution, re-implemented from its definition: the
    gradient with respect to its input of the strided ``conv1d`` that maps
    :func:`keras_output_length` samples to ``x``'s length, with TensorFlow's padding.
    ``x`` is ``(N, C_in, L)``; ``kernel`` is Keras's ``(K, C_out, C_in)``."""
    n, _, length = x.shape
    k_size, c_out, _ = kernel.shape
    k = effective_kernel_size(k_size, dilation)
    size = keras_output_length(length, k_size, stride, padding, dilation)
    # TensorFlow's padding of the forward conv1d: (ceil(size/s) - 1)*s + k - size in total,
    # the odd one after; "valid" pads nothing.
    total = max((-(-size // stride) - 1) * stride + k - size, 0) if _mode(padding) == "same" else 0
    before = total // 2
    conv_weight = kernel.permute(2, 1, 0)  # the forward conv1d: C_out -> C_in, (C_in, C_out, K)
    signal = torch.zeros(n, c_out, size, dtype=x.dtype, requires_grad=True)
    padded = F.pad(signal, (before, total - before))
    y = F.conv1d(padded, conv_weight, stride=stride, dilation=dilation)
    (gradient,) = torch.autograd.grad(y, signal, x)
    return gradient


def jax_padding(kernel_size: int, stride: int, padding: str, dilation: int = 1) -> tuple[int, int]:
    """The ``(low, high)`` padding ``jax.lax.conv_transpose`` adds to the zero-inserted input
    for ``"SAME"`` and ``"VALID"`` (``k`` the dilated kernel size): for ``"SAME"``
    ``k + s - 2`` in total, ``k - 1`` of it before when ``s > k - 1`` and otherwise half,
    rounded up; for ``"VALID"`` ``k + s - 2 + max(k - s, 0)``, ``k - 1`` before."""
    k = effective_kernel_size(kernel_size, dilation)
    if _mode(padding) == "same":
        total = k + stride - 2
        low = k - 1 if stride > k - 1 else -(-total // 2)
    else:
        total = k + stride - 2 + max(k - stride, 0)
        low = k - 1
    return low, total - low


def jax_conv_transpose1d(
    x: Tensor,
    kernel: Tensor,
    stride: int,
    padding: str | tuple[int, int],
    dilation: int = 1,
    transpose_kernel: bool = False,
) -> Tensor:
    """``jax.lax.conv_transpose``, re-implemented from its definition (channels first): insert
    ``stride - 1`` zeros between samples, pad by ``padding`` (``"SAME"``, ``"VALID"`` or
    ``(low, high)``), cross-correlate with ``kernel``, whose taps are ``dilation`` apart.
    ``kernel`` is JAX's ``(K, C_in, C_out)``; with ``transpose_kernel=True`` it is flipped and
    its channel axes swapped first, so it is given as ``(K, C_out, C_in)``."""
    if transpose_kernel:
        kernel = kernel.flip(0).transpose(1, 2)
    n, c_in, length = x.shape
    low, high = (
        jax_padding(kernel.shape[0], stride, padding, dilation)
        if isinstance(padding, str)
        else padding
    )
    dilated = torch.zeros(n, c_in, (length - 1) * stride + 1, dtype=x.dtype)
    dilated[..., ::stride] = x
    padded = F.pad(dilated, (low, high))  # negative padding crops, as in lax
    return F.conv1d(padded, kernel.permute(2, 1, 0), dilation=dilation)


def _as_torch_call(
    x: Tensor, weight: Tensor, stride: int, dilation: int, start: int, length: int
) -> Tensor:
    """``conv_transpose1d``'s full result from position ``start`` on, ``length`` samples
    (zeros before its first and past its last sample), in one torch call where ``padding``
    and ``output_padding`` can say it, else the full result cropped."""
    full = (x.shape[-1] - 1) * stride + effective_kernel_size(weight.shape[-1], dilation)
    extra = length - (full - 2 * start)  # what output_padding would have to add back
    if start >= 0 and 0 <= extra < max(stride, dilation):
        return F.conv_transpose1d(
            x, weight, stride=stride, padding=start, output_padding=extra, dilation=dilation
        )
    out = F.conv_transpose1d(x, weight, stride=stride, dilation=dilation)
    out = F.pad(out, (max(-start, 0), max(start + length - full, 0)))
    return out[..., max(start, 0) : max(start, 0) + length]


def from_keras(x: Tensor, kernel: Tensor, stride: int, padding: str, dilation: int = 1) -> Tensor:
    """Keras's ``Conv1DTranspose(padding=...)`` (``output_padding=None``) in torch: the weight
    is the kernel ``(K, C_out, C_in)`` permuted to ``(C_in, C_out, K)``, not flipped; the crop
    at the start is ``max(k - s, 0) // 2`` for ``"same"`` and 0 for ``"valid"``. Where ``k - s``
    is odd (``"same"``), the odd sample is cropped at the end, which ``padding`` and
    ``output_padding`` cannot express: the full result is cropped instead."""
    k = effective_kernel_size(kernel.shape[0], dilation)
    start = max(k - stride, 0) // 2 if _mode(padding) == "same" else 0
    length = keras_output_length(x.shape[-1], kernel.shape[0], stride, padding, dilation)
    return _as_torch_call(x, kernel.permute(2, 1, 0), stride, dilation, start, length)


def from_jax(
    x: Tensor,
    kernel: Tensor,
    stride: int,
    padding: str | tuple[int, int],
    dilation: int = 1,
    transpose_kernel: bool = False,
) -> Tensor:
    """``jax.lax.conv_transpose`` in torch: the weight is JAX's ``(K, C_in, C_out)`` kernel
    permuted to ``(C_in, C_out, K)`` and flipped (not flipped with ``transpose_kernel=True``,
    whose ``(K, C_out, C_in)`` kernel is permuted to ``(C_in, C_out, K)``); torch's padding is
    ``k - 1 - low`` and its output_padding ``high - low``, or a crop where those are out of
    torch's range."""
    k_size = kernel.shape[0]
    k = effective_kernel_size(k_size, dilation)
    low, high = (
        jax_padding(k_size, stride, padding, dilation) if isinstance(padding, str) else padding
    )
    weight = kernel.permute(2, 1, 0) if transpose_kernel else kernel.flip(0).permute(1, 2, 0)
    length = (x.shape[-1] - 1) * stride + 1 + low + high - k + 1
    return _as_torch_call(x, weight, stride, dilation, k - 1 - low, length)
