"""The CPU runner: every algorithm of :mod:`convtranspose.cpu`, the one its rule chooses, and
the packed inference layer, against torch, on a grid of shapes; on the shapes of the training
family, forward + backward of the package's op against torch's too.

Each reading is one call on cold caches by default (:func:`~.harness.cold_cpu_clock`). In the
same shuffled rounds as the candidates run the shape's own matrix products
(:func:`gemm_only`) and the machine's ceiling, a float32 matrix multiply of about the row's
work (:func:`~.harness.matmul_call`, :func:`~.harness.matmul_size_for`): every row reports each candidate's GFLOP/s as a fraction of
that multiply's, measured under the same load. Peak extra memory is each algorithm's
intermediates at their peak, computed from the code (:func:`convtranspose.cpu.workspace_elements`),
not measured: the CPU allocator keeps no peak statistic.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from .. import cpu
from ..cpu.packed import PACKED, PackedConvTranspose1d
from .grids import Shape, rounds_for
from .harness import (
    Clock,
    bind,
    check_close,
    check_gradients,
    cold_cpu_clock,
    forward_backward,
    gradients,
    matmul_call,
    matmul_flops,
    matmul_size_for,
    relative_error,
    time_interleaved,
)
from .overhead import package_conv_transpose1d
from .report import FORWARD, FORWARD_BACKWARD, against_matmul, summarise

__all__ = [
    "BASELINES",
    "GEMM_ONLY",
    "MATMUL",
    "OURS",
    "TOLERANCE",
    "algorithm_memory_bytes",
    "gemm_only",
    "run_cpu",
]

#: The candidate each one is compared with, where it is not torch's functional op: the packed
#: inference *module* against torch's module, ``torch.nn.ConvTranspose1d`` (both pay for
#: ``nn.Module.__call__`` and their ``forward``).
BASELINES = {"packed": "torch_module"}

#: Relative tolerance of every CPU candidate: its values against torch's (float32), its
#: gradients against torch's in float64.
TOLERANCE = 1e-4

#: The name under which the machine's ceiling (:func:`~.harness.matmul_call`) is timed beside
#: the candidates (not a candidate: recorded as ``matmul_s``, ``matmul_gflops``).
MATMUL = "matmul"

#: Readings of the ceiling per round, each in a shuffled turn of its own: a large shape gets
#: few rounds, and the ceiling is cheap (milliseconds), so it is read more often, lest one
#: unlucky reading make every fraction of the row too high.
MATMUL_READINGS = 3

#: The package's op in the forward + backward rows: ``convtranspose.conv_transpose1d``, as
#: users call it (torch's op is ``"torch"``).
OURS = FORWARD_BACKWARD

#: The names under which :func:`run_cpu` times :func:`gemm_only` (not candidates: they compute
#: only the products, not the output, and are left out of the speed-ups).
GEMM_ONLY = ("gemm_only_weight_t", "gemm_only_input_t")


def gemm_only(x: torch.Tensor, w: torch.Tensor, groups: int) -> dict[str, Callable[[], object]]:
    """The one matrix multiply every product-based formulation needs (all ``N*L x C_in/g x
    C_out/g*K`` products of chapter 9's GEMM + overlap-add), with nothing around it: no
    overlap-add, crop, bias or checks, the weight used as it lies in memory. Two layouts,
    ``W^T @ x`` and ``x^T @ W``: the matrix library is faster for one or the other depending on
    the shape. The faster one is how fast the shape's arithmetic alone runs on this machine,
    a tighter ceiling for that shape than the large square matmul of
    :func:`~.harness.matmul_gflops`."""
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


def run_cpu(
    shapes: list[Shape],
    rounds: int | None = None,
    target_s: float = 0.0,
    algorithms: bool = True,
    clock: Clock = cold_cpu_clock,
    matmul_size: int | None = None,
    ours: Callable | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Time torch, the chosen algorithm and (``algorithms``) every algorithm on each shape,
    and, in the same interleaved rounds, the shape's matrix multiply alone (:func:`gemm_only`,
    recorded as ``gemm_only_s``, not as a candidate) and the machine's ceiling (:data:`MATMUL`,
    a square matmul of side ``matmul_size``, or where ``None`` of about the row's work:
    :func:`~.harness.matmul_size_for`). On each shape of the ``"training"``
    family, also forward + backward of ``ours`` (default ``convtranspose.conv_transpose1d``)
    against torch's op, in rows of their own (``training``).

    ``rounds`` readings per candidate, or :func:`~.grids.rounds_for` each shape where
    ``None``. By default each reading is one call on cold caches
    (:func:`~.harness.cold_cpu_clock`, ``target_s = 0``: one call per reading); the clock
    :func:`~.harness.cpu_clock` with a ``target_s`` times loops of back-to-back calls
    instead, the warm-cache view. Every value and gradient is checked against torch's first:
    a disagreement raises ``AssertionError`` and nothing is timed. ``progress``, where given,
    receives a line per row as it is done. Returns ``{"results", "training"}``."""
    ours = ours or package_conv_transpose1d()
    timing = _Timing(target_s, clock, matmul_size)
    results, training = [], []
    for shape in shapes:
        n = rounds or rounds_for(shape)
        start = time.perf_counter()
        results.append(_forward_row(shape, n, algorithms, timing))
        if progress:
            progress(_progress_line(results[-1], FORWARD, time.perf_counter() - start))
        if shape.family == "training":
            start = time.perf_counter()
            training.append(_training_row(shape, n, ours, timing))
            if progress:
                progress(_progress_line(training[-1], OURS, time.perf_counter() - start))
    return {"results": results, "training": training}


def _progress_line(row: dict, ours: str, seconds: float) -> str:
    kind = "forward+backward" if ours == OURS else "forward"
    return (
        f"{row['shape']['name']} {kind}: {ours} {row['speedup'][ours]:.2f}x, "
        f"{row['matmul_fraction'][ours]:.0%} of the matmul ({row['rounds']} rounds, "
        f"{seconds:.1f} s)"
    )


def _row_head(shape: Shape, flops: int, rounds: int) -> dict:
    return {
        "shape": asdict(shape),
        "family": shape.family,
        "flops": flops,
        "multiply_adds": shape.multiply_adds,
        "large": shape.large,
        "rounds": rounds,
    }


@dataclass(frozen=True)
class _Timing:
    """How every row of a run is timed: seconds per reading, the clock, the side of the
    ceiling's matmul (``None``: by the row's work)."""

    target_s: float
    clock: Clock
    matmul_size: int | None

    def __call__(
        self, candidates: dict[str, Callable], extra: dict[str, Callable], rounds: int, flops: int
    ) -> tuple[dict[str, list[float]], dict[str, list[float]], dict]:
        """The readings of ``candidates``, those of ``extra`` (timed alongside, not
        candidates), and the ceiling's side, best time and GFLOP/s for a row of ``flops``
        (:data:`MATMUL_READINGS` turns a round): one set of shuffled rounds for all."""
        size = self.matmul_size or matmul_size_for(flops)
        matmul = matmul_call(size)
        turns = {f"{MATMUL}-{i}": matmul for i in range(MATMUL_READINGS)}
        readings = time_interleaved(candidates | extra | turns, rounds, self.target_s, self.clock)
        matmul_s = min(min(readings.pop(name)) for name in turns)
        others = {name: readings.pop(name) for name in extra}
        ceiling = {"matmul_size": size, "matmul_s": matmul_s}
        return readings, others, ceiling | {"matmul_gflops": matmul_flops(size) / matmul_s / 1e9}


def _forward_row(shape: Shape, rounds: int, algorithms: bool, timing: _Timing) -> dict:
    x, w, b = shape.tensors()
    chosen = cpu.choose_algorithm(
        shape.batch, shape.in_channels, shape.out_channels, shape.length,
        shape.kernel_size, shape.stride, shape.groups, shape.dilation,
        padding=shape.padding, output_padding=shape.output_padding,
    )  # fmt: skip
    functions = {"torch": F.conv_transpose1d, "chosen": cpu.conv_transpose1d}
    if algorithms:
        functions.update(cpu.ALGORITHMS)
    candidates = bind(functions, (x, w, b), shape.kwargs())
    # Inference with the weight packed once (made, and packed by a first call, untimed),
    # against torch's own module: both layers, both called as modules.
    layer = PackedConvTranspose1d(w, b, **shape.kwargs())
    candidates["packed"] = functools.partial(layer, x)
    candidates["torch_module"] = functools.partial(_torch_layer(shape, w, b), x)
    with torch.no_grad():
        want = candidates["torch"]()
        for name, fn in candidates.items():
            check_close(fn(), want, name, shape.name, TOLERANCE)
        gemm = gemm_only(x, w, shape.groups)
        readings, others, ceiling = timing(candidates, gemm, rounds, shape.flops)
    gemm_only_s = min(min(times) for times in others.values())
    memory = algorithm_memory_bytes(shape)
    # torch's op (functional or module) is the ``aten`` algorithm: oneDNN (its scratch
    # memory not counted: 0), or, for a batch of one with at most 20480 input elements
    # and no groups, its native path's ``C_out*K x L`` "columns" matrix.
    memory["torch"] = memory["torch_module"] = memory["aten"]
    memory["chosen"] = memory[chosen]
    route = layer.route(x)
    memory["packed"] = 0 if route == PACKED else memory[route]
    summary = summarise(readings, shape.flops, BASELINES)
    return {
        **_row_head(shape, shape.flops, rounds),
        "chosen": chosen,
        "packed_route": route,
        "extra_memory_bytes": memory,
        **summary,
        "gemm_only_s": gemm_only_s,
        "gemm_only_gflops": shape.flops / gemm_only_s / 1e9,
        **against_matmul(summary["gflops"], **ceiling),
    }


def _training_row(shape: Shape, rounds: int, ours: Callable, timing: _Timing) -> dict:
    """Forward and backward, torch's op against ``ours``: the gradients of input, weight and
    bias for one fixed random upstream gradient (:meth:`~.grids.Shape.upstream_gradient`).
    Before anything is timed, ``ours``'s gradients are checked against torch's in float64
    (each float32 side then carries only its own rounding: a weight or bias gradient sums
    ``N*L`` products); torch's own float32 error is recorded beside it (``max_error``). Its
    GFLOP/s count three times the forward's work: the forward, the input gradient and the
    weight gradient (each as many multiply-adds)."""
    x, w, b = (t.requires_grad_() for t in shape.tensors())
    grad, kw = shape.upstream_gradient(), shape.kwargs()
    exact = gradients(F.conv_transpose1d, x.double(), w.double(), b.double(), grad.double(), kw)
    steps = {
        who: forward_backward(fn, x, w, b, grad, kw)
        for who, fn in {"torch": F.conv_transpose1d, OURS: ours}.items()
    }
    case = f"{shape.name} forward+backward"
    errors = {
        "torch": max(relative_error(g, e) for g, e in zip(steps["torch"](), exact, strict=True)),
        OURS: check_gradients(steps[OURS](), exact, OURS, case, TOLERANCE),
    }
    readings, _, ceiling = timing(steps, {}, rounds, 3 * shape.flops)
    summary = summarise(readings, 3 * shape.flops)
    return {
        **_row_head(shape, 3 * shape.flops, rounds),
        "max_error": errors,
        **summary,
        **against_matmul(summary["gflops"], **ceiling),
    }
