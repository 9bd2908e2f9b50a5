"""Chapter 09's figures: each algorithm's layout against torch, and each figure against its layout.

The cases are drawn by the strategy of :mod:`helpers` (every argument, small
single-channel cases); nbval cannot compare images, so the figures' cells are checked here.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from helpers import assert_renders_its_drawing, transposed_cases
from hypothesis import given, settings

from convtranspose.diagrams import (
    TransposedCase,
    draw_gather,
    draw_gemm_overlap_add,
    draw_polyphase,
    draw_zero_insertion,
    fmt,
)
from convtranspose.diagrams.algorithms import (
    gather_drawing,
    gathers,
    gemm_overlap_add_drawing,
    phases,
    polyphase_drawing,
    products,
    zero_inserted,
    zero_insertion_drawing,
)

FIGURES = [
    (draw_gather, gather_drawing),
    (draw_zero_insertion, zero_insertion_drawing),
    (draw_gemm_overlap_add, gemm_overlap_add_drawing),
    (draw_polyphase, polyphase_drawing),
]

#: Chapter 04's seed case with distinct kernel values, so every tap can be told apart.
SEED = TransposedCase((1, 2, 3), (1, 10, 100), stride=2, padding=1)


def close(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return len(a) == len(b) and all(
        abs(x - y) <= 1e-9 * (1 + abs(y)) for x, y in zip(a, b, strict=True)
    )


# --- the layouts against torch --------------------------------------------------------------


@given(transposed_cases())
def test_gather_sums_to_torch(case: TransposedCase) -> None:
    every = gathers(case)
    assert [g.t for g in every] == list(range(case.output_length))
    assert close(tuple(g.value for g in every), case.torch_output())


@given(transposed_cases())
def test_gather_pairs_are_the_stamps_that_land(case: TransposedCase) -> None:
    """Gathering inverts scattering: the same (input, tap) pairs, seen from the output."""
    start, stop = case.kept
    scattered = {
        (t - start, s.index, k)
        for s in case.stamps()
        for k, t in enumerate(s.positions)
        if start <= t < stop
    }
    gathered = {(g.t, i, k) for g in gathers(case) for i, k in g.pairs}
    assert gathered == scattered


@given(transposed_cases())
def test_zero_inserted_marks_the_samples_of_the_direct_convolution(case: TransposedCase) -> None:
    conv = case.as_direct_convolution()
    held = zero_inserted(case)
    assert len(held) == len(conv.input)
    for value, i in zip(conv.input, held, strict=True):
        assert value == (0.0 if i is None else case.input[i])
    assert close(conv.output, case.torch_output())


@given(transposed_cases())
def test_polyphase_interleaves_to_torch(case: TransposedCase) -> None:
    every = phases(case)
    assert len(every) == case.stride
    out = [None] * case.output_length
    for p in every:
        assert all(t % case.stride == p.r for t in p.positions)
        for t, v in zip(p.positions, p.values, strict=True):
            out[t] = v
        # The phase's taps are exactly the ones its outputs gather.
        for g in gathers(case):
            if g.t % case.stride == p.r:
                assert {k for _, k in g.pairs} <= set(p.taps)
    assert close(tuple(out), case.torch_output())


@given(transposed_cases())
def test_gemm_rows_overlap_add_to_torch(case: TransposedCase) -> None:
    rows = products(case)
    full = [0.0] * case.full_length
    for k, row in enumerate(rows):
        for i, value in enumerate(row):
            full[i * case.stride + k * case.dilation] += value
    start, stop = case.kept
    assert close(tuple(full[start:stop]), case.torch_output())


# --- the drawings against their layouts (no rendering: fast) ---------------------------------


@given(transposed_cases())
def test_gather_drawing(case: TransposedCase) -> None:
    d = gather_drawing(case)
    assert d.row(0) == {i: fmt(x) for i, x in enumerate(case.input)}
    answer = len(case.input) + 0.5
    for row, g in enumerate(gathers(case), start=1):
        cells = {c: t for c, t in d.row(row).items() if t}
        assert cells == {**{i: f"w{k}" for i, k in g.pairs}, answer: fmt(g.value)}


@given(transposed_cases())
def test_zero_insertion_drawing(case: TransposedCase) -> None:
    d = zero_insertion_drawing(case)
    conv, held = case.as_direct_convolution(), zero_inserted(case)
    assert d.styles(0) == {p: "zero" if i is None else "input" for p, i in enumerate(held)}
    k_last = case.kernel_size - 1
    for row, window in enumerate(conv.windows(), start=1):
        texts, styles = d.row(row), d.styles(row)
        for j, p in enumerate(window.positions):
            assert texts[p] == f"w{k_last - j}"  # the kernel, flipped
            assert styles[p] == ("cropped" if held[p] is None else "stamp")
        assert texts[len(held) + 0.5] == fmt(window.value)
    outputs = d.row(len(conv.windows()) + 1)
    assert outputs == {t: fmt(v) for t, v in enumerate(conv.output)}


@given(transposed_cases())
def test_gemm_overlap_add_drawing(case: TransposedCase) -> None:
    d = gemm_overlap_add_drawing(case)
    for k, row in enumerate(products(case)):
        written = {t: text for t, text in d.row(k).items() if text}
        assert written == {i * case.stride + k * case.dilation: fmt(v) for i, v in enumerate(row)}
    start, stop = case.kept
    sums = case.kernel_size
    assert d.row(sums) == {t: fmt(v) for t, v in enumerate(case.full)}
    assert {t for t, s in d.styles(sums).items() if s == "cropped"} == set(case.cropped)
    kept = zip(range(start, stop), case.output, strict=True)
    assert d.row(sums + 1) == {t: fmt(v) for t, v in kept}


@given(transposed_cases())
def test_polyphase_drawing(case: TransposedCase) -> None:
    d = polyphase_drawing(case)
    for p in phases(case):
        assert d.row(p.r) == {t: fmt(v) for t, v in zip(p.positions, p.values, strict=True)}
        assert d.row_labels[p.r].startswith(f"phase {p.r}: taps")
    assert d.row(case.stride) == {t: fmt(v) for t, v in enumerate(case.torch_output())}


# --- the figures: each renders its drawing (few examples: rendering is slow) -----------------


@pytest.mark.parametrize("draw, layout", FIGURES, ids=lambda f: getattr(f, "__name__", ""))
@settings(max_examples=4)
@given(case=transposed_cases())
def test_figures_render_their_drawing(draw, layout, case: TransposedCase) -> None:
    fig = draw(case)
    assert fig.case == case
    assert fig.drawing == layout(case)
    assert_renders_its_drawing(fig)
    plt.close(fig)


def test_figure_data() -> None:
    assert draw_gather(SEED).gathers == gathers(SEED)
    assert draw_polyphase(SEED).phases == phases(SEED)
    assert draw_gemm_overlap_add(SEED).products == products(SEED)
    fig = draw_zero_insertion(SEED)
    assert (fig.conv, fig.held) == (SEED.as_direct_convolution(), zero_inserted(SEED))


def test_seed_case_exact() -> None:
    """Chapter 09's first example, by hand: stride 2, padding 1, x = [1, 2, 3], w = [1, 10, 100]."""
    assert [g.value for g in gathers(SEED)] == [10.0, 102.0, 20.0, 203.0, 30.0]
    assert [g.pairs for g in gathers(SEED)] == [
        ((0, 1),),
        ((1, 0), (0, 2)),
        ((1, 1),),
        ((2, 0), (1, 2)),
        ((2, 1),),
    ]
    assert [(p.taps, p.positions) for p in phases(SEED)] == [((1,), (0, 2, 4)), ((0, 2), (1, 3))]
    assert zero_inserted(SEED) == (None, 0, None, 1, None, 2, None)
    assert draw_zero_insertion(SEED).wasted == 8
