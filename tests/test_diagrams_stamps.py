"""The case descriptions behind the figures, and the figures' content, against torch.

A figure is only as right as the layout it is drawn from: these tests check the
layouts of :mod:`convtranspose.diagrams` against torch on hypothesis-drawn
cases, then check that each figure draws exactly that layout (its cells' texts,
rows and shading), since nbval cannot compare images.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
import torch
from helpers import assert_renders_its_drawing, conv_cases, transposed_cases
from hypothesis import given, settings
from implementations import IMPLEMENTATIONS

import convtranspose
from convtranspose.diagrams import (
    ConvCase,
    TransposedCase,
    draw_crop,
    draw_sliding_window,
    draw_stamps,
    fmt,
)

# --- the layouts ---------------------------------------------------------------------------


@given(transposed_cases())
def test_layout_output_equals_torch(case: TransposedCase) -> None:
    assert case.output == pytest.approx(case.torch_output())
    assert len(case.output) == case.output_length
    assert case.output_length == convtranspose.output_length(
        len(case.input),
        case.kernel_size,
        case.stride,
        case.padding,
        case.output_padding,
        case.dilation,
    )


@given(transposed_cases())
def test_stamp_positions_follow_i_stride_plus_k_dilation(case: TransposedCase) -> None:
    stamps = case.stamps()
    assert len(stamps) == len(case.input)
    for i, stamp in enumerate(stamps):
        assert stamp.index == i and stamp.value == case.input[i]
        assert stamp.positions == tuple(
            i * case.stride + k * case.dilation for k in range(case.kernel_size)
        )
        assert stamp.values == tuple(case.input[i] * w for w in case.kernel)
        assert max(stamp.positions) < case.full_length


@given(transposed_cases())
def test_full_output_is_torch_without_padding(case: TransposedCase) -> None:
    """Before cropping, the full output is the same case with padding 0 (and no output_padding)."""
    uncropped = TransposedCase(case.input, case.kernel, case.stride, dilation=case.dilation)
    assert case.full[: case.covered_length] == pytest.approx(uncropped.torch_output())
    assert all(v == 0 for v in case.full[case.covered_length :])


@given(transposed_cases())
def test_crop_region(case: TransposedCase) -> None:
    start, stop = case.kept
    assert (start, stop - start) == (case.padding, case.output_length)
    assert case.cropped == tuple(range(start)) + tuple(range(stop, case.full_length))
    assert case.output == case.full[start:stop]
    assert case.output_padding_positions == tuple(
        range(max(start, stop - case.output_padding), stop)
    )


@given(transposed_cases())
def test_direct_convolution_equivalent(case: TransposedCase) -> None:
    direct = case.as_direct_convolution()
    assert direct.stride == 1 and direct.kernel == case.kernel[::-1]
    assert direct.output == pytest.approx(case.output)
    q = case.equivalent_padding
    kept = [p for p in range(len(direct.input)) if p not in direct.added_zeros]
    assert all(direct.input[p] == 0 for p in direct.added_zeros)
    assert kept == [
        q + i * case.stride
        for i in range(len(case.input))
        if q + i * case.stride in range(len(direct.input))
    ]
    assert [direct.input[p] for p in kept] == [case.input[(p - q) // case.stride] for p in kept]
    if case.equivalent_padding >= 0:
        q = case.equivalent_padding
        assert direct.input[:q] == (0.0,) * q
        assert direct.input[q : q + len(case.zero_stuffed())] == case.zero_stuffed()


@given(conv_cases())
def test_conv_case_equals_torch(case: ConvCase) -> None:
    assert case.output == pytest.approx(case.torch_output())
    for window in case.windows():
        assert window.positions[0] == window.index * case.stride


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (TransposedCase.ones(1, 3), (1, 1, 1)),
        (TransposedCase.ones(2, 3), (1, 2, 2, 1)),
        (TransposedCase.ones(2, 3, stride=4), (1, 1, 1, 0, 1, 1, 1)),
        (TransposedCase.ones(2, 3, stride=2, padding=1), (1, 2, 1)),
        (ConvCase.ones(7, 3), (3, 3, 3, 3, 3)),
    ],
    ids=["02-one", "02-two", "03-stride4", "04-padding", "01-conv"],
)
def test_seed_cases(case, expected) -> None:
    assert case.output == expected


def test_bad_cases_are_refused() -> None:
    with pytest.raises(ValueError, match="output_padding"):
        TransposedCase.ones(2, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="crops"):
        TransposedCase.ones(1, 3, padding=2)
    with pytest.raises(ValueError, match="stride"):
        TransposedCase.ones(1, 3, stride=0)
    with pytest.raises(ValueError, match="fit"):
        ConvCase.ones(2, 3)


# --- the figures ----------------------------------------------------------------------------


@settings(max_examples=10)
@given(transposed_cases())
def test_draw_stamps_draws_the_layout(case: TransposedCase) -> None:
    fig = draw_stamps(case)
    d = fig.drawing
    assert fig.case is case
    assert len(d.row_labels) == len(case.input) + 1
    for row, stamp in enumerate(case.stamps()):
        drawn = {col: text for col, text in d.row(row).items() if text}
        assert drawn == {t: fmt(v) for t, v in stamp.cells().items()}
    assert d.row(len(case.input)) == {t: fmt(v) for t, v in enumerate(case.full)}
    assert_renders_its_drawing(fig)
    plt.close(fig)


@settings(max_examples=10)
@given(transposed_cases())
def test_draw_crop_draws_the_layout(case: TransposedCase) -> None:
    fig = draw_crop(case)
    d = fig.drawing
    assert d.row(0) == {t: fmt(v) for t, v in enumerate(case.full)}
    styles = d.styles(0)
    assert {t for t, s in styles.items() if s == "cropped"} == set(case.cropped)
    assert {t for t, s in styles.items() if s == "extra"} == set(case.output_padding_positions)
    start, _ = case.kept
    assert d.row(1) == {start + t: fmt(v) for t, v in enumerate(case.output)}
    assert_renders_its_drawing(fig)
    plt.close(fig)


@settings(max_examples=10)
@given(conv_cases())
def test_draw_sliding_window_draws_the_layout(case: ConvCase) -> None:
    fig = draw_sliding_window(case)
    d = fig.drawing
    windows = case.windows()
    assert len(d.row_labels) == len(windows) + 2
    assert d.row(0) == {p: fmt(v) for p, v in enumerate(case.padded_input)}
    zeros = {p for p, style in d.styles(0).items() if style == "zero"}
    assert zeros == set(range(case.padding)) | {
        p for p in range(case.padding + len(case.input), len(case.padded_input))
    } | {case.padding + p for p in case.added_zeros}
    for row, window in enumerate(windows, start=1):
        taps = {col: text for col, text in d.row(row).items() if col == int(col) and text}
        assert taps == {p: fmt(w) for p, w in zip(window.positions, case.kernel, strict=True)}
        assert fmt(window.value) in [t for c, t in d.row(row).items() if c != int(c)]
    assert d.row(len(windows) + 1) == {t: fmt(v) for t, v in enumerate(case.output)}
    assert_renders_its_drawing(fig)
    plt.close(fig)


def test_seed_figure_exact_cells() -> None:
    """Chapter 03's picture, cell by cell."""
    fig = draw_stamps(TransposedCase([1, 2], [1, 2, 3], stride=4))
    d = fig.drawing
    assert [d.row(r).get(t, "") for r in range(3) for t in range(7)] == [
        *["1", "2", "3", "", "", "", ""],
        *["", "", "", "", "2", "4", "6"],
        *["1", "2", "3", "0", "2", "4", "6"],
    ]
    assert torch.equal(
        torch.nn.functional.conv_transpose1d(
            torch.tensor([[[1.0, 2.0]]]), torch.tensor([[[1.0, 2.0, 3.0]]]), stride=4
        ),
        torch.tensor([[[1.0, 2.0, 3.0, 0.0, 2.0, 4.0, 6.0]]]),
    )


@settings(max_examples=10)
@given(transposed_cases())
def test_run_feeds_any_implementation(case: TransposedCase) -> None:
    """``case.run`` is how the chapters put one case through every implementation."""
    for implementation in IMPLEMENTATIONS:
        if implementation.device == "cpu":
            out = case.run(implementation.fn, torch.float64)
            assert out.shape == (1, 1, case.output_length)
            assert out[0, 0].tolist() == pytest.approx(case.output), implementation.name


@settings(max_examples=10)
@given(transposed_cases())
def test_draw_direct_convolution_shades_added_zeros(case: TransposedCase) -> None:
    """Chapter 04's picture of the docs' wording: the inserted and padding zeros are
    shaded, the data samples are not, and the windows produce the transposed output."""
    direct = case.as_direct_convolution()
    fig = draw_sliding_window(direct)
    d = fig.drawing
    styles = d.styles(0)
    assert {p for p, s in styles.items() if s == "zero"} == set(direct.added_zeros)
    assert d.row(len(d.row_labels) - 1) == {t: fmt(v) for t, v in enumerate(case.output)}
    plt.close(fig)
