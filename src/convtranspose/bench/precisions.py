"""The precisions the CUDA benchmark compares, the same on both sides, and how to set them.

torch's float32 convolutions on Ampere and newer GPUs round their operands to TF32 while
``torch.backends.cudnn.allow_tf32`` is set (torch's default), and :mod:`convtranspose.cuda`
follows the same flag, so one setting of the flag puts both sides at one precision.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["CUDA_PRECISIONS", "CUDA_TOLERANCE", "cudnn_flags", "precision_label"]

#: What the CUDA mode times, as ``(dtype, TF32 allowed)``: float32 as torch runs it by default
#: (cuDNN and :mod:`convtranspose.cuda` both may round to TF32 on tensor cores), float32 with
#: exact products on both sides, and bfloat16.
CUDA_PRECISIONS = ((torch.float32, True), (torch.float32, False), (torch.bfloat16, True))

#: Largest error allowed against torch's float64 answer, relative to the largest output
#: magnitude, by :func:`precision_label`: TF32 keeps 10 bits of mantissa, bfloat16 8.
CUDA_TOLERANCE = {"float32": 5e-3, "float32 exact": 1e-5, "bfloat16": 3e-2}


def precision_label(dtype: str, allow_tf32: bool | None) -> str:
    """How a CUDA result was computed: ``"float32"`` (TF32 allowed, torch's default),
    ``"float32 exact"`` (TF32 off) or the half dtype's name. ``allow_tf32`` is ``None`` in
    results recorded before the benchmark set it (cuDNN then used TF32, this kernel did not)."""
    return f"{dtype} exact" if dtype == "float32" and allow_tf32 is False else dtype


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` -> ``"float32"``: the name results record."""
    return str(dtype).removeprefix("torch.")


@contextlib.contextmanager
def cudnn_flags(allow_tf32: bool, benchmark: bool | None = None) -> Iterator[None]:
    """``torch.backends.cudnn.allow_tf32`` (and, when given, ``benchmark``: cuDNN times its
    algorithms once per shape and keeps the fastest) set inside, restored after. torch's context
    manager, every other cuDNN flag kept: a plain assignment raises once torch's test helpers
    have been imported."""
    cudnn = torch.backends.cudnn
    with cudnn.flags(
        enabled=cudnn.enabled,
        benchmark=cudnn.benchmark if benchmark is None else benchmark,
        deterministic=cudnn.deterministic,
        allow_tf32=allow_tf32,
    ):
        yield
