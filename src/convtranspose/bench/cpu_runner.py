"""The CPU runner: every algorithm of :mod:`convtranspose.cpu`, the one its rule chooses, and
the packed inference layer, against torch, on a grid of shapes.

Each reading is one call on cold caches by default (:func:`~.harness.cold_cpu_clock`). Peak
extra memory is each algorithm's intermediates at their peak, computed from the code
(:func:`convtranspose.cpu.workspace_elements`), not measured: the CPU allocator keeps no peak
statistic.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict

import torch
import torch.nn.functional as F

from .. import cpu
from ..cpu.packed import PACKED, PackedConvTranspose1d
from .grids import Shape
from .harness import Clock, bind, check_close, cold_cpu_clock, time_interleaved
from .report import summarise

__all__ = ["BASELINES", "GEMM_ONLY", "algorithm_memory_bytes", "gemm_only", "run_cpu"]

#: The candidate each one is compared with, where it is not torch's functional op: the packed
#: inference *module* against torch's module, ``torch.nn.ConvTranspose1d`` (both pay for
#: ``nn.Module.__call__`` and their ``forward``).
BASELINES = {"packed": "torch_module"}

#: Relative tolerance of every CPU candidate against torch (float32).
TOLERANCE = 1e-4

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
    rounds: int = 31,
    target_s: float = 0.0,
    algorithms: bool = True,
    clock: Clock = cold_cpu_clock,
) -> dict:
    """Time torch, the chosen algorithm and (``algorithms``) every algorithm on each shape,
    and, in the same interleaved rounds, the shape's matrix multiply alone (:func:`gemm_only`,
    recorded as ``gemm_only_s``, not as a candidate).

    By default each reading is one call on cold caches (:func:`~.harness.cold_cpu_clock`,
    ``target_s = 0``: one call per reading); the clock :func:`~.harness.cpu_clock` with a
    ``target_s`` times loops of back-to-back calls instead, the warm-cache view."""
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
                **summarise(readings, shape.flops, BASELINES),
                "gemm_only_s": gemm_only_s,
                "gemm_only_gflops": shape.flops / gemm_only_s / 1e9,
            }
        )
    return {"results": results}
