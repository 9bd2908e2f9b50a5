"""Bad input raises a clear error, of the kind torch raises, naming the argument and the rule.

Each case is checked twice: torch's own op must reject it too (so we raise where
torch raises; integer inputs and a bias of another dtype are the deliberate
exceptions, which this package's contract rejects), and every implementation
must raise the expected exception type with a message matching the rule.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from implementations import IMPLEMENTATIONS, Implementation

X = (1, 2, 5)  # input shape of the valid call the cases perturb
W = (2, 3, 3)  # weight shape

# (id, overrides of the valid call, exception, regex the message must match, torch also rejects)
BAD = [
    ("stride-zero", {"stride": 0}, RuntimeError, r"stride must be >= 1, got 0", True),
    ("stride-negative", {"stride": -2}, RuntimeError, r"stride must be >= 1, got -2", True),
    ("stride-2-tuple", {"stride": (2, 2)}, RuntimeError, r"stride.*single integer.*\[2, 2\]", True),
    ("stride-empty", {"stride": ()}, RuntimeError, r"stride.*single integer", True),
    ("stride-float", {"stride": 1.5}, TypeError, r"'stride' must be an int", True),
    ("stride-bool", {"stride": True}, TypeError, r"'stride' must be an int", True),
    ("padding-negative", {"padding": -1}, RuntimeError, r"padding must be >= 0, got -1", True),
    ("padding-string", {"padding": "same"}, TypeError, r"'padding' must be an int", True),
    ("padding-too-large", {"padding": 10}, RuntimeError, r"output length is -13.*must be >= 1", True),
    # An output of length 0: torch raises on this batch-of-one call; with a larger float32
    # batch its oneDNN path returns an empty tensor instead. Rejected here in every case.
    ("output-length-zero", {"stride": 2, "output_padding": 1, "padding": 6}, RuntimeError, r"output length is 0.*must be >= 1", True),
    ("output-padding-negative", {"output_padding": -1}, RuntimeError, r"output_padding must be >= 0", True),
    ("output-padding-not-below-stride", {"output_padding": 1}, RuntimeError,
     r"output_padding < max\(stride, dilation\) = 1", True),
    ("output-padding-not-below-stride-or-dilation", {"output_padding": 2, "stride": 2}, RuntimeError,
     r"output_padding < max\(stride, dilation\) = 2", True),
    ("dilation-zero", {"dilation": 0}, RuntimeError, r"dilation must be >= 1, got 0", True),
    ("dilation-2-tuple", {"dilation": (1, 1)}, RuntimeError, r"dilation.*single integer", True),
    ("groups-zero", {"groups": 0}, RuntimeError, r"groups must be >= 1, got 0", True),
    ("groups-tuple", {"groups": (1,)}, TypeError, r"'groups' must be an int", True),
    ("groups-not-dividing-channels", {"groups": 3}, RuntimeError, r"groups=3.*multiple of groups", True),
    ("input-1d", {"input": (5,)}, RuntimeError, r"2D \(unbatched\) or 3D \(batched\) input", True),
    ("input-4d", {"input": (1, 2, 5, 1)}, RuntimeError, r"2D \(unbatched\) or 3D \(batched\)", True),
    ("input-empty-length", {"input": (1, 2, 0)}, RuntimeError, r"input length must be >= 1", True),
    ("input-empty-length-one-channel", {"input": (1, 1, 0), "weight": (1, 3, 3)}, RuntimeError, r"input length must be >= 1", True),
    ("weight-2d", {"weight": (2, 3)}, RuntimeError, r"weight must be 3-dimensional", True),
    ("weight-empty-kernel", {"weight": (2, 3, 0)}, RuntimeError, r"kernel size should be greater than zero", True),
    ("weight-no-outputs", {"weight": (2, 0, 3)}, RuntimeError, r"weight.shape\[1\].*must be >= 1", True),
    ("channel-mismatch", {"weight": (3, 3, 3)}, RuntimeError, r"to have 3 channels.*got 2 channels", True),
    ("bias-wrong-size", {"bias": (2,)}, RuntimeError, r"bias to be 1-dimensional with 3 elements", True),
    ("bias-2d", {"bias": (3, 1)}, RuntimeError, r"bias to be 1-dimensional with 3 elements", True),
    ("mixed-dtypes", {"weight_dtype": torch.float64}, TypeError, r"same dtype.*float32.*float64", True),
    ("bias-other-dtype", {"bias_dtype": torch.float64}, TypeError, r"same dtype", False),
    ("integer-dtype", {"dtype": torch.int64}, TypeError, r"input must be a floating-point tensor", False),
    ("complex-dtype", {"dtype": torch.complex64}, TypeError, r"input must be a floating-point tensor", False),
    ("input-not-tensor", {"input": "list"}, TypeError, r"'input' must be a Tensor", True),
]  # fmt: skip


def build_call(overrides: dict) -> tuple[tuple, dict]:
    """The valid call ``conv_transpose1d(ones(X), ones(W), ones(3))`` with ``overrides`` applied."""
    o = dict(overrides)
    dtype = o.pop("dtype", torch.float32)
    make = lambda shape, dt=dtype: torch.ones(shape, dtype=dt)  # noqa: E731
    x = [[1.0] * 5] * 2 if o.get("input") == "list" else make(o.pop("input", X))
    o.pop("input", None)
    w = make(o.pop("weight", W), o.pop("weight_dtype", dtype))
    b = make(o.pop("bias", (3,)), o.pop("bias_dtype", dtype))
    return (x, w, b), o


@pytest.mark.parametrize(("overrides", "exc", "pattern", "torch_rejects"),
                         [c[1:] for c in BAD], ids=[c[0] for c in BAD])  # fmt: skip
def test_torch_agrees_the_input_is_bad(overrides, exc, pattern, torch_rejects) -> None:
    args, kwargs = build_call(overrides)
    if torch_rejects:
        with pytest.raises((RuntimeError, TypeError, ValueError)):
            F.conv_transpose1d(*args, **kwargs)
    else:  # a deliberate, documented difference: torch's CPU op computes something here
        assert isinstance(F.conv_transpose1d(*args, **kwargs), torch.Tensor)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS, ids=str)
@pytest.mark.parametrize(("overrides", "exc", "pattern", "torch_rejects"),
                         [c[1:] for c in BAD], ids=[c[0] for c in BAD])  # fmt: skip
def test_rejects_bad_input(impl: Implementation, overrides, exc, pattern, torch_rejects) -> None:
    args, kwargs = build_call(overrides)
    args = tuple(a.to(impl.device) if isinstance(a, torch.Tensor) else a for a in args)
    with pytest.raises(exc, match=pattern):
        impl.fn(*args, **kwargs)


def test_valid_call_is_valid() -> None:
    """The call the cases perturb is itself accepted, so each case tests only its change."""
    for impl in IMPLEMENTATIONS:
        args, kwargs = build_call({})
        assert impl.fn(*args, **kwargs).shape == (1, 3, 7)
