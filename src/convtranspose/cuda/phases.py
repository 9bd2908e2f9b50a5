"""How the per-phase Triton forward kernel splits the output among its programs (plain Python).

Shared by the launcher in :mod:`convtranspose.cuda.launch` and the figure in
``convtranspose.diagrams.kernel``, so the figure shows the grid the kernel really uses.
It imports nothing from Triton: drawing the figure never defines the kernels.

Output position ``t`` is written as ``t + padding = q*stride + r``: ``r`` is its *phase*.
Tap ``k`` reaches phase ``r`` exactly when ``k*dilation % stride == r``, from input
``i = q - k*dilation // stride``. Each program takes one phase and a block of
``block_q`` consecutive ``q``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..shapes import phase_taps, tap_step

__all__ = ["PhaseGrid", "phase_grid", "phase_taps", "tap_step"]


@dataclass(frozen=True)
class PhaseGrid:
    """The programs along the length axis: ``stride`` phases times ``n_blocks`` blocks.

    Phase ``r`` starts at its first ``q`` with ``t >= 0``, :meth:`first_q`; every phase
    holds at most ``n_q = ceil(output_length / stride)`` positions (the kernel masks the
    ones past the end).
    """

    output_length: int
    stride: int
    padding: int
    block_q: int

    @property
    def n_q(self) -> int:
        """The most positions one phase holds."""
        return math.ceil(self.output_length / self.stride)

    @property
    def n_blocks(self) -> int:
        """Blocks of ``q`` per phase."""
        return math.ceil(self.n_q / self.block_q)

    def first_q(self, phase: int) -> int:
        """The smallest ``q`` with ``t = q*stride + phase - padding >= 0``."""
        return (self.padding - phase + self.stride - 1) // self.stride

    def positions(self, phase: int, block: int) -> list[int]:
        """The output positions program ``(phase, block)`` writes (the unmasked ones)."""
        first = self.first_q(phase) + block * self.block_q
        ts = (q * self.stride + phase - self.padding for q in range(first, first + self.block_q))
        return [t for t in ts if t < self.output_length]


def phase_grid(output_length: int, stride: int, padding: int, block_q: int) -> PhaseGrid:
    """The grid for an output of ``output_length`` positions, ``block_q`` per program."""
    return PhaseGrid(output_length, stride, padding, block_q)
