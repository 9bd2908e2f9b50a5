"""The frequency view (chapter 15) against chapter 10's phase sums and against torch."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from convtranspose import conv_transpose1d
from convtranspose.coverage import period_coverage, resize_convolution
from convtranspose.spectral import (
    checkerboard_free,
    dilated,
    frequency_response,
    icnr_,
    image_frequencies,
    image_response,
    insert_zeros,
    interpolation_kernel,
    phase_sums,
    pixel_shuffle1d,
    resize_kernel,
)

small_kernels = st.lists(st.integers(-3, 3), min_size=1, max_size=9)


@given(small_kernels, st.integers(1, 5), st.integers(1, 3))
def test_response_condition_is_equal_phase_sums(kernel, stride, dilation) -> None:
    """Zeros of the response at 2*pi*j/s <=> chapter 10's phase sums are all equal."""
    taps = [float(v) for v in kernel]
    sums = phase_sums(taps, stride, dilation)
    assert checkerboard_free(taps, stride, dilation) == (max(sums) == min(sums))


@given(small_kernels, st.integers(1, 5), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_response_condition_is_a_constant_output(kernel, stride, dilation, seed) -> None:
    """The condition, read off torch: a constant input gives a constant middle exactly when
    the response vanishes at the image frequencies."""
    w = torch.tensor(kernel, dtype=torch.float64).reshape(1, 1, -1)
    span = dilation * (w.shape[-1] - 1)
    level = float(torch.randint(1, 5, (1,), generator=torch.Generator().manual_seed(seed)))
    out = F.conv_transpose1d(
        torch.full((1, 1, 12), level, dtype=torch.float64), w, stride=stride, dilation=dilation
    )[0, 0]
    middle = out[span : out.numel() - span]
    assume(middle.numel() >= stride)
    constant = bool((middle == middle[0]).all())
    assert checkerboard_free(kernel, stride, dilation) == constant


@pytest.mark.parametrize("kernel_size", range(1, 10))
@pytest.mark.parametrize("stride", range(1, 6))
def test_ones_kernel_predicts_even_coverage(kernel_size, stride) -> None:
    """Chapter 10's table: a kernel of ones is free exactly when the coverage is even."""
    even = len(set(period_coverage(kernel_size, stride))) == 1
    assert checkerboard_free([1.0] * kernel_size, stride) == even


@given(st.lists(st.floats(-4, 4), min_size=1, max_size=9), st.integers(1, 6))
def test_image_response_is_the_dft_of_the_phase_sums(kernel, stride) -> None:
    sums = torch.tensor(phase_sums(kernel, stride), dtype=torch.float64)
    expected = torch.fft.fft(sums)[1:]
    assert torch.allclose(image_response(kernel, stride), expected, atol=1e-9)


@given(st.lists(st.floats(-4, 4), min_size=1, max_size=7), st.integers(8, 40))
def test_frequency_response_is_the_sum_of_taps(kernel, n) -> None:
    omega, response = frequency_response(kernel, n)
    w = torch.tensor(kernel, dtype=torch.float64)
    k = torch.arange(len(kernel), dtype=torch.float64)
    direct = (w[None, :] * torch.exp(-1j * omega[:, None] * k[None, :])).sum(1)
    assert torch.allclose(response, direct, atol=1e-9)


def test_image_frequencies() -> None:
    assert image_frequencies(1) == []
    assert image_frequencies(4) == [math.pi / 2, math.pi, 3 * math.pi / 2]
    with pytest.raises(ValueError, match="stride"):
        image_frequencies(0)


@given(st.integers(1, 10), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_insertion_then_filter_is_the_transposed_convolution(length, stride, seed) -> None:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 1, length, generator=gen, dtype=torch.float64)
    w = torch.randn(1, 1, 4, generator=gen, dtype=torch.float64)
    spread = insert_zeros(x, stride)
    assert spread.shape[-1] == (length - 1) * stride + 1
    filtered = F.conv1d(F.pad(spread, (3, 3)), w.flip(-1))
    assert torch.allclose(filtered, F.conv_transpose1d(x, w, stride=stride))


@given(st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_insertion_makes_images(stride, seed) -> None:
    """The inserted signal's spectrum is the input's, repeated stride times (periodic view)."""
    x = torch.randn(8, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    spread = F.pad(insert_zeros(x, stride), (0, stride - 1))  # length 8*stride
    assert torch.allclose(torch.fft.fft(spread), torch.fft.fft(x).repeat(stride))


def test_a_kernel_is_one_kernel() -> None:
    with pytest.raises(ValueError, match="one kernel"):
        checkerboard_free(torch.ones(2, 1, 3), 2)
    with pytest.raises(ValueError, match="at least one tap"):
        frequency_response([])


def test_dilated() -> None:
    assert dilated([1.0, 2.0, 3.0], 2).tolist() == [1.0, 0.0, 2.0, 0.0, 3.0]


@pytest.mark.parametrize("stride", [1, 2, 3, 4, 5])
def test_interpolation_kernels_against_torch(stride) -> None:
    x = torch.randn(1, 1, 11, generator=torch.Generator().manual_seed(stride), dtype=torch.float64)
    size = (x.shape[-1] - 1) * stride + 1
    w, p = interpolation_kernel("nearest", stride)
    nearest = F.interpolate(x, scale_factor=stride, mode="nearest")
    assert torch.allclose(F.conv_transpose1d(x, w, stride=stride, padding=p), nearest)
    w, p = interpolation_kernel("linear", stride)
    linear = F.interpolate(x, size=size, mode="linear", align_corners=True)
    assert torch.allclose(F.conv_transpose1d(x, w, stride=stride, padding=p), linear)
    w, p = interpolation_kernel("cubic", stride)
    cubic = F.interpolate(x[:, :, None], size=(1, size), mode="bicubic", align_corners=True)
    ours = F.conv_transpose1d(x, w, stride=stride, padding=p)
    inner = slice(2 * stride, size - 2 * stride)  # torch clamps at the borders, we see zeros
    assert torch.allclose(ours[..., inner], cubic[:, :, 0, inner])
    for mode in ("nearest", "linear", "cubic"):
        assert checkerboard_free(interpolation_kernel(mode, stride)[0], stride)
    with pytest.raises(ValueError, match="mode"):
        interpolation_kernel("sinc", stride)


@given(
    st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(1, 5),
    st.integers(0, 4), st.integers(0, 2**31 - 1),
)  # fmt: skip
def test_resize_kernel_is_resize_convolution(stride, c_in, c_out, size, padding, seed) -> None:
    assume(padding <= size - 1)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, c_in, 6, generator=gen, dtype=torch.float64)
    w = torch.randn(c_out, c_in, size, generator=gen, dtype=torch.float64)
    kernel, q = resize_kernel(w, stride, padding)
    expected = resize_convolution(x, w, scale=stride, padding=padding)
    assert torch.allclose(conv_transpose1d(x, kernel, stride=stride, padding=q), expected)
    for i in range(c_in):
        for o in range(c_out):
            assert checkerboard_free(kernel[i, o], stride, tolerance=1e-12)


def test_resize_kernel_rejects_bad_padding() -> None:
    with pytest.raises(ValueError, match="padding"):
        resize_kernel(torch.ones(1, 1, 3), 2, padding=3)
    with pytest.raises(ValueError, match="weight"):
        resize_kernel(torch.ones(3), 2)


@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_pixel_shuffle1d_is_torchs_pixel_shuffle(stride, channels, length, seed) -> None:
    x = torch.randn(2, channels * stride, length, generator=torch.Generator().manual_seed(seed))
    # torch's pixel_shuffle is 2-d: give it s*s channels per output channel, the 1-d ones
    # along the width with a height of one row (r_h = 0), and read that row back.
    wide = torch.zeros(2, channels * stride * stride, length, 1)
    for c in range(channels):
        wide[:, c * stride * stride : c * stride * stride + stride, :, 0] = x[
            :, c * stride : (c + 1) * stride
        ]
    theirs = F.pixel_shuffle(wide, stride)[:, :, 0::stride, :]  # (N, C, L, s): row r_h = 0
    assert torch.equal(pixel_shuffle1d(x, stride), theirs.reshape(2, channels, -1))
    with pytest.raises(ValueError, match="multiple of stride"):
        pixel_shuffle1d(torch.zeros(1, 3, 2), 2)


@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**31 - 1))
def test_icnr_subpixel_is_nearest_upsampled_conv(stride, c_in, c_out, seed) -> None:
    torch.manual_seed(seed)
    layer = torch.nn.Conv1d(c_in, c_out * stride, 3, padding=1, bias=False)
    icnr_(layer.weight, stride)
    x = torch.randn(2, c_in, 7)
    out = pixel_shuffle1d(layer(x), stride)
    base = layer.weight[::stride]  # one of each group of stride copies
    expected = F.conv1d(x, base, padding=1).repeat_interleave(stride, dim=-1)
    assert torch.allclose(out, expected, atol=1e-6)
    # and that is a transposed convolution free of checkerboards: nearest, then the conv
    assert checkerboard_free(interpolation_kernel("nearest", stride)[0], stride)


def test_icnr_rejects_channels_not_a_multiple() -> None:
    with pytest.raises(ValueError, match="multiple of stride"):
        icnr_(torch.empty(3, 1, 3), 2)
