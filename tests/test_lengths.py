"""``convtranspose.lengths`` against what torch's ops and layers actually return."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import convtranspose
from convtranspose.lengths import (
    conv1d_input_lengths,
    conv1d_output_length,
    effective_kernel_size,
)

kernels = st.integers(1, 5)
strides = st.integers(1, 4)
paddings = st.integers(0, 3)
dilations = st.integers(1, 3)


def torch_conv1d_length(length: int, k: int, s: int, p: int, d: int) -> int:
    x = torch.zeros(1, 1, length)
    return F.conv1d(x, torch.zeros(1, 1, k), stride=s, padding=p, dilation=d).shape[-1]


@given(st.integers(1, 20), kernels, strides, paddings, dilations)
def test_conv1d_output_length_is_torchs(length: int, k: int, s: int, p: int, d: int) -> None:
    if length + 2 * p < d * (k - 1) + 1:
        with pytest.raises(ValueError, match="does not fit"):
            conv1d_output_length(length, k, s, p, d)
    else:
        assert conv1d_output_length(length, k, s, p, d) == torch_conv1d_length(length, k, s, p, d)


@given(st.integers(1, 8), kernels, strides, paddings, dilations)
def test_input_lengths_are_exactly_the_preimage(out: int, k: int, s: int, p: int, d: int) -> None:
    lengths = conv1d_input_lengths(out, k, s, p, d)
    # every length conv1d maps to `out`, among all lengths that could possibly reach it
    window = d * (k - 1) + 1
    fitting = [n for n in range(1, s * out + window + 1) if n + 2 * p >= window]
    assert list(lengths) == [n for n in fitting if torch_conv1d_length(n, k, s, p, d) == out]


@given(st.integers(1, 8), kernels, strides, dilations)
def test_output_padding_walks_the_preimage(out: int, k: int, s: int, d: int) -> None:
    """With no padding, output_padding = 0, 1, ..., stride - 1 gives the preimage in order."""
    lengths = conv1d_input_lengths(out, k, s, 0, d)
    assert len(lengths) == s
    for r, length in enumerate(lengths):
        assert convtranspose.output_length(out, k, s, 0, r, d) == length


def test_the_chapter_table() -> None:
    """Kernel 3, stride 2: inputs 7 and 8 both give 3; the transposed conv gives 7 or 8 back."""
    assert [conv1d_output_length(n, 3, 2) for n in range(3, 11)] == [1, 1, 2, 2, 3, 3, 4, 4]
    assert list(conv1d_input_lengths(3, 3, 2)) == [7, 8]


def test_effective_kernel_size() -> None:
    assert [effective_kernel_size(3, d) for d in (1, 2, 3)] == [3, 5, 7]
    assert effective_kernel_size(1, 5) == 1


@pytest.mark.parametrize(
    "call",
    [
        lambda: conv1d_output_length(0, 3),
        lambda: conv1d_output_length(5, 3, stride=0),
        lambda: conv1d_output_length(5, 3, padding=-1),
        lambda: conv1d_input_lengths(3, 0),
        lambda: effective_kernel_size(3, dilation=0),
    ],
)
def test_out_of_range_arguments_raise(call) -> None:
    with pytest.raises(ValueError, match="must be >="):
        call()


def test_tuple_arguments_are_read_like_torch() -> None:
    assert conv1d_output_length(8, (3,), (2,), [1], (1,)) == conv1d_output_length(8, 3, 2, 1, 1)
