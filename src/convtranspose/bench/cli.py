"""``python -m convtranspose.benchmark``: the command line.

Every flag is checked by argparse: a bad value is a usage error (exit status 2, a message that
names the flag and its rule), never a traceback. Results go to the terminal as a table and to
a JSON file under ``_build/benchmarks/`` (relative to the current folder) unless ``--json``
names another path: the book's data (``book/data/benchmark-*.json``) is written only when
named, and never by a ``--quick`` run.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import sys
from collections.abc import Callable
from pathlib import Path

import torch

from .cpu_runner import BASELINES, run_cpu
from .cuda_runner import OURS, run_cuda, triton_forward_variants
from .grids import (
    CPU_GRID,
    CUDA_GRID,
    QUICK_GRID,
    Shape,
    misaligned_grid,
    random_grid,
    random_training_grid,
)
from .overhead import measure_overhead, package_conv_transpose1d
from .precisions import CUDA_PRECISIONS, dtype_name, precision_label
from .report import (
    add_cpu_summary,
    add_cuda_summary,
    format_table,
    machine,
    utc_now,
)

__all__ = ["OUTPUT_DIR", "main"]

#: Where results go unless ``--json`` names a path (relative to the current folder).
OUTPUT_DIR = Path("_build") / "benchmarks"

#: The held-out grids ``--grid`` can draw, by name: ``draw(seed, count)``, whose own default
#: ``count`` applies unless ``--count`` says.
RANDOM_GRIDS = {
    "random": random_grid,
    "misaligned": misaligned_grid,
    "random-training": random_training_grid,
}

#: The precision labels ``--precision`` accepts, in the order the runner times them.
PRECISION_LABELS = {precision_label(dtype_name(d), tf32): (d, tf32) for d, tf32 in CUDA_PRECISIONS}


def _integer(minimum: int, rule: str) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum``, else a usage error stating ``rule``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {rule}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {rule}, got {value}")
        return value

    return parse


_positive = _integer(1, "a positive integer")
_non_negative = _integer(0, "a non-negative integer")


def _device(text: str) -> str:
    """``cpu``, or ``cuda`` when this process can run the CUDA benchmark (a device, Triton)."""
    if text not in ("cpu", "cuda"):
        raise argparse.ArgumentTypeError(f"must be 'cpu' or 'cuda', got {text!r}")
    if text == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError(
            "cuda is not available here: torch sees no CUDA device (torch.cuda.is_available() "
            "is False)"
        )
    if text == "cuda" and importlib.util.find_spec("triton") is None:
        raise argparse.ArgumentTypeError("cuda needs Triton, which is not installed")
    return text


def _default_count(draw: Callable[..., list[Shape]]) -> int:
    """How many shapes a random grid draws unless told: its ``count`` parameter's default."""
    return inspect.signature(draw).parameters["count"].default


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m convtranspose.benchmark",
        description="Time convtranspose's conv_transpose1d against torch's. Results go to "
        f"{OUTPUT_DIR}/ unless --json names a path.",
    )
    parser.add_argument("--device", type=_device, default="cpu", help="cpu (default) or cuda")
    parser.add_argument(
        "--grid", choices=["default", *RANDOM_GRIDS], default="default",
        help="the hand-picked realistic grid (on the CPU: inference and training shapes), "
        "shapes drawn at random (held out), random shapes whose output length is not a "
        "multiple of the stride, or random training-sized shapes (batched; timed forward and "
        "forward+backward on the CPU)",
    )  # fmt: skip
    parser.add_argument("--seed", type=_non_negative, default=0, help="seed of the random grids")
    parser.add_argument(
        "--count", type=_positive, default=None,
        help="shapes in a random grid (default: "
        + ", ".join(f"{_default_count(draw)} for {name}" for name, draw in RANDOM_GRIDS.items())
        + ")",
    )  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="a tiny grid, few rounds (smoke test)")
    parser.add_argument(
        "--rounds", type=_positive, default=None,
        help="readings per candidate (default on the CPU: fewer for larger shapes, "
        "convtranspose.bench.grids.rounds_for; 21 on CUDA)",
    )  # fmt: skip
    parser.add_argument(
        "--json", type=Path, default=None,
        help=f"where to write the results (default: {OUTPUT_DIR}/benchmark-DEVICE-GRID.json)",
    )  # fmt: skip
    cuda = parser.add_argument_group("CUDA only")
    cuda.add_argument(
        "--precision", action="append", choices=list(PRECISION_LABELS),
        help="time this precision (repeatable; default: all three)",
    )  # fmt: skip
    cuda.add_argument(
        "--variant", action="append", metavar="NAME",
        help="time this Triton forward variant of convtranspose.cuda.FORWARD_KERNELS "
        "(repeatable; default: all)",
    )  # fmt: skip
    cuda.add_argument(
        "--backward", action="store_true", help="also time forward + backward (all gradients)"
    )
    cuda.add_argument(
        "--cudnn-benchmark", action="store_true",
        help="let cuDNN time its algorithms per shape and keep the fastest "
        "(torch.backends.cudnn.benchmark; off by default, as in torch)",
    )  # fmt: skip
    return parser


def _in_book_data(path: Path) -> bool:
    parts = path.resolve().parts
    return any(parts[i : i + 2] == ("book", "data") for i in range(len(parts) - 1))


def _parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked: a usage error exits with status 2."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.device != "cuda":
        for flag, given in [
            ("--precision", args.precision), ("--variant", args.variant),
            ("--backward", args.backward), ("--cudnn-benchmark", args.cudnn_benchmark),
        ]:  # fmt: skip
            if given:
                parser.error(f"argument {flag}: applies to --device cuda only")
    if args.json is not None and args.json.is_dir():
        parser.error(f"argument --json: {args.json} is a folder; name the file to write")
    if args.quick and args.json is not None and _in_book_data(args.json):
        parser.error(
            f"argument --json: a --quick run is a smoke test, not the book's data: {args.json} "
            "is in book/data"
        )
    if args.quick and args.grid != "default":
        parser.error(f"argument --grid: --quick runs its own tiny grid, not {args.grid!r}")
    if args.count is not None and args.grid not in RANDOM_GRIDS:
        parser.error(
            f"argument --count: applies to a random grid ({', '.join(RANDOM_GRIDS)}), "
            f"not {'--quick' if args.quick else repr(args.grid)}"
        )
    if args.variant:
        known = triton_forward_variants()[0]
        unknown = [name for name in args.variant if name not in known]
        if unknown:
            parser.error(
                f"argument --variant: unknown {unknown}; convtranspose.cuda has {sorted(known)}"
            )
    return args


def _grid_of(args: argparse.Namespace) -> list[Shape]:
    """The shapes the command line asks for."""
    if args.quick:
        return QUICK_GRID
    if args.grid in RANDOM_GRIDS:
        draw = RANDOM_GRIDS[args.grid]
        return draw(args.seed, args.count or _default_count(draw))
    return CPU_GRID if args.device == "cpu" else CUDA_GRID


def _default_path(args: argparse.Namespace) -> Path:
    """``_build/benchmarks/benchmark-DEVICE-GRID.json``, the seed in the name of a random grid."""
    grid = "quick" if args.quick else args.grid
    grid += "" if args.quick or args.grid == "default" else f"-seed{args.seed}"
    return OUTPUT_DIR / f"benchmark-{args.device}-{grid}.json"


def _write(report: dict, path: Path) -> Path:
    """Write ``report`` as indented JSON to ``path``, making its folder if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    return path


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _run_cuda(args: argparse.Namespace, shapes: list[Shape], rounds: int) -> dict:
    variants, default = triton_forward_variants()
    if args.variant:
        variants = {name: variants[name] for name in args.variant}
    labels = args.precision or list(PRECISION_LABELS)
    precisions = tuple(PRECISION_LABELS[label] for label in PRECISION_LABELS if label in labels)
    report = run_cuda(
        shapes, precisions, rounds=rounds, target_s=0.0005 if args.quick else 0.0025,
        variants=variants, training=args.backward,
        cudnn_benchmark=True if args.cudnn_benchmark else None, progress=_progress,
    )  # fmt: skip
    report["variants"] = list(variants)
    report["default_variant"] = default
    report["cudnn_benchmark"] = torch.backends.cudnn.benchmark or args.cudnn_benchmark
    report["gpu"] = torch.cuda.get_device_name()
    return add_cuda_summary(report, OURS)


def _overhead(args: argparse.Namespace) -> tuple[dict, list[dict]]:
    """The per-call overhead, and a failure record if it could not be measured (the op
    disagreed with torch, or raised): a problem recorded, not one that ends a long run."""
    try:
        cost = measure_overhead(package_conv_transpose1d(), args.device, 31 if args.quick else 201)
    except Exception as error:  # recorded in the report, and the exit status is 1
        message = f"{type(error).__name__}: {error}"[:500]
        failure = {"case": "overhead", "candidate": "convtranspose", "error": message}
        return {"device": args.device, "error": message}, [failure]
    return cost, []


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, write the JSON, print the table; return the report."""
    args = _parse(argv)
    shapes = _grid_of(args)
    overhead, failures = _overhead(args)  # first: seconds, and it shows a broken op at once
    if args.device == "cuda":
        rounds = args.rounds or (3 if args.quick else 21)
        results = _run_cuda(args, shapes, rounds)
        timing = "loops of calls between CUDA events"
    else:
        rounds = args.rounds or (3 if args.quick else None)  # None: by size (rounds_for)
        results = add_cpu_summary(run_cpu(shapes, rounds=rounds, progress=_progress))
        results["baselines"] = BASELINES
        timing = (
            "one call per reading, caches flushed before each; in every row's rounds, a square "
            "float32 matmul of about the row's work (matmul_size)"
        )
    results["overhead"] = overhead
    results["failures"] = results.get("failures", []) + failures
    report = {
        "device": args.device,
        "grid": "quick" if args.quick else args.grid,
        "seed": None if args.quick or args.grid == "default" else args.seed,
        "rounds": rounds,
        "date": utc_now(),
        "timing": timing,
        "machine": machine(args.device),
        **results,
    }
    path = _write(report, args.json or _default_path(args))  # before the table: nothing lost
    print(format_table(report, args.device))
    print(f"results written to {path}")
    return report
