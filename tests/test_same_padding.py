"""``convtranspose.lengths.same_padding`` against the lengths torch's op returns."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convtranspose.lengths import same_padding

KERNELS, STRIDES, DILATIONS, LENGTHS = range(1, 8), range(1, 5), range(1, 4), range(1, 9)


def torch_length(length: int, k: int, s: int, p: int, o: int, d: int) -> int | None:
    """The output length of torch's op, or None where torch rejects the arguments."""
    try:
        x, w = torch.zeros(1, 1, length), torch.zeros(1, 1, k)
        return F.conv_transpose1d(x, w, stride=s, padding=p, output_padding=o, dilation=d).shape[-1]
    except RuntimeError:
        return None


def keeps_the_ratio(k: int, s: int, d: int, p: int, o: int) -> bool:
    return all(torch_length(n, k, s, p, o, d) == s * n for n in LENGTHS)


@pytest.mark.parametrize(("k", "s", "d"), list(itertools.product(KERNELS, STRIDES, DILATIONS)))
def test_same_padding_gives_stride_times_the_length(k: int, s: int, d: int) -> None:
    """Where a choice exists, ours is the one with the least padding that torch accepts and
    that gives ``stride * L_in`` for every length; where it raises, none of all the
    ``(padding, output_padding)`` torch accepts does."""
    candidates = [
        (p, o) for p in range(d * k + 1) for o in range(max(s, d)) if keeps_the_ratio(k, s, d, p, o)
    ]
    if candidates:
        assert same_padding(k, s, d) == min(candidates)
    else:
        with pytest.raises(ValueError, match=r"no \(padding, output_padding\).*odd kernel_size"):
            same_padding(k, s, d)


def test_the_chapter_cases() -> None:
    assert same_padding(4, 2) == (1, 0)  # the DCGAN layer
    assert same_padding(3, 2) == (1, 1)
    assert same_padding(kernel_size=5, stride=2, dilation=1) == (2, 1)


def test_tuple_and_numpy_arguments_are_read_like_torch() -> None:
    assert same_padding((3,), [2], np.int64(1)) == same_padding(3, 2, 1)


@pytest.mark.parametrize(
    ("kwargs", "exc", "pattern"),
    [
        ({"kernel_size": 0, "stride": 2}, ValueError, r"kernel_size must be >= 1, got 0"),
        ({"kernel_size": 3, "stride": 0}, ValueError, r"stride must be >= 1, got 0"),
        ({"kernel_size": 3, "stride": 2, "dilation": -1}, ValueError, r"dilation must be >= 1"),
        ({"kernel_size": 3.0, "stride": 2}, TypeError, r"'kernel_size' must be an int"),
        ({"kernel_size": 3, "stride": "2"}, TypeError, r"'stride' must be an int"),
        (
            {"kernel_size": 3, "stride": 2, "dilation": True},
            TypeError,
            r"'dilation' must be an int",
        ),
        ({"kernel_size": None, "stride": 2}, TypeError, r"'kernel_size' must be an int"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, exc, pattern) -> None:
    with pytest.raises(exc, match=pattern):
        same_padding(**kwargs)
