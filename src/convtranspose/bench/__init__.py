"""The benchmark behind ``python -m convtranspose.benchmark``: this package's ``conv_transpose1d``
against torch's, one duty per module.

- :mod:`.grids`: the shapes and their families (inference, training; realistic grids, a quick
  one, held-out random ones), the rounds each shape gets;
- :mod:`.harness`: the clocks, interleaved readings in shuffled turns, the value and gradient
  checks, the matrix multiply that stands for the machine's ceiling;
- :mod:`.precisions`: the CUDA precisions, alike on both sides, and the cuDNN flags;
- :mod:`.cpu_runner`: every CPU algorithm, the rule's choice and the packed layer against torch,
  and forward + backward on the training shapes;
- :mod:`.cuda_runner`: every Triton forward variant against cuDNN, per precision;
- :mod:`.overhead`: the per-call overhead of the op against torch's on a tiny warm shape;
- :mod:`.report`: per-shape summaries, geometric means, families, issue 19's goals, the table;
- :mod:`.cli`: the command line.
"""

from __future__ import annotations

from .cli import OUTPUT_DIR, main
from .cpu_runner import BASELINES, GEMM_ONLY, algorithm_memory_bytes, gemm_only, run_cpu
from .cuda_runner import run_cuda, triton_forward_variants
from .grids import (
    CPU_GRID,
    CPU_INFERENCE_GRID,
    CPU_TRAINING_GRID,
    CUDA_GRID,
    FAMILIES,
    LARGE_MULTIPLY_ADDS,
    QUICK_GRID,
    Shape,
    hifigan_stage,
    misaligned_grid,
    random_grid,
    random_training_grid,
    rounds_for,
)
from .harness import (
    FLUSH_BYTES,
    MATMUL_SIZES,
    cold_cpu_clock,
    cpu_clock,
    cuda_clock,
    flush_caches,
    matmul_call,
    matmul_gflops,
    matmul_size_for,
    time_interleaved,
)
from .overhead import measure_overhead
from .precisions import CUDA_PRECISIONS, CUDA_TOLERANCE, cudnn_flags, precision_label
from .report import (
    GOALS,
    add_cpu_summary,
    add_cuda_summary,
    committed_report,
    format_table,
    geometric_mean,
    goals,
    summarise,
)

__all__ = [
    "BASELINES",
    "CPU_GRID",
    "CPU_INFERENCE_GRID",
    "CPU_TRAINING_GRID",
    "CUDA_GRID",
    "CUDA_PRECISIONS",
    "CUDA_TOLERANCE",
    "FAMILIES",
    "FLUSH_BYTES",
    "GEMM_ONLY",
    "GOALS",
    "LARGE_MULTIPLY_ADDS",
    "MATMUL_SIZES",
    "OUTPUT_DIR",
    "QUICK_GRID",
    "Shape",
    "add_cpu_summary",
    "add_cuda_summary",
    "algorithm_memory_bytes",
    "cold_cpu_clock",
    "committed_report",
    "cpu_clock",
    "cuda_clock",
    "cudnn_flags",
    "flush_caches",
    "format_table",
    "gemm_only",
    "geometric_mean",
    "goals",
    "hifigan_stage",
    "main",
    "matmul_call",
    "matmul_gflops",
    "matmul_size_for",
    "measure_overhead",
    "misaligned_grid",
    "precision_label",
    "random_grid",
    "random_training_grid",
    "rounds_for",
    "run_cpu",
    "run_cuda",
    "summarise",
    "time_interleaved",
    "triton_forward_variants",
]
