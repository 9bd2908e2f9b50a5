"""Chapter 12's figure: the Triton programs and the outputs each one writes, against torch."""

from __future__ import annotations

import matplotlib
import pytest
from hypothesis import given
from hypothesis import strategies as st

from convtranspose.diagrams import TransposedCase, draw_programs, programs
from convtranspose.diagrams.kernel import programs_drawing

matplotlib.use("Agg")

CASES = [  # the four seed cases, then dilation, output_padding and empty phases
    TransposedCase([1], [1, 1, 1]),
    TransposedCase([1, 1], [1, 1, 1]),
    TransposedCase([1, 1], [1, 1, 1], stride=4),
    TransposedCase([1, 1], [1, 1, 1], stride=2, padding=1),
    TransposedCase([1, 2, 3, 4, 5], [1, 10, 100], stride=2, padding=1, dilation=3),
    TransposedCase([1, -2, 3], [2, 3], stride=3, padding=2, output_padding=2),
]


@st.composite
def cases(draw) -> TransposedCase:
    stride, dilation = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    kernel = draw(st.lists(st.integers(-3, 3), min_size=1, max_size=5))
    values = draw(st.lists(st.integers(-3, 3), min_size=1, max_size=6))
    output_padding = draw(st.integers(0, max(stride, dilation) - 1))
    full = (len(values) - 1) * stride + dilation * (len(kernel) - 1) + output_padding + 1
    padding = draw(st.integers(0, (full - 1) // 2))
    return TransposedCase(values, kernel, stride, padding, output_padding, dilation)


def check_programs(case: TransposedCase, block_q: int) -> None:
    progs = programs(case, block_q)
    written = [t for p in progs for t in p.outputs]
    assert sorted(written) == list(range(case.output_length))  # each output exactly once
    values = {t: v for p in progs for t, v in zip(p.outputs, p.values, strict=True)}
    assert tuple(values[t] for t in range(case.output_length)) == pytest.approx(case.torch_output())
    s, p, d = case.stride, case.padding, case.dilation
    for prog in progs:
        assert prog.taps == tuple(k for k in range(len(case.kernel)) if k * d % s == prog.phase)
        assert len(prog.outputs) <= block_q
        for t, pairs in zip(prog.outputs, prog.sources, strict=True):
            assert (t + p) % s == prog.phase
            every = {(i, k) for i in range(len(case.input)) for k in range(len(case.kernel))}
            assert set(pairs) == {(i, k) for i, k in every if i * s + k * d - p == t}


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("block_q", [1, 2, 4])
def test_programs_partition_the_output_and_sum_to_torch(case, block_q) -> None:
    check_programs(case, block_q)


@given(cases(), st.sampled_from([1, 2, 3, 8]))
def test_programs_on_random_cases(case, block_q) -> None:
    check_programs(case, block_q)


def test_programs_come_in_launch_order() -> None:
    """Program ids run fastest along the blocks of a phase, then over phases."""
    case = CASES[4]
    pids = [p.pid for p in programs(case, 2)]
    assert pids == sorted(pids)
    order = [(p.phase, p.block) for p in programs(case, 2)]
    assert order == sorted(order) and {r for r, _ in order} == {0, 1}


def test_drawing_puts_each_program_under_its_outputs() -> None:
    case = CASES[3]  # stride 2, padding 1: [1, 2, 1]
    drawing = programs_drawing(case, block_q=2)
    assert drawing.row(0) == {0: "1", 1: "2", 2: "1"}
    progs = programs(case, 2)
    for row, prog in enumerate(progs, start=1):
        assert drawing.row(row) == {
            t: f"{v:g}" for t, v in zip(prog.outputs, prog.values, strict=True)
        }
        assert f"(t+p)%s={prog.phase}" in drawing.row_labels[row]


def test_figure_carries_what_it_drew() -> None:
    fig = draw_programs(CASES[2])
    assert fig.programs == programs(CASES[2])
    assert fig.drawing.row(0) == {t: f"{v:g}" for t, v in enumerate(CASES[2].output)}
    matplotlib.pyplot.close(fig)
