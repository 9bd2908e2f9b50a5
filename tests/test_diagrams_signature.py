"""The figures of chapters 05-07 show what torch computes: checked through ``fig.drawing``."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from convtranspose.diagrams import (
    draw_channel_stamps,
    draw_dilated_kernels,
    draw_length_ambiguity,
    draw_output_padding_choices,
    draw_weight_blocks,
)


def unread_by_conv1d(length: int, k: int, s: int, p: int, d: int) -> set[int]:
    """Input samples conv1d never reads: where the gradient of its summed output is zero."""
    x = torch.ones(1, 1, length, dtype=torch.float64, requires_grad=True)
    w = torch.ones(1, 1, k, dtype=torch.float64)
    F.conv1d(x, w, stride=s, padding=p, dilation=d).sum().backward()
    return {i for i, g in enumerate(x.grad[0, 0].tolist()) if g == 0}


@pytest.mark.parametrize(
    "out, k, s, p, d", [(3, 3, 2, 0, 1), (3, 3, 3, 1, 1), (2, 3, 2, 0, 2), (4, 2, 3, 0, 1)]
)
def test_length_ambiguity_rows_are_the_preimage(out: int, k: int, s: int, p: int, d: int) -> None:
    fig = draw_length_ambiguity(out, k, s, padding=p, dilation=d)
    drawing = fig.drawing
    assert len(drawing.row_labels) == len(fig.cases) == s
    for row, case in enumerate(fig.cases):
        length = len(case.input)
        x = torch.zeros(1, 1, length)
        assert F.conv1d(x, torch.zeros(1, 1, k), stride=s, padding=p, dilation=d).shape[-1] == out
        styles = drawing.styles(row)
        assert [c for c, st in styles.items() if st == "zero"] == [
            *range(p),
            *range(p + length, 2 * p + length),
        ]
        unread = {int(c) - p for c, st in styles.items() if st == "cropped"}
        assert unread == unread_by_conv1d(length, k, s, p, d)
        read = set(range(length)) - unread
        assert len([i for i in unread if i > max(read)]) < s  # the forgotten tail: < one stride
    lengths = [len(case.input) for case in fig.cases]
    assert lengths == list(range(lengths[0], lengths[0] + s))


def test_length_ambiguity_chapter_case() -> None:
    drawing = draw_length_ambiguity(3, 3, 2).drawing
    assert drawing.row_labels == ["L_in=7 → 3", "L_in=8 → 3"]
    assert drawing.styles(1)[7] == "cropped"
    assert set(drawing.styles(0).values()) == {"input"}


@pytest.mark.parametrize(
    "length, k, s, p, d", [(2, 3, 2, 0, 1), (2, 3, 3, 1, 1), (3, 2, 1, 0, 2), (2, 4, 2, 1, 3)]
)
def test_output_padding_choices_are_torchs(length: int, k: int, s: int, p: int, d: int) -> None:
    drawing = draw_output_padding_choices(length, k, s, padding=p, dilation=d).drawing
    assert len(drawing.row_labels) == max(s, d)
    x, w = torch.ones(1, 1, length), torch.ones(1, 1, k)
    for r in range(max(s, d)):
        out = F.conv_transpose1d(x, w, stride=s, padding=p, output_padding=r, dilation=d)[0, 0]
        texts = drawing.row(r)
        assert [float(texts[t]) for t in sorted(texts)] == out.tolist()
        styles = drawing.styles(r)
        n = len(out)
        assert [c for c, st in styles.items() if st == "extra"] == list(range(n - r, n))
        assert drawing.row_labels[r] == f"output_padding={r}: L_out={n}"


@pytest.mark.parametrize("k", [1, 2, 3])
def test_dilated_kernels_are_torchs_stamps(k: int) -> None:
    dilations = (1, 2, 3)
    drawing = draw_dilated_kernels(k, dilations).drawing
    for row, d in enumerate(dilations):
        # one input of 1 stamps the kernel [1, 2, ..., k]: tap j shows up as the value j + 1
        stamp = F.conv_transpose1d(
            torch.ones(1, 1, 1), torch.arange(1.0, k + 1).view(1, 1, k), dilation=d
        )[0, 0]
        expected = {t: "0" if v == 0 else f"w{int(v) - 1}" for t, v in enumerate(stamp.tolist())}
        assert drawing.row(row) == expected
        assert drawing.row_labels[row] == f"dilation={d}: spans {len(stamp)}"


def connected_transposed(weight: torch.Tensor, groups: int) -> dict[tuple[int, int], int]:
    """``{(ci, co): j}`` read off torch: an input one-hot in channel ``ci`` outputs
    ``weight[ci, j, :]`` in every channel ``co`` it reaches."""
    c_in, c_out_g, _ = weight.shape
    found = {}
    for ci in range(c_in):
        x = torch.zeros(1, c_in, 1, dtype=weight.dtype)
        x[0, ci, 0] = 1
        out = F.conv_transpose1d(x, weight, groups=groups)[0]
        for co in range(c_out_g * groups):
            if out[co].abs().sum() > 0:
                (j,) = [j for j in range(c_out_g) if torch.equal(out[co], weight[ci, j])]
                found[ci, co] = j
    return found


def connected_conv1d(weight: torch.Tensor, groups: int) -> dict[tuple[int, int], int]:
    """``{(co, ci): j}`` read off torch: a one-sample impulse in input channel ``ci``
    under tap 0 gives ``weight[co, j, 0]`` in every output channel ``co`` it reaches."""
    c_out, c_in_g, k = weight.shape
    found = {}
    for ci in range(c_in_g * groups):
        x = torch.zeros(1, c_in_g * groups, k, dtype=weight.dtype)
        x[0, ci, 0] = 1
        out = F.conv1d(x, weight, groups=groups)[0, :, 0]
        for co in range(c_out):
            if out[co] != 0:
                (j,) = [j for j in range(c_in_g) if out[co] == weight[co, j, 0]]
                found[co, ci] = j
    return found


def filled(drawing) -> dict[tuple[int, int], int]:
    return {(c.row, int(c.col)): int(c.text) for c in drawing.cells if c.style != "empty"}


@pytest.mark.parametrize("c_in, c_out, groups", [(2, 3, 1), (4, 6, 2), (3, 3, 3), (6, 4, 2)])
def test_weight_blocks_are_torchs_connections(c_in: int, c_out: int, groups: int) -> None:
    torch.manual_seed(0)
    k = 2
    drawing = draw_weight_blocks(c_in, c_out, k, groups=groups).drawing
    weight = torch.randn(c_in, c_out // groups, k, dtype=torch.float64)
    assert filled(drawing) == connected_transposed(weight, groups)
    assert len(drawing.row_labels) == c_in and len(drawing.column_labels) == c_out

    conv = draw_weight_blocks(c_out, c_in, k, groups=groups, layer="Conv1d").drawing
    assert filled(conv) == connected_conv1d(weight, groups)  # Conv1d(c_out, c_in): same weight
    assert conv.cells == drawing.cells


def test_weight_blocks_groups_alternate_styles() -> None:
    drawing = draw_weight_blocks(4, 6, 3, groups=2).drawing
    assert set(drawing.styles(0).values()) == {"stamp", "empty"}
    assert set(drawing.styles(3).values()) == {"sum", "empty"}
    assert "weight (4, 3, 3)" in drawing.title


@pytest.mark.parametrize(
    "call",
    [
        lambda: draw_weight_blocks(3, 4, 3, groups=2),
        lambda: draw_weight_blocks(4, 4, 3, groups=0),
        lambda: draw_weight_blocks(4, 4, 3, layer="Conv2d"),
    ],
)
def test_weight_blocks_reject_bad_cases(call) -> None:
    with pytest.raises(ValueError):
        call()


@pytest.mark.parametrize("stride", [1, 2])
def test_channel_stamps_add_up_to_torchs_output(stride: int) -> None:
    """Chapter 7's case: each out[co] row is the sum of its stamp rows and equals torch's
    output channel; one stamp row per nonzero input sample per output channel."""
    weight = torch.arange(1.0, 13.0).view(2, 3, 2)
    x = [[1.0, 0.0], [0.0, 10.0]]
    fig = draw_channel_stamps(x, weight.tolist(), stride=stride)
    want = F.conv_transpose1d(torch.tensor([x]), weight, stride=stride)[0]
    assert fig.outputs == want.tolist()
    assert len(fig.drawing.row_labels) == 3 * (2 + 1)
    assert fig.drawing.row_labels[1] == "x[1,1]=10 · weight[1,0]"
    with pytest.raises(ValueError):
        draw_channel_stamps(x, weight[:1].tolist())
