"""Smoke tests of ``python -m convtranspose.benchmark``: structure, not speed.

Timings on a shared machine prove nothing in a unit test; these check that the benchmark runs
end to end on a tiny grid, that its JSON holds what chapter 11 reads, that its grids describe
valid calls, and that the committed results in ``book/data/`` are complete.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from convtranspose import benchmark, cpu
from convtranspose.cpu.packed import PACKED, choose_route

COMMITTED = Path(__file__).parent.parent / "book" / "data" / "benchmark-cpu.json"
#: The held-out run chapter 11 plots for ``aten_aligned``: ``--grid misaligned``.
COMMITTED_MISALIGNED = COMMITTED.with_name("benchmark-cpu-misaligned.json")
CANDIDATES = {"torch", "chosen", "packed", "torch_module", *cpu.ALGORITHMS}


def check_result(result: dict, candidates: set[str]) -> None:
    assert set(result["min_s"]) == candidates
    assert set(result["median_s"]) == candidates
    assert set(result["speedup"]) == candidates - {"torch"}
    for name in candidates:
        assert result["min_s"][name] > 0
        assert result["median_s"][name] >= result["min_s"][name]
        assert result["gflops"][name] == pytest.approx(
            result["flops"] / result["min_s"][name] / 1e9
        )
    for name, ratio in result["speedup"].items():
        baseline = benchmark.BASELINES.get(name, "torch")  # the packed module: torch's module
        assert ratio == pytest.approx(result["min_s"][baseline] / result["min_s"][name])


def check_report(report: dict, shapes: list[benchmark.Shape]) -> None:
    assert report["device"] == "cpu"
    assert report["baselines"] == benchmark.BASELINES
    assert [r["shape"]["name"] for r in report["results"]] == [s.name for s in shapes]
    for result, shape in zip(report["results"], shapes, strict=True):
        assert result["flops"] == shape.flops
        assert set(result["extra_memory_bytes"]) == CANDIDATES
        check_result(result, CANDIDATES)
        check_choices_are_current(result, shape)
        assert result["gemm_only_s"] > 0
        assert result["gemm_only_gflops"] == pytest.approx(
            result["flops"] / result["gemm_only_s"] / 1e9
        )
    ratios = [r["speedup"]["chosen"] for r in report["results"]]
    assert report["geomean_speedup"] == pytest.approx(benchmark.geometric_mean(ratios))
    assert report["min_speedup"] == min(ratios)
    packed = [r["speedup"]["packed"] for r in report["results"]]
    assert report["geomean_speedup_packed"] == pytest.approx(benchmark.geometric_mean(packed))
    assert report["min_speedup_packed"] == min(packed)
    for result in report["results"]:
        assert result["packed_route"] in {PACKED, *cpu.ALGORITHMS}
    assert set(report["geomean_speedup_by_algorithm"]) == CANDIDATES - {"torch"}
    assert report["matmul_gflops"] > 0
    assert report["machine"]["threads"] >= 1


def check_choices_are_current(result: dict, shape: benchmark.Shape) -> None:
    """The algorithm, packed route and memory recorded for a shape are what the current rules
    and memory model give: committed results taken before a rule changed no longer describe
    the code chapter 11 explains, and must be rerun."""
    sizes = (
        shape.batch, shape.in_channels, shape.out_channels, shape.length, shape.kernel_size,
        shape.stride, shape.groups, shape.dilation,
    )  # fmt: skip
    geometry = {"padding": shape.padding, "output_padding": shape.output_padding}
    assert result["chosen"] == cpu.choose_algorithm(*sizes, **geometry)
    route = choose_route(*sizes, shape.output_padding, padding=shape.padding)
    assert result["packed_route"] == route
    for name, size in benchmark.algorithm_memory_bytes(shape).items():
        assert result["extra_memory_bytes"][name] == size, name


def test_quick_run_writes_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "out.json"
    report = benchmark.main(["--quick", "--json", str(path)])
    assert json.loads(path.read_text()) == json.loads(json.dumps(report))
    check_report(report, benchmark.QUICK_GRID)
    table = capsys.readouterr().out
    for shape in benchmark.QUICK_GRID:
        assert shape.name in table
    assert "geometric-mean speed-up over torch" in table


def test_committed_results_are_complete() -> None:
    """The results chapter 11 plots: the full grid, every algorithm, the matmul ceiling."""
    report = json.loads(COMMITTED.read_text())
    assert report["grid"] == "default"
    check_report(report, benchmark.CPU_GRID)


def test_committed_misaligned_results_are_complete() -> None:
    """The held-out run of the ``aten_aligned`` line that chapter 11 plots: its grid, drawn
    again from its seed, every algorithm, choices that are still the rule's."""
    report = json.loads(COMMITTED_MISALIGNED.read_text())
    assert report["grid"] == "misaligned"
    check_report(report, benchmark.misaligned_grid(report["seed"]))


@pytest.mark.parametrize(
    "grid",
    [
        benchmark.CPU_GRID, benchmark.CUDA_GRID, benchmark.QUICK_GRID, benchmark.random_grid(0),
        benchmark.misaligned_grid(0),
    ],
    ids=["cpu", "cuda", "quick", "random", "misaligned"],
)  # fmt: skip
def test_grid_shapes_are_valid_calls(grid: list[benchmark.Shape]) -> None:
    for shape in grid:
        assert shape.output_length >= 1
        assert shape.in_channels % shape.groups == 0 and shape.out_channels % shape.groups == 0
        if shape.flops < 2e7:  # run the small ones for real
            x, w, b = shape.tensors(seed=1)
            out = torch.nn.functional.conv_transpose1d(x, w, b, **shape.kwargs())
            assert out.shape == (shape.batch, shape.out_channels, shape.output_length)


def test_cpu_grid_covers_the_promised_cases() -> None:
    shapes = benchmark.CPU_GRID
    assert any(s.groups == s.in_channels > 1 for s in shapes), "depthwise"
    assert any(1 < s.groups < s.in_channels for s in shapes), "grouped"
    assert any(s.dilation > 1 for s in shapes), "dilated"
    assert any(s.stride == 1 for s in shapes), "unit stride"
    assert any(s.in_channels == 1 and s.length >= 1 << 16 for s in shapes), "long mono"
    assert sum(s.name.startswith("hifigan") for s in shapes) >= 4


@pytest.mark.parametrize("draw", [benchmark.random_grid, benchmark.misaligned_grid])
def test_random_grids_are_reproducible_and_seeded(draw) -> None:
    assert draw(3) == draw(3)
    assert draw(3) != draw(4)
    assert len(draw(5, count=4)) == 4


@pytest.mark.parametrize("seed", range(4))
def test_misaligned_grid_draws_what_aten_aligned_is_for(seed: int) -> None:
    """Every shape it draws is one the rule sends to ``aten_aligned``: an output length
    that is not a multiple of the stride."""
    for shape in benchmark.misaligned_grid(seed):
        assert shape.output_length % shape.stride != 0
        chosen = cpu.choose_algorithm(
            shape.batch, shape.in_channels, shape.out_channels, shape.length,
            shape.kernel_size, shape.stride, shape.groups, shape.dilation,
            padding=shape.padding, output_padding=shape.output_padding,
        )  # fmt: skip
        assert chosen == "aten_aligned"


def test_misaligned_grids_cover_the_line() -> None:
    """Over a few seeds the grid reaches every kind of shape the line takes: ungrouped and
    grouped, unbatched and batched, lengthened by output_padding alone and by an appended
    zero (the two branches of ``cpu.whole_strides``)."""
    shapes = [s for seed in range(4) for s in benchmark.misaligned_grid(seed)]
    assert {s.groups > 1 for s in shapes} == {False, True}
    assert {s.batch > 1 for s in shapes} == {False, True}
    zeros = {cpu.whole_strides(s.output_length, s.stride, s.output_padding)[0] for s in shapes}
    assert zeros == {0, 1}


def test_cuda_precisions_are_labelled_apart() -> None:
    """Each timed CUDA precision has its own label and tolerance (old results, recorded before
    the flag was, read as plain float32)."""
    labels = [benchmark.precision_label(str(d).removeprefix("torch."), tf32) for d, tf32 in benchmark.CUDA_PRECISIONS]  # fmt: skip
    assert len(set(labels)) == len(labels) == 3
    assert set(labels) == set(benchmark.CUDA_TOLERANCE)
    assert benchmark.precision_label("float32", None) == "float32"


def test_geometric_mean() -> None:
    assert benchmark.geometric_mean([2.0, 8.0]) == pytest.approx(4.0)
    assert math.isclose(benchmark.geometric_mean([1.5]), 1.5)


@pytest.mark.gpu
def test_cuda_mode_on_a_tiny_grid(tmp_path: Path) -> None:
    """On a GPU: the CUDA mode checks, times and reports every precision."""
    path = tmp_path / "cuda.json"
    report = benchmark.main(["--device", "cuda", "--quick", "--json", str(path)])
    assert report["machine"]["gpu"]
    labels = {benchmark.precision_label(r["dtype"], r["allow_tf32"]) for r in report["results"]}
    assert labels == {"float32", "float32 exact", "bfloat16"}
    for result in report["results"]:
        check_result(result, {"torch", "convtranspose"})


# --- chapter 11's figures: what they plot is the committed report, unchanged -------------------


@pytest.fixture
def close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_speedup_figure_plots_the_report(close_figures) -> None:
    from convtranspose.diagrams import draw_speedups

    report = json.loads(COMMITTED.read_text())
    fig = draw_speedups(report)
    plotted = fig.plotted
    assert plotted["names"] == [s.name for s in benchmark.CPU_GRID]
    assert plotted["speedups"] == [r["speedup"]["chosen"] for r in report["results"]]
    assert plotted["geomean"] == pytest.approx(report["geomean_speedup"])
    assert plotted["algorithms"] == [r["chosen"] for r in report["results"]]
    bars = fig.axes[0].patches
    assert sorted(b.get_width() for b in bars) == sorted(plotted["speedups"])


def test_packed_speedup_figure_names_each_route(close_figures) -> None:
    from convtranspose.diagrams import draw_speedups

    report = json.loads(COMMITTED.read_text())
    plotted = draw_speedups(report, "packed").plotted
    assert plotted["speedups"] == [r["speedup"]["packed"] for r in report["results"]]
    assert plotted["geomean"] == pytest.approx(report["geomean_speedup_packed"])
    assert plotted["algorithms"] == [r["packed_route"] for r in report["results"]]


def test_throughput_figure_plots_gflops_against_matmul(close_figures) -> None:
    from convtranspose.diagrams import draw_throughput

    report = json.loads(COMMITTED.read_text())
    fig = draw_throughput(report)
    assert fig.plotted["matmul_gflops"] == report["matmul_gflops"]
    for name in ("torch", "chosen"):
        assert fig.plotted["gflops"][name] == [r["gflops"][name] for r in report["results"]]
    assert len(fig.axes[0].patches) == 2 * len(report["results"])
    gemm = [r["gemm_only_gflops"] for r in report["results"]]
    assert fig.plotted["gemm_only_gflops"] == gemm
    (ticks,) = fig.axes[0].collections  # one tick per shape, on its row
    assert ticks.get_offsets()[:, 0].tolist() == pytest.approx(gemm)


def test_gemm_only_computes_every_product() -> None:
    """Both layouts of the bare matrix multiply compute the products chapter 9's GEMM +
    overlap-add adds up: summed over the taps that land on each output, they give torch's
    answer (stride = kernel size, so each output receives exactly one product)."""
    gen = torch.Generator().manual_seed(0)
    x, w = torch.randn(2, 6, 5, generator=gen), torch.randn(6, 2, 3, generator=gen)
    want = torch.nn.functional.conv_transpose1d(x, w, stride=3, groups=2)  # (2, 4, 15)
    calls = benchmark.gemm_only(x, w, groups=2)
    assert set(calls) == set(benchmark.GEMM_ONLY)
    by_weight = calls["gemm_only_weight_t"]()  # (N, g, C_out/g*K, L)
    by_input = calls["gemm_only_input_t"]()  # (N, g, L, C_out/g*K)
    torch.testing.assert_close(by_input, by_weight.transpose(2, 3))
    stamps = by_weight.reshape(2, 4, 3, 5).transpose(2, 3).reshape(2, 4, 15)
    torch.testing.assert_close(stamps, want)


def test_algorithm_map_marks_the_choice(close_figures) -> None:
    from convtranspose.diagrams import draw_algorithm_map

    report = json.loads(COMMITTED.read_text())
    plotted = draw_algorithm_map(report).plotted
    assert plotted["algorithms"] == list(cpu.ALGORITHMS)
    for row, result in zip(plotted["speedups"], report["results"], strict=True):
        assert row == [result["speedup"][a] for a in cpu.ALGORITHMS]
    assert plotted["chosen"] == [r["chosen"] for r in report["results"]]


def test_cold_clock_flushes_before_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each timed call of the CPU clock starts on cold caches, and the flush is not timed."""
    events = []
    monkeypatch.setattr(benchmark, "flush_caches", lambda: events.append("flush"))
    seconds = benchmark.cold_cpu_clock(lambda: events.append("call"), 3)
    assert events == ["flush", "call"] * 3
    assert seconds >= 0
    assert benchmark.FLUSH_BYTES >= 2 * (32 << 20)  # twice the reference machine's L3
