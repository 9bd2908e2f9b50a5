"""Coverage: how many kernel taps reach each output sample, and why that makes checkerboards.

Every input sample of a transposed convolution stamps ``K`` taps onto the output,
``stride`` apart from the previous stamp. When ``K`` is not a multiple of ``stride``,
neighbouring outputs receive different numbers of taps, so even a perfectly smooth input
comes out with a periodic ripple: the checkerboard artifact of Odena et al. (2016).
This module counts the taps (straight from the matrix of :mod:`convtranspose.matrix`),
measures the ripple, and implements the usual remedy, resize-convolution
(upsample by repetition, then an ordinary convolution).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .matrix import conv_transpose1d_matrix
from .shapes import checked_sizes, phase_taps, single

__all__ = [
    "coverage",
    "period_coverage",
    "resize_convolution",
    "roughness",
    "unevenness",
]


def coverage(
    length: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> list[int]:
    """How many (input sample, kernel tap) pairs land on each output sample.

    The count of nonzero entries in each row of the transposed convolution's matrix,
    for one channel and an all-ones kernel: output ``t`` receives one contribution per
    pair ``(i, k)`` with ``i*stride + k*dilation - padding == t``.
    """
    ones = torch.ones(1, 1, single(kernel_size, "kernel_size"), dtype=torch.float64)
    matrix = conv_transpose1d_matrix(ones, length, stride, padding, output_padding, 1, dilation)
    return [int(n) for n in matrix.sum(dim=1).tolist()]


def period_coverage(kernel_size: int, stride: int, dilation: int = 1) -> list[int]:
    """The coverage away from the ends, one period long: entry ``r`` is for outputs ``t ≡ r``.

    Far from the ends every input position is present, so output ``t`` (before cropping)
    receives one contribution from each tap ``k`` with ``k*dilation ≡ t (mod stride)``.
    The counts are equal for every phase exactly when the taps fall evenly on the
    ``stride`` phases, e.g. when ``dilation == 1`` and ``stride`` divides ``kernel_size``.
    """
    v = checked_sizes(kernel_size=kernel_size, stride=stride, dilation=dilation)
    return [len(taps) for taps in phase_taps(v["kernel_size"], v["stride"], 0, v["dilation"])]


def unevenness(kernel_size: int, stride: int, dilation: int = 1) -> float:
    """``max / min`` of :func:`period_coverage`: 1.0 means even, ``inf`` means gaps (zeros)."""
    counts = period_coverage(kernel_size, stride, dilation)
    return math.inf if min(counts) == 0 else max(counts) / min(counts)


def roughness(signal: Tensor, trim: int = 0) -> float:
    """How far a 1-d signal is from smooth: ``mean |second difference| / mean |signal|``.

    A slowly varying signal has a tiny second difference; a checkerboard ripple of
    amplitude ``a`` adds about ``4a`` to every second difference, so this number separates
    the two. ``trim`` samples are dropped at each end first, to leave out the ends where
    fewer stamps overlap for a reason that has nothing to do with the ripple.
    """
    if signal.dim() != 1:
        raise ValueError(f"signal must be 1-dimensional, got shape {list(signal.shape)}")
    if trim < 0 or signal.shape[0] - 2 * trim < 3:
        raise ValueError(
            f"trim={trim} must be >= 0 and leave at least 3 samples of {signal.shape[0]}"
        )
    middle = signal[trim : signal.shape[0] - trim].double()
    second = middle[2:] - 2 * middle[1:-1] + middle[:-2]
    return (second.abs().mean() / middle.abs().mean()).item()


def resize_convolution(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    scale: int = 2,
    padding: int | tuple[int] = 0,
) -> Tensor:
    """The remedy of Odena et al.: repeat every sample ``scale`` times, then ``conv1d``.

    Nearest-neighbour upsampling spreads each input evenly, and a stride-1 convolution
    gives every output the same ``K`` taps, so nothing is uneven: a constant input gives a
    constant output whatever the kernel. ``weight`` is ``conv1d``'s ``(C_out, C_in, K)``.
    """
    scale = single(scale, "scale")
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    upsampled = input.repeat_interleave(scale, dim=-1)
    return F.conv1d(upsampled, weight, bias, padding=padding)
