"""The frequency view of a transposed convolution (chapter 15).

A transposed convolution with stride ``s`` is zero insertion followed by a filter: putting
``s - 1`` zeros between samples squeezes the input's spectrum ``s`` times, which leaves
``s - 1`` *spectral images* of it at ``2*pi*j/s`` (``j = 1 .. s-1``), and the kernel is the
filter that must remove them. A constant input has all its energy at frequency 0, so its
images sit exactly at ``2*pi*j/s``: the output is constant exactly when the kernel's
frequency response vanishes there, which is the same statement as chapter 10's equal phase
sums (the response at ``2*pi*j/s`` is the discrete Fourier transform of the phase sums).

This module computes the response, that condition, the interpolation kernels that satisfy
it (nearest, linear, cubic), the transposed kernel of resize-then-convolve, and the ICNR
initialisation of sub-pixel layers (Aitken et al., 2017).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .shapes import checked_sizes, phase_taps, stamp_span

__all__ = [
    "checkerboard_free",
    "dilated",
    "frequency_response",
    "icnr_",
    "image_frequencies",
    "image_response",
    "insert_zeros",
    "interpolation_kernel",
    "phase_sums",
    "pixel_shuffle1d",
    "resize_kernel",
]

INTERPOLATIONS = ("nearest", "linear", "cubic")


def _taps(kernel: Tensor | list[float]) -> Tensor:
    """A 1-d float64 tensor of kernel taps from a list or a ``(..., K)`` tensor of one kernel."""
    taps = torch.as_tensor(kernel, dtype=torch.float64)
    if any(size != 1 for size in taps.shape[:-1]):
        raise ValueError(
            f"kernel must be one kernel, (K,) or (1, 1, K), got shape {list(taps.shape)}"
        )
    taps = taps.reshape(-1)
    if taps.numel() == 0:
        raise ValueError("kernel must hold at least one tap")
    return taps


def insert_zeros(input: Tensor, stride: int) -> Tensor:
    """``stride - 1`` zeros between neighbouring samples along the last axis: the first step
    of a transposed convolution, whose length is the stamp span of one-tap stamps."""
    stride = checked_sizes(stride=stride)["stride"]
    spread = input.new_zeros(*input.shape[:-1], stamp_span(input.shape[-1], 1, stride))
    spread[..., ::stride] = input
    return spread


def dilated(kernel: Tensor | list[float], dilation: int = 1) -> Tensor:
    """The kernel with ``dilation - 1`` zeros between its taps (what the output sees)."""
    return insert_zeros(_taps(kernel), checked_sizes(dilation=dilation)["dilation"])


def frequency_response(kernel: Tensor | list[float], n: int = 512) -> tuple[Tensor, Tensor]:
    """``(omega, W)``: the kernel's response ``W(omega) = sum_k w[k] exp(-i omega k)`` at the
    ``n`` frequencies ``omega = 2*pi*m/n`` in ``[0, 2*pi)``, by ``torch.fft.fft``."""
    taps = _taps(kernel)
    if n < taps.numel():
        raise ValueError(f"n must be >= the kernel size {taps.numel()}, got {n}")
    omega = 2 * math.pi * torch.arange(n, dtype=torch.float64) / n
    return omega, torch.fft.fft(taps, n)


def image_frequencies(stride: int) -> list[float]:
    """Where zero insertion puts the images of frequency 0: ``2*pi*j/stride``, ``j = 1..s-1``."""
    stride = checked_sizes(stride=stride)["stride"]
    return [2 * math.pi * j / stride for j in range(1, stride)]


def image_response(kernel: Tensor | list[float], stride: int, dilation: int = 1) -> Tensor:
    """The (dilated) kernel's complex response at :func:`image_frequencies`, read off an FFT
    whose length is a multiple of ``stride`` so that those frequencies are exact bins."""
    taps = dilated(kernel, dilation)
    stride = checked_sizes(stride=stride)["stride"]
    bins = -(-taps.numel() // stride)  # FFT length stride * bins >= the kernel's length
    _, response = frequency_response(taps, stride * bins)
    return response[bins::bins][: stride - 1]


def phase_sums(kernel: Tensor | list[float], stride: int, dilation: int = 1) -> list[float]:
    """Chapter 10's phase sums: the sum of the taps each output phase receives (no padding)."""
    taps = _taps(kernel)
    phases = phase_taps(taps.numel(), checked_sizes(stride=stride)["stride"], 0, dilation)
    return [float(taps[p].sum()) if p else 0.0 for p in phases]


def checkerboard_free(
    kernel: Tensor | list[float], stride: int, dilation: int = 1, tolerance: float = 1e-9
) -> bool:
    """Whether a constant input gives a constant output away from the ends: the response
    vanishes at every image frequency (relative to the sum of the taps' sizes)."""
    scale = float(_taps(kernel).abs().sum()) or 1.0
    return bool((image_response(kernel, stride, dilation).abs() <= tolerance * scale).all())


def _keys_cubic(x: Tensor, a: float) -> Tensor:
    """Keys' cubic convolution kernel; torch's bicubic interpolation uses ``a = -0.75``."""
    x = x.abs()
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return torch.where(x <= 1, near, torch.where(x < 2, far, torch.zeros_like(x)))


def interpolation_kernel(mode: str, stride: int, a: float = -0.75) -> tuple[Tensor, int]:
    """``(kernel, padding)`` of the transposed convolution with ``stride`` that interpolates:

    - ``"nearest"``: ``stride`` ones, padding 0: every sample repeated ``stride`` times;
    - ``"linear"``: the triangle of ``2*stride - 1`` taps, padding ``stride - 1``: output
      ``i*stride`` is input ``i`` and the samples between lie on the line (``align_corners``);
    - ``"cubic"``: Keys' cubic with parameter ``a`` sampled every ``1/stride``, ``4*stride - 1``
      taps, padding ``2*stride - 1``.

    The linear kernel is the "bilinear initialisation" of upsampling layers, per axis.
    The kernel is float64 and shaped ``(1, 1, K)``.
    """
    stride = checked_sizes(stride=stride)["stride"]
    if mode not in INTERPOLATIONS:
        raise ValueError(f"mode must be one of {INTERPOLATIONS}, got {mode!r}")
    if mode == "nearest":
        return torch.ones(1, 1, stride, dtype=torch.float64), 0
    reach = 1 if mode == "linear" else 2  # the kernel is nonzero within `reach` input samples
    x = torch.arange(-reach * stride + 1, reach * stride, dtype=torch.float64) / stride
    taps = (1 - x.abs()) if mode == "linear" else _keys_cubic(x, a)
    return taps.reshape(1, 1, -1), reach * stride - 1


def resize_kernel(weight: Tensor, stride: int, padding: int = 0) -> tuple[Tensor, int]:
    """``(kernel, padding)`` of the transposed convolution that equals nearest-neighbour
    upsampling by ``stride`` followed by ``conv1d(weight, padding=padding)``.

    ``weight`` is ``conv1d``'s ``(C_out, C_in, K)``; the kernel is ``(C_in, C_out, K + s - 1)``:
    the flipped weight convolved with ``stride`` ones, which is why its response always
    vanishes at the image frequencies (the ones' response does). Its padding is
    ``K - 1 - padding``, so ``padding`` may not exceed ``K - 1``.
    """
    stride = checked_sizes(stride=stride)["stride"]
    if weight.dim() != 3:
        raise ValueError(f"weight must be (C_out, C_in, K), got shape {list(weight.shape)}")
    size = weight.shape[-1]
    if not 0 <= padding <= size - 1:
        raise ValueError(
            f"padding must be between 0 and kernel_size - 1 = {size - 1}, got {padding}"
        )
    flipped = weight.flip(-1).transpose(0, 1)
    kernel = sum(F.pad(flipped, (r, stride - 1 - r)) for r in range(stride))
    return kernel, size - 1 - padding


def pixel_shuffle1d(input: Tensor, stride: int) -> Tensor:
    """``(N, C*s, L) -> (N, C, L*s)``: channel ``c*s + r`` becomes output phase ``r`` of channel
    ``c``, the 1-d ``PixelShuffle`` that follows a sub-pixel convolution (Shi et al., 2016)."""
    stride = checked_sizes(stride=stride)["stride"]
    n, channels, length = input.shape
    if channels % stride:
        raise ValueError(f"channels ({channels}) must be a multiple of stride ({stride})")
    out = input.reshape(n, channels // stride, stride, length).transpose(2, 3)
    return out.reshape(n, channels // stride, length * stride)


def icnr_(
    weight: Tensor, stride: int, init: Callable[[Tensor], object] = torch.nn.init.kaiming_normal_
) -> Tensor:
    """ICNR (Aitken et al., 2017), in place: initialise ``C_out`` of the sub-pixel weight's
    ``C_out * stride`` output channels with ``init`` and copy each to its ``stride`` phases,
    so that at initialisation the layer followed by :func:`pixel_shuffle1d` is
    nearest-neighbour upsampling of one convolution: no checkerboard to unlearn."""
    stride = checked_sizes(stride=stride)["stride"]
    if weight.shape[0] % stride:
        raise ValueError(
            f"weight's output channels ({weight.shape[0]}) must be a multiple of stride"
        )
    base = weight.new_empty(weight.shape[0] // stride, *weight.shape[1:])
    init(base)
    with torch.no_grad():
        weight.copy_(base.repeat_interleave(stride, dim=0))
    return weight
