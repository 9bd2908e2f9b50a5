"""Shared test configuration: hypothesis profiles, the GPU marker, exact float32 on GPUs,
matplotlib without a display, every figure closed after each test."""

from __future__ import annotations

import os
import sys

import matplotlib
import pytest
import torch
from browser import site_url  # noqa: F401 (the built site on localhost, a fixture)
from hypothesis import HealthCheck, settings

# CI (and `make test`) use the "ci" profile: enough examples to cover the parameter
# space, no per-example deadline (shared machines are noisy). `HYPOTHESIS_PROFILE=thorough`
# runs many more.
settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# "gpu": the native GPU run (tools/gpu_run.sh), where each new shape compiles a kernel.
settings.register_profile(
    "gpu", max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Figures are drawn without a display: set before any test module imports pyplot.
matplotlib.use("Agg")

# Without a GPU, convtranspose.cuda's Triton kernels run on CPU tensors in Triton's
# interpreter. Triton reads the variable when the kernels are defined, so it is set here,
# before any test module imports convtranspose.cuda (an explicit setting wins).
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-gpu",
        action="store_true",
        default=False,
        help="fail, instead of skip, tests marked 'gpu' when no CUDA device is present "
        "(use on GPU runners so a broken driver cannot pass silently)",
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("gpu") is None or torch.cuda.is_available():
        return
    if item.config.getoption("--require-gpu"):
        pytest.fail("--require-gpu was given but torch sees no CUDA device", pytrace=False)
    pytest.skip("needs a CUDA device (run with --require-gpu on GPU runners to fail instead)")


@pytest.fixture(autouse=True)
def exact_float32():
    """Every test compares float32 with exact references, so TF32 is off: torch's cuDNN
    convolutions and ``convtranspose.cuda`` both round float32 to TF32 on Ampere and newer
    GPUs while ``torch.backends.cudnn.allow_tf32`` is set (torch's default). The test of TF32
    itself turns it back on. A context manager, not an assignment: torch's test helpers, once
    imported, freeze the global flags. (No effect on CPU tensors.)"""
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        yield


@pytest.fixture(autouse=True)
def close_figures():
    """Every figure a test opens is closed after it (figures are kept by pyplot otherwise,
    and matplotlib warns past twenty)."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
