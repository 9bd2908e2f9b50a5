"""The rule: which CPU algorithm runs a shape, and when the packed layer packs its weight.

Every threshold the rule reads is in :data:`THRESHOLDS`, one table, each with what it
separates and why. The numbers come from the benchmark (``python -m
convtranspose.benchmark``, chapter 11); how each was measured, on which grids and seeds, is
in the book's "Lab notes" appendix, not here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..cost import stamp_multiplies
from ..shapes import transposed_length
from . import extension
from .torch_calls import torch_runs_onednn

__all__ = ["THRESHOLDS", "Thresholds", "choose_algorithm", "native_gradients", "native_lanes"]


@dataclass(frozen=True)
class Thresholds:
    """The rule's thresholds. Sizes are multiply-adds (:func:`~convtranspose.cost.stamp_multiplies`,
    ``N*C_in*C_out/groups*K*L``) or input positions in the batch (``N*L``)."""

    #: Depthwise or single-channel-in shapes (``C_in == groups``) run GEMM + overlap-add (one
    #: broadcast multiply-add per block of taps) from this many elements per multiply-add
    #: (``N*C_out*L``); below it each of its few element-wise calls costs more than its
    #: arithmetic and torch's op wins.
    thin_elements: int = 2**14
    #: Non-overlapping stamps (undilated, ``K <= stride``), grouped: GEMM + overlap-add (one
    #: GEMM and one copy) from this many multiply-adds.
    separate_stamps_grouped: int = 2**20
    #: Non-overlapping stamps, ungrouped: GEMM + overlap-add from this many multiply-adds...
    separate_stamps: int = 2**22
    #: ... and this many input positions when the stamps leave gaps (``K < stride``) ...
    gapped_positions: int = 128
    #: ... or this many when they tile the output exactly (``K == stride``, a case torch's op
    #: handles well on its own).
    tiled_positions: int = 512
    #: Grouped, undilated shapes with at most this many input channels per group: torch's
    #: grouped transposed convolution runs such thin groups slowly; sub-pixel (one grouped
    #: oneDNN convolution) wins above the two sizes below. Wider groups are a coin toss.
    subpixel_channels_per_group: int = 8
    #: Sub-pixel's floor in multiply-adds (oneDNN sets up each call: small shapes lose) ...
    subpixel_multiplies: int = 2**22
    #: ... and in input positions (it rearranges the weight on every call: short inputs lose).
    subpixel_positions: int = 1024
    #: Output lengths that are not a multiple of the stride, on shapes torch hands to oneDNN:
    #: ``aten_aligned`` (oneDNN runs unequal phases slower) from this many input channels
    #: per group (thin groups take another path in oneDNN) ...
    aligned_channels_per_group: int = 16
    #: ... and this many multiply-adds (below it the crop's copy is not repaid).
    aligned_multiplies: int = 2**19
    #: The native kernel's lines depend on its vector width (``cpu.extension.vector_bytes()``),
    #: measured on three 2-core machines: an AMD EPYC with AVX2 (32-byte vectors), and an
    #: Intel Xeon and an AMD EPYC (Zen 4) with AVX-512 (64 bytes), where the kernel's tiles
    #: are twice as wide. With AVX2 it runs float32 and float64 shapes except where torch's
    #: matrix multiply is closer to the machine's limit than its small register tiles.
    #: Channel-heavy short shapes: at least this many rows (``C_in/groups * K``) in its
    #: product ...
    native_rows: int = 1024
    #: ... (with AVX-512: this many; `wavenet-up16`'s 2560 rows ran 1.2-1.4x torch's op there,
    #: `hifigan-v2-up1`'s 2048 0.94-1.03x, `hifigan-v1-up2`'s 4096 0.94-1.10x) ...
    native_rows_wide: int = 4096
    #: ... and fewer than this many input positions in the batch (``N*L``): each weight then
    #: serves few positions.
    native_positions: int = 512
    #: Channel-heavy shapes: from this many input channels per group ...
    native_channels: int = 256
    #: ... with fewer input positions than this (``N*L``; AVX2 only: with AVX-512 the kernel
    #: ran 0.9-1.6x torch's op on seven such shapes, 1.1-1.2x on `unit-stride`), or whose
    #: stamps do not overlap (undilated, ``K <= stride``: GEMM + overlap-add is then one
    #: matrix multiply and a copy).
    native_channel_positions: int = 4096
    #: float32 convolutions of stride 1 (one phase, which is oneDNN's ordinary convolution,
    #: blocked over input channels as the kernel's tiles are not) with a short kernel: up to
    #: this many taps ...
    native_unit_stride_kernel: int = 5
    #: ... at least this many output channels per group ...
    native_unit_stride_channels: int = 64
    #: ... and at most this many input positions (``N*L``) run torch's op with AVX2: 0.66-0.88x
    #: there. (With AVX-512 the kernel won them: `dilated` 1.18x on both machines,
    #: `unit-stride` 1.12-1.16x.)
    native_unit_stride_positions: int = 2048
    #: With AVX-512, the native kernel's forward computes many input channels over short rows
    #: with its lanes path (a product vectorised over the weight's (output channel, tap)
    #: columns, then an overlap-add) rather than its tiles of positions, which such rows leave
    #: partly idle: from this many input channels per group ...
    native_lanes_channels: int = 256
    #: ... over rows of at most this many input positions ``L`` per input channel per group
    #: (96 at 256 channels, 384 at 1024); such shapes run native, whatever the lines above
    #: say. Against its tiles of positions on the Zen 4: 1.2-4x at 256-2048 channels and
    #: 16-64 positions, 1.15-1.3x at 512-1024 channels and 128-256 positions, 0.8-1.0x at
    #: 256-384 channels and 100-300 positions; against torch's op: `channel-heavy` 1.3x,
    #: `hifigan-v1-up1` 1.7-1.9x, `melgan-up8-batch4` 0.93-1.05x. (Not measured on the Xeon.
    #: With AVX2 its tiles reached 0.4-1.0x of torch's AVX-512 op on those three: AVX2
    #: machines keep the tiles of positions and the lines above.)
    native_lanes_length: float = 0.375
    #: The packed layer packs undilated shapes from this many multiply-adds (oneDNN's setup
    #: per call is not repaid below) ...
    packed_multiplies: int = 2**23
    #: ... up to this many input positions (beyond, the weight copy packing saves is a small
    #: share of the call).
    packed_positions: int = 1024
    #: The native gradient kernels (when built) compute the input gradient up to this
    #: reduction per element (``C_out/groups * K``; beyond it oneDNN's blocked convolution,
    #: which reuses each loaded weight more, catches up) ...
    native_input_grad_reduction: int = 2048
    #: ... and the weight gradient up to this channel product per group
    #: (``C_in/groups * C_out/groups``; beyond it oneDNN's GEMM does).
    native_weight_grad_channels: int = 2**16


#: The thresholds the rule uses.
THRESHOLDS = Thresholds()


def choose_algorithm(
    batch: int,
    in_channels: int,
    out_channels: int,
    length: int,
    kernel_size: int,
    stride: int = 1,
    groups: int = 1,
    dilation: int = 1,
    dtype: torch.dtype = torch.float32,
    *,
    padding: int = 0,
    output_padding: int = 0,
    native: bool | None = None,
    vector_bytes: int | None = None,
) -> str:
    """The algorithm :func:`~convtranspose.cpu.conv_transpose1d` runs for a shape (a name in
    :data:`~convtranspose.cpu.ALGORITHMS`). ``padding`` and ``output_padding`` are the
    call's: with the rest they give the output length, which one line of the rule reads
    (leaving them at 0 describes a call without). ``native`` says whether the native kernel
    may be chosen (``None``: where it is built, :data:`~convtranspose.cpu.ALGORITHMS` has
    ``"native"``), ``vector_bytes`` its vector width (``None``: the built kernel's; the
    AVX2 lines, 32, without one). In order:

    - with the native kernel: ``native`` for float32 and float64, except where a matrix
      multiply is closer to the machine's limit: channel-heavy short shapes (at least
      :attr:`~convtranspose.cpu.Thresholds.native_rows` rows ``C_in/groups * K`` and fewer
      than :attr:`~convtranspose.cpu.Thresholds.native_positions` positions ``N*L``), and
      shapes with at least :attr:`~convtranspose.cpu.Thresholds.native_channels` input
      channels per group that are shorter than
      :attr:`~convtranspose.cpu.Thresholds.native_channel_positions` positions or whose
      stamps do not overlap, and short float32 convolutions of stride 1 with a short kernel
      and many output channels (:attr:`~convtranspose.cpu.Thresholds.native_unit_stride_kernel`
      and the two thresholds after it); with AVX-512 (``vector_bytes`` 64) only the first
      line applies, with :attr:`~convtranspose.cpu.Thresholds.native_rows_wide` rows, and
      the shapes of the lanes path (:func:`native_lanes`) always run native; those left, and
      every shape without the kernel, take the lines below;
    - dtypes oneDNN cannot compute (float64): ``gemm_overlap_add``, the other algorithm that
      does the minimum work with one large GEMM;
    - one input channel per group (depthwise, or a single channel in): ``gemm_overlap_add``,
      whose "GEMM" is then a broadcast multiply-add per block of taps, from
      :attr:`Thresholds.thin_elements`; ``aten`` below;
    - stamps that do not overlap (``dilation == 1``, ``K <= stride``) and are large enough
      (grouped, or ungrouped with enough input positions): ``gemm_overlap_add``, one GEMM
      and one copy;
    - grouped, undilated, thin groups: ``subpixel`` when large and long enough, else ``aten``;
    - shapes torch's op sends to oneDNN (:func:`~convtranspose.cpu.torch_runs_onednn`),
      undilated, with wide enough groups, large enough, whose output length is not a
      multiple of the stride: ``aten_aligned``;
    - everything else (every dense shape measured): ``aten``, torch's own op, which on cold
      caches is little more than its one matrix multiply.
    """
    t = THRESHOLDS
    if native is None:
        native = extension.available()
    if native and vector_bytes is None:
        vector_bytes = extension.vector_bytes() or 32
    if native and _native_wins(
        batch, in_channels, out_channels, length, kernel_size, stride, groups, dilation, dtype,
        vector_bytes >= 64,
    ):  # fmt: skip
        return "native"
    if dtype not in (torch.float32, torch.bfloat16):
        return "gemm_overlap_add"
    if in_channels == groups:
        return "gemm_overlap_add" if batch * out_channels * length >= t.thin_elements else "aten"
    multiply_adds = stamp_multiplies(batch, in_channels, out_channels, length, kernel_size, groups)
    if dilation == 1 and kernel_size <= stride:
        if groups > 1 and multiply_adds >= t.separate_stamps_grouped:
            return "gemm_overlap_add"
        positions = t.gapped_positions if kernel_size < stride else t.tiled_positions
        if multiply_adds >= t.separate_stamps and batch * length >= positions:
            return "gemm_overlap_add"
    if groups > 1 and dilation == 1 and in_channels // groups <= t.subpixel_channels_per_group:
        large = multiply_adds >= t.subpixel_multiplies
        return "subpixel" if large and batch * length >= t.subpixel_positions else "aten"
    out_length = transposed_length(length, kernel_size, stride, padding, output_padding, dilation)
    if (
        out_length % stride
        and dilation == 1
        and in_channels // groups >= t.aligned_channels_per_group
        and multiply_adds >= t.aligned_multiplies
        and torch_runs_onednn(batch, in_channels, length, groups)
    ):
        return "aten_aligned"
    return "aten"


def _native_wins(
    batch: int,
    in_channels: int,
    out_channels: int,
    length: int,
    kernel_size: int,
    stride: int,
    groups: int,
    dilation: int,
    dtype: torch.dtype,
    wide: bool,
) -> bool:
    """Whether the native kernel runs a shape: float32 or float64, except the channel-heavy
    ones where a matrix multiply wins (see :class:`Thresholds`); ``wide``: AVX-512."""
    t = THRESHOLDS
    if dtype not in (torch.float32, torch.float64):
        return False
    if native_lanes(in_channels, length, groups, wide):
        return True
    channels, positions = in_channels // groups, batch * length
    rows = t.native_rows_wide if wide else t.native_rows
    if channels * kernel_size >= rows and positions < t.native_positions:
        return False
    separate = dilation == 1 and kernel_size <= stride
    if wide:
        return not (channels >= t.native_channels and separate)
    if (
        dtype == torch.float32
        and stride == 1
        and kernel_size <= t.native_unit_stride_kernel
        and out_channels // groups >= t.native_unit_stride_channels
        and positions <= t.native_unit_stride_positions
    ):
        return False
    return not (
        channels >= t.native_channels and (positions < t.native_channel_positions or separate)
    )


def native_lanes(in_channels: int, length: int, groups: int = 1, wide: bool = True) -> bool:
    """Whether the native kernel's forward runs its lanes path for a shape (with AVX-512,
    ``wide``: many input channels per group over short rows,
    :attr:`Thresholds.native_lanes_channels`, :attr:`Thresholds.native_lanes_length`),
    else its tiles of positions. The package passes this choice to the kernel, which makes
    none of its own."""
    t = THRESHOLDS
    channels = in_channels // groups
    return (
        wide and channels >= t.native_lanes_channels and length <= t.native_lanes_length * channels
    )


def native_gradients(
    in_channels: int, out_channels: int, kernel_size: int, groups: int = 1
) -> tuple[bool, bool]:
    """Whether the native kernels compute ``(d input, d weight)`` of a CPU call faster than
    torch's ``convolution_backward`` (float32 and float64, once the kernel is built): the input
    gradient up to :attr:`Thresholds.native_input_grad_reduction`, the weight gradient up to
    :attr:`Thresholds.native_weight_grad_channels`. Small shapes included: torch's call costs
    more there than either kernel."""
    t = THRESHOLDS
    cols = out_channels // groups
    return (
        cols * kernel_size <= t.native_input_grad_reduction,
        (in_channels // groups) * cols <= t.native_weight_grad_channels,
    )
