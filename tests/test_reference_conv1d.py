"""The reference ``conv1d`` loop against ``torch.nn.functional.conv1d``."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from convtranspose import reference


@given(
    groups=st.integers(1, 3),
    c_in_per_group=st.integers(1, 2),
    c_out_per_group=st.integers(1, 2),
    kernel_size=st.integers(1, 4),
    stride=st.integers(1, 3),
    dilation=st.integers(1, 3),
    padding=st.integers(0, 3),
    extra=st.integers(0, 6),
    batch=st.sampled_from([None, 1, 2]),
    with_bias=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_conv1d_matches_torch(
    groups, c_in_per_group, c_out_per_group, kernel_size, stride, dilation, padding, extra,
    batch, with_bias, seed,
) -> None:  # fmt: skip
    length = max(1, dilation * (kernel_size - 1) + 1 - 2 * padding) + extra
    gen = torch.Generator().manual_seed(seed)
    shape = (groups * c_in_per_group, length)
    x = torch.randn(shape if batch is None else (batch, *shape), generator=gen, dtype=torch.float64)
    w = torch.randn(groups * c_out_per_group, c_in_per_group, kernel_size, generator=gen,
                    dtype=torch.float64)  # fmt: skip
    b = (
        torch.randn(groups * c_out_per_group, generator=gen, dtype=torch.float64)
        if with_bias
        else None
    )
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    torch.testing.assert_close(reference.conv1d(x, w, b, **kwargs), F.conv1d(x, w, b, **kwargs))


def test_seed_case_sliding_window() -> None:
    out = reference.conv1d(torch.ones(1, 1, 7), torch.ones(1, 1, 3))
    assert out.tolist() == [[[3.0, 3.0, 3.0, 3.0, 3.0]]]


@pytest.mark.parametrize(
    ("overrides", "exc", "pattern"),
    [
        ({"stride": 0}, RuntimeError, "stride must be >= 1"),
        ({"weight": torch.ones(1, 2, 3)}, RuntimeError, "to have 2 channels"),
        ({"input": torch.ones(1, 1, 2)}, RuntimeError, "can't be greater than the padded input"),
        ({"groups": 2}, RuntimeError, "multiple of groups"),
        ({"bias": torch.ones(2)}, RuntimeError, "bias to be 1-dimensional with 1 elements"),
    ],
)
def test_conv1d_rejects_bad_input(overrides, exc, pattern) -> None:
    call = {"input": torch.ones(1, 1, 7), "weight": torch.ones(1, 1, 3), **overrides}
    with pytest.raises(exc, match=pattern):
        reference.conv1d(**call)
    with pytest.raises((RuntimeError, ValueError)):
        F.conv1d(**call)
