"""``convtranspose.shapes``, the one home of the length formulas, against torch's ops."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from convtranspose import shapes

lengths, kernels, strides = st.integers(1, 9), st.integers(1, 5), st.integers(1, 4)
paddings, dilations = st.integers(0, 3), st.integers(1, 3)


def landings(length: int, k: int, s: int, p: int, d: int) -> torch.Tensor:
    """Where each tap lands, from torch's own op: row ``k`` is the output of a kernel that
    is one at tap ``k`` and zero elsewhere (nonzero where tap ``k`` of some input lands)."""
    x = torch.ones(1, 1, length, dtype=torch.float64)
    out = []
    for tap in range(k):
        w = torch.zeros(1, 1, k, dtype=torch.float64)
        w[..., tap] = 1
        out.append(F.conv_transpose1d(x, w, stride=s, padding=p, dilation=d)[0, 0])
    return torch.stack(out)  # (taps, L_out): 1 where the tap lands


@given(lengths, kernels, strides, paddings, dilations)
def test_phase_taps_are_where_torch_lands_each_tap(length, k, s, p, d) -> None:
    assume(shapes.stamp_span(length, k, s, d) - 2 * p >= 1)
    reached = landings(length, k, s, p, d)
    taps = shapes.phase_taps(k, s, p, d)
    for tap in range(k):
        phases = {t % s for t in reached[tap].nonzero().flatten().tolist()}
        claimed = {r for r in range(s) if tap in taps[r]}
        assert phases <= claimed
        if p == 0:  # nothing cropped: every claimed phase is reached
            assert phases == claimed


@given(lengths, kernels, strides, dilations, st.integers(0, 3))
def test_stamp_span_and_output_length_are_torchs(length, k, s, d, extra) -> None:
    """With no padding, torch's output is the stamps' span plus ``output_padding``."""
    output_padding = extra % max(s, d)
    x, w = torch.ones(1, 1, length), torch.ones(1, 1, k)
    got = F.conv_transpose1d(x, w, stride=s, output_padding=output_padding, dilation=d)
    assert got.shape[-1] == shapes.stamp_span(length, k, s, d) + output_padding
    assert got.shape[-1] == shapes.transposed_length(length, k, s, 0, output_padding, d)
    assert shapes.output_length(length, k, s, 0, output_padding, d) == got.shape[-1]


@given(lengths, kernels, strides, paddings, dilations)
def test_conv1d_length_is_torchs(length, k, s, p, d) -> None:
    expected = shapes.conv1d_length(length, k, s, p, d)
    if length + 2 * p < shapes.kernel_span(k, d):
        assert expected < 1
        return
    got = F.conv1d(torch.ones(1, 1, length), torch.ones(1, 1, k), stride=s, padding=p, dilation=d)
    assert got.shape[-1] == expected


@given(kernels, strides, dilations)
def test_subpixel_rows_hold_the_dilated_kernel(k, s, d) -> None:
    """Rows of ``stride`` positions: enough for the dilated kernel, one fewer is not."""
    rows = shapes.subpixel_rows(k, s, d)
    assert (rows - 1) * s < shapes.kernel_span(k, d) <= rows * s
    assert shapes.rows_of(shapes.kernel_span(k, d), s) == rows


@given(kernels, strides, dilations)
def test_taps_of_a_phase_are_one_step_apart(k, s, d) -> None:
    for taps in filter(None, shapes.phase_taps(k, s, 0, d)):
        assert taps == list(range(taps[0], k, shapes.tap_step(s, d)))
