"""The shapes the benchmark times: one :class:`Shape` per call, gathered into named grids.

Each shape belongs to a *family* (:data:`FAMILIES`): ``"inference"``, one call of a trained
layer (a batch of one to four, forward only), or ``"training"``, a batched call whose gradients
are needed too (the CPU runner also times forward + backward on these).

:data:`CPU_GRID`, what the CPU benchmark runs by default, is :data:`CPU_INFERENCE_GRID`
(audio upsamplers, channel-heavy, depthwise, dilated, odd groups, a long single-channel signal)
followed by :data:`CPU_TRAINING_GRID` (batches of 4 to 32, 16 to 128 channels, 1k to 16k
samples); :data:`CUDA_GRID` holds training-sized shapes for the GPU, :data:`QUICK_GRID` tiny
ones of both families for smoke tests. :func:`random_grid`, :func:`misaligned_grid` and
:func:`random_training_grid` draw held-out shapes nobody chose. :func:`rounds_for` says how
many interleaved readings a shape gets by default: fewer for larger calls, so that the whole
CPU grid runs in minutes.
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
    "CPU_INFERENCE_GRID",
    "CPU_TRAINING_GRID",
    "CUDA_GRID",
    "FAMILIES",
    "LARGE_MULTIPLY_ADDS",
    "QUICK_GRID",
    "Shape",
    "hifigan_stage",
    "misaligned_grid",
    "random_grid",
    "random_training_grid",
    "rounds_for",
]

#: The families a shape can belong to: one call of a trained layer, or a batched call whose
#: gradients are needed too.
FAMILIES = ("inference", "training")

#: Multiply-adds from which a call counts as *large*: enough work per call that the
#: arithmetic, not the overhead around it, should set its speed (the issue's goal of half the
#: matrix multiply's throughput applies from here).
LARGE_MULTIPLY_ADDS = 2**27


@dataclass(frozen=True)
class Shape(cost.Shape):
    """One benchmark case: the sizes of a ``conv_transpose1d`` call (validated by
    :class:`convtranspose.cost.Shape`) with a name for the table and its family (one of
    :data:`FAMILIES`)."""

    name: str = ""
    family: str = "inference"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {self.family!r}")

    @property
    def multiply_adds(self) -> int:
        """One per (input element, tap, output channel of its group):
        ``N * C_in * C_out/groups * K * L``, the products ``padding`` crops away included."""
        return self.channel_products * self.kernel_size * self.length

    @property
    def flops(self) -> int:
        """Useful floating-point operations of the forward call: a multiply and an add per
        :attr:`multiply_adds`."""
        return 2 * self.multiply_adds

    @property
    def large(self) -> bool:
        """Whether the call has at least :data:`LARGE_MULTIPLY_ADDS` multiply-adds."""
        return self.multiply_adds >= LARGE_MULTIPLY_ADDS

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

    def upstream_gradient(
        self, dtype: torch.dtype = torch.float32, device: str = "cpu", seed: int = 1
    ) -> torch.Tensor:
        """A random gradient of the output (fixed seed): what backward receives."""
        gen = torch.Generator().manual_seed(seed)
        sizes = (self.batch, self.out_channels, self.output_length)
        return torch.randn(*sizes, generator=gen).to(device=device, dtype=dtype)


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


#: The CPU grid's inference family: realistic inference-sized shapes, float32.
CPU_INFERENCE_GRID: list[Shape] = [
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

#: The CPU grid's training family: batched calls of the sizes small audio and sequence models
#: train with (batches of 4 to 32, 16 to 128 channels, 1k to 16k samples), each of at least
#: :data:`LARGE_MULTIPLY_ADDS` multiply-adds; the first four are the shapes issue 19 measured.
CPU_TRAINING_GRID: list[Shape] = [
    Shape(16, 48, 48, 6000, 4, 2, 1, name="train-up2-48ch", family="training"),
    Shape(4, 32, 16, 16000, 8, 4, 2, name="train-up4-long", family="training"),
    Shape(16, 128, 128, 1024, 4, 2, 1, name="train-up2-128ch", family="training"),
    Shape(32, 24, 24, 6000, 3, 2, 1, name="train-up2-k3-b32", family="training"),
    Shape(8, 128, 64, 1024, 16, 8, 4, name="train-vocoder-up8", family="training"),
    Shape(8, 64, 64, 4096, 8, 4, 2, groups=4, name="train-grouped-up4", family="training"),
    Shape(32, 16, 16, 8192, 4, 2, 1, name="train-up2-16ch", family="training"),
]

#: The CPU grid: what ``python -m convtranspose.benchmark`` runs on the CPU by default, the
#: inference family then the training family, float32.
CPU_GRID: list[Shape] = CPU_INFERENCE_GRID + CPU_TRAINING_GRID

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

#: A tiny grid for smoke tests (``--quick``): seconds, not minutes; both families.
QUICK_GRID: list[Shape] = [
    Shape(1, 8, 4, 16, 4, 2, 1, name="tiny-up"),
    Shape(2, 6, 6, 10, 3, 3, 1, 1, groups=3, dilation=2, name="tiny-grouped"),
    Shape(4, 8, 8, 32, 4, 2, 1, name="tiny-batch", family="training"),
]

#: Readings per candidate for the smallest shapes, and the fewest any shape gets
#: (:func:`rounds_for`).
MAX_ROUNDS, MIN_ROUNDS = 31, 5


def rounds_for(shape: Shape) -> int:
    """Interleaved readings per candidate by default: :data:`MAX_ROUNDS` up to 2**24
    multiply-adds, then fewer in proportion to the square root of the work, down to
    :data:`MIN_ROUNDS` (from about 2**29). A large call's readings vary less (a burst of
    load is a smaller share of a long call), and each costs more time; this keeps the
    CPU grid's run to a few minutes on two cores."""
    rounds = MAX_ROUNDS * math.sqrt(2**24 / max(shape.multiply_adds, 1))
    return max(MIN_ROUNDS, min(MAX_ROUNDS, round(rounds)))


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
    ``aten_aligned`` where the native kernel is not built (an output length that is not a
    multiple of the stride, among others): the held-out check of that line of the rule, drawn
    from the ranges of the sweeps behind it (at most 2**27 multiply-adds, to keep a run to
    minutes). The same shapes whether or not the kernel is built here."""
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
            padding=padding, output_padding=output_padding, native=False,
        )  # fmt: skip
        if chosen == "aten_aligned" and shape.flops <= 2**28:
            shapes.append(shape)
    return shapes


def random_training_grid(seed: int, count: int = 7) -> list[Shape]:
    """``count`` training-family shapes drawn at random from the ranges of
    :data:`CPU_TRAINING_GRID` (batch 8 to 32, 16 to 128 channels, 1k to 16k samples,
    ordinary upsampling strides and kernels, some grouped): the held-out check that results on
    the chosen training shapes hold on shapes nobody chose. Each has between
    :data:`LARGE_MULTIPLY_ADDS` and 2**30 multiply-adds (a call of at most a few tenths of a
    second, forward + backward)."""
    rng = random.Random(seed)
    shapes: list[Shape] = []
    while len(shapes) < count:
        stride = rng.choice([1, 2, 2, 2, 3, 4, 4, 5, 8])
        kernel = max(2, rng.choice([stride, 2 * stride, 2 * stride, 2 * stride + 1, 3, 4, 7]))
        groups = rng.choice([1, 1, 1, 1, 2, 4])
        channels = rng.choice([16, 24, 32, 48, 64, 96, 128])
        c_out = rng.choice([channels // 2, channels, channels])
        c_out = max(groups, c_out // groups * groups)
        length = rng.choice([1024, 2048, 3000, 4096, 6000, 8192, 12000, 16000])
        batch = rng.choice([8, 16, 16, 32])
        padding = rng.randint(0, (kernel - 1) // 2)
        output_padding = rng.randint(0, stride - 1) if rng.random() < 0.25 else 0
        sizes = (batch, channels, c_out, length, kernel, stride, padding, output_padding, groups)
        shape = Shape(*sizes, name=f"random-training{seed}-{len(shapes)}", family="training")
        if LARGE_MULTIPLY_ADDS <= shape.multiply_adds <= 2**30:
            shapes.append(shape)
    return shapes


def hifigan_stage(name: str) -> int | None:
    """The HiFi-GAN upsampler stage (1 to 4) a grid shape of this name stands for, or ``None``:
    the names :func:`_hifigan` gives (``PREFIX-upN``), so that results can be grouped by stage."""
    match = re.fullmatch(r"hifigan-.*-up([1-4])", name)
    return int(match.group(1)) if match else None
