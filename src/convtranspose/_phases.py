"""Which taps reach which output phase (plain Python, shared by the CPU and Triton routes).

Output position ``t`` is written as ``t + padding = q*stride + r``: ``r`` is its *phase*.
Tap ``k`` reaches phase ``r`` exactly when ``k*dilation % stride == r``, from input
``i = q - k*dilation // stride``.
"""

from __future__ import annotations

import math


def tap_step(stride: int, dilation: int) -> int:
    """``k*dilation % stride`` repeats every ``stride // gcd(stride, dilation)`` taps: the
    distance between two taps of the same phase."""
    return stride // math.gcd(stride, dilation)


def phase_taps(kernel_size: int, stride: int, dilation: int, phase: int) -> list[int]:
    """The taps ``k`` that land on phase ``phase``: ``k*dilation % stride == phase``."""
    return [k for k in range(kernel_size) if k * dilation % stride == phase]
