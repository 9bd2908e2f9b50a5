"""The cost model against operations counted one by one, and against torch's FLOP counter."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from convtranspose import cost, output_length
from convtranspose.lengths import conv1d_output_length


@st.composite
def shapes(draw: st.DrawFn, divisible: bool = False) -> cost.Shape:
    """Small shapes over every argument, with a positive output length; ``divisible``:
    undilated, the kernel a multiple of the stride."""
    groups = draw(st.integers(1, 2))
    stride = draw(st.integers(1, 4))
    dilation = 1 if divisible else draw(st.integers(1, 3))
    kernel_size = stride * draw(st.integers(1, 2)) if divisible else draw(st.integers(1, 5))
    length = draw(st.integers(1, 6))
    output_padding = draw(st.integers(0, max(stride, dilation) - 1))
    full = (length - 1) * stride + dilation * (kernel_size - 1) + output_padding + 1
    padding = draw(st.integers(0, (full - 1) // 2))
    return cost.Shape(
        batch=draw(st.integers(1, 2)),
        in_channels=groups * draw(st.integers(1, 2)),
        out_channels=groups * draw(st.integers(1, 2)),
        length=length,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        groups=groups,
        dilation=dilation,
    )


def landing(shape: cost.Shape, i: int, k: int) -> int:
    """Where tap ``k`` of input ``i``'s stamp lands in the cropped output."""
    return i * shape.stride + k * shape.dilation - shape.padding


def scatter_pairs(shape: cost.Shape) -> list[tuple[int, int]]:
    return [(i, k) for i in range(shape.length) for k in range(shape.kernel_size)]


def gather_reads(shape: cost.Shape, taps: list[int], t: int) -> list[int | None]:
    """For output ``t`` and each tap, the input it reads: an index, or None for a zero
    (an inserted zero, or beyond the signal's ends)."""
    reads = []
    for k in taps:
        j = t + shape.padding - k * shape.dilation
        i = j // shape.stride
        real = j % shape.stride == 0 and 0 <= i < shape.length
        reads.append(i if real else None)
    return reads


def flops(fn, *args) -> int:
    with FlopCounterMode(display=False) as counter:
        fn(*args)
    return counter.get_total_flops()


def random_case(shape: cost.Shape) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(shape.batch, shape.in_channels, shape.length, dtype=torch.float64)
    w = torch.randn(
        shape.in_channels, shape.out_channels // shape.groups, shape.kernel_size, dtype=x.dtype
    )
    return x, w


@given(shapes())
def test_useful_multiplies_count_the_stamps_that_land(shape: cost.Shape) -> None:
    inside = [p for p in scatter_pairs(shape) if 0 <= landing(shape, *p) < shape.output_length]
    assert cost.useful_multiplies(shape) == len(inside) * shape.channel_products


@given(shapes())
def test_scatter_and_gemm_compute_every_stamp(shape: cost.Shape) -> None:
    for name in ("scatter", "gemm_overlap_add"):
        c = cost.cost(name, shape)
        assert c.multiplies == len(scatter_pairs(shape)) * shape.channel_products
        cropped = [
            p for p in scatter_pairs(shape) if not 0 <= landing(shape, *p) < shape.output_length
        ]
        assert c.wasted == len(cropped) * shape.channel_products


@given(shapes())
def test_zero_insertion_multiplies_every_tap_at_every_output(shape: cost.Shape) -> None:
    c = cost.cost("zero_insertion", shape)
    every = range(shape.kernel_size)
    reads = [r for t in range(shape.output_length) for r in gather_reads(shape, every, t)]
    assert c.multiplies == len(reads) * shape.channel_products
    assert c.wasted == reads.count(None) * shape.channel_products


@given(shapes())
def test_phases_split_the_taps(shape: cost.Shape) -> None:
    taps = cost.phase_taps(shape.kernel_size, shape.stride, shape.padding, shape.dilation)
    assert sorted(k for phase in taps for k in phase) == list(range(shape.kernel_size))


@given(shapes())
def test_gather_does_only_useful_work(shape: cost.Shape) -> None:
    c = cost.cost("gather", shape)
    assert (c.multiplies, c.wasted, c.extra_memory) == (cost.useful_multiplies(shape), 0, 0)


def zero_stuffed(x: torch.Tensor, shape: cost.Shape) -> torch.Tensor:
    """The input with ``stride - 1`` zeros between samples, padded by
    ``dilation*(K-1) - padding`` each side (plus ``output_padding`` on the right)."""
    n, c, length = x.shape
    up = x.new_zeros(n, c, (length - 1) * shape.stride + 1)
    up[..., :: shape.stride] = x
    edge = shape.dilation * (shape.kernel_size - 1) - shape.padding
    return F.pad(up, (edge, edge + shape.output_padding))


@given(shapes())
def test_zero_insertion_model_matches_torch(shape: cost.Shape) -> None:
    x, w = random_case(shape)
    stuffed = zero_stuffed(x, shape)
    assert cost.cost("zero_insertion", shape).extra_memory == stuffed.numel()
    flipped = w.flip(2).reshape(shape.groups, -1, *w.shape[1:]).transpose(1, 2)
    flipped = flipped.reshape(shape.out_channels, -1, shape.kernel_size)
    args = (stuffed, flipped, None, 1, 0, shape.dilation, shape.groups)
    out = F.conv1d(*args)
    expected = F.conv_transpose1d(
        x, w, None, shape.stride, shape.padding, shape.output_padding, shape.groups, shape.dilation
    )
    assert torch.allclose(out, expected)
    assert flops(F.conv1d, *args) == 2 * cost.cost("zero_insertion", shape).multiplies


@given(shapes())
def test_gemm_multiplies_match_torch_flop_counter(shape: cost.Shape) -> None:
    x, w = random_case(shape)
    g, c_in_g = shape.groups, shape.in_channels // shape.groups
    # One GEMM per group: (C_out/g * K, C_in/g) @ (C_in/g, N * L_in).
    cols = x.reshape(shape.batch, g, c_in_g, shape.length).permute(1, 2, 0, 3)
    cols = cols.reshape(g, c_in_g, shape.batch * shape.length)
    rows = w.reshape(g, c_in_g, -1).transpose(1, 2)
    counted = flops(torch.bmm, rows, cols)
    assert counted == 2 * cost.cost("gemm_overlap_add", shape).multiplies


def phase_reads(shape: cost.Shape, algorithm: str) -> list[tuple[int, bool]]:
    """Every product polyphase or sub-pixel computes, one by one: ``(input index read,
    useful)``. Output ``t`` multiplies every kernel offset ``m`` of its phase (a tap at
    ``k*dilation``, or for sub-pixel also a zero-filled grid position) by the input
    ``(t + padding - m) / stride``; useful when ``m`` is a tap and the index is inside."""
    s, p, d = shape.stride, shape.padding, shape.dilation
    taps = {k * d for k in range(shape.kernel_size)}
    if algorithm == "polyphase":
        offsets = sorted(taps)
    else:
        offsets = range(cost.subpixel_rows(shape.kernel_size, s, d) * s)
    reads = []
    for t in range(shape.output_length):
        for m in offsets:
            if (t + p - m) % s == 0:
                i = (t + p - m) // s
                reads.append((i, m in taps and 0 <= i < shape.length))
    return reads


@pytest.mark.parametrize("algorithm", ["polyphase", "subpixel"])
@given(shape=shapes())
def test_phase_algorithms_count_their_products(algorithm: str, shape: cost.Shape) -> None:
    reads = phase_reads(shape, algorithm)
    c = cost.cost(algorithm, shape)
    assert c.multiplies == len(reads) * shape.channel_products
    wasted = sum(not useful for _, useful in reads)
    assert c.wasted == wasted * shape.channel_products
    # The padded input spans every index read; then the phase results, the stacked weight.
    indices = [i for i, _ in reads]
    span = max([*indices, shape.length - 1]) - min([*indices, 0]) + 1
    n, c_in, c_out = shape.batch, shape.in_channels, shape.out_channels
    expected = n * c_in * span + n * c_out * shape.output_length
    if algorithm == "subpixel":
        rows = cost.subpixel_rows(shape.kernel_size, shape.stride, shape.dilation)
        expected += c_in * c_out // shape.groups * shape.stride * rows
    assert c.extra_memory == expected


@given(shapes(divisible=True))
def test_subpixel_equals_polyphase_when_the_stride_divides_the_kernel(shape: cost.Shape) -> None:
    """No zero taps then: every phase has ``K / stride`` taps."""
    poly, sub = cost.cost("polyphase", shape), cost.cost("subpixel", shape)
    assert (sub.multiplies, sub.wasted) == (poly.multiplies, poly.wasted)


def test_table() -> None:
    shape = cost.Shape(1, 1, 1, length=2, kernel_size=3, stride=2, padding=1)
    lines = cost.table(shape).splitlines()
    assert lines[0].split() == [
        "algorithm",
        "multiplies",
        "(M)",
        "x",
        "useful",
        "wasted",
        "extra",
        "(MiB)",
    ]
    assert [line.split()[0] for line in lines[1:]] == list(cost.ALGORITHMS)
    assert lines[3].split()[2:4] == ["2.25", "55.6%"]  # zero insertion: 9 multiplies, 4 useful


def test_a_hand_counted_case() -> None:
    """Stride 2, kernel 3, padding 1, two inputs (chapter 04's seed case): the full
    stamps cover 5 positions, the output keeps 3: of the 6 products, 4 land."""
    shape = cost.Shape(1, 1, 1, length=2, kernel_size=3, stride=2, padding=1)
    assert shape.output_length == 3
    got = {c.algorithm: (c.multiplies, c.wasted) for c in cost.costs(shape)}
    # zero insertion: 3 outputs x 3 taps; polyphase: phases take taps [1] and [0, 2],
    # and every one of their 4 products lands on a real input; sub-pixel pads phase 0's
    # kernel to 2 taps (a grid of 2 rows x stride 2), so its 2 outputs multiply a zero tap.
    assert got == {
        "scatter": (6, 2),
        "gather": (4, 0),
        "zero_insertion": (9, 5),
        "gemm_overlap_add": (6, 2),
        "polyphase": (4, 0),
        "subpixel": (6, 2),
    }


@pytest.mark.parametrize(
    "bad", [{"stride": 0}, {"padding": -1}, {"groups": 3}, {"padding": 5}], ids=str
)
def test_bad_shapes_are_refused(bad: dict) -> None:
    args = {"batch": 1, "in_channels": 2, "out_channels": 2, "length": 2, "kernel_size": 3}
    with pytest.raises(ValueError):
        cost.Shape(**{**args, **bad})


def test_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown algorithm"):
        cost.cost("fft", cost.Shape(1, 1, 1, 4, 3))


def test_shape_follows_the_shared_argument_rules() -> None:
    """cost.Shape, output_length and the lengths helpers check sizes with one set of rules
    (arguments.checked_sizes): what one rejects, the others reject with the same words."""
    with pytest.raises(
        ValueError, match=r"output_padding must be smaller than max\(stride, dilation\)"
    ):
        cost.Shape(1, 2, 2, length=4, kernel_size=3, stride=1, output_padding=5)
    with pytest.raises(
        ValueError, match=r"output_padding must be smaller than max\(stride, dilation\)"
    ):
        output_length(4, 3, stride=1, output_padding=5)
    with pytest.raises(ValueError, match="kernel_size must be >= 1, got 0"):
        cost.Shape(1, 2, 2, length=4, kernel_size=0)
    with pytest.raises(ValueError, match="kernel_size must be >= 1, got 0"):
        conv1d_output_length(4, 0)
