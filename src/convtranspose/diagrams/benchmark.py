"""Chapters 11 and 12's figures: the committed benchmarks, plotted.

Each function takes a report as written by ``python -m convtranspose.benchmark`` (a dict
read from ``book/data/benchmark-cpu.json``, or ``benchmark-cuda.json`` for
:func:`draw_cuda_speedups`), draws one figure through pyplot (so
``plt.show()`` displays it) and attaches what it plotted
to the figure as ``fig.plotted`` (plain lists and dicts), so tests can check the figure's
content without looking at pixels. The tables behind the figures (:func:`speedups`,
:func:`throughputs`, :func:`cuda_speedups`) are plain functions too.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..bench.precisions import precision_label
from ..bench.report import FORWARD, FORWARD_BACKWARD, geometric_mean

__all__ = [
    "cuda_speedups",
    "draw_algorithm_map",
    "draw_cuda_speedups",
    "draw_speedups",
    "draw_throughput",
    "draw_training",
    "speedups",
    "throughputs",
]


def _names(report: dict) -> list[str]:
    return [r["shape"]["name"] for r in report["results"]]


def speedups(report: dict, candidate: str = "chosen") -> list[float]:
    """Per shape, torch's time over ``candidate``'s (> 1: ``candidate`` is faster)."""
    return [r["speedup"][candidate] for r in report["results"]]


def throughputs(report: dict, candidates: tuple[str, ...] = ("torch", "chosen")) -> dict:
    """Per candidate, the GFLOP/s it reached on each shape (useful multiply-adds x 2 / time)."""
    return {name: [r["gflops"][name] for r in report["results"]] for name in candidates}


def draw_speedups(report: dict, candidate: str = "chosen") -> Figure:
    """Horizontal bars: the speed-up of ``candidate`` over torch per shape, a line at 1
    (parity) and one at the geometric mean. ``fig.plotted``: ``names``, ``speedups``,
    ``geomean``, ``algorithms`` (the algorithm run per shape: the rule's choice for
    ``"chosen"``, the route for ``"packed"``, else ``candidate`` itself)."""
    names, ratios = _names(report), speedups(report, candidate)
    ran_key = {"chosen": "chosen", "packed": "packed_route"}.get(candidate)
    chosen = [r.get(ran_key, candidate) for r in report["results"]]
    geomean = geometric_mean(ratios)
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(names) + 1.4))
    y = np.arange(len(names))[::-1]
    colors = ["tab:green" if v >= 1 else "tab:red" for v in ratios]
    ax.barh(y, ratios, color=colors, alpha=0.8)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.axvline(geomean, color="tab:blue", linestyle="--", label=f"geometric mean {geomean:.2f}x")
    ax.set_yticks(y, [f"{n}  ({a})" for n, a in zip(names, chosen, strict=True)], fontsize=9)
    ax.set_xscale("log", base=2)
    low, high = min([*ratios, 1.0]) / 1.3, max([*ratios, 1.0]) * 1.3
    steps = (0.125, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 8.0, 16.0)
    ticks = [t for t in steps if low <= t <= high]
    ax.set_xlim(low, high)
    ax.set_xticks(ticks, [f"{t:g}x" for t in ticks])
    baseline = report.get("baselines", {}).get(candidate, "torch")
    over = (
        "torch.nn.ConvTranspose1d"
        if baseline == "torch_module"
        else "torch.nn.functional.conv_transpose1d"
    )
    ax.set_xlabel(f"speed-up over {over} (log scale)")
    ax.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    fig.plotted = {"names": names, "speedups": ratios, "geomean": geomean, "algorithms": chosen}
    return fig


def draw_training(report: dict) -> Figure:
    """The training shapes: per shape, the speed-up over torch of the forward alone (the
    rule's choice) and of forward and backward together (``convtranspose.conv_transpose1d``
    with every argument requiring grad), log scale, a line at 1 (parity).
    ``fig.plotted``: ``names``, ``forward``, ``forward_backward``."""
    training = report["training"]
    names = [r["shape"]["name"] for r in training]
    forward_by_name = {r["shape"]["name"]: r["speedup"][FORWARD] for r in report["results"]}
    forward = [forward_by_name[n] for n in names]
    both = [r["speedup"][FORWARD_BACKWARD] for r in training]
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(names) + 1.4))
    y = np.arange(len(names))[::-1]
    for offset, values, label, color in (
        (0.2, forward, "forward", "tab:blue"),
        (-0.2, both, "forward + backward", "tab:orange"),
    ):
        mean = geometric_mean(values)
        ax.barh(y + offset, values, 0.4, color=color, label=f"{label} (mean {mean:.2f}x)")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks(y, names, fontsize=9)
    ax.set_xscale("log", base=2)
    low, high = min([*forward, *both, 1.0]) / 1.3, max([*forward, *both, 1.0]) * 1.3
    ticks = [t for t in (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0) if low <= t <= high]
    ax.set_xlim(low, high)
    ax.set_xticks(ticks, [f"{t:g}x" for t in ticks])
    ax.set_xlabel("speed-up over torch (log scale)")
    ax.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    fig.plotted = {"names": names, "forward": forward, "forward_backward": both}
    return fig


def draw_throughput(report: dict, candidates: tuple[str, ...] = ("torch", "chosen")) -> Figure:
    """Achieved GFLOP/s per shape for each candidate, against the machine's float32
    matrix-multiply throughput (the dashed ceiling) and, where the report has it, the shape's
    own matrix multiply run alone (a black tick per shape:
    :func:`convtranspose.bench.cpu_runner.gemm_only`).
    ``fig.plotted``: ``names``, ``gflops`` (candidate -> list), ``matmul_gflops``,
    ``gemm_only_gflops`` (a list, or None)."""
    names, table = _names(report), throughputs(report, candidates)
    ceiling = report["matmul_gflops"]
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(names) + 1.4))
    y = np.arange(len(names))[::-1]
    height = 0.8 / len(candidates)
    for i, name in enumerate(candidates):
        ax.barh(y + (len(candidates) / 2 - i - 0.5) * height, table[name], height, label=name)
    ax.axvline(ceiling, color="black", linestyle="--", label=f"matmul {ceiling:.0f} GFLOP/s")
    gemm = [r["gemm_only_gflops"] for r in report["results"]] if _has_gemm_only(report) else None
    if gemm:
        ax.scatter(gemm, y, marker="|", s=160, linewidths=2.5, color="black", zorder=3,
                   label="its matrix multiply alone")  # fmt: skip
    ax.set_yticks(y, names, fontsize=9)
    ax.set_xlabel("GFLOP/s (2 x multiply-adds / best time)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=9)
    fig.tight_layout()
    fig.plotted = {
        "names": names, "gflops": table, "matmul_gflops": ceiling, "gemm_only_gflops": gemm,
    }  # fmt: skip
    return fig


def _has_gemm_only(report: dict) -> bool:
    """Whether every result records :func:`convtranspose.bench.cpu_runner.gemm_only`'s time (runs
    made before it was measured do not)."""
    return all("gemm_only_gflops" in r for r in report["results"])


def draw_algorithm_map(report: dict) -> Figure:
    """A shapes x algorithms grid of speed-ups over torch (log colour scale, green faster,
    red slower), each cell labelled, the chosen algorithm's cell outlined. ``fig.plotted``:
    ``names``, ``algorithms``, ``speedups`` (rows = shapes), ``chosen``."""
    names = _names(report)
    # The functional algorithms only: "chosen" is one of them; the modules are not.
    modules = ("chosen", "packed", "torch_module")
    algorithms = [a for a in report["results"][0]["speedup"] if a not in modules]
    grid = [[r["speedup"][a] for a in algorithms] for r in report["results"]]
    chosen = [r.get("chosen") for r in report["results"]]
    # about 7.6 inches for the nine algorithms: no wider than the book's text column
    fig, ax = plt.subplots(figsize=(0.55 * len(algorithms) + 2.6, 0.3 * len(names) + 1.6))
    logs = np.log2(np.array(grid))
    ax.imshow(logs, cmap="RdYlGn", vmin=-2, vmax=2, aspect="auto")
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            dark = abs(math.log2(value)) > 1.5  # the ends of the colour scale: white text
            ax.text(
                j, i, f"{value:.2f}", ha="center", va="center", fontsize=9,
                color="white" if dark else "black",
            )  # fmt: skip
            if algorithms[j] == chosen[i]:
                ax.add_patch(_outline(j, i))
    ax.set_xticks(range(len(algorithms)), algorithms, rotation=30, ha="right", fontsize=9)
    ax.set_yticks(range(len(names)), names, fontsize=9)
    ax.set_title("speed-up over torch per algorithm (outlined: the rule's choice)", fontsize=9)
    fig.tight_layout()
    fig.plotted = {"names": names, "algorithms": algorithms, "speedups": grid, "chosen": chosen}
    return fig


def _outline(x: int, y: int):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.5)


def _cuda_rows(report: dict) -> tuple[list[str], dict[str, dict[str, dict]]]:
    """The shape names (in the order of the first precision's rows) and, per precision label,
    each shape's speed-ups."""
    rows: dict[str, dict[str, dict]] = {}
    for r in report["results"]:
        label = precision_label(r["dtype"], r.get("allow_tf32"))
        rows.setdefault(label, {})[r["shape"]["name"]] = r["speedup"]
    return list(next(iter(rows.values()))), rows


def cuda_speedups(report: dict) -> dict[str, dict[str, list[float | None]]]:
    """The CUDA report as ``{precision: {candidate: [speed-up over torch per shape]}}``, shapes
    in the order of the first precision's rows, ``None`` where a candidate has no reading for a
    shape (it failed its check), candidates that ran on no shape at a precision left out of
    it. Precisions are labelled as the benchmark labels them
    (``"float32"``, ``"float32 exact"``, ``"bfloat16"``); reports written before the benchmark
    recorded ``allow_tf32`` read as plain float32."""
    names, rows = _cuda_rows(report)
    table = {}
    for label, row in rows.items():
        ran = dict.fromkeys(c for speedups in row.values() for c in speedups)
        table[label] = {c: [row.get(n, {}).get(c) for n in names] for c in ran}
    return table


def draw_cuda_speedups(report: dict) -> Figure:
    """One panel per precision: per shape, a bar per candidate (each Triton variant, and the
    module's ``conv_transpose1d``) for its speed-up over torch (cuDNN), log scale, a line at 1
    (parity), the geometric means in the legend. ``fig.plotted``: ``names`` (shapes),
    ``precisions``, ``speedups`` (as :func:`cuda_speedups`), ``geomeans`` (precision ->
    candidate -> geometric mean over the shapes it ran)."""
    names, table = _cuda_rows(report)[0], cuda_speedups(report)
    precisions = list(table)
    geomeans = {
        label: {c: geometric_mean([v for v in vs if v is not None]) for c, vs in row.items()}
        for label, row in table.items()
    }
    fig, axes = plt.subplots(
        len(precisions), 1, figsize=(7.5, 2.6 * len(precisions) + 1.2), sharex=True, squeeze=False
    )
    x = np.arange(len(names))
    for ax, label in zip(axes[:, 0], precisions, strict=True):
        row = table[label]
        width = 0.8 / len(row)
        for i, (candidate, values) in enumerate(row.items()):
            heights = [np.nan if v is None else v for v in values]
            offset = (i - (len(row) - 1) / 2) * width
            legend = f"{candidate} ({geomeans[label][candidate]:.2f}x)"
            ax.bar(x + offset, heights, width, label=legend)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_yscale("log", base=2)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        ax.set_ylabel(f"{label}\ncuDNN time / ours", fontsize=9)
        ax.legend(fontsize=9, loc="upper left", title="geometric mean", title_fontsize=9)
    axes[-1, 0].set_xticks(x, names, rotation=30, ha="right", fontsize=9)
    gpu = report.get("machine", {}).get("gpu") or report.get("gpu", "GPU")
    fig.suptitle(f"{gpu}: speed-up over torch (cuDNN) per shape and precision", fontsize=9)
    fig.tight_layout()
    fig.plotted = {
        "names": names, "precisions": precisions, "speedups": table, "geomeans": geomeans,
    }  # fmt: skip
    return fig
