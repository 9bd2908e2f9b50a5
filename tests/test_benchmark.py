"""Tests of ``python -m convtranspose.benchmark`` (the :mod:`convtranspose.bench` package):
structure and arithmetic, not speed.

Timings on a shared machine prove nothing in a unit test; these check that the command line
refuses bad flags as usage errors, that a quick run writes where it should and nothing else,
that the report's arithmetic is right on readings made up for the purpose, that the CUDA runner
checks before it times and summarises per precision and per variant (driven on CPU tensors with
a made-up clock), that its grids describe valid calls, and that the committed results in
``book/data/`` are complete.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from convtranspose import benchmark, cpu
from convtranspose.bench import cli, cpu_runner, cuda_runner, grids, harness, overhead, report
from convtranspose.bench.grids import Shape
from convtranspose.cpu.packed import PACKED, choose_route

ROOT = Path(__file__).parent.parent
COMMITTED = ROOT / "book" / "data" / "benchmark-cpu.json"
#: The held-out run chapter 11 plots for ``aten_aligned``: ``--grid misaligned``.
COMMITTED_MISALIGNED = COMMITTED.with_name("benchmark-cpu-misaligned.json")
COMMITTED_CUDA = COMMITTED.with_name("benchmark-cuda.json")
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


def check_against_matmul(result: dict) -> None:
    """A row's ceiling: the matmul timed in its rounds, every candidate's GFLOP/s a positive
    fraction of it."""
    assert result["matmul_s"] > 0
    assert result["matmul_gflops"] == pytest.approx(
        2 * result["matmul_size"] ** 3 / result["matmul_s"] / 1e9
    )
    assert result["matmul_size"] == benchmark.matmul_size_for(result["flops"])
    assert set(result["matmul_fraction"]) == set(result["gflops"])
    for name, fraction in result["matmul_fraction"].items():
        assert fraction > 0
        assert fraction == pytest.approx(result["gflops"][name] / result["matmul_gflops"])


def check_training_rows(report: dict, shapes: list[Shape]) -> None:
    """One forward+backward row per training-family shape, in order: torch and the package,
    the package's gradients checked (its error within the tolerance), GFLOP/s counting three
    times the forward's work, against the matmul of the row's rounds."""
    training = [s for s in shapes if s.family == "training"]
    rows = report["training"]
    assert [r["shape"]["name"] for r in rows] == [s.name for s in training]
    for row, shape in zip(rows, training, strict=True):
        assert row["family"] == "training"
        assert row["flops"] == 3 * shape.flops
        assert row["rounds"] >= 1
        assert set(row["max_error"]) == {"torch", cpu_runner.OURS}
        assert 0 <= row["max_error"][cpu_runner.OURS] <= cpu_runner.TOLERANCE
        check_result(row, {"torch", cpu_runner.OURS})
        check_against_matmul(row)
    both = [r["speedup"][cpu_runner.OURS] for r in rows]
    if both:
        assert report["geomean_speedup_forward_backward"] == pytest.approx(
            benchmark.geometric_mean(both)
        )
        assert report["min_speedup_forward_backward"] == min(both)
    else:
        assert report["geomean_speedup_forward_backward"] is None


def check_issue_19_fields(report: dict, shapes: list[Shape]) -> None:
    """What the report gained for issue 19: each row's family, size and ceiling, the
    forward+backward rows, the families, the large shapes and the goals, all computed from the
    rows."""
    for result, shape in zip(report["results"], shapes, strict=True):
        assert result["shape"]["family"] == result["family"] == shape.family
        assert result["multiply_adds"] == shape.multiply_adds
        assert result["large"] == shape.large
        assert result["rounds"] >= 1
        check_against_matmul(result)
    check_training_rows(report, shapes)
    rows = report["results"] + report["training"]
    assert report["matmul_gflops"] == max(r["matmul_gflops"] for r in rows)
    families = list(dict.fromkeys(s.family for s in shapes))
    assert list(report["by_family"]) == families
    for family, entry in report["by_family"].items():
        mine = [r for r in report["results"] if r["family"] == family]
        assert entry["shapes"] == len(mine)
        ratios = [r["speedup"]["chosen"] for r in mine]
        assert entry["geomean_speedup"] == pytest.approx(benchmark.geometric_mean(ratios))
        assert entry["min_speedup"] == min(ratios)
    assert report["large_shapes"] == [s.name for s in shapes if s.large]
    assert report["goals"] == report_module_goals(report)


def report_module_goals(result: dict) -> dict:
    return json.loads(json.dumps(report.goals(result["results"], result["training"])))


def check_report(report: dict, shapes: list[Shape], issue_19_fields: bool = True) -> None:
    assert report["device"] == "cpu"
    assert report["baselines"] == benchmark.BASELINES
    assert [r["shape"]["name"] for r in report["results"]] == [s.name for s in shapes]
    for result, shape in zip(report["results"], shapes, strict=True):
        assert result["flops"] == shape.flops
        assert set(result["extra_memory_bytes"]) == CANDIDATES
        check_result(result, CANDIDATES)
        check_choices_are_current(result, shape, report["machine"])
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
    if issue_19_fields:
        check_issue_19_fields(report, shapes)


def check_choices_are_current(result: dict, shape: Shape, machine: dict) -> None:
    """The algorithm, packed route and memory recorded for a shape are what the current rules
    and memory model give for the machine that ran it (the native kernel's vector width):
    committed results taken before a rule changed no longer describe the code chapter 11
    explains, and must be rerun."""
    sizes = (
        shape.batch, shape.in_channels, shape.out_channels, shape.length, shape.kernel_size,
        shape.stride, shape.groups, shape.dilation,
    )  # fmt: skip
    width = machine.get("native_vector_bytes")
    native = {"native": width is not None, "vector_bytes": width}
    geometry = {"padding": shape.padding, "output_padding": shape.output_padding}
    assert result["chosen"] == cpu.choose_algorithm(*sizes, **geometry, **native)
    route = choose_route(*sizes, shape.output_padding, padding=shape.padding, **native)
    assert result["packed_route"] == route
    for name, size in benchmark.algorithm_memory_bytes(shape).items():
        assert result["extra_memory_bytes"][name] == size, name


def digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path -> content hash)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as on a machine without a CUDA device, whatever this one has."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.mark.parametrize(
    ("argv", "flag", "rule"),
    [
        (["--rounds", "-3"], "--rounds", "must be a positive integer, got -3"),
        (["--rounds", "0"], "--rounds", "must be a positive integer, got 0"),
        (["--rounds", "many"], "--rounds", "must be a positive integer, got 'many'"),
        (["--count", "0"], "--count", "must be a positive integer, got 0"),
        (["--seed", "-1"], "--seed", "must be a non-negative integer, got -1"),
        (["--device", "cuda"], "--device", "torch sees no CUDA device"),
        (["--device", "tpu"], "--device", "must be 'cpu' or 'cuda'"),
        (["--grid", "huge"], "--grid", "invalid choice"),
        (["--precision", "float32"], "--precision", "applies to --device cuda only"),
        (["--variant", "blocked"], "--variant", "applies to --device cuda only"),
        (["--backward"], "--backward", "applies to --device cuda only"),
        (["--quick", "--grid", "random"], "--grid", "--quick runs its own tiny grid"),
        (["--json", str(ROOT)], "--json", "is a folder; name the file to write"),
        (
            ["--quick", "--json", "book/data/benchmark-cpu.json"],
            "--json",
            "a --quick run is a smoke test, not the book's data",
        ),
    ],
)
def test_bad_flags_are_usage_errors(
    argv: list[str], flag: str, rule: str, no_gpu, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli._parse(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: " in err
    assert rule in err
    assert "Traceback" not in err


def test_a_usage_error_from_the_command_ends_without_a_traceback() -> None:
    """The real command, in a process of its own: status 2 and argparse's message only."""
    done = subprocess.run(
        [sys.executable, "-m", "convtranspose.benchmark", "--count", "0"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "argument --count: must be a positive integer, got 0" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_good_flags_parse() -> None:
    args = cli._parse(["--grid", "random", "--seed", "4", "--count", "3", "--rounds", "5"])
    assert (args.grid, args.seed, args.count, args.rounds) == ("random", 4, 3, 5)
    assert [s.name for s in cli._grid_of(args)] == [s.name for s in benchmark.random_grid(4, 3)]
    assert cli._default_path(args) == Path("_build/benchmarks/benchmark-cpu-random-seed4.json")
    assert cli._default_path(cli._parse([])) == Path("_build/benchmarks/benchmark-cpu-default.json")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, str, dict, dict]:
    """One ``--quick`` run (with no ``--json``) from a folder laid out like the repository,
    its ``book/data`` holding the committed results: (folder, report, table printed, the
    folder's files before, after)."""
    folder = tmp_path_factory.mktemp("repository")
    data = folder / "book" / "data"
    data.mkdir(parents=True)
    for path in (COMMITTED, COMMITTED_MISALIGNED, COMMITTED_CUDA):
        (data / path.name).write_bytes(path.read_bytes())
    before = digest(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            result = benchmark.main(["--quick"])
    return folder, result, out.getvalue(), before, digest(folder)


def test_quick_run_writes_under_build_and_nothing_else(quick_run) -> None:
    folder, result, _, before, after = quick_run
    written = folder / "_build" / "benchmarks" / "benchmark-cpu-quick.json"
    assert set(after) - set(before) == {str(written.relative_to(folder))}
    assert {k: after[k] for k in before} == before  # book/data untouched
    assert json.loads(written.read_text()) == json.loads(json.dumps(result))


def test_quick_run_reports_every_candidate(quick_run) -> None:
    _, result, table, _, _ = quick_run
    check_report(result, benchmark.QUICK_GRID)
    assert result["grid"] == "quick" and result["seed"] is None
    for shape in benchmark.QUICK_GRID:
        assert shape.name in table
    assert "geometric-mean speed-up over torch" in table
    assert "per-call overhead" in table


def test_quick_run_reports_the_overhead(quick_run) -> None:
    _, result, _, _, _ = quick_run
    assert result["failures"] == []
    cost = result["overhead"]
    assert cost["device"] == "cpu" and cost["rounds"] > 1
    assert cost["torch_us"] > 0 and cost["convtranspose_us"] > 0
    assert cost["difference_us"] == pytest.approx(cost["convtranspose_us"] - cost["torch_us"])


def test_an_op_that_disagrees_is_reported_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The overhead measured on an op that gives wrong values: recorded as a failure (the
    command's exit status is then 1), the rest of the run written."""
    wrong = lambda *a, **k: 2 * F.conv_transpose1d(*a, **k)  # noqa: E731
    monkeypatch.setattr(cli, "package_conv_transpose1d", lambda: wrong)
    monkeypatch.setattr(cli, "run_cpu", functools.partial(cpu_runner.run_cpu, algorithms=False))
    result = benchmark.main(["--quick", "--rounds", "1", "--json", str(tmp_path / "r.json")])
    (failure,) = result["failures"]
    assert failure["case"] == "overhead" and "disagrees with torch" in failure["error"]
    assert "error" in result["overhead"]
    assert "FAILED convtranspose on overhead" in capsys.readouterr().out
    assert json.loads((tmp_path / "r.json").read_text())["failures"] == [failure]


# --- the harness and the report's arithmetic, on made-up readings -------------------------------


def fake_clock(seconds: dict) -> harness.Clock:
    """A clock under which a bound call of ``fn`` takes ``seconds[fn]`` per call."""
    return lambda call, loops: loops * seconds[call.func]


def test_time_interleaved_shuffles_the_turns_every_round() -> None:
    turns = []
    calls = {name: functools.partial(turns.append, name) for name in "abcd"}
    clock = lambda call, loops: (call(), 1e-3)[1]  # noqa: E731
    readings = harness.time_interleaved(calls, rounds=12, target_s=0.0, clock=clock)
    assert all(len(readings[name]) == 12 for name in calls)
    turns = turns[len(calls) :]  # the first call of each sizes its loops
    rounds = [tuple(turns[i : i + 4]) for i in range(0, len(turns), 4)]
    assert all(sorted(r) == list("abcd") for r in rounds)  # each candidate once per round
    assert len(set(rounds)) > 3  # not a fixed rotation
    again = []
    calls = {name: functools.partial(again.append, name) for name in "abcd"}
    harness.time_interleaved(calls, rounds=12, target_s=0.0, clock=clock)
    assert again[4:] == turns  # seeded: the same orders on every run


def test_summarise_takes_best_and_median_against_each_baseline() -> None:
    readings = {"torch": [3.0, 2.0, 4.0], "mine": [1.0, 5.0, 4.0], "layer": [8.0, 1.0, 2.0]}
    summary = report.summarise(readings, flops=8e9, baselines={"layer": "mine"})
    assert summary["min_s"] == {"torch": 2.0, "mine": 1.0, "layer": 1.0}
    assert summary["median_s"] == {"torch": 3.0, "mine": 4.0, "layer": 2.0}
    assert summary["gflops"] == {"torch": 4.0, "mine": 8.0, "layer": 8.0}
    assert summary["speedup"] == {"mine": 2.0, "layer": 1.0}
    assert summary["speedup_median"] == {"mine": 0.75, "layer": 2.0}


def test_geometric_mean() -> None:
    assert benchmark.geometric_mean([2.0, 8.0]) == pytest.approx(4.0)
    assert math.isclose(benchmark.geometric_mean([1.5]), 1.5)
    with pytest.raises(ValueError, match="no values"):
        benchmark.geometric_mean([])


def made_up_row(name: str, dtype: str, tf32: bool | None, speedup: dict) -> dict:
    return {
        "shape": {"name": name},
        "hifigan_stage": benchmark.hifigan_stage(name),
        "dtype": dtype,
        "allow_tf32": tf32,
        "min_s": {"torch": 1.0} | {k: 1.0 / v for k, v in speedup.items()},
        "speedup": speedup,
    }


def test_cuda_summary_per_precision_variant_and_hifigan_stage() -> None:
    rows = [
        made_up_row("hifigan-x-up1", "float32", True, {"convtranspose": 2.0, "a": 4.0, "b": 1.0}),
        made_up_row("depthwise", "float32", True, {"convtranspose": 8.0, "a": 1.0, "b": 4.0}),
        made_up_row("hifigan-x-up1", "float32", False, {"convtranspose": 0.5, "a": 0.25}),
        made_up_row("depthwise", "float32", False, {"convtranspose": 2.0, "a": 1.0, "b": 2.0}),
    ]  # "b" failed its check on one row: it has no reading there
    summary = report.add_cuda_summary({"results": rows})
    assert summary["geomean_speedup"] == pytest.approx(2.0)  # (2 * 8 * 0.5 * 2) ** (1/4)
    assert summary["min_speedup"] == 0.5
    assert summary["geomean_speedup_by_precision"] == {
        "float32": pytest.approx({"convtranspose": 4.0, "a": 2.0, "b": 2.0}),
        "float32 exact": pytest.approx({"convtranspose": 1.0, "a": 0.5, "b": 2.0}),
    }
    assert summary["min_speedup_by_precision"]["float32"] == {
        "convtranspose": 2.0,
        "a": 1.0,
        "b": 1.0,
    }
    assert summary["hifigan_min_speedup_by_precision"] == {
        "float32": {"convtranspose": 2.0, "a": 4.0, "b": 1.0},
        "float32 exact": {"convtranspose": 0.5, "a": 0.25},
    }
    assert summary["geomean_speedup_by_variant"] == pytest.approx(
        {"convtranspose": 2.0, "a": 1.0, "b": 2.0}
    )
    table = report.format_table(summary | {"failures": []}, "cuda")
    assert table.count("failed") == 2  # the missing time and ratio, in their row
    assert "float32 exact: geometric mean convtranspose 1.00x" in table


def test_hifigan_stages_are_identified_by_name() -> None:
    stages = [benchmark.hifigan_stage(s.name) for s in benchmark.CUDA_GRID]
    assert stages[:4] == [1, 2, 3, 4]
    assert stages[4:] == [None] * (len(stages) - 4)
    assert benchmark.hifigan_stage("hifigan-v2-up2") == 2


def test_overhead_is_the_median_per_call_in_microseconds() -> None:
    ours = lambda *a, **k: F.conv_transpose1d(*a, **k)  # noqa: E731
    seconds = {F.conv_transpose1d: 5e-6, ours: 12e-6}
    cost = overhead.measure_overhead(ours, rounds=5, clock=fake_clock(seconds))
    assert cost["torch_us"] == pytest.approx(5.0)
    assert cost["convtranspose_us"] == pytest.approx(12.0)
    assert cost["difference_us"] == pytest.approx(7.0)


def test_overhead_refuses_a_wrong_op() -> None:
    wrong = lambda *a, **k: 2 * F.conv_transpose1d(*a, **k)  # noqa: E731
    with pytest.raises(AssertionError, match="convtranspose disagrees with torch on tiny-warm"):
        overhead.measure_overhead(wrong, rounds=3)


# --- the CUDA runner, driven on CPU tensors with a made-up clock --------------------------------


def _ours(*args, **kwargs):
    return F.conv_transpose1d(*args, **kwargs)


def _good(*args, **kwargs):
    return F.conv_transpose1d(*args, **kwargs)


def _off_by_a_percent(*args, **kwargs):
    return 1.01 * F.conv_transpose1d(*args, **kwargs)


def _broken(*args, **kwargs):
    raise RuntimeError("the kernel does not compile")


PRECISIONS = ((torch.float32, True), (torch.float32, False), (torch.bfloat16, True))


@pytest.fixture(scope="module")
def cuda_run() -> dict:
    seconds = {F.conv_transpose1d: 4e-3, _ours: 2e-3, _good: 8e-3, _off_by_a_percent: 1e-3}
    variants = {"good": _good, "wrong": _off_by_a_percent, "broken": _broken}
    result = cuda_runner.run_cuda(
        benchmark.QUICK_GRID, PRECISIONS, rounds=3, target_s=0.0, variants=variants,
        ours=_ours, device="cpu", clock=fake_clock(seconds),
    )  # fmt: skip
    return report.add_cuda_summary(result)


def test_cuda_runner_times_every_precision_and_shape(cuda_run) -> None:
    labels = [benchmark.precision_label(str(d).removeprefix("torch."), t) for d, t in PRECISIONS]
    rows = [(r["shape"]["name"], r["precision"]) for r in cuda_run["results"]]
    assert rows == [(s.name, label) for label in labels for s in benchmark.QUICK_GRID]
    for r in cuda_run["results"]:
        assert r["precision"] == benchmark.precision_label(r["dtype"], r["allow_tf32"])
        assert r["max_error"]["good"] <= benchmark.CUDA_TOLERANCE[r["precision"]]
        assert "extra_memory_bytes" not in r  # measured on a GPU only


def test_cuda_runner_times_only_what_agrees_with_torch(cuda_run) -> None:
    for r in cuda_run["results"]:
        # off by 1%: refused where the tolerance is tighter (float32), timed in bfloat16
        wrong = {"wrong": 4.0} if r["dtype"] == "bfloat16" else {}
        assert r["speedup"] == pytest.approx({"convtranspose": 2.0, "good": 0.5} | wrong)
        assert set(r["min_s"]) == {"torch", *r["speedup"]}
    failed = {(f["candidate"], f["case"]) for f in cuda_run["failures"]}
    cases = {f"{s.name} {r}" for s in benchmark.QUICK_GRID for r in benchmark.CUDA_TOLERANCE}
    wrong = {case for who, case in failed if who == "wrong"}
    assert wrong == {c for c in cases if not c.endswith("bfloat16")}
    assert {case for who, case in failed if who == "broken"} == cases
    broken = [f["error"] for f in cuda_run["failures"] if f["candidate"] == "broken"]
    assert all("RuntimeError: the kernel does not compile" in error for error in broken)


def test_cuda_runner_summary_per_precision_and_variant(cuda_run) -> None:
    by_precision = cuda_run["geomean_speedup_by_precision"]
    assert by_precision == {
        "float32": pytest.approx({"convtranspose": 2.0, "good": 0.5}),
        "float32 exact": pytest.approx({"convtranspose": 2.0, "good": 0.5}),
        "bfloat16": pytest.approx({"convtranspose": 2.0, "good": 0.5, "wrong": 4.0}),
    }
    assert cuda_run["geomean_speedup_by_variant"] == pytest.approx(
        {"convtranspose": 2.0, "good": 0.5, "wrong": 4.0}
    )
    assert cuda_run["geomean_speedup"] == pytest.approx(2.0)


def test_cuda_runner_times_torch_even_past_the_tolerance(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch's op is the baseline: where it strays past a tolerance too tight for it, the
    stray is recorded among the failures, and torch is still timed (the others are not)."""
    monkeypatch.setitem(cuda_runner.CUDA_TOLERANCE, "bfloat16", 1e-9)
    result = cuda_runner.run_cuda(
        benchmark.QUICK_GRID[:1], PRECISIONS[2:], rounds=2, target_s=0.0,
        variants={"good": _good}, ours=_ours, device="cpu", clock=harness.cpu_clock,
    )  # fmt: skip
    (row,) = result["results"]
    assert set(row["min_s"]) == {"torch"} and row["max_error"]["torch"] is None
    assert {f["candidate"] for f in result["failures"]} == {"torch", "convtranspose", "good"}


def test_cuda_runner_refuses_a_variant_named_as_a_baseline() -> None:
    with pytest.raises(ValueError, match="may not be named"):
        cuda_runner.run_cuda(
            benchmark.QUICK_GRID, variants={"torch": _good}, ours=_ours, device="cpu"
        )


def test_cuda_runner_times_forward_and_backward() -> None:
    """Training rows: the gradients of every input checked against torch's in float64, then
    timed; an op whose input gradient is missing is refused, not timed."""
    detached = lambda x, w, b, **kw: F.conv_transpose1d(x.detach(), w, b, **kw)  # noqa: E731
    result = cuda_runner.run_cuda(
        benchmark.QUICK_GRID[:1], PRECISIONS[1:2], rounds=2, target_s=0.0, variants={},
        ours=_ours, training=True, device="cpu", clock=harness.cpu_clock,
    )  # fmt: skip
    (row,) = result["training"]
    assert set(row["min_s"]) == {"torch", "convtranspose"}
    assert row["max_error"]["convtranspose"] <= benchmark.CUDA_TOLERANCE["float32 exact"]
    result = cuda_runner.run_cuda(
        benchmark.QUICK_GRID[:1], PRECISIONS[1:2], rounds=2, target_s=0.0, variants={},
        ours=detached, training=True, device="cpu", clock=harness.cpu_clock,
    )  # fmt: skip
    assert set(result["training"][0]["min_s"]) == {"torch"}
    assert [f["candidate"] for f in result["failures"]] == ["convtranspose"]


def test_cuda_precisions_are_labelled_apart() -> None:
    """Each timed CUDA precision has its own label and tolerance (old results, recorded before
    the flag was, read as plain float32)."""
    labels = [
        benchmark.precision_label(str(d).removeprefix("torch."), tf32)
        for d, tf32 in benchmark.CUDA_PRECISIONS
    ]
    assert len(set(labels)) == len(labels) == 3
    assert set(labels) == set(benchmark.CUDA_TOLERANCE)
    assert benchmark.precision_label("float32", None) == "float32"


def test_cudnn_flags_set_tf32_and_restore_it() -> None:
    before = torch.backends.cudnn.allow_tf32
    for wanted in (True, False):
        with benchmark.cudnn_flags(wanted):
            assert torch.backends.cudnn.allow_tf32 is wanted
        assert torch.backends.cudnn.allow_tf32 is before


def test_cuda_command_line_assembles_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """``--device cuda`` end to end on a machine without a GPU: the runner driven on CPU
    tensors, two made-up variants of which one is left out by ``--variant``, two of the three
    precisions; the JSON holds what chapter 12 and the issue's checks read."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda: "Made-up GPU")
    variants = {"good": _good, "other": _good}
    monkeypatch.setattr(cli, "triton_forward_variants", lambda: (variants, "good"))
    on_cpu = functools.partial(
        cuda_runner.run_cuda, ours=_ours, device="cpu", clock=harness.cpu_clock
    )
    monkeypatch.setattr(cli, "run_cuda", on_cpu)
    monkeypatch.setattr(
        cli,
        "measure_overhead",
        lambda ours, _, rounds: overhead.measure_overhead(ours, "cpu", rounds),
    )
    path = tmp_path / "cuda.json"
    argv = ["--device", "cuda", "--quick", "--variant", "good", "--precision", "bfloat16",
            "--precision", "float32 exact", "--json", str(path)]  # fmt: skip
    result = benchmark.main(argv)
    assert json.loads(path.read_text()) == json.loads(json.dumps(result))
    assert (result["device"], result["grid"], result["gpu"]) == ("cuda", "quick", "Made-up GPU")
    assert result["machine"]["gpu"] == "Made-up GPU" and result["machine"]["triton"]
    assert result["date"].endswith("+00:00")
    assert (result["variants"], result["default_variant"]) == (["good"], "good")
    quick = len(benchmark.QUICK_GRID)
    assert [r["precision"] for r in result["results"]] == ["float32 exact"] * quick + [
        "bfloat16"
    ] * quick
    assert set(result["geomean_speedup_by_precision"]) == {"float32 exact", "bfloat16"}
    assert set(result["geomean_speedup_by_variant"]) == {"convtranspose", "good"}
    assert result["failures"] == [] and result["training"] == []
    table = capsys.readouterr().out
    assert "float32 exact: geometric mean convtranspose" in table
    with pytest.raises(SystemExit):
        cli._parse(["--device", "cuda", "--variant", "fastest"])
    assert "argument --variant: unknown ['fastest']" in capsys.readouterr().err


@pytest.mark.gpu
def test_cuda_mode_on_a_tiny_grid(tmp_path: Path) -> None:
    """On a GPU: the CUDA mode checks, times and reports every precision and variant."""
    path = tmp_path / "cuda.json"
    result = benchmark.main(["--device", "cuda", "--quick", "--backward", "--json", str(path)])
    assert result["machine"]["gpu"] and result["machine"]["triton"]
    assert result["failures"] == []
    labels = {benchmark.precision_label(r["dtype"], r["allow_tf32"]) for r in result["results"]}
    assert labels == {"float32", "float32 exact", "bfloat16"}
    names = {"torch", "convtranspose", *result["variants"]}
    for row in result["results"]:
        assert set(row["min_s"]) == names
        assert set(row["extra_memory_bytes"]) == names
    assert result["default_variant"] in result["variants"]
    assert len(result["training"]) == len(result["results"])
    assert result["overhead"]["device"] == "cuda"
    assert json.loads(path.read_text()) == json.loads(json.dumps(result))


# --- the committed results and the grids ------------------------------------------------------


def test_committed_results_are_complete() -> None:
    """The results chapter 11 plots: the full grid, every algorithm, the matmul ceiling."""
    committed = json.loads(COMMITTED.read_text())
    assert committed["grid"] == "default"
    check_report(committed, benchmark.CPU_GRID, issue_19_fields=True)


def test_committed_misaligned_results_are_complete() -> None:
    """The held-out run of the ``aten_aligned`` line that chapter 11 plots: its grid, drawn
    again from its seed, every algorithm, choices that are still the rule's."""
    committed = json.loads(COMMITTED_MISALIGNED.read_text())
    assert committed["grid"] == "misaligned"
    grid = benchmark.misaligned_grid(committed["seed"])
    check_report(committed, grid, issue_19_fields=True)


@pytest.mark.parametrize("name", [COMMITTED.name, COMMITTED_CUDA.name])
def test_committed_results_print_as_a_table(name: str) -> None:
    committed = benchmark.committed_report(name)
    table = benchmark.format_table(committed, committed["device"])
    assert [line.split()[0] for line in table.splitlines()[3 : 3 + len(committed["results"])]] == [
        r["shape"]["name"] for r in committed["results"]
    ]


@pytest.mark.parametrize(
    "grid",
    [
        benchmark.CPU_GRID, benchmark.CUDA_GRID, benchmark.QUICK_GRID, benchmark.random_grid(0),
        benchmark.misaligned_grid(0),
    ],
    ids=["cpu", "cuda", "quick", "random", "misaligned"],
)  # fmt: skip
def test_grid_shapes_are_valid_calls(grid: list[Shape]) -> None:
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
            padding=shape.padding, output_padding=shape.output_padding, native=False,
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


def test_cold_clock_flushes_before_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each timed call of the CPU clock starts on cold caches, and the flush is not timed."""
    events = []
    monkeypatch.setattr(harness, "flush_caches", lambda: events.append("flush"))
    seconds = harness.cold_cpu_clock(lambda: events.append("call"), 3)
    assert events == ["flush", "call"] * 3
    assert seconds >= 0
    assert harness.FLUSH_BYTES >= 2 * (32 << 20)  # twice the reference machine's L3


# --- the figures: what they plot is the committed report, unchanged ----------------------------


@pytest.fixture
def close_figures():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_speedup_figure_plots_the_report(close_figures) -> None:
    from convtranspose.diagrams import draw_speedups

    committed = json.loads(COMMITTED.read_text())
    fig = draw_speedups(committed)
    plotted = fig.plotted
    assert plotted["names"] == [s.name for s in benchmark.CPU_GRID]
    assert plotted["speedups"] == [r["speedup"]["chosen"] for r in committed["results"]]
    assert plotted["geomean"] == pytest.approx(committed["geomean_speedup"])
    assert plotted["algorithms"] == [r["chosen"] for r in committed["results"]]
    bars = fig.axes[0].patches
    assert sorted(b.get_width() for b in bars) == sorted(plotted["speedups"])


def test_training_figure_plots_forward_and_forward_backward(quick_run, close_figures) -> None:
    from convtranspose.diagrams import draw_training

    _, result, _, _, _ = quick_run
    fig = draw_training(result)
    plotted = fig.plotted
    names = [r["shape"]["name"] for r in result["training"]]
    assert names and plotted["names"] == names
    forward = {r["shape"]["name"]: r["speedup"]["chosen"] for r in result["results"]}
    assert plotted["forward"] == [forward[n] for n in names]
    both = [r["speedup"]["convtranspose"] for r in result["training"]]
    assert plotted["forward_backward"] == both
    bars = fig.axes[0].patches
    assert sorted(b.get_width() for b in bars) == sorted(plotted["forward"] + both)


def test_packed_speedup_figure_names_each_route(close_figures) -> None:
    from convtranspose.diagrams import draw_speedups

    committed = json.loads(COMMITTED.read_text())
    plotted = draw_speedups(committed, "packed").plotted
    assert plotted["speedups"] == [r["speedup"]["packed"] for r in committed["results"]]
    assert plotted["geomean"] == pytest.approx(committed["geomean_speedup_packed"])
    assert plotted["algorithms"] == [r["packed_route"] for r in committed["results"]]


def test_throughput_figure_plots_gflops_against_matmul(close_figures) -> None:
    from convtranspose.diagrams import draw_throughput

    committed = json.loads(COMMITTED.read_text())
    fig = draw_throughput(committed)
    assert fig.plotted["matmul_gflops"] == committed["matmul_gflops"]
    for name in ("torch", "chosen"):
        assert fig.plotted["gflops"][name] == [r["gflops"][name] for r in committed["results"]]
    assert len(fig.axes[0].patches) == 2 * len(committed["results"])
    gemm = [r["gemm_only_gflops"] for r in committed["results"]]
    assert fig.plotted["gemm_only_gflops"] == gemm
    (ticks,) = fig.axes[0].collections  # one tick per shape, on its row
    assert ticks.get_offsets()[:, 0].tolist() == pytest.approx(gemm)


def test_algorithm_map_marks_the_choice(close_figures) -> None:
    from convtranspose.diagrams import draw_algorithm_map

    committed = json.loads(COMMITTED.read_text())
    plotted = draw_algorithm_map(committed).plotted
    assert plotted["algorithms"] == list(cpu.ALGORITHMS)
    for row, result in zip(plotted["speedups"], committed["results"], strict=True):
        assert row == [result["speedup"][a] for a in cpu.ALGORITHMS]
    assert plotted["chosen"] == [r["chosen"] for r in committed["results"]]


def test_cuda_figure_plots_each_precision_and_variant(cuda_run, close_figures) -> None:
    """A run with variants (made up above): one panel per precision, a bar per candidate and
    shape, a gap where a candidate failed, the geometric means of the report."""
    from convtranspose.diagrams.benchmark import draw_cuda_speedups

    fig = draw_cuda_speedups(cuda_run)
    plotted = fig.plotted
    assert plotted["precisions"] == list(benchmark.CUDA_TOLERANCE)
    assert plotted["names"] == [s.name for s in benchmark.QUICK_GRID]
    assert len(fig.axes) == 3
    for ax, label in zip(fig.axes, plotted["precisions"], strict=True):
        heights = [b.get_height() for b in ax.patches]
        rows = [r for r in cuda_run["results"] if r["precision"] == label]
        ran = cuda_run["geomean_speedup_by_precision"][label]  # candidates timed at this precision
        want = [r["speedup"].get(c, math.nan) for c in ran for r in rows]
        assert heights == pytest.approx(want, nan_ok=True)
        assert plotted["geomeans"][label] == pytest.approx(ran)


def test_cuda_figure_reads_the_committed_results(close_figures) -> None:
    from convtranspose.diagrams.benchmark import draw_cuda_speedups

    committed = json.loads(COMMITTED_CUDA.read_text())
    plotted = draw_cuda_speedups(committed).plotted
    for label, row in plotted["speedups"].items():
        want = [r["speedup"]["convtranspose"] for r in committed["results"]
                if benchmark.precision_label(r["dtype"], r.get("allow_tf32")) == label]  # fmt: skip
        assert row["convtranspose"] == want


# --- training shapes: families, forward+backward, the matmul ceiling, the goals ------------------


def test_shape_families_are_checked() -> None:
    assert Shape(1, 2, 2, 8, 3).family == "inference"
    assert Shape(1, 2, 2, 8, 3, family="training").family == "training"
    with pytest.raises(ValueError, match="family must be one of"):
        Shape(1, 2, 2, 8, 3, family="serving")


def test_cpu_grid_is_inference_then_training() -> None:
    """The default CPU grid: the inference family, then the training family; the training
    shapes are batched, training-sized and large, the four of issue 19 among them."""
    assert benchmark.CPU_GRID == benchmark.CPU_INFERENCE_GRID + benchmark.CPU_TRAINING_GRID
    assert {s.family for s in benchmark.CPU_INFERENCE_GRID} == {"inference"}
    assert {s.family for s in benchmark.CPU_TRAINING_GRID} == {"training"}
    assert len({s.name for s in benchmark.CPU_GRID}) == len(benchmark.CPU_GRID)
    assert 5 <= len(benchmark.CPU_TRAINING_GRID) <= 9
    for s in benchmark.CPU_TRAINING_GRID:
        assert 4 <= s.batch <= 32 and 16 <= s.in_channels <= 128 and 16 <= s.out_channels <= 128
        assert 1000 <= s.length <= 16000
        assert s.large
    sizes = {(s.batch, s.in_channels, s.out_channels, s.length, s.kernel_size, s.stride,
              s.padding) for s in benchmark.CPU_TRAINING_GRID}  # fmt: skip
    issue = {(16, 48, 48, 6000, 4, 2, 1), (4, 32, 16, 16000, 8, 4, 2),
             (16, 128, 128, 1024, 4, 2, 1), (32, 24, 24, 6000, 3, 2, 1)}  # fmt: skip
    assert issue <= sizes


def test_size_measures() -> None:
    shape = Shape(2, 6, 4, 10, 3, 2, groups=2)
    assert shape.multiply_adds == 2 * 6 * 2 * 3 * 10
    assert shape.flops == 2 * shape.multiply_adds
    assert not shape.large
    edge = Shape(1, 1, 1, benchmark.LARGE_MULTIPLY_ADDS, 1)
    assert edge.large and not Shape(1, 1, 1, benchmark.LARGE_MULTIPLY_ADDS - 1, 1).large
    grad = shape.upstream_gradient()
    assert grad.shape == (2, 4, shape.output_length)
    assert torch.equal(grad, shape.upstream_gradient())  # a fixed seed


def test_rounds_shrink_with_size_within_bounds() -> None:
    shapes = sorted(benchmark.CPU_GRID + benchmark.QUICK_GRID, key=lambda s: s.multiply_adds)
    rounds = [benchmark.rounds_for(s) for s in shapes]
    assert rounds == sorted(rounds, reverse=True)
    assert rounds[0] == grids.MAX_ROUNDS and rounds[-1] == grids.MIN_ROUNDS
    assert all(grids.MIN_ROUNDS <= r <= grids.MAX_ROUNDS for r in rounds)


@pytest.mark.parametrize("seed", range(3))
def test_random_training_grid_draws_training_sized_shapes(seed: int) -> None:
    shapes = benchmark.random_training_grid(seed)
    assert len(shapes) == 7 and shapes == benchmark.random_training_grid(seed)
    assert shapes != benchmark.random_training_grid(seed + 3)
    for s in shapes:
        assert s.family == "training" and s.large and s.multiply_adds <= 2**30
        assert 8 <= s.batch <= 32 and 16 <= s.in_channels <= 128 and 1000 <= s.length <= 16000


@pytest.mark.parametrize(
    ("argv", "flag", "rule"),
    [
        (["--count", "3"], "--count", "applies to a random grid"),
        (["--quick", "--count", "3"], "--count", "not --quick"),
        (["--quick", "--grid", "random-training"], "--grid", "--quick runs its own tiny grid"),
        (["--grid", "training"], "--grid", "invalid choice"),
    ],
)
def test_bad_grid_flags_are_usage_errors(
    argv: list[str], flag: str, rule: str, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli._parse(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: " in err and rule in err and "Traceback" not in err


def test_random_training_grid_from_the_command_line() -> None:
    args = cli._parse(["--grid", "random-training", "--seed", "3"])
    assert cli._grid_of(args) == benchmark.random_training_grid(3)
    assert cli._default_path(args) == Path(
        "_build/benchmarks/benchmark-cpu-random-training-seed3.json"
    )
    args = cli._parse(["--grid", "random-training", "--count", "2"])
    assert cli._grid_of(args) == benchmark.random_training_grid(0, 2)
    assert len(cli._grid_of(cli._parse(["--grid", "random"]))) == 12


def test_quick_run_times_forward_and_backward_of_training_shapes(quick_run) -> None:
    """The quick grid has a training shape: its forward+backward row is there, checked
    (error recorded) and timed, and the table prints it with the goals."""
    _, result, table, _, _ = quick_run
    assert any(s.family == "training" for s in benchmark.QUICK_GRID)
    assert result["training"]
    assert "forward+backward" in table and "goals (issue 19):" in table
    for row in result["training"]:
        assert row["shape"]["name"] in table


def _wrong_weight_gradient(x, w, b, **kw):
    """torch's values exactly, but a weight gradient 1% too large: ``w + 0.01 * (w - w)`` is
    ``w`` in value, ``1.01`` in derivative."""
    return F.conv_transpose1d(x, w + 0.01 * (w - w.detach()), b, **kw)


def test_a_wrong_gradient_is_caught_before_timing() -> None:
    timed = []

    def clock(call, loops):
        timed.append(call)
        return 1e-3 * loops

    shape = next(s for s in benchmark.QUICK_GRID if s.family == "training")
    with pytest.raises(AssertionError, match=r"convtranspose \(weight gradient\) disagrees"):
        benchmark.run_cpu([shape], rounds=1, algorithms=False, clock=clock, matmul_size=8,
                          ours=_wrong_weight_gradient)  # fmt: skip
    assert timed  # the forward row was timed, no forward+backward step was
    assert not any(getattr(call, "func", None) is harness.gradients for call in timed)
    x, w, b = shape.tensors()
    assert torch.equal(_wrong_weight_gradient(x, w, b), F.conv_transpose1d(x, w, b))


def test_forward_backward_rows_of_a_made_up_clock() -> None:
    """A training shape under a clock that makes the package's step twice as fast as torch's:
    the row's ratio, GFLOP/s (three forwards' work) and fractions of the matmul follow."""

    def clock(call, loops):
        func = getattr(call, "func", None)
        if func is harness.gradients:  # a forward+backward step
            return loops * (4e-3 if call.args[0] is F.conv_transpose1d else 2e-3)
        return loops * (1e-3 if func is torch.matmul else 5e-3)

    shape = next(s for s in benchmark.QUICK_GRID if s.family == "training")
    result = benchmark.run_cpu([shape], rounds=3, algorithms=False, clock=clock, matmul_size=64)
    (row,) = result["training"]
    assert row["speedup"] == pytest.approx({"convtranspose": 2.0})
    assert row["gflops"]["torch"] == pytest.approx(3 * shape.flops / 4e-3 / 1e9)
    assert row["matmul_gflops"] == pytest.approx(2 * 64**3 / 1e-3 / 1e9)
    assert row["matmul_fraction"]["convtranspose"] == pytest.approx(
        3 * shape.flops / 2e-3 / (2 * 64**3 / 1e-3)
    )
    assert 0 <= row["max_error"]["convtranspose"] <= cpu_runner.TOLERANCE


def test_the_ceiling_matmul_has_about_the_work_of_the_row() -> None:
    low, high = benchmark.MATMUL_SIZES
    assert benchmark.matmul_size_for(1) == low
    assert benchmark.matmul_size_for(2 * 640**3) == 640
    assert benchmark.matmul_size_for(2 * 700**3) == 704  # a multiple of 64
    assert benchmark.matmul_size_for(10**15) == high
    for shape in benchmark.CPU_GRID:  # the issue's goal is judged against near-peak matmuls
        if shape.large:
            assert benchmark.matmul_size_for(shape.flops) >= 512


def test_check_gradients_names_the_gradient() -> None:
    ones = torch.ones(3)
    assert harness.check_gradients((ones,) * 3, (ones,) * 3, "me", "case", 1e-6) == 0.0
    with pytest.raises(AssertionError, match=r"me \(bias gradient\) disagrees with torch on case"):
        harness.check_gradients((ones, ones, 2 * ones), (ones,) * 3, "me", "case", 1e-6)


def made_up_cpu_row(name: str, family: str, speedup: float, fraction: float, large: bool) -> dict:
    return {
        "shape": {"name": name, "family": family},
        "family": family,
        "large": large,
        "speedup": {"chosen": speedup, "packed": 1.0},
        "matmul_fraction": {"chosen": fraction, "torch": fraction / speedup},
        "matmul_gflops": 100.0,
    }


def made_up_training_row(name: str, speedup: float) -> dict:
    return {
        "shape": {"name": name, "family": "training"},
        "family": "training",
        "speedup": {"convtranspose": speedup},
        "matmul_gflops": 120.0,
    }


def test_goals_met() -> None:
    results = [
        made_up_cpu_row("small", "inference", 4.0, 0.1, False),  # small: its fraction is free
        made_up_cpu_row("big", "inference", 1.0, 0.5, True),
        made_up_cpu_row("train", "training", 1.0, 0.8, True),
    ]
    training = [made_up_training_row("train", 1.0)]
    goals = report.goals(results, training)
    checks = goals["checks"]
    assert list(checks) == list(report.GOALS)
    assert checks["forward_geomean_speedup"]["measured"] == pytest.approx(4 ** (1 / 3))
    assert checks["forward_min_speedup"]["measured"] == 1.0
    assert checks["forward_backward_geomean_speedup"]["measured"] == 1.0
    assert checks["large_matmul_fraction"]["measured"] == 0.5
    assert all(c["met"] is True and c["shapes"] == {} for c in checks.values())
    assert goals["all_met"] is True
    assert goals["torch_wins"] == {"forward": {}, "forward_backward": {}}


def test_goals_not_met_name_the_shapes() -> None:
    results = [
        made_up_cpu_row("a", "inference", 2.0, 0.9, True),
        made_up_cpu_row("b", "inference", 0.8, 0.05, False),
        made_up_cpu_row("c", "training", 1.2, 0.4, True),
    ]
    training = [made_up_training_row("c", 0.95)]
    goals = report.goals(results, training)
    checks = goals["checks"]
    assert checks["forward_geomean_speedup"]["measured"] == pytest.approx(
        (2 * 0.8 * 1.2) ** (1 / 3)
    )
    assert checks["forward_geomean_speedup"]["met"] is False  # 1.24 < 1.5
    assert checks["forward_min_speedup"] | {"goal": None} == {
        "goal": None, "threshold": 0.9, "measured": 0.8, "met": False, "shapes": {"b": 0.8},
    }  # fmt: skip
    assert checks["forward_backward_geomean_speedup"]["met"] is False
    assert checks["forward_backward_min_speedup"]["shapes"] == {"c": 0.95}
    assert checks["large_matmul_fraction"]["measured"] == 0.4  # b is small: not counted
    assert checks["large_matmul_fraction"]["shapes"] == {"c": 0.4}
    assert goals["all_met"] is False
    assert goals["torch_wins"] == {"forward": {"b": 0.8}, "forward_backward": {"c": 0.95}}
    table = "\n".join(report._goal_lines(goals))
    assert "NOT met" in table and "below: b 0.80" in table
    assert "torch still wins (forward+backward): c 0.95x" in table


def test_goals_without_training_rows_or_large_shapes_are_not_measured() -> None:
    goals = report.goals([made_up_cpu_row("a", "inference", 2.0, 0.1, False)], [])
    checks = goals["checks"]
    assert checks["forward_geomean_speedup"]["met"] is True
    for name in ("forward_backward_geomean_speedup", "forward_backward_min_speedup",
                 "large_matmul_fraction"):  # fmt: skip
        assert checks[name]["measured"] is None and checks[name]["met"] is None
    assert goals["all_met"] is False
    assert "not measured" in "\n".join(report._goal_lines(goals))


def test_cpu_summary_per_family() -> None:
    results = [
        made_up_cpu_row("a", "inference", 2.0, 0.2, False),
        made_up_cpu_row("b", "inference", 0.5, 0.8, True),
        made_up_cpu_row("c", "training", 3.0, 0.3, True),
    ]
    for r in results:
        r["speedup"] |= {"scatter": 1.0}
    training = [made_up_training_row("c", 0.5)]
    summary = report.add_cpu_summary({"results": results, "training": training})
    assert summary["by_family"] == {
        "inference": {
            "shapes": 2, "geomean_speedup": pytest.approx(1.0), "min_speedup": 0.5,
            "geomean_matmul_fraction": pytest.approx(0.4), "min_matmul_fraction": 0.2,
        },
        "training": {
            "shapes": 1, "geomean_speedup": pytest.approx(3.0), "min_speedup": 3.0,
            "geomean_matmul_fraction": pytest.approx(0.3), "min_matmul_fraction": 0.3,
            "geomean_speedup_forward_backward": pytest.approx(0.5),
            "min_speedup_forward_backward": 0.5,
        },
    }  # fmt: skip
    assert summary["large_shapes"] == ["b", "c"]
    assert summary["matmul_gflops"] == 120.0  # the best of the rows' matmuls
    assert summary["geomean_speedup_forward_backward"] == pytest.approx(0.5)
    assert summary["goals"] == report.goals(results, training)


def test_committed_results_hold_the_training_shapes() -> None:
    """The committed CPU run has the training family, its forward+backward rows and the goals."""
    committed = json.loads(COMMITTED.read_text())
    assert [r["shape"]["name"] for r in committed["training"]] == [
        s.name for s in benchmark.CPU_TRAINING_GRID
    ]
    assert set(committed["by_family"]) == set(benchmark.FAMILIES)
    assert set(committed["goals"]["checks"]) == set(benchmark.GOALS)
