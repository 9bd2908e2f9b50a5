"""How the Triton forward kernel splits the output among its programs (plain Python).

Shared by the launcher in :mod:`convtranspose.cuda` and the figure in
:mod:`convtranspose.diagrams.kernel`, so the figure shows the grid the kernel really uses.
It imports nothing from Triton: drawing the figure never defines the kernels.

Output position ``t`` is written as ``t + padding = q*stride + r``: ``r`` is its *phase*.
Tap ``k`` reaches phase ``r`` exactly when ``k*dilation % stride == r``, from input
``i = q - k*dilation // stride``. Each program takes one phase and a block of
``block_q`` consecutive ``q``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class PhaseGrid:
    """The programs along the length axis: ``stride`` phases times ``n_blocks`` blocks.

    ``q`` runs from ``q0`` over ``n_q`` values in every phase (a few of them fall outside
    ``[0, output_length)`` in some phases: the kernel masks those).
    """

    output_length: int
    stride: int
    padding: int
    block_q: int
    q0: int
    n_q: int

    @property
    def n_blocks(self) -> int:
        """Blocks of ``q`` per phase."""
        return math.ceil(self.n_q / self.block_q)

    def positions(self, phase: int, block: int) -> list[int]:
        """The output positions program ``(phase, block)`` writes (the unmasked ones)."""
        first = self.q0 + block * self.block_q
        ts = (q * self.stride + phase - self.padding for q in range(first, first + self.block_q))
        return [t for t in ts if 0 <= t < self.output_length]


def phase_grid(output_length: int, stride: int, padding: int, block_q: int) -> PhaseGrid:
    """The grid for an output of ``output_length`` positions.

    ``t = q*stride + r - padding`` is in ``[0, output_length)`` only for
    ``q`` in ``[padding // stride, (output_length - 1 + padding) // stride]`` whatever ``r``.
    """
    q0 = padding // stride
    n_q = (output_length - 1 + padding) // stride - q0 + 1
    return PhaseGrid(output_length, stride, padding, block_q, q0, n_q)


def phase_taps(kernel_size: int, stride: int, dilation: int, phase: int) -> list[int]:
    """The taps ``k`` that land on phase ``phase``: ``k*dilation % stride == phase``."""
    return [k for k in range(kernel_size) if k * dilation % stride == phase]
