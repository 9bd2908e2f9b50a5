"""``python -m convtranspose.benchmark``: this package's ``conv_transpose1d`` against torch's.

CPU (the default): every algorithm of :mod:`convtranspose.cpu` and the one
:func:`convtranspose.cpu.conv_transpose1d` chooses, against
:func:`torch.nn.functional.conv_transpose1d`, on realistic shapes (audio upsamplers,
channel-heavy, depthwise, dilated, odd groups, a long single-channel signal), float32, torch's
default thread count; and, for inference, :class:`convtranspose.PackedConvTranspose1d` (made
and packed before the timing) against ``torch.nn.ConvTranspose1d``, layer against layer. ``--device cuda``: :func:`convtranspose.cuda.conv_transpose1d` against
torch's (cuDNN) on GPU shapes, in float32 (as torch runs it by default, TF32 allowed, and
exact, TF32 off on both sides) and bfloat16.

How it measures, so that a noisy shared machine cannot fake a speed-up:

- every result is first checked against torch's (a wrong answer is never timed);
- the candidates run *interleaved*, round after round, so a burst of load from another
  process hits them all alike, in a new (seeded) order every round, so that no candidate
  always inherits the same neighbour's freed memory (:func:`time_interleaved`);
- on the CPU each reading is one call on *cold caches*: a 64 MiB buffer is written before
  every timed call (:func:`cold_cpu_clock`), so weights and inputs come from memory, as for a
  layer inside a network, where every other layer's weights pass through the cache between
  two calls of this one. Timing loops of back-to-back calls instead (``cpu_clock``) keeps a
  HiFi-GAN stage's 8 MB weight in the 32 MB cache, which flatters whichever candidate reads
  it most and made the interleaved figures depend on what ran just before;
- the speed ratio is torch's time over ours (> 1: ours is faster), per shape, from the best
  reading of each (other processes only ever add time, so the best estimates the cost on an
  idle machine); the ratio of medians is kept too; the geometric mean over shapes
  summarises a grid;
- on CUDA, time comes from CUDA events after a warm-up, with a synchronize around each reading.

Peak extra memory on the CPU is the size of each algorithm's intermediates at their peak, computed
from the code (:func:`convtranspose.cpu.workspace_elements`; torch's own op: its col2im
"columns" buffer of ``C_out*K*L`` per sample), not measured: the CPU allocator keeps no peak
statistic. On CUDA it is measured with ``torch.cuda.max_memory_allocated``.

``--grid random --seed N`` draws shapes at random from realistic ranges, to check the claim
on shapes nobody chose. The results go to the terminal as a table and to a JSON file.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import platform
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from . import cost, cpu
from .cpu.packed import PACKED, PackedConvTranspose1d

__all__ = [
    "CPU_GRID",
    "CUDA_GRID",
    "QUICK_GRID",
    "Shape",
    "committed_report",
    "geometric_mean",
    "main",
    "matmul_gflops",
    "misaligned_grid",
    "precision_label",
    "random_grid",
    "run_cpu",
    "run_cuda",
]

#: Where ``python -m convtranspose.benchmark`` writes its JSON unless told otherwise.
DEFAULT_JSON = {
    "cpu": Path("book/data/benchmark-cpu.json"),
    "cuda": Path("book/data/benchmark-cuda.json"),
}


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
#: precision of :data:`CUDA_PRECISIONS`.
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


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


def _loops_for(
    fn: Callable[[], object], target_s: float, clock: Callable[[Callable[[], object], int], float]
) -> int:
    """How many calls make one reading last about ``target_s`` seconds (at least one),
    from one call timed with ``clock`` (on CUDA, a synchronised one)."""
    once = max(clock(fn, 1), 1e-7)
    return max(1, min(1000, int(target_s / once)))


def time_interleaved(
    candidates: dict[str, Callable[[], object]],
    rounds: int,
    target_s: float,
    clock: Callable[[Callable[[], object], int], float],
) -> dict[str, list[float]]:
    """Seconds per call of each candidate, one reading per round, the candidates taking
    turns so that background load hits them all alike, in a new order every round (shuffled
    with a fixed seed: the same orders on every run).

    Not a fixed rotation: each candidate would then nearly always run right after the same
    neighbour, and what the neighbour leaves behind matters. Memory it has just freed can be
    handed out again without the operating system mapping fresh pages, so a candidate that
    follows one with an output of its own size starts warmer. With a fixed rotation, torch's
    op (which followed torch's own module, same output) measured about 12% faster than the
    identical op behind this package's checks (``aten``), and adding two candidates to the
    rotation moved the geometric mean of the speed-ups from 1.04x to 1.14x."""
    names = list(candidates)
    loops = {name: _loops_for(candidates[name], target_s, clock) for name in names}
    readings: dict[str, list[float]] = {name: [] for name in names}
    order = random.Random(0)
    for _ in range(rounds):
        for name in order.sample(names, len(names)):
            readings[name].append(clock(candidates[name], loops[name]) / loops[name])
    return readings


def cpu_clock(fn: Callable[[], object], loops: int) -> float:
    start = time.perf_counter()
    for _ in range(loops):
        fn()
    return time.perf_counter() - start


#: Bytes written between two timed calls by :func:`cold_cpu_clock`: twice the 32 MiB
#: last-level cache of the reference machine, enough to evict every operand.
FLUSH_BYTES = 64 << 20


@functools.cache
def _flush_buffer() -> torch.Tensor:
    return torch.zeros(FLUSH_BYTES // 4)


def flush_caches() -> None:
    """Write a buffer larger than the CPU's caches, evicting every operand of the last call."""
    _flush_buffer().add_(1.0)


def cold_cpu_clock(fn: Callable[[], object], loops: int) -> float:
    """Seconds of ``loops`` calls, each timed alone after :func:`flush_caches`: the weights
    and inputs come from memory, as they do for a layer inside a network (between two calls
    of one layer, every other layer's weights pass through the cache). Timing a loop of
    back-to-back calls instead keeps an 8 MB weight in the cache and flatters whichever
    algorithm reads it most often."""
    total = 0.0
    for _ in range(loops):
        flush_caches()
        start = time.perf_counter()
        fn()
        total += time.perf_counter() - start
    return total


def cuda_clock(fn: Callable[[], object], loops: int) -> float:
    """GPU time of ``loops`` calls between two CUDA events (everything before is finished first)."""
    begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    begin.record()
    for _ in range(loops):
        fn()
    end.record()
    torch.cuda.synchronize()
    return begin.elapsed_time(end) / 1000.0


def matmul_gflops(size: int = 1024, rounds: int = 7) -> float:
    """This machine's float32 matrix-multiply throughput (GFLOP/s, median of ``rounds``), the
    ceiling an algorithm built on GEMMs can approach."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    readings = time_interleaved({"mm": lambda: a @ b}, rounds, 0.05, cpu_clock)["mm"]
    return 2 * size**3 / statistics.median(readings) / 1e9


# ---------------------------------------------------------------------------------------------
# CPU
# ---------------------------------------------------------------------------------------------


def _calls(functions: dict[str, Callable], args: tuple, kwargs: dict) -> dict[str, Callable]:
    """Each function bound to the same arguments: the zero-argument calls the clock times."""
    return {name: functools.partial(fn, *args, **kwargs) for name, fn in functions.items()}


#: The names under which :func:`run_cpu` times :func:`gemm_only` (not candidates: they compute
#: only the products, not the output, and are left out of the speed-ups).
GEMM_ONLY = ("gemm_only_weight_t", "gemm_only_input_t")


def gemm_only(x: torch.Tensor, w: torch.Tensor, groups: int) -> dict[str, Callable[[], object]]:
    """The one matrix multiply every product-based formulation needs (all ``N*L x C_in/g x
    C_out/g*K`` products of chapter 9's GEMM + overlap-add), with nothing around it: no
    overlap-add, crop, bias or checks, the weight used as it lies in memory. Two layouts,
    ``W^T @ x`` and ``x^T @ W``: the matrix library is faster for one or the other depending on
    the shape. The faster one is how fast the shape's arithmetic alone runs on this machine,
    a tighter ceiling for that shape than the large square matmul of :func:`matmul_gflops`."""
    n, c_in, length = x.shape
    _, c_out_g, k = w.shape
    wg = w.reshape(groups, c_in // groups, c_out_g * k)
    xg = x.reshape(n, groups, c_in // groups, length)
    return {
        GEMM_ONLY[0]: lambda: torch.matmul(wg.transpose(1, 2), xg),
        GEMM_ONLY[1]: lambda: torch.matmul(xg.transpose(2, 3), wg),
    }


def algorithm_memory_bytes(shape: Shape) -> dict[str, int]:
    """Bytes of float32 intermediates each :mod:`convtranspose.cpu` algorithm holds at its
    peak for ``shape`` (:func:`convtranspose.cpu.workspace_elements`)."""
    sizes = (
        shape.batch, shape.in_channels, shape.out_channels, shape.length, shape.kernel_size,
        shape.stride, shape.dilation, shape.groups,
    )  # fmt: skip
    geometry = {"padding": shape.padding, "output_padding": shape.output_padding}
    return {name: 4 * cpu.workspace_elements(name, *sizes, **geometry) for name in cpu.ALGORITHMS}


def _torch_layer(shape: Shape, weight: torch.Tensor, bias: torch.Tensor) -> torch.nn.Module:
    """``torch.nn.ConvTranspose1d`` for ``shape``, holding ``weight`` and ``bias``."""
    layer = torch.nn.ConvTranspose1d(
        shape.in_channels, shape.out_channels, shape.kernel_size, **shape.kwargs()
    )
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return layer


def _check(got: torch.Tensor, want: torch.Tensor, name: str, shape: Shape, tol: float) -> None:
    """Fail loudly if a candidate disagrees with torch: a wrong answer is never timed.
    The error is measured relative to the largest output magnitude."""
    scale = want.abs().max().item() or 1.0
    err = (got.float() - want.float()).abs().max().item() / scale
    if got.shape != want.shape or not err <= tol:
        raise AssertionError(
            f"{name} disagrees with torch on {shape.name}: shape {tuple(got.shape)} vs "
            f"{tuple(want.shape)}, max error {err:.3g} of the largest value (tolerance {tol})"
        )


#: The candidate each one is compared with, where it is not torch's functional op: the packed
#: inference *module* against torch's module, ``torch.nn.ConvTranspose1d`` (both pay for
#: ``nn.Module.__call__`` and their ``forward``: 10-70 us per call on cold caches).
BASELINES = {"packed": "torch_module"}


def _summary(readings: dict[str, list[float]], shape: Shape) -> dict:
    """Per candidate: the best and the median reading, GFLOP/s and the speed-up over torch
    (over :data:`BASELINES`' candidate where it names one).

    The headline ``speedup`` compares best readings: on a shared machine other processes only
    ever add time, so the best of many interleaved readings estimates each candidate's cost
    with the machine to itself, while medians move with the neighbours' load
    (``speedup_median`` keeps that view too)."""
    best = {name: min(times) for name, times in readings.items()}
    medians = {name: statistics.median(times) for name, times in readings.items()}
    ours = [name for name in readings if name != "torch"]
    base = {name: BASELINES.get(name, "torch") for name in ours}
    return {
        "min_s": best,
        "median_s": medians,
        "gflops": {name: shape.flops / t / 1e9 for name, t in best.items()},
        "speedup": {name: best[base[name]] / best[name] for name in ours},
        "speedup_median": {name: medians[base[name]] / medians[name] for name in ours},
    }


def run_cpu(
    shapes: list[Shape],
    rounds: int = 31,
    target_s: float = 0.0,
    algorithms: bool = True,
    clock: Callable[[Callable[[], object], int], float] = cold_cpu_clock,
) -> dict:
    """Time torch, the chosen algorithm and (``algorithms``) every algorithm on each shape,
    and, in the same interleaved rounds, the shape's matrix multiply alone (:func:`gemm_only`,
    recorded as ``gemm_only_s``, not as a candidate).

    By default each reading is one call on cold caches (:func:`cold_cpu_clock`,
    ``target_s = 0``: one call per reading); ``clock=cpu_clock`` with a ``target_s`` times
    loops of back-to-back calls instead, the warm-cache view."""
    results = []
    for shape in shapes:
        x, w, b = shape.tensors()
        chosen = cpu.choose_algorithm(
            shape.batch, shape.in_channels, shape.out_channels, shape.length,
            shape.kernel_size, shape.stride, shape.groups, shape.dilation,
            padding=shape.padding, output_padding=shape.output_padding,
        )  # fmt: skip
        functions = {"torch": F.conv_transpose1d, "chosen": cpu.conv_transpose1d}
        if algorithms:
            functions.update(cpu.ALGORITHMS)
        candidates = _calls(functions, (x, w, b), shape.kwargs())
        # Inference with the weight packed once (made, and packed by a first call, untimed),
        # against torch's own module: both layers, both called as modules.
        layer = PackedConvTranspose1d(w, b, **shape.kwargs())
        candidates["packed"] = functools.partial(layer, x)
        candidates["torch_module"] = functools.partial(_torch_layer(shape, w, b), x)
        with torch.no_grad():
            want = candidates["torch"]()
            for name, fn in candidates.items():
                _check(fn(), want, name, shape, 1e-4)
            readings = time_interleaved(candidates | gemm_only(x, w, shape.groups), rounds,
                                        target_s, clock)  # fmt: skip
        gemm_only_s = min(min(readings.pop(name)) for name in GEMM_ONLY)
        memory = algorithm_memory_bytes(shape)
        # torch's op (functional or module) is the ``aten`` algorithm: oneDNN (its scratch
        # memory not counted: 0), or, for a batch of one with at most 20480 input elements
        # and no groups, its native path's ``C_out*K x L`` "columns" matrix.
        memory["torch"] = memory["torch_module"] = memory["aten"]
        memory["chosen"] = memory[chosen]
        route = layer.route(x)
        memory["packed"] = 0 if route == PACKED else memory[route]
        results.append(
            {
                "shape": asdict(shape),
                "flops": shape.flops,
                "chosen": chosen,
                "packed_route": route,
                "extra_memory_bytes": memory,
                **_summary(readings, shape),
                "gemm_only_s": gemm_only_s,
                "gemm_only_gflops": shape.flops / gemm_only_s / 1e9,
            }
        )
    return {"results": results}


# ---------------------------------------------------------------------------------------------
# CUDA
# ---------------------------------------------------------------------------------------------

#: What the CUDA mode times, as ``(dtype, TF32 allowed)``: float32 as torch runs it by default
#: (cuDNN and :mod:`convtranspose.cuda` both may round to TF32 on tensor cores), float32 with
#: exact products on both sides (``torch.backends.cudnn.allow_tf32 = False``), and bfloat16.
CUDA_PRECISIONS = ((torch.float32, True), (torch.float32, False), (torch.bfloat16, True))

#: Relative tolerance (of the largest output magnitude) against a float64 answer, by
#: :func:`precision_label`: TF32 keeps 10 bits of mantissa, bfloat16 8.
CUDA_TOLERANCE = {"float32": 5e-3, "float32 exact": 1e-5, "bfloat16": 3e-2}


def precision_label(dtype: str, allow_tf32: bool | None) -> str:
    """How a CUDA result was computed: ``"float32"`` (TF32 allowed, torch's default),
    ``"float32 exact"`` (TF32 off) or the half dtype's name. ``allow_tf32`` is ``None`` in
    results recorded before the benchmark set it (cuDNN then used TF32, this kernel did not)."""
    return f"{dtype} exact" if dtype == "float32" and allow_tf32 is False else dtype


def _tf32(allowed: bool) -> contextlib.AbstractContextManager:
    """``torch.backends.cudnn.allow_tf32`` set to ``allowed`` inside, restored after: torch's
    convolutions and :mod:`convtranspose.cuda` both follow it. torch's context manager, the
    other cuDNN flags kept (a plain assignment raises once torch's test helpers are imported)."""
    cudnn = torch.backends.cudnn
    return cudnn.flags(
        enabled=cudnn.enabled,
        benchmark=cudnn.benchmark,
        deterministic=cudnn.deterministic,
        allow_tf32=allowed,
    )


def run_cuda(
    shapes: list[Shape],
    precisions: tuple[tuple[torch.dtype, bool], ...] = CUDA_PRECISIONS,
    rounds: int = 15,
    target_s: float = 0.01,
) -> dict:
    """``convtranspose.cuda.conv_transpose1d`` against torch's (cuDNN) on the current GPU."""
    from . import cuda  # imported lazily: it needs Triton, and only this mode needs it

    results = []
    for dtype, allow_tf32 in precisions:
        name = str(dtype).removeprefix("torch.")
        label = precision_label(name, allow_tf32)
        for shape in shapes:
            x, w, b = shape.tensors(dtype, "cuda")
            kw = shape.kwargs()
            functions = {"torch": F.conv_transpose1d, "convtranspose": cuda.conv_transpose1d}
            candidates = _calls(functions, (x, w, b), kw)
            with torch.no_grad(), _tf32(allow_tf32):
                exact = F.conv_transpose1d(x.double(), w.double(), b.double(), **kw)
                for who, fn in candidates.items():  # also warms up (compiles, autotunes)
                    _check(fn(), exact, who, shape, CUDA_TOLERANCE[label])
                readings = time_interleaved(candidates, rounds, target_s, cuda_clock)
                memory = {}
                for who, fn in candidates.items():
                    torch.cuda.synchronize()
                    base = torch.cuda.memory_allocated()
                    torch.cuda.reset_peak_memory_stats()
                    out = fn()
                    torch.cuda.synchronize()
                    extra = (
                        torch.cuda.max_memory_allocated() - base - out.numel() * out.element_size()
                    )
                    memory[who] = max(0, extra)
                    del out
            results.append(
                {
                    "shape": asdict(shape),
                    "dtype": name,
                    "allow_tf32": allow_tf32,
                    "flops": shape.flops,
                    "extra_memory_bytes": memory,
                    **_summary(readings, shape),
                }
            )
    return {"gpu": torch.cuda.get_device_name(), "results": results}


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def committed_report(name: str = "benchmark-cpu.json") -> dict:
    """The benchmark results committed in the book (``book/data/NAME``), found from the
    repository root or from ``notebooks/`` (where the chapters run)."""
    for root in (Path.cwd(), Path.cwd().parent):
        path = root / "book" / "data" / name
        if path.exists():
            return json.loads(path.read_text())
    raise FileNotFoundError(f"book/data/{name} not found from {Path.cwd()} or its parent")


def _ours(device: str) -> str:
    return "chosen" if device == "cpu" else "convtranspose"


def add_summary(report: dict, device: str) -> dict:
    """Geometric-mean speed-up and the slowest shape of ``ours`` against torch."""
    ratios = [r["speedup"][_ours(device)] for r in report["results"]]
    report["geomean_speedup"] = geometric_mean(ratios)
    report["min_speedup"] = min(ratios)
    if device == "cpu":
        packed = [r["speedup"]["packed"] for r in report["results"]]
        report["geomean_speedup_packed"] = geometric_mean(packed)
        report["min_speedup_packed"] = min(packed)
        names = report["results"][0]["speedup"]
        report["geomean_speedup_by_algorithm"] = {
            name: geometric_mean([r["speedup"][name] for r in report["results"]]) for name in names
        }
    return report


def format_table(report: dict, device: str) -> str:
    """The report as a fixed-width table: per shape, torch's time, ours, the ratio."""
    names = list(report["results"][0]["min_s"])
    head = f"{'shape':24}" + (f"{'dtype':>14}" if device == "cuda" else "")
    head += "".join(f"{n[:16]:>17}" for n in names) + f"{'speed-up':>10}"
    head += "  chosen" if device == "cpu" else ""
    title = "best of the interleaved readings, per call"
    title += ", caches flushed before each" if device == "cpu" else ""
    lines = [title, head, "-" * len(head)]
    for r in report["results"]:
        line = f"{r['shape']['name'][:24]:24}"
        if device == "cuda":
            line += f"{precision_label(r['dtype'], r.get('allow_tf32')):>14}"
        line += "".join(f"{r['min_s'][n] * 1e3:>14.3f} ms" for n in names)
        line += f"{r['speedup'][_ours(device)]:>9.2f}x"
        line += f"  {r['chosen']}" if device == "cpu" else ""
        lines.append(line)
    lines.append(
        f"geometric-mean speed-up over torch: {report['geomean_speedup']:.2f}x "
        f"(slowest shape {report['min_speedup']:.2f}x)"
    )
    if device == "cpu":
        lines.append(
            f"inference with the weight packed once (PackedConvTranspose1d, against "
            f"torch.nn.ConvTranspose1d): "
            f"{report['geomean_speedup_packed']:.2f}x (slowest {report['min_speedup_packed']:.2f}x)"
        )
        lines.append(f"matmul throughput: {report['matmul_gflops']:.1f} GFLOP/s")
        shares = [r["gemm_only_s"] / r["min_s"]["torch"] for r in report["results"]]
        lines.append(
            f"the matrix multiply alone (benchmark.gemm_only) as a share of torch's time: "
            f"geometric mean {geometric_mean(shares):.2f} ({min(shares):.2f} to {max(shares):.2f})"
        )
        per = ", ".join(f"{k} {v:.2f}x" for k, v in report["geomean_speedup_by_algorithm"].items())
        lines.append(f"geometric mean by algorithm: {per}")
    return "\n".join(lines)


def _machine(device: str) -> dict:
    info = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
    }
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name()
    return info


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m convtranspose.benchmark",
        description="Time convtranspose's conv_transpose1d against torch's.",
    )
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument(
        "--grid", choices=["default", "random", "misaligned"], default="default",
        help="the hand-picked realistic grid, shapes drawn at random (held out), or random "
        "shapes whose output length is not a multiple of the stride",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the random grids")
    parser.add_argument("--count", type=int, default=12, help="shapes in a random grid")
    parser.add_argument("--quick", action="store_true", help="a tiny grid, few rounds (smoke test)")
    parser.add_argument(
        "--rounds", type=int, default=None, help="interleaved readings per candidate"
    )
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    return parser.parse_args(argv)


def _grid(args: argparse.Namespace) -> list[Shape]:
    if args.quick:
        return QUICK_GRID
    if args.grid == "random":
        return random_grid(args.seed, args.count)
    if args.grid == "misaligned":
        return misaligned_grid(args.seed, args.count)
    return CPU_GRID if args.device == "cpu" else CUDA_GRID


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print the table, write the JSON; return the report."""
    args = _parse(argv)
    shapes = _grid(args)
    if args.device == "cuda":
        rounds = args.rounds or (3 if args.quick else 21)
        report = run_cuda(shapes, rounds=rounds, target_s=0.0005 if args.quick else 0.0025)
    else:
        rounds = args.rounds or (3 if args.quick else 31)
        report = run_cpu(shapes, rounds=rounds)
        report["matmul_gflops"] = matmul_gflops(256 if args.quick else 1024, 3 if args.quick else 9)
    report = {
        "device": args.device,
        "grid": "quick" if args.quick else args.grid,
        "seed": None if args.grid == "default" else args.seed,
        "rounds": rounds,
        "timing": "one call per reading, caches flushed before each"
        if args.device == "cpu"
        else "loops of calls between CUDA events",
        "machine": _machine(args.device),
        **({"baselines": BASELINES} if args.device == "cpu" else {}),
        **add_summary(report, args.device),
    }
    print(format_table(report, args.device))
    path = args.json or DEFAULT_JSON[args.device]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"results written to {path}")
    return report


if __name__ == "__main__":
    main()
