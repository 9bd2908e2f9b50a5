"""``python -m convtranspose.benchmark``: this package's ``conv_transpose1d`` against torch's.

The command's entry point; the benchmark itself is the :mod:`convtranspose.bench` package
(grids, timing harness, CPU and CUDA runners, report, command line), whose public names are
re-exported here for the chapters (``benchmark.CPU_GRID``, ``benchmark.committed_report``, ...).
``python -m convtranspose.benchmark --help`` lists the flags. The exit status is 1 when a
candidate disagreed with torch (it is listed, and was not timed), 2 on a usage error.
"""

from __future__ import annotations

from .bench import *  # noqa: F403
from .bench import __all__  # noqa: F401
from .bench.cli import main

if __name__ == "__main__":
    raise SystemExit(1 if main().get("failures") else 0)
