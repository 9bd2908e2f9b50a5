"""Part V's figures and the photograph helpers, checked through what they drew."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from convtranspose.diagrams import draw_crop_2d, draw_stamps_2d, draw_upsampled
from convtranspose.images import phase_means, sample_photo


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@given(
    st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
    st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**31 - 1),
)  # fmt: skip
def test_stamps_add_up_to_torchs_output(h, w, kh, kw, sh, sw, seed) -> None:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(-3, 4, (h, w), generator=gen).double()
    k = torch.randint(-3, 4, (kh, kw), generator=gen).double()
    fig = draw_stamps_2d(x.tolist(), k.tolist(), stride=(sh, sw))
    expected = F.conv_transpose2d(x[None, None], k[None, None], stride=(sh, sw))[0, 0]
    assert fig.sum == expected.tolist()
    assert len(fig.stamps) == h * w
    for (i, j), stamp in fig.stamps.items():
        one = torch.zeros_like(x)
        one[i, j] = x[i, j]
        assert (
            stamp
            == F.conv_transpose2d(one[None, None], k[None, None], stride=(sh, sw))[0, 0].tolist()
        )
    # the drawing's sum panel holds torch's output, cell for cell, and each stamp's panel
    # holds that stamp's nonzero values
    height, width = expected.shape
    top, left = fig.panels["sum"]
    for t in range(height):
        row = fig.drawing.row(top + t)
        assert [row[left + u] for u in range(width)] == [str(int(v)) for v in expected[t].tolist()]
    for (i, j), stamp in fig.stamps.items():
        top, left = fig.panels[f"x[{i},{j}] = {int(x[i, j])}"]
        for t in range(height):
            row = fig.drawing.row(top + t)
            drawn = [row[left + u] for u in range(width)]
            assert drawn == [str(int(v)) if v else "" for v in stamp[t]]
    plt.close("all")


@given(
    st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
    st.integers(1, 3), st.integers(1, 3), st.data(),
)  # fmt: skip
def test_crop_keeps_what_torch_returns(h, w, kh, kw, sh, sw, data) -> None:
    oh, ow = data.draw(st.integers(0, sh - 1)), data.draw(st.integers(0, sw - 1))
    full_h, full_w = (h - 1) * sh + kh, (w - 1) * sw + kw
    ph = data.draw(st.integers(0, (full_h + oh - 1) // 2))
    pw = data.draw(st.integers(0, (full_w + ow - 1) // 2))
    kwargs = {"stride": (sh, sw), "padding": (ph, pw), "output_padding": (oh, ow)}
    fig = draw_crop_2d((h, w), (kh, kw), **kwargs)
    ones = torch.ones(1, 1, h, w, dtype=torch.float64)
    expected = F.conv_transpose2d(ones, torch.ones(1, 1, kh, kw, dtype=torch.float64), **kwargs)
    assert fig.output == expected[0, 0].tolist()
    (r0, r1), (c0, c1) = fig.kept
    assert [row[c0:c1] for row in fig.full[r0:r1]] == fig.output
    styles = {(c.row, c.col): c.style for c in fig.drawing.cells}
    assert sum(s != "cropped" for s in styles.values()) == expected.numel()
    extra = {(t, u) for (t, u), s in styles.items() if s == "extra"}
    assert len(extra) == expected.numel() - max(0, r1 - r0 - oh) * max(0, c1 - c0 - ow)
    plt.close("all")


def test_photo_is_grey_and_square() -> None:
    photo = sample_photo(64)
    assert photo.shape == (64, 64) and photo.dtype == torch.float64
    assert 0 <= photo.min() < photo.max() <= 1


def test_phase_means_see_a_checkerboard() -> None:
    flat = torch.ones(8, 8)
    assert phase_means(flat, 2) == [[1.0, 1.0], [1.0, 1.0]]
    board = torch.tensor([[4.0, 2.0], [2.0, 1.0]]).repeat(4, 4)
    assert phase_means(board, 2) == [[16 / 9, 8 / 9], [8 / 9, 4 / 9]]
    with pytest.raises(ValueError, match="multiples of stride=3"):
        phase_means(flat, 3)


def test_upsampled_keeps_its_pixels_and_phase_means() -> None:
    photo = sample_photo(32)
    big = photo.repeat_interleave(2, 0).repeat_interleave(2, 1)
    fig = draw_upsampled({"photo": photo, "nearest": big}, window=(slice(8, 24), slice(0, 16)))
    assert fig.pixels["nearest"] == big[8:24, 0:16].tolist()
    assert fig.pixels["photo"] == photo[4:12, 0:8].tolist()
    assert [v for row in fig.phase_means["nearest"] for v in row] == pytest.approx([1.0] * 4)
