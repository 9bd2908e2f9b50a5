"""The shapes the benchmark times: one :class:`Shape` per call, gathered into named grids.

:data:`CPU_GRID` holds inference-sized calls (audio upsamplers, channel-heavy, depthwise,
dilated, odd groups, a long single-channel signal), :data:`CUDA_GRID` training-sized ones,
:data:`QUICK_GRID` two tiny ones for smoke tests; :func:`random_grid` and
:func:`misaligned_grid` draw held-out shapes nobody chose.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

import torch

from .. import cost, cpu

__all__ = [
    "CPU_GRID",
    "CUDA_GRID",
    "QUICK_GRID",
    "Shape",
    "hifigan_stage",
    "misaligned_grid",
    "random_grid",
]


@dataclass(frozen=True)
class Shape(cost.Shape):
    """One benchmark case: the sizes of a ``conv_transpose1d`` call (validated by
    :class:`convtranspose.cost.Shape`) with a name for the table."""

    name: str = ""

    @property
    def flops(self) -> int:
        """Useful floating-point operations: one multiply and one add per (input element,
        tap, output channel of its group)."""
        return 2 * self.channel_products * self.kernel_size * self.length

    def kwargs(self) -> dict:
        return {
            "stride": self.stride,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "groups": self.groups,
            "dilation": self.dilation,
        }

    def tensors(
        self, dtype: torch.dtype = torch.float32, device: str = "cpu", seed: int = 0
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Random input, weight and bias for this shape (fixed seed)."""
        gen = torch.Generator().manual_seed(seed)
        make = lambda *s: torch.randn(*s, generator=gen).to(device=device, dtype=dtype)  # noqa: E731
        x = make(self.batch, self.in_channels, self.length)
        w = make(self.in_channels, self.out_channels // self.groups, self.kernel_size)
        w = w / math.sqrt(self.in_channels // self.groups * self.kernel_size)  # unit-scale output
        return x, w, make(self.out_channels)


def _hifigan(prefix: str, batch: int, frames: int, channels: int) -> list[Shape]:
    """HiFi-GAN's four upsampler stages (rates 8, 8, 2, 2; kernels 16, 16, 4, 4;
    padding (K - stride)/2), starting from ``frames`` mel frames and ``channels`` channels."""
    shapes, length = [], frames
    for i, (rate, k) in enumerate([(8, 16), (8, 16), (2, 4), (2, 4)]):
        c = channels >> i
        shapes.append(
            Shape(batch, c, c // 2, length, k, rate, (k - rate) // 2, name=f"{prefix}-up{i + 1}")
        )
        length *= rate
    return shapes


#: The CPU grid: realistic inference-sized shapes, float32.
CPU_GRID: list[Shape] = [
    *_hifigan("hifigan-v1", 1, 32, 512),
    *_hifigan("hifigan-v2", 1, 64, 128)[:2],
    Shape(1, 80, 80, 100, 32, 16, 8, name="wavenet-up16"),  # WaveNet-style mel upsampler
    Shape(4, 256, 128, 64, 16, 8, 4, name="melgan-up8-batch4"),
    Shape(1, 1024, 1024, 64, 4, 2, 1, name="channel-heavy"),
    Shape(1, 256, 256, 512, 8, 4, 2, groups=256, name="depthwise"),
    Shape(1, 128, 128, 512, 3, 1, 4, dilation=4, name="dilated"),
    Shape(2, 3 * 37, 3 * 23, 333, 5, 3, 1, 1, groups=3, name="grouped-odd"),
    Shape(1, 1, 1, 1 << 17, 16, 4, 6, name="long-mono"),
    Shape(1, 256, 256, 256, 3, 1, 1, name="unit-stride"),
    Shape(1, 64, 64, 256, 3, 4, name="stride-gt-kernel"),
]

#: The CUDA grid: training-sized shapes (HiFi-GAN at batch 16 and more), timed at every
#: precision of :data:`~.precisions.CUDA_PRECISIONS`.
CUDA_GRID: list[Shape] = [
    *_hifigan("hifigan-v1-b16", 16, 32, 512),
    Shape(16, 1024, 1024, 256, 4, 2, 1, name="channel-heavy"),
    Shape(16, 512, 512, 1024, 16, 8, 4, groups=512, name="depthwise"),
    Shape(16, 256, 256, 1024, 3, 1, 4, dilation=4, name="dilated"),
    Shape(16, 3 * 37, 3 * 23, 1000, 5, 3, 1, 1, groups=3, name="grouped-odd"),
    Shape(4, 1, 1, 1 << 20, 16, 4, 6, name="long-mono"),
]

#: A tiny grid for smoke tests (``--quick``): seconds, not minutes.
QUICK_GRID: list[Shape] = [
    Shape(1, 8, 4, 16, 4, 2, 1, name="tiny-up"),
    Shape(2, 6, 6, 10, 3, 3, 1, 1, groups=3, dilation=2, name="tiny-grouped"),
]


def random_grid(seed: int, count: int = 12) -> list[Shape]:
    """``count`` shapes drawn at random from realistic ranges: the held-out check that a
    selection rule tuned on :data:`CPU_GRID` still wins on shapes nobody chose."""
    rng = random.Random(seed)
    shapes = []
    for i in range(count):
        stride = rng.choice([1, 2, 2, 3, 4, 5, 8, 8, 10])
        kernel = rng.choice([stride, 2 * stride, 2 * stride + 1, 3, 4, 7])
        kernel = max(kernel, 1)
        groups = rng.choice([1, 1, 1, 2, 4, "depthwise"])
        channels = rng.choice([16, 32, 64, 128, 256, 512])
        c_out = channels if groups == "depthwise" else rng.choice([channels // 2, channels])
        groups = channels if groups == "depthwise" else groups
        c_out = max(groups, c_out // groups * groups)
        dilation = rng.choice([1, 1, 1, 2, 3])
        length = rng.choice([32, 64, 128, 256, 512, 1024, 2048])
        length = max(8, min(length, 2**19 // channels))  # keep each call under a few ms
        padding = rng.randint(0, max(0, (dilation * (kernel - 1)) // 2))
        batch = rng.choice([1, 1, 2, 4])
        sizes = (batch, channels, c_out, length, kernel, stride, padding, 0, groups, dilation)
        shapes.append(Shape(*sizes, name=f"random{seed}-{i}"))
    return shapes


def misaligned_grid(seed: int, count: int = 12) -> list[Shape]:
    """``count`` random shapes that :func:`convtranspose.cpu.choose_algorithm` sends to
    ``aten_aligned`` (an output length that is not a multiple of the stride, among others):
    the held-out check of that line of the rule, drawn from the ranges of the sweeps behind
    it (at most 2**27 multiply-adds, to keep a run to minutes)."""
    rng = random.Random(seed)
    shapes: list[Shape] = []
    while len(shapes) < count:
        stride = rng.choice([2, 3, 4, 5, 6, 8, 10])
        kernel = max(2, rng.choice([stride + 1, 2 * stride - 1, 2 * stride, 2 * stride + 1,
                                    3 * stride, 3, 4, 5, 7]))  # fmt: skip
        groups = rng.choice([1, 1, 2, 4])
        channels = rng.choice([32, 64, 128, 256, 512])
        c_out = rng.choice([channels // 2, channels])
        length = max(16, min(rng.choice([32, 64, 128, 256, 512, 1024, 2048]), 2**18 // channels))
        batch = rng.choice([1, 1, 2, 4])
        padding = rng.randint(0, (kernel - 1) // 2)
        output_padding = rng.randint(0, stride - 1)
        sizes = (batch, channels, c_out, length, kernel, stride, padding, output_padding, groups)
        shape = Shape(*sizes, name=f"misaligned{seed}-{len(shapes)}")
        chosen = cpu.choose_algorithm(
            batch, channels, c_out, length, kernel, stride, groups,
            padding=padding, output_padding=output_padding,
        )  # fmt: skip
        if chosen == "aten_aligned" and shape.flops <= 2**28:
            shapes.append(shape)
    return shapes


def hifigan_stage(name: str) -> int | None:
    """The HiFi-GAN upsampler stage (1 to 4) a grid shape of this name stands for, or ``None``:
    the names :func:`_hifigan` gives (``PREFIX-upN``), so that results can be grouped by stage."""
    match = re.fullmatch(r"hifigan-.*-up([1-4])", name)
    return int(match.group(1)) if match else None
