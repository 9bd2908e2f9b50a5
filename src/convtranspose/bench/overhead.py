"""The per-call overhead of this package's op against torch's, on a shape too small to matter.

On a tiny, warm call the arithmetic takes nanoseconds; what is left is what each call costs
around it: argument checks, dispatch, the choice of an algorithm, the launch. Both ops run
interleaved in the same rounds; each reading is the mean of a loop of calls, and the median
reading is reported, in microseconds, with the difference.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import torch.nn.functional as F
from torch import no_grad

from .grids import Shape
from .harness import Clock, bind, check_close, cpu_clock, cuda_wall_clock, time_interleaved
from .precisions import cudnn_flags

__all__ = ["OVERHEAD_SHAPE", "measure_overhead", "package_conv_transpose1d"]

#: The tiny call whose cost is all overhead: a few channels, a few samples.
OVERHEAD_SHAPE = Shape(1, 4, 4, 16, 3, 2, 1, name="tiny-warm")

#: Seconds of calls in one reading: long enough for the clock's resolution, short enough that
#: many readings fit in a fraction of a second.
READING_S = 2e-4


def package_conv_transpose1d() -> Callable:
    """``convtranspose.conv_transpose1d``, the op as users call it (whatever it routes to): the
    one place the benchmark reaches the public API, imported when measured."""
    from .. import conv_transpose1d

    return conv_transpose1d


def measure_overhead(
    ours: Callable,
    device: str = "cpu",
    rounds: int = 201,
    clock: Clock | None = None,
    shape: Shape = OVERHEAD_SHAPE,
) -> dict:
    """Median seconds per call of ``ours`` and of :func:`torch.nn.functional.conv_transpose1d` on
    ``shape`` (warm: every operand stays in cache), after checking that both agree, in
    microseconds, with ``difference_us`` = ours - torch's. ``clock`` defaults to wall-clock
    time (on CUDA with the device idle before and finished after each reading)."""
    clock = clock or (cuda_wall_clock if device == "cuda" else cpu_clock)
    x, w, b = shape.tensors(device=device)
    calls = bind({"torch": F.conv_transpose1d, "convtranspose": ours}, (x, w, b), shape.kwargs())
    with no_grad(), cudnn_flags(allow_tf32=False):  # exact float32 on both sides
        check_close(calls["convtranspose"](), calls["torch"](), "convtranspose", shape.name, 1e-5)
        readings = time_interleaved(calls, rounds, READING_S, clock)
    us = {name: statistics.median(times) * 1e6 for name, times in readings.items()}
    return {
        "device": device,
        "shape": shape.name,
        "rounds": rounds,
        "torch_us": us["torch"],
        "convtranspose_us": us["convtranspose"],
        "difference_us": us["convtranspose"] - us["torch"],
    }
