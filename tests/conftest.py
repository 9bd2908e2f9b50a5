"""Shared test configuration: hypothesis profiles and the GPU marker."""

from __future__ import annotations

import os

import pytest
import torch
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
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

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
