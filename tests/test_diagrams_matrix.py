"""The figures of chapters 8 and 10, checked through the data they draw (nbval cannot see images)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from convtranspose.coverage import roughness
from convtranspose.diagrams import (
    draw_coverage,
    draw_coverage_2d,
    draw_matrix_pair,
    draw_signals,
    matrix_labels,
)


@pytest.mark.parametrize(
    ("weight", "length", "arguments"),
    [
        ([1.0, 2.0, 3.0], 7, {"stride": 2}),
        ([1.0, 1.0, 1.0], 3, {"stride": 2, "padding": 1}),
        ([1.0, -1.0], 6, {"dilation": 2}),
        (torch.arange(12.0).reshape(2, 2, 3) - 5, 4, {"stride": 2, "padding": 1}),
        (torch.arange(1.0, 9.0).reshape(4, 1, 2), 3, {"groups": 2}),
    ],
)
def test_matrix_pair_draws_c_and_its_transpose(weight, length, arguments) -> None:
    fig = draw_matrix_pair(weight, length, **arguments)
    c, t = fig.matrices["conv1d"], fig.matrices["conv_transpose1d"]
    w = torch.as_tensor(weight, dtype=torch.float64)
    w = w.reshape(1, 1, -1) if w.dim() == 1 else w
    groups = arguments.get("groups", 1)
    x = torch.randn(w.shape[1] * groups, length, dtype=torch.float64)
    y = F.conv1d(x, w, **arguments)
    torch.testing.assert_close((c @ x.flatten()).reshape(y.shape), y)
    assert torch.equal(t, c.T)
    back = F.conv_transpose1d(y, w, output_padding=fig.output_padding, **arguments)
    torch.testing.assert_close((t @ y.flatten()).reshape(x.shape), back)
    left, right = fig.axes
    assert left.images[0].get_array().shape == tuple(c.shape)
    assert right.images[0].get_array().shape == tuple(t.shape)
    written = sorted(float(text.get_text()) for text in left.texts)
    assert written == sorted(v for v in c.flatten().tolist() if v != 0)


def test_channel_boundaries_are_drawn() -> None:
    """Black lines between channel blocks: none with one channel; with two input and two
    output channels, one horizontal and one vertical line per matrix, between the blocks."""
    one = draw_matrix_pair([1.0, 2.0, 3.0], 7, stride=2)
    assert all(len(ax.lines) == 0 for ax in one.axes)
    two = draw_matrix_pair(torch.ones(2, 1, 2), 4, stride=2, groups=2)  # 2 -> 2 channels
    c, t = two.axes
    l_out, length = 2, 4
    assert sorted(line.get_ydata()[0] for line in c.lines if line.get_ydata()[0] == line.get_ydata()[1]) == [l_out - 0.5]  # fmt: skip
    assert [line.get_xdata()[0] for line in c.lines if line.get_xdata()[0] == line.get_xdata()[1]] == [length - 0.5]  # fmt: skip
    assert len(t.lines) == 2


def test_matrix_labels() -> None:
    assert matrix_labels(1, 3, "x") == ["x0", "x1", "x2"]
    assert matrix_labels(2, 2, "y") == ["y0[0]", "y0[1]", "y1[0]", "y1[1]"]


def test_coverage_figure_draws_the_counts() -> None:
    pairs = [(3, 1), (3, 2), (4, 2), (2, 3)]
    fig = draw_coverage(pairs, length=4)
    for ax, pair in zip(fig.axes, pairs, strict=True):
        k, s = pair
        expected = F.conv_transpose1d(torch.ones(1, 1, 4), torch.ones(1, 1, k), stride=s)
        assert fig.coverage[pair] == [int(v) for v in expected.flatten().tolist()]
        heights = [round(bar.get_height()) for bar in ax.patches]
        assert heights == fig.coverage[pair]
    assert fig.periods == {(3, 1): [3], (3, 2): [2, 1], (4, 2): [2, 2], (2, 3): [1, 1, 0]}
    assert "max/min 2" in fig.axes[1].get_title()
    assert "∞" in fig.axes[3].get_title()
    with pytest.raises(ValueError):
        draw_coverage([])


def test_2d_coverage_figure_is_torchs_2d_count() -> None:
    """Each panel shows what a 2-d transposed convolution of ones with a kernel of ones
    gives: the count of taps per output pixel (the checkerboard for kernel 3, stride 2)."""
    pairs = [(3, 2), (4, 2)]
    fig = draw_coverage_2d(pairs, length=5)
    for ax, (k, s) in zip(fig.axes, pairs, strict=True):
        ones = F.conv_transpose2d(torch.ones(1, 1, 5, 5), torch.ones(1, 1, k, k), stride=s)
        assert fig.coverage[(k, s)] == ones[0, 0].int().tolist()
        assert ax.images[0].get_array().tolist() == fig.coverage[(k, s)]
    interior = [row[2:-2] for row in fig.coverage[(3, 2)][2:-2]]
    assert {v for row in interior for v in row} == {1, 2, 4}  # the checkerboard's counts
    with pytest.raises(ValueError):
        draw_coverage_2d([])


def test_signals_figure_draws_the_values_and_their_roughness() -> None:
    signals = {"flat": [1.0] * 6, "ripple": [1.0, 2.0] * 4}
    fig = draw_signals(signals, trim=1)
    for ax, (name, values) in zip(fig.axes, signals.items(), strict=True):
        assert list(ax.lines[0].get_ydata()) == values
        assert fig.signals[name] == values
        assert fig.roughness[name] == roughness(torch.tensor(values), 1)
        assert f"{fig.roughness[name]:.3f}" in ax.get_title()
    with pytest.raises(ValueError):
        draw_signals({})
