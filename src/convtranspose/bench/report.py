"""From readings to results: per-shape summaries, grid-wide geometric means, the table, the JSON.

The speed ratio is the baseline's time over the candidate's (> 1: the candidate is faster),
per shape, from the best reading of each: other processes only ever add time, so the best of
many interleaved readings estimates each candidate's cost with the machine to itself. The ratio
of medians is kept too. The geometric mean over shapes summarises a grid. All ratios come from
readings taken in one process, in the same rounds; absolute times are kept for reference only.

Every CPU row also holds the machine's ceiling measured in its rounds (a float32 matrix multiply
of about the row's work, ``matmul_gflops``) and each candidate's GFLOP/s as a fraction of it
(``matmul_fraction``, :func:`against_matmul`). The CPU summary groups the shapes by family
(``by_family``), lists the large ones (``large_shapes``) and checks the goals of issue 19
against the run (``goals``, :func:`goals`).
"""

from __future__ import annotations

import datetime
import json
import math
import platform
import statistics
from pathlib import Path
from typing import NamedTuple

import torch

from .precisions import precision_label

__all__ = [
    "FORWARD",
    "FORWARD_BACKWARD",
    "GOALS",
    "Goal",
    "add_cpu_summary",
    "add_cuda_summary",
    "against_matmul",
    "candidates",
    "committed_report",
    "format_table",
    "geometric_mean",
    "goals",
    "machine",
    "summarise",
]

#: The package's candidate in the CPU report's forward rows (the op, through its rule), and in
#: its forward + backward rows (``convtranspose.conv_transpose1d``, the name the CUDA rows
#: give the package's op too).
FORWARD, FORWARD_BACKWARD = "chosen", "convtranspose"


class Goal(NamedTuple):
    """One of issue 19's goals: what it asks, in words, and the threshold the measured value
    must reach (at least)."""

    text: str
    threshold: float


#: Issue 19's goals for the CPU, by name: the forward speed-up over torch (geometric mean over
#: every shape, inference and training, and the slowest shape), forward + backward (the same
#: two), and the forward GFLOP/s as a fraction of the matrix multiply's on every large shape
#: (at least :data:`~.grids.LARGE_MULTIPLY_ADDS` multiply-adds).
GOALS = {
    "forward_geomean_speedup": Goal("geometric-mean forward speed-up over torch", 1.5),
    "forward_min_speedup": Goal("forward speed-up over torch on every shape", 0.9),
    "forward_backward_geomean_speedup": Goal(
        "geometric-mean forward+backward speed-up over torch", 1.0
    ),
    "forward_backward_min_speedup": Goal(
        "forward+backward speed-up over torch on every training shape", 1.0
    ),
    "large_matmul_fraction": Goal(
        "forward GFLOP/s as a fraction of the matmul's on every shape of at least 2**27 "
        "multiply-adds",
        0.5,
    ),
}


def geometric_mean(values: list[float]) -> float:
    """The geometric mean of positive ``values``: the mean ratio of a grid of ratios."""
    if not values:
        raise ValueError("the geometric mean of no values is undefined")
    return math.exp(sum(math.log(v) for v in values) / len(values))


def summarise(
    readings: dict[str, list[float]], flops: int, baselines: dict[str, str] | None = None
) -> dict:
    """Per candidate: the best and the median reading (seconds per call), GFLOP/s at the best,
    and every candidate but ``"torch"`` timed against its baseline: ``baselines[name]`` where
    given, else ``"torch"`` (``speedup`` from best readings, ``speedup_median`` from medians)."""
    baselines = baselines or {}
    best = {name: min(times) for name, times in readings.items()}
    medians = {name: statistics.median(times) for name, times in readings.items()}
    ours = [name for name in readings if name != "torch"]
    base = {name: baselines.get(name, "torch") for name in ours}
    return {
        "min_s": best,
        "median_s": medians,
        "gflops": {name: flops / t / 1e9 for name, t in best.items()},
        "speedup": {name: best[base[name]] / best[name] for name in ours},
        "speedup_median": {name: medians[base[name]] / medians[name] for name in ours},
    }


def against_matmul(
    gflops: dict[str, float], matmul_size: int, matmul_s: float, matmul_gflops: float
) -> dict:
    """A row's ceiling fields: the side, best time and GFLOP/s of the matrix multiply timed in
    the row's rounds, and each candidate's GFLOP/s as a fraction of it (``matmul_fraction``)."""
    return {
        "matmul_size": matmul_size,
        "matmul_s": matmul_s,
        "matmul_gflops": matmul_gflops,
        "matmul_fraction": {name: g / matmul_gflops for name, g in gflops.items()},
    }


def add_cpu_summary(report: dict) -> dict:
    """The CPU report's headline: the geometric-mean speed-up of the rule's choice
    (``"chosen"``) and of the packed layer, the slowest shape of each, and the geometric mean
    of every candidate; forward + backward's geometric mean and slowest shape (where the
    report has ``training`` rows); the machine's ceiling (``matmul_gflops``: the best of the
    rows' matrix multiplies); the same per family (``by_family``), the large shapes
    (``large_shapes``) and the goals (:func:`goals`)."""
    results, training = report["results"], report.get("training", [])
    chosen = [r["speedup"][FORWARD] for r in results]
    packed = [r["speedup"]["packed"] for r in results]
    report["geomean_speedup"] = geometric_mean(chosen)
    report["min_speedup"] = min(chosen)
    report["geomean_speedup_packed"] = geometric_mean(packed)
    report["min_speedup_packed"] = min(packed)
    report["geomean_speedup_by_algorithm"] = {
        name: geometric_mean([r["speedup"][name] for r in results])
        for name in results[0]["speedup"]
    }
    both = [r["speedup"][FORWARD_BACKWARD] for r in training]
    report["geomean_speedup_forward_backward"] = geometric_mean(both) if both else None
    report["min_speedup_forward_backward"] = min(both, default=None)
    report["matmul_gflops"] = max(r["matmul_gflops"] for r in results + training)
    report["by_family"] = _by_family(results, training)
    report["large_shapes"] = [r["shape"]["name"] for r in results if r["large"]]
    report["goals"] = goals(results, training)
    return report


def _by_family(results: list[dict], training: list[dict]) -> dict[str, dict]:
    """Per family, in order of appearance: how many shapes, the geometric mean and slowest of
    the forward speed-up and of its fraction of the matmul, and the same of forward +
    backward where the family has such rows."""
    table: dict[str, dict] = {}
    for family in dict.fromkeys(r["family"] for r in results):
        rows = [r for r in results if r["family"] == family]
        ratios = [r["speedup"][FORWARD] for r in rows]
        fractions = [r["matmul_fraction"][FORWARD] for r in rows]
        entry = {
            "shapes": len(rows),
            "geomean_speedup": geometric_mean(ratios),
            "min_speedup": min(ratios),
            "geomean_matmul_fraction": geometric_mean(fractions),
            "min_matmul_fraction": min(fractions),
        }
        both = [r["speedup"][FORWARD_BACKWARD] for r in training if r["family"] == family]
        if both:
            entry["geomean_speedup_forward_backward"] = geometric_mean(both)
            entry["min_speedup_forward_backward"] = min(both)
        table[family] = entry
    return table


def goals(results: list[dict], training: list[dict]) -> dict:
    """Issue 19's goals (:data:`GOALS`) checked against a run's forward rows (``results``) and
    forward + backward rows (``training``): per goal its text, threshold, ``measured`` value
    and whether it is ``met`` (both ``None`` where the run has no row to measure it on: no
    training rows, or no large shape), and the shapes that miss it (``shapes``: name ->
    value). ``all_met`` is true only when every goal was measured and met. ``torch_wins``
    lists, for forward and forward + backward, the shapes where torch's op is still the
    faster (name -> speed-up, below 1)."""
    forward = {r["shape"]["name"]: r["speedup"][FORWARD] for r in results}
    both = {r["shape"]["name"]: r["speedup"][FORWARD_BACKWARD] for r in training}
    fractions = {r["shape"]["name"]: r["matmul_fraction"][FORWARD] for r in results if r["large"]}
    measured = {
        "forward_geomean_speedup": (geometric_mean(list(forward.values())), {}),
        "forward_min_speedup": _slowest(forward, GOALS["forward_min_speedup"].threshold),
        "forward_backward_geomean_speedup": (
            geometric_mean(list(both.values())) if both else None,
            {},
        ),
        "forward_backward_min_speedup": _slowest(
            both, GOALS["forward_backward_min_speedup"].threshold
        ),
        "large_matmul_fraction": _slowest(fractions, GOALS["large_matmul_fraction"].threshold),
    }
    checks = {}
    for name, goal in GOALS.items():
        value, missed = measured[name]
        met = None if value is None else value >= goal.threshold
        checks[name] = {
            "goal": goal.text, "threshold": goal.threshold, "measured": value, "met": met,
            "shapes": missed,
        }  # fmt: skip
    return {
        "checks": checks,
        "all_met": all(check["met"] is True for check in checks.values()),
        "torch_wins": {
            "forward": {name: v for name, v in forward.items() if v < 1},
            "forward_backward": {name: v for name, v in both.items() if v < 1},
        },
    }


def _slowest(values: dict[str, float], threshold: float) -> tuple[float | None, dict]:
    """The smallest of ``values`` (``None`` if there are none), and those below ``threshold``."""
    low = {name: v for name, v in values.items() if v < threshold}
    return min(values.values(), default=None), low


def candidates(results: list[dict], key: str = "min_s") -> list[str]:
    """Every candidate named in ``results[i][key]``, in order of first appearance (a candidate
    that failed its check on some shape is missing from that shape's row)."""
    return list(dict.fromkeys(name for r in results for name in r[key]))


def add_cuda_summary(report: dict, ours: str = "convtranspose") -> dict:
    """The CUDA report's headline: per precision and per candidate, the geometric mean of the
    speed-ups over torch and the slowest shape (``*_by_precision``: precision -> candidate ->
    value), the same over the HiFi-GAN stages alone (``hifigan_*``), each candidate's geometric
    mean over the rows where it ran (``geomean_speedup_by_variant``), and ``ours``'s geometric
    mean and slowest row over every precision (``geomean_speedup``, ``min_speedup``)."""
    results = report["results"]
    by_precision: dict[str, dict[str, list[float]]] = {}
    hifigan: dict[str, dict[str, list[float]]] = {}
    for r in results:
        label = precision_label(r["dtype"], r.get("allow_tf32"))
        for name, ratio in r["speedup"].items():
            by_precision.setdefault(label, {}).setdefault(name, []).append(ratio)
            if r.get("hifigan_stage") is not None:
                hifigan.setdefault(label, {}).setdefault(name, []).append(ratio)
    mine = [r["speedup"][ours] for r in results if ours in r["speedup"]]
    report["geomean_speedup"] = geometric_mean(mine) if mine else None
    report["min_speedup"] = min(mine, default=None)
    report["geomean_speedup_by_variant"] = {
        name: geometric_mean([r["speedup"][name] for r in results if name in r["speedup"]])
        for name in candidates(results, "speedup")
    }
    report["geomean_speedup_by_precision"] = _per(by_precision, geometric_mean)
    report["min_speedup_by_precision"] = _per(by_precision, min)
    report["hifigan_geomean_speedup_by_precision"] = _per(hifigan, geometric_mean)
    report["hifigan_min_speedup_by_precision"] = _per(hifigan, min)
    return report


def _per(table: dict[str, dict[str, list[float]]], reduce) -> dict[str, dict[str, float]]:
    return {label: {name: reduce(v) for name, v in row.items()} for label, row in table.items()}


def _overhead_line(report: dict) -> str | None:
    overhead = report.get("overhead")
    if overhead is None:
        return None
    if "error" in overhead:
        return f"per-call overhead not measured: {overhead['error']}"
    return (
        f"per-call overhead on a tiny warm shape ({overhead['device']}, median of "
        f"{overhead['rounds']} interleaved readings): convtranspose.conv_transpose1d "
        f"{overhead['convtranspose_us']:.1f} us, torch {overhead['torch_us']:.1f} us, "
        f"difference {overhead['difference_us']:+.1f} us"
    )


def format_table(report: dict, device: str) -> str:
    """The report as a fixed-width table: per shape (and precision on CUDA), each candidate's
    best time, and the speed-up over torch of ours (the rule's choice on the CPU, every Triton
    candidate on CUDA), then the summary lines. On the CPU each row also shows the rule's
    choice's GFLOP/s and its share of the matmul measured in the row's rounds (where the
    report has them), and the summary the forward+backward rows, the families and the goals."""
    results = report["results"]
    names = candidates(results)
    cuda = device == "cuda"
    ratios = candidates(results, "speedup") if cuda else [FORWARD]
    ceiling = not cuda and all("matmul_fraction" in r for r in results)
    head = f"{'shape':24}" + (f"{'precision':>14}" if cuda else "")
    head += "".join(f"{n[:14]:>17}" for n in names)
    head += "".join(f"{('x ' + n)[:15]:>16}" for n in ratios)
    head += f"{'GFLOP/s':>9}{'matmul':>8}" if ceiling else ""
    head += "" if cuda else "  chosen"
    title = "best of the interleaved readings, per call"
    title += "" if cuda else ", caches flushed before each"
    lines = [title, head, "-" * len(head)]
    for r in results:
        line = f"{r['shape']['name'][:24]:24}"
        if cuda:
            line += f"{precision_label(r['dtype'], r.get('allow_tf32')):>14}"
        line += "".join(_cell(r["min_s"], n, 1e3, "14.3f", " ms") for n in names)
        line += "".join(_cell(r["speedup"], n, 1, "15.2f", "x") for n in ratios)
        if ceiling:
            line += f"{r['gflops'][FORWARD]:9.1f}{r['matmul_fraction'][FORWARD]:8.0%}"
        line += "" if cuda else f"  {r['chosen']}"
        lines.append(line)
    if report.get("geomean_speedup") is not None:
        lines.append(
            f"geometric-mean speed-up over torch: {report['geomean_speedup']:.2f}x "
            f"(slowest shape {report['min_speedup']:.2f}x)"
        )
    if cuda:
        lines += _cuda_summary_lines(report)
    else:
        lines += _cpu_summary_lines(report)
    overhead = _overhead_line(report)
    if overhead:
        lines.append(overhead)
    for failure in report.get("failures", []):
        lines.append(f"FAILED {failure['candidate']} on {failure['case']}: {failure['error']}")
    return "\n".join(lines)


def _cell(values: dict, name: str, scale: float, spec: str, unit: str) -> str:
    """One column of a row: the value scaled and formatted, or "failed" where the candidate
    has none (it disagreed with torch or raised, and was not timed)."""
    if name not in values:
        return f"{'failed':>{int(spec.split('.')[0]) + len(unit)}}"
    return f"{values[name] * scale:>{spec}}{unit}"


def _cuda_summary_lines(report: dict) -> list[str]:
    lines = []
    for label, row in report.get("geomean_speedup_by_precision", {}).items():
        hifigan = report.get("hifigan_min_speedup_by_precision", {}).get(label, {})
        per = ", ".join(
            f"{name} {gm:.2f}x"
            + (f" (HiFi-GAN slowest {hifigan[name]:.2f}x)" if name in hifigan else "")
            for name, gm in row.items()
        )
        lines.append(f"{label}: geometric mean {per}")
    for row in report.get("training", []):
        label = precision_label(row["dtype"], row.get("allow_tf32"))
        lines.append(
            f"forward+backward {row['shape']['name']} {label}: "
            + ", ".join(f"{n} {v:.2f}x" for n, v in row["speedup"].items())
        )
    return lines


def _cpu_summary_lines(report: dict) -> list[str]:
    results = report["results"]
    lines = [
        "inference with the weight packed once (PackedConvTranspose1d, against "
        f"torch.nn.ConvTranspose1d): {report['geomean_speedup_packed']:.2f}x "
        f"(slowest {report['min_speedup_packed']:.2f}x)"
    ]
    if "matmul_gflops" in report:
        lines.append(f"matmul throughput: {report['matmul_gflops']:.1f} GFLOP/s")
    if all("gemm_only_s" in r for r in results):
        shares = [r["gemm_only_s"] / r["min_s"]["torch"] for r in results]
        lines.append(
            "the matrix multiply alone (gemm_only) as a share of torch's time: geometric mean "
            f"{geometric_mean(shares):.2f} ({min(shares):.2f} to {max(shares):.2f})"
        )
    per = ", ".join(f"{k} {v:.2f}x" for k, v in report["geomean_speedup_by_algorithm"].items())
    lines.append(f"geometric mean by algorithm: {per}")
    lines += _forward_backward_lines(report.get("training", []))
    for family, entry in report.get("by_family", {}).items():
        line = (
            f"{family} ({entry['shapes']} shape{'s' * (entry['shapes'] != 1)}): "
            f"forward {entry['geomean_speedup']:.2f}x "
            f"(slowest {entry['min_speedup']:.2f}x), "
            f"{entry['geomean_matmul_fraction']:.0%} of the matmul"
        )
        if "geomean_speedup_forward_backward" in entry:
            line += (
                f"; forward+backward {entry['geomean_speedup_forward_backward']:.2f}x "
                f"(slowest {entry['min_speedup_forward_backward']:.2f}x)"
            )
        lines.append(line)
    if "goals" in report:
        lines += _goal_lines(report["goals"])
    return lines


def _forward_backward_lines(training: list[dict]) -> list[str]:
    """One line per forward + backward row: both best times, the speed-up, each one's share of
    the matmul timed in its rounds."""
    if not training:
        return []
    lines = ["forward+backward (input, weight and bias gradients; GFLOP/s count 3 x forward):"]
    for r in training:
        t, f = r["min_s"], r["matmul_fraction"]
        lines.append(
            f"  {r['shape']['name'][:22]:22} torch {t['torch'] * 1e3:9.3f} ms "
            f"({f['torch']:4.0%} of matmul)  {FORWARD_BACKWARD} "
            f"{t[FORWARD_BACKWARD] * 1e3:9.3f} ms ({f[FORWARD_BACKWARD]:4.0%})  "
            f"{r['speedup'][FORWARD_BACKWARD]:.2f}x"
        )
    return lines


def _goal_lines(report_goals: dict) -> list[str]:
    """The goals of issue 19, one line each, and the shapes torch still wins."""
    lines = ["goals (issue 19):"]
    for check in report_goals["checks"].values():
        if check["met"] is None:
            lines.append(f"  not measured  {check['goal']} (no row measures it)")
            continue
        verdict = "met" if check["met"] else "NOT met"
        missed = ", ".join(f"{n} {v:.2f}" for n, v in check["shapes"].items())
        lines.append(
            f"  {verdict:12}  {check['goal']}: {check['measured']:.2f} "
            f"(goal >= {check['threshold']:g})" + (f"; below: {missed}" if missed else "")
        )
    for kind, wins in report_goals["torch_wins"].items():
        if wins:
            shapes = ", ".join(f"{n} {v:.2f}x" for n, v in wins.items())
            lines.append(f"  torch still wins ({kind.replace('_', '+')}): {shapes}")
    return lines


def machine(device: str) -> dict:
    """What ran the benchmark: versions, threads, processor, and on CUDA the GPU."""
    info = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "cpu": _cpu_model(),
        # the widest vector instructions torch's kernels use here (e.g. "AVX2", "AVX512")
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }
    if device == "cpu":  # the native kernel's vector width (the rule's lines depend on it)
        from ..cpu import extension

        info["native_vector_bytes"] = extension.vector_bytes()
    if device == "cuda":
        import triton  # the CUDA mode cannot run without it

        info["gpu"] = torch.cuda.get_device_name()
        info["cuda"] = torch.version.cuda
        info["triton"] = triton.__version__
    return info


def _cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo`` on Linux), else what ``platform`` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def utc_now() -> str:
    """The time of the run, in UTC, to the second (ISO 8601)."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def committed_report(name: str = "benchmark-cpu.json") -> dict:
    """The benchmark results committed in the book (``book/data/NAME``), found from the
    repository root or from ``notebooks/`` (where the chapters run)."""
    for root in (Path.cwd(), Path.cwd().parent):
        path = root / "book" / "data" / name
        if path.exists():
            return json.loads(path.read_text())
    raise FileNotFoundError(f"book/data/{name} not found from {Path.cwd()} or its parent")
