"""Tile sizes for each launch of the Triton kernels, per shape bucket (plain Python).

A tile is what one program computes: ``rows`` channels written x ``cols`` positions,
reducing ``red`` channels per step. Two families:

- channel-heavy problems (both channel counts >= 16, not float64) multiply their tiles with
  ``tl.dot``, which needs every tile side >= 16: half types on tensor cores; float32 on TF32
  tensor cores or as exact CUDA-core FMAs (see :func:`convtranspose.cuda.launch.dot_precision`);
- channel-light ones (depthwise, a few channels) and float64 multiply a broadcast tile and
  sum it on CUDA cores, at most 4096 elements so it stays in registers, spent on positions.

:func:`choose_tiles` serves the per-phase forward kernel and both gradients;
:func:`choose_coalesced_tiles` the coalesced forward kernel, whose rows are
``phases x channels``. Both are cached per shape (``functools.lru_cache``), so a repeated
shape costs one dictionary look-up.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import torch

__all__ = ["HALF_DTYPES", "Tiles", "choose_coalesced_tiles", "choose_tiles", "pow2"]

HALF_DTYPES = (torch.float16, torch.bfloat16)

#: Programs a launch should have at least to fill a large GPU (an H100/H200 has 132 SMs):
#: the coalesced kernel halves its position tile until its grid reaches this.
MIN_PROGRAMS = 264


@dataclass(frozen=True)
class Tiles:
    """Tile sizes of one launch: ``rows`` channels written per program, ``red`` channels
    reduced per step, ``cols`` positions per program, and whether ``tl.dot`` multiplies them."""

    rows: int
    red: int
    cols: int
    use_dot: bool
    num_warps: int = 4
    num_stages: int = 3


def pow2(n: int, cap: int) -> int:
    """The smallest power of two >= ``n``, at most ``cap``."""
    return min(cap, 1 << max(0, n - 1).bit_length())


#: The ``tl.dot`` tile caps per dtype family: (rows, red, cols). A float32 element takes
#: twice the shared memory of a half one, so float32 reduces fewer channels per step.
DOT_CAPS = {"half": (128, 64, 64), "float32": (64, 32, 128)}


def _family(dtype: torch.dtype) -> str | None:
    """The ``tl.dot`` family of ``dtype``, or None for the broadcast tiles (float64)."""
    if dtype in HALF_DTYPES:
        return "half"
    return "float32" if dtype == torch.float32 else None


@functools.lru_cache(maxsize=1024)
def choose_tiles(rows: int, red: int, cols: int, dtype: torch.dtype) -> Tiles:
    """Tile sizes for writing ``rows`` channels x ``cols`` positions, reducing over ``red``
    channels: the ``tl.dot`` caps of :data:`DOT_CAPS` for channel-heavy work (8 warps for the
    big tiles), else broadcast tiles of at most 4096 elements spent on positions."""
    family = _family(dtype)
    if family is not None and rows >= 16 and red >= 16:
        cap_rows, cap_red, cap_cols = DOT_CAPS[family]
        tiles = Tiles(
            rows=pow2(rows, cap_rows),
            red=pow2(red, cap_red),
            cols=max(16, pow2(cols, cap_cols)),
            use_dot=True,
        )
        return replace(tiles, num_warps=8 if tiles.rows * tiles.cols >= 8192 else 4)
    rows_t = pow2(rows, 16)
    red_t = pow2(red, 4)
    cols_t = max(16, pow2(cols, min(1024, 4096 // (rows_t * red_t))))
    return Tiles(rows_t, red_t, cols_t, use_dot=False)


def _best_cols(n_q: int, programs_per_block: int, largest: int) -> int:
    """The ``q`` per program, a power of two from 16 to ``largest``: the largest whose score is
    within 10% of the best, the score being the share of the blocks' ``q`` that exist times
    how far the grid fills :data:`MIN_PROGRAMS`. (The ``q`` of all phases together run a
    little past a multiple of a power of two when padding shifts the phases, 33 for 32
    positions per phase: a 32-wide block would leave a second block almost empty.)"""
    scores = {}
    cols = largest
    while cols >= 16:
        blocks = math.ceil(n_q / cols)
        scores[cols] = n_q / (blocks * cols) * min(1.0, blocks * programs_per_block / MIN_PROGRAMS)
        cols //= 2
    best = max(scores.values())
    return max(c for c, score in scores.items() if score >= 0.9 * best)


@functools.lru_cache(maxsize=1024)
def choose_coalesced_tiles(
    phases: int, channels_out: int, channels_in: int, n_q: int, programs_per_q_block: int,
    dtype: torch.dtype,
) -> Tiles:  # fmt: skip
    """Tiles of the coalesced forward kernel: ``rows = phases * channels`` (``phases`` a power
    of two >= stride), ``red`` input channels per step, ``cols`` values of ``q`` per program
    (each ``phases`` output positions). ``n_q`` is the number of ``q`` to cover and
    ``programs_per_q_block`` the programs per block of ``q`` (samples x groups x channel
    blocks), to keep the grid at :data:`MIN_PROGRAMS` or more.

    With ``tl.dot`` (``rows >= 16`` and ``channels_in >= 16``, not float64) the rows are
    at most 128 (all phases of at least one channel), the input channels per step at the
    :data:`DOT_CAPS` reduction, the ``q`` per program chosen by :func:`_best_cols` (16 to 64);
    else broadcast tiles of at most 4096 elements (``rows x red x cols``), spent on positions.
    """
    family = _family(dtype)
    co_cap = max(1, 128 // phases)  # all phases of a channel always share a program
    co = pow2(channels_out, co_cap)
    rows = phases * co
    if family is not None and rows >= 16 and channels_in >= 16:
        _, cap_red, _ = DOT_CAPS[family]
        red = pow2(channels_in, cap_red)
        programs = programs_per_q_block * math.ceil(channels_out / co)  # per block of q
        cols = _best_cols(n_q, programs, largest=max(16, pow2(n_q, 64)))
        warps = 8 if rows * cols >= 8192 else 4
        return Tiles(rows=rows, red=red, cols=cols, use_dot=True, num_warps=warps)
    co = pow2(channels_out, max(1, 16 // phases))
    rows = phases * co
    red = pow2(channels_in, max(1, min(4, 4096 // (rows * 16))))
    cols = max(16, pow2(n_q, max(16, min(1024, 4096 // (rows * red)))))
    return Tiles(rows=rows, red=red, cols=cols, use_dot=False)
