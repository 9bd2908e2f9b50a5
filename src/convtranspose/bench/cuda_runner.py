"""The CUDA runner: the Triton kernels of :mod:`convtranspose.cuda` against torch's (cuDNN), at
the same precision on both sides.

For every precision of :data:`~.precisions.CUDA_PRECISIONS` (float32 with TF32 allowed, exact
float32, bfloat16) and every shape, the candidates are torch's
:func:`torch.nn.functional.conv_transpose1d`, ``convtranspose`` (the module's public
:func:`convtranspose.cuda.conv_transpose1d`, checks and all) and every Triton forward variant
(:func:`triton_forward_variants`). Each is first checked against torch's float64 answer (a
candidate that disagrees, or fails, is recorded under ``failures`` and not timed; torch's op,
the baseline, is timed even where it strays past the tolerance, and recorded too), then all are
timed in the same interleaved rounds, turns shuffled (:func:`~.harness.time_interleaved`),
between CUDA events. The first call of each (the check) also compiles and autotunes it.

``training=True`` also times forward + backward (the gradients of input, weight and bias) of
torch's op and ``convtranspose``, in rows of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from .grids import Shape, hifigan_stage
from .harness import (
    Clock,
    bind,
    check_close,
    check_gradients,
    cuda_clock,
    forward_backward,
    gradients,
    time_interleaved,
)
from .precisions import CUDA_PRECISIONS, CUDA_TOLERANCE, cudnn_flags, dtype_name, precision_label
from .report import FORWARD_BACKWARD, summarise

__all__ = ["OURS", "TORCH", "run_cuda", "triton_forward_variants"]

#: The names of the two candidates every row has besides the Triton variants.
TORCH, OURS = "torch", FORWARD_BACKWARD


def triton_forward_variants() -> tuple[dict[str, Callable], str]:
    """The Triton forward kernels to time, by name, and the name of the one
    :func:`convtranspose.cuda.conv_transpose1d` uses: ``convtranspose.cuda.FORWARD_KERNELS`` and
    ``DEFAULT_FORWARD``. A ``convtranspose.cuda`` without that table (before its variants were
    added) offers its one kernel, through ``conv_transpose1d``, as ``"triton"``."""
    from .. import cuda  # imported when needed: it needs Triton, and only this runner needs it

    kernels = getattr(cuda, "FORWARD_KERNELS", None)
    if kernels is None:
        return {"triton": cuda.conv_transpose1d}, "triton"
    return dict(kernels), cuda.DEFAULT_FORWARD


def _public_cuda_op() -> Callable:
    from .. import cuda

    return cuda.conv_transpose1d


def run_cuda(
    shapes: list[Shape],
    precisions: tuple[tuple[torch.dtype, bool], ...] = CUDA_PRECISIONS,
    rounds: int = 21,
    target_s: float = 0.0025,
    variants: dict[str, Callable] | None = None,
    ours: Callable | None = None,
    training: bool = False,
    cudnn_benchmark: bool | None = None,
    device: str = "cuda",
    clock: Clock = cuda_clock,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Time torch, ``ours`` and every variant on each shape at each precision.

    ``variants`` defaults to :func:`triton_forward_variants`, ``ours`` to
    :func:`convtranspose.cuda.conv_transpose1d`; ``device`` and ``clock`` let the runner be
    driven on CPU tensors (tests). ``cudnn_benchmark`` sets ``torch.backends.cudnn.benchmark``
    for the run (``None``: left as it is). Returns ``{"results", "training", "failures"}``."""
    if variants is None:
        variants, _ = triton_forward_variants()
    ours = ours or _public_cuda_op()
    clash = {TORCH, OURS} & set(variants)
    if clash:
        raise ValueError(f"a variant may not be named {sorted(clash)}: those are the baselines")
    baselines = {TORCH: F.conv_transpose1d, OURS: ours}
    timing = _Timing(rounds, target_s, device, clock)
    results, training_rows, failures = [], [], []
    for dtype, allow_tf32 in precisions:
        label = precision_label(dtype_name(dtype), allow_tf32)
        for shape in shapes:
            with torch.no_grad(), cudnn_flags(allow_tf32, cudnn_benchmark):
                row, failed = _forward_row(shape, dtype, allow_tf32, baselines | variants, timing)
            results.append(row)
            failures += failed
            if progress:
                ratios = ", ".join(f"{n} {v:.2f}x" for n, v in row["speedup"].items())
                progress(f"{shape.name} {label}: {ratios}")
                for failure in failed:
                    progress(
                        f"FAILED {failure['candidate']} on {failure['case']}: {failure['error']}"
                    )
            if training:
                with cudnn_flags(allow_tf32, cudnn_benchmark):
                    row, failed = _training_row(shape, dtype, allow_tf32, baselines, timing)
                training_rows.append(row)
                failures += failed
                if progress:
                    ratios = ", ".join(f"{n} {v:.2f}x" for n, v in row["speedup"].items())
                    progress(f"{shape.name} {label} forward+backward: {ratios}")
    return {"results": results, "training": training_rows, "failures": failures}


def _row_head(shape: Shape, dtype: torch.dtype, allow_tf32: bool) -> dict:
    return {
        "shape": asdict(shape),
        "hifigan_stage": hifigan_stage(shape.name),
        "dtype": dtype_name(dtype),
        "allow_tf32": allow_tf32,
        "precision": precision_label(dtype_name(dtype), allow_tf32),
        "flops": shape.flops,
    }


def _checked(
    candidates: dict[str, Callable], want, compare: Callable, case: str
) -> tuple[dict[str, Callable], dict[str, float | None], list[dict]]:
    """The candidates to time, the error ``compare(got, want, who)`` found in each answer, and a
    failure record for each that disagrees (``compare`` raises ``AssertionError``) or raises.
    A candidate that fails is not timed, except torch's op, the baseline, which is timed
    whenever it runs: its disagreement is recorded (``None`` error) and the row kept."""
    kept, errors, failures = {}, {}, []
    for who, call in candidates.items():
        try:
            errors[who] = compare(call(), want, who)
        except Exception as error:  # a wrong answer, or a kernel that fails to compile or run
            message = f"{type(error).__name__}: {error}"[:500]
            failures.append({"case": case, "candidate": who, "error": message})
            if who != TORCH:
                continue
            if not isinstance(error, AssertionError):
                raise  # the baseline cannot run: nothing to compare with
            errors[who] = None
        kept[who] = call
    return kept, errors, failures


@dataclass(frozen=True)
class _Timing:
    """How every row of a run is timed: readings per candidate, seconds per reading, the
    tensors' device and the clock."""

    rounds: int
    target_s: float
    device: str
    clock: Clock


def _forward_row(
    shape: Shape, dtype: torch.dtype, allow_tf32: bool, functions: dict, timing: _Timing
) -> tuple[dict, list[dict]]:
    head = _row_head(shape, dtype, allow_tf32)
    case = f"{shape.name} {head['precision']}"
    tol = CUDA_TOLERANCE[head["precision"]]
    x, w, b = shape.tensors(dtype, timing.device)
    kw = shape.kwargs()
    exact = F.conv_transpose1d(x.double(), w.double(), b.double(), **kw)
    candidates = bind(functions, (x, w, b), kw)
    compare = lambda got, want, who: check_close(got, want, who, case, tol)  # noqa: E731
    kept, errors, failures = _checked(candidates, exact, compare, case)
    readings = time_interleaved(kept, timing.rounds, timing.target_s, timing.clock)
    row = head | {"max_error": errors} | summarise(readings, shape.flops)
    if timing.device == "cuda":
        row["extra_memory_bytes"] = {who: _extra_memory(call) for who, call in kept.items()}
    return row, failures


def _training_row(
    shape: Shape, dtype: torch.dtype, allow_tf32: bool, functions: dict, timing: _Timing
) -> tuple[dict, list[dict]]:
    """Forward and backward: the gradients of input, weight and bias for one upstream gradient,
    by :func:`torch.autograd.grad` (nothing accumulates between calls). Its GFLOP/s count three
    times the forward's work: the forward, the input gradient and the weight gradient."""
    head = _row_head(shape, dtype, allow_tf32)
    case = f"{shape.name} {head['precision']} forward+backward"
    tol = CUDA_TOLERANCE[head["precision"]]
    x, w, b = (t.requires_grad_() for t in shape.tensors(dtype, timing.device))
    kw = shape.kwargs()
    grad = shape.upstream_gradient(dtype, timing.device)
    exact = gradients(F.conv_transpose1d, x.double(), w.double(), b.double(), grad.double(), kw)
    steps = {who: forward_backward(fn, x, w, b, grad, kw) for who, fn in functions.items()}
    compare = lambda got, want, who: check_gradients(got, want, who, case, tol)  # noqa: E731
    kept, errors, failures = _checked(steps, exact, compare, case)
    readings = time_interleaved(kept, timing.rounds, timing.target_s, timing.clock)
    return head | {"max_error": errors} | summarise(readings, 3 * shape.flops), failures


def _extra_memory(call: Callable[[], torch.Tensor]) -> int:
    """Bytes a call allocates on the GPU at its peak beyond its output (0 at least)."""
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    out = call()
    torch.cuda.synchronize()
    extra = torch.cuda.max_memory_allocated() - base - out.numel() * out.element_size()
    return max(0, extra)
