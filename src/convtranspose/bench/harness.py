"""How the benchmark times and checks a call, so that a noisy shared machine cannot fake a speed-up.

- Every result is first checked against torch's (:func:`check_close`; the gradients of a
  forward + backward step by :func:`check_gradients`): a wrong answer is never timed.
- The candidates run *interleaved*, round after round, so that a burst of load from another
  process hits them all alike, in a new (seeded) order every round (:func:`time_interleaved`).
- On the CPU each reading is by default one call on *cold caches* (:func:`cold_cpu_clock`): a
  buffer larger than the caches is written before every timed call, so weights and inputs come
  from memory, as for a layer inside a network. On CUDA, time comes from CUDA events around a
  loop of calls (:func:`cuda_clock`).

The machine's ceiling is a float32 matrix multiply (:func:`matmul_call`) of about the work of the
call it is compared with (:func:`matmul_size_for`), timed in the same shuffled rounds as the
candidates, so that it sees the same load.

A *clock* is a function ``clock(call, loops) -> seconds`` that times ``loops`` calls of the
zero-argument ``call``; the runners pick one per device, and tests can pass their own.
"""

from __future__ import annotations

import functools
import random
import statistics
import time
from collections.abc import Callable

import torch

__all__ = [
    "FLUSH_BYTES",
    "MATMUL_SIZES",
    "Clock",
    "bind",
    "check_close",
    "check_gradients",
    "cold_cpu_clock",
    "cpu_clock",
    "cuda_clock",
    "cuda_wall_clock",
    "flush_caches",
    "forward_backward",
    "gradients",
    "matmul_call",
    "matmul_flops",
    "matmul_gflops",
    "matmul_size_for",
    "relative_error",
    "time_interleaved",
]

#: ``clock(call, loops)``: seconds taken by ``loops`` calls of ``call``.
Clock = Callable[[Callable[[], object], int], float]


def bind(functions: dict[str, Callable], args: tuple, kwargs: dict) -> dict[str, Callable]:
    """Each function bound to the same arguments: the zero-argument calls a clock times."""
    return {name: functools.partial(fn, *args, **kwargs) for name, fn in functions.items()}


def relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    """The largest difference between ``got`` and ``want``, relative to the largest magnitude
    in ``want`` (so one tolerance serves outputs of any scale)."""
    scale = want.abs().max().item() or 1.0
    return (got.double() - want.double()).abs().max().item() / scale


def check_close(got: torch.Tensor, want: torch.Tensor, who: str, case: str, tol: float) -> float:
    """The :func:`relative_error` of ``got``; raises ``AssertionError`` naming the candidate
    ``who`` and the ``case`` when the shapes differ or the error exceeds ``tol`` (a ``nan``
    exceeds every tolerance)."""
    if got.shape != want.shape:
        raise AssertionError(
            f"{who} disagrees with torch on {case}: shape {tuple(got.shape)} vs {tuple(want.shape)}"
        )
    err = relative_error(got, want)
    if not err <= tol:
        raise AssertionError(
            f"{who} disagrees with torch on {case}: max error {err:.3g} of the largest value "
            f"(tolerance {tol})"
        )
    return err


def gradients(fn: Callable, x, w, b, grad: torch.Tensor, kwargs: dict) -> tuple:
    """The gradients of input, weight and bias of ``fn(x, w, b, **kwargs)`` for the upstream
    gradient ``grad``, by :func:`torch.autograd.grad`: the work of ``out.backward(grad)``,
    with nothing accumulated in ``.grad`` between calls."""
    return torch.autograd.grad(fn(x, w, b, **kwargs), (x, w, b), grad)


def forward_backward(
    fn: Callable, x, w, b, grad: torch.Tensor, kwargs: dict
) -> Callable[[], tuple]:
    """One training step of ``fn`` as a zero-argument call: forward, then :func:`gradients`."""
    return functools.partial(gradients, fn, x, w, b, grad, kwargs)


def check_gradients(got: tuple, want: tuple, who: str, case: str, tol: float) -> float:
    """The largest :func:`relative_error` of the gradients ``got`` (input, weight, bias)
    against ``want``; raises ``AssertionError`` naming ``who``, the gradient and the ``case``
    (through :func:`check_close`) where one disagrees."""
    names = ("input", "weight", "bias")
    return max(
        check_close(g, e, f"{who} ({n} gradient)", case, tol)
        for g, e, n in zip(got, want, names, strict=True)
    )


def _loops_for(fn: Callable[[], object], target_s: float, clock: Clock) -> int:
    """How many calls make one reading last about ``target_s`` seconds (at least one, at most
    1000), from one call timed with ``clock``."""
    once = max(clock(fn, 1), 1e-7)
    return max(1, min(1000, int(target_s / once)))


def time_interleaved(
    candidates: dict[str, Callable[[], object]], rounds: int, target_s: float, clock: Clock
) -> dict[str, list[float]]:
    """Seconds per call of each candidate, one reading per round, the candidates taking turns so
    that background load hits them all alike, in a new order every round (shuffled with a fixed
    seed: the same orders on every run).

    Not a fixed rotation: each candidate would then nearly always run right after the same
    neighbour, and what the neighbour leaves behind matters. Memory it has just freed can be
    handed out again without the operating system mapping fresh pages, so a candidate that
    follows one with an output of its own size starts warmer."""
    names = list(candidates)
    loops = {name: _loops_for(candidates[name], target_s, clock) for name in names}
    readings: dict[str, list[float]] = {name: [] for name in names}
    order = random.Random(0)
    for _ in range(rounds):
        for name in order.sample(names, len(names)):
            readings[name].append(clock(candidates[name], loops[name]) / loops[name])
    return readings


def cpu_clock(fn: Callable[[], object], loops: int) -> float:
    """Wall-clock seconds of ``loops`` back-to-back calls (warm caches)."""
    start = time.perf_counter()
    for _ in range(loops):
        fn()
    return time.perf_counter() - start


#: Bytes written between two timed calls by :func:`cold_cpu_clock`: twice a 32 MiB last-level
#: cache, enough to evict every operand.
FLUSH_BYTES = 64 << 20


@functools.cache
def _flush_buffer() -> torch.Tensor:
    return torch.zeros(FLUSH_BYTES // 4)


def flush_caches() -> None:
    """Write a buffer larger than the CPU's caches, evicting every operand of the last call."""
    _flush_buffer().add_(1.0)


def cold_cpu_clock(fn: Callable[[], object], loops: int) -> float:
    """Seconds of ``loops`` calls, each timed alone after :func:`flush_caches`: the weights and
    inputs come from memory, as they do for a layer inside a network (between two calls of one
    layer, every other layer's weights pass through the cache). Timing a loop of back-to-back
    calls instead keeps a large weight in the cache and flatters whichever candidate reads it
    most often."""
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


def cuda_wall_clock(fn: Callable[[], object], loops: int) -> float:
    """Wall-clock seconds of ``loops`` calls on CUDA tensors, the device idle before and finished
    after: on a shape too small to keep the GPU busy this is what each call costs the CPU (checks,
    dispatch, launch), the per-call overhead."""
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(loops):
        fn()
    torch.cuda.synchronize()
    return time.perf_counter() - start


#: The smallest and largest side of the square float32 matrix multiply that stands for the
#: machine's ceiling (:func:`matmul_size_for`): from a size the matrix library already runs
#: near its best on two cores, to one of about 2 GFLOP (operands of 4 MiB each).
MATMUL_SIZES = (256, 1024)


def matmul_size_for(flops: int) -> int:
    """The side of the square matmul to time beside a call of ``flops`` floating-point
    operations: about as much work (a multiple of 64, within :data:`MATMUL_SIZES`). A call
    that lasts longer is more often interrupted on a busy machine, so a ceiling of the call's
    own size is hit by load alike; a large call is still compared with a matmul the matrix
    library runs at its best."""
    side = round((flops / 2) ** (1 / 3) / 64) * 64
    return max(MATMUL_SIZES[0], min(MATMUL_SIZES[1], side))


def matmul_flops(size: int = MATMUL_SIZES[1]) -> int:
    """Floating-point operations of one :func:`matmul_call`: ``2 * size**3``."""
    return 2 * size**3


def matmul_call(size: int = MATMUL_SIZES[1], seed: int = 0) -> Callable[[], torch.Tensor]:
    """A ``size x size`` float32 matrix multiply, as a zero-argument call to time beside the
    candidates: the ceiling an algorithm built on matrix products can approach on this
    machine."""
    gen = torch.Generator().manual_seed(seed)
    a, b = torch.randn(size, size, generator=gen), torch.randn(size, size, generator=gen)
    return functools.partial(torch.matmul, a, b)


def matmul_gflops(size: int = MATMUL_SIZES[1], rounds: int = 7) -> float:
    """This machine's float32 matrix-multiply throughput (GFLOP/s, median of ``rounds``
    warm readings of :func:`matmul_call`), measured on its own."""
    readings = time_interleaved({"mm": matmul_call(size)}, rounds, 0.05, cpu_clock)["mm"]
    return matmul_flops(size) / statistics.median(readings) / 1e9
