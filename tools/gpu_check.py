"""Check every Triton forward variant against cuDNN on the CUDA benchmark grid (run on a GPU).

Three modes, all bounded and quick:

- ``--versions``: Python, torch, Triton, CUDA, cuDNN, the GPU's name and compute capability;
- default: for every shape of the CUDA benchmark grid and every precision the benchmark
  compares (float32 with TF32 allowed, float32 exact, bfloat16), each forward variant of
  ``convtranspose.cuda.FORWARD_KERNELS`` and cuDNN against a float64 answer: the error
  relative to the answer's largest magnitude, within a tolerance per precision; repeat runs
  bit-identical; plus a rough timing (median of CUDA-event readings, interleaved), a fallback
  should the benchmark itself not run;
- ``--sweep``: the coalesced variant's tile table measured: a few tile configurations per
  channel-heavy shape (bfloat16 and TF32), timed against the table's own choice.

``--device cpu --quick`` runs the default mode on two tiny shapes in Triton's interpreter
(``TRITON_INTERPRET=1``), to test this script without a GPU. Results go to ``--json``.
Exit status 1 when a variant is wrong.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

#: Largest error allowed against the float64 answer, relative to its largest magnitude, per
#: precision: TF32 keeps 10 bits of mantissa, bfloat16 8; exact float32 sums of ~10^4
#: products stay within a few float32 roundings.
TOLERANCE = {"float32": 5e-3, "float32 exact": 1e-5, "bfloat16": 3e-2}


def versions() -> dict:
    import torch

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda_runtime": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
    }
    try:
        import triton

        info["triton"] = triton.__version__
    except ImportError as error:
        info["triton"] = f"not importable: {error}"
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
        info["capability"] = ".".join(map(str, torch.cuda.get_device_capability()))
        info["gpu_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
    return info


def grid(quick: bool) -> list:
    """The CUDA benchmark grid (wherever the benchmark package keeps it), or two tiny shapes."""
    try:
        from convtranspose.bench import grids
    except ImportError:
        from convtranspose import benchmark as grids
    return grids.QUICK_GRID if quick else grids.CUDA_GRID


def precisions(device: str):
    """``(label, dtype, allow_tf32)``; the interpreter has no bfloat16 arithmetic of its own
    (the package computes CPU half tensors in float32), so it is checked there too."""
    import torch

    return [
        ("float32", torch.float32, True),
        ("float32 exact", torch.float32, False),
        ("bfloat16", torch.bfloat16, True),
    ]


def flags(allow_tf32: bool):
    import torch

    cudnn = torch.backends.cudnn
    return cudnn.flags(
        enabled=True, benchmark=cudnn.benchmark, deterministic=cudnn.deterministic,
        allow_tf32=allow_tf32,
    )  # fmt: skip


def median_ms(fns: dict[str, Callable], device: str, rounds: int = 15, loops: int = 5) -> dict:
    """Median time per call of each function, in rounds that interleave them."""
    import torch

    readings: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():  # warm up: compile, allocate
        fn()
    for _ in range(rounds):
        for name, fn in fns.items():
            if device == "cuda":
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(True)
                torch.cuda.synchronize()
                start.record()
                for _ in range(loops):
                    fn()
                end.record()
                torch.cuda.synchronize()
                readings[name].append(start.elapsed_time(end) / loops)
            else:
                begin = time.perf_counter()
                fn()
                readings[name].append((time.perf_counter() - begin) * 1e3)
    return {name: statistics.median(values) for name, values in readings.items()}


def check(device: str, quick: bool, timing: bool) -> tuple[list[dict], bool]:
    import torch
    import torch.nn.functional as F

    from convtranspose import cuda

    rows, ok = [], True
    for shape in grid(quick):
        kwargs = shape.kwargs()
        x64, w64, b64 = shape.tensors(torch.float64, device)
        want = F.conv_transpose1d(x64, w64, b64, **kwargs)
        scale = want.abs().max().item() or 1.0
        for label, dtype, tf32 in precisions(device):
            x, w, b = (t.to(dtype) for t in (x64, w64, b64))
            with flags(tf32):
                candidates = {"cudnn": functools.partial(F.conv_transpose1d, x, w, b, **kwargs)}
                for name, fn in cuda.FORWARD_KERNELS.items():
                    candidates[name] = functools.partial(fn, x, w, b, **kwargs)
                row = {"shape": shape.name, "precision": label, "errors": {}, "repeatable": {}}
                for name, fn in candidates.items():
                    try:
                        first, second = fn(), fn()
                    except Exception as error:  # report every variant, keep going
                        row["errors"][name] = f"{type(error).__name__}: {error}"
                        continue
                    err = (first.double() - want).abs().max().item() / scale
                    row["errors"][name] = err
                    row["repeatable"][name] = bool(torch.equal(first, second))
                if timing:
                    working = {
                        n: f for n, f in candidates.items() if isinstance(row["errors"][n], float)
                    }
                    row["ms"] = median_ms(working, device)
            bad = [
                n for n, e in row["errors"].items()
                if n != "cudnn" and (not isinstance(e, float) or not e <= TOLERANCE[label])
            ] + [n for n, same in row["repeatable"].items() if n != "cudnn" and not same]  # fmt: skip
            row["ok"] = not bad
            ok &= not bad
            rows.append(row)
            errors = "  ".join(
                f"{n}={e:.1e}" if isinstance(e, float) else f"{n}=FAILED({e[:80]})"
                for n, e in row["errors"].items()
            )
            speed = ""
            if "ms" in row and "cudnn" in row["ms"]:
                speed = "  speedup " + " ".join(
                    f"{n}={row['ms']['cudnn'] / t:.2f}x"
                    for n, t in row["ms"].items()
                    if n != "cudnn"
                )
            print(
                f"{'ok ' if not bad else 'BAD'} {shape.name:24} {label:14} {errors}{speed}",
                flush=True,
            )
    return rows, ok


#: Tile configurations the sweep measures for the coalesced variant: (output channels per
#: phase block as a share of 128 rows, input channels per step, q per program, warps, stages).
SWEEP = [
    (128, 32, 32, 4, 3),
    (128, 64, 32, 8, 3),
    (128, 32, 64, 8, 3),
    (64, 32, 64, 4, 3),
    (256, 32, 32, 8, 3),
    (128, 64, 64, 8, 2),
]


def sweep(device: str, quick: bool) -> list[dict]:
    """Time the coalesced variant's own tiles and each :data:`SWEEP` configuration on the
    channel-heavy shapes of the grid, in bfloat16 and TF32."""
    from convtranspose import cuda
    from convtranspose.cuda import launch, tiles

    fn = cuda.FORWARD_KERNELS["coalesced"]
    own = tiles.choose_coalesced_tiles
    rows = []
    shapes = grid(False)
    if quick:  # one tiny channel-heavy shape, to test the sweep in the interpreter
        shapes = [type(shapes[0])(1, 16, 16, 8, 4, 2, 1, name="tiny-dot")]
    for shape in shapes:
        if shape.in_channels // shape.groups < 16 or shape.stride == 1:
            continue
        for label, dtype, tf32 in precisions(device):
            if label == "float32 exact":
                continue
            x, w, b = shape.tensors(dtype, device)
            kwargs = shape.kwargs()
            timings = {}
            with flags(tf32):
                for config in [None, *SWEEP]:
                    if config is None:
                        launch.choose_coalesced_tiles = own
                        name = "table"
                    else:
                        rows_t, red, cols, warps, stages = config

                        def chosen(phases, *args, cfg=(rows_t, red, cols, warps, stages)):
                            r, c, q, nw, ns = cfg
                            return tiles.Tiles(max(r, phases), c, q, True, nw, ns)

                        launch.choose_coalesced_tiles = chosen
                        name = "rows{}-red{}-q{}-w{}-s{}".format(*config)
                    launch.clear_caches()
                    try:
                        call = functools.partial(fn, x, w, b, **kwargs)
                        timings[name] = median_ms({name: call}, device)[name]
                    except Exception as error:
                        timings[name] = f"{type(error).__name__}: {str(error)[:120]}"
            launch.choose_coalesced_tiles = own
            launch.clear_caches()
            geometry = launch.Geometry(
                shape.stride, shape.padding, shape.dilation, shape.groups,
                shape.output_length,
            )  # fmt: skip
            plan = launch._forward_plan(
                "coalesced", tuple(x.shape), x.stride(), tuple(w.shape), w.stride(), dtype,
                geometry, True,
            )  # fmt: skip
            table = {k: v for k, v in plan.kwargs.items() if k != "HAS_BIAS"}
            rows.append(
                {"shape": shape.name, "precision": label, "table": str(table), "ms": timings}
            )
            best = min((t, n) for n, t in timings.items() if isinstance(t, float))
            print(f"{shape.name:24} {label:10} table {timings.get('table')} ms; best {best[1]} {best[0]:.4f} ms", flush=True)  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--versions", action="store_true", help="print versions and the GPU, then stop"
    )
    parser.add_argument("--sweep", action="store_true", help="measure the coalesced tile table")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--quick", action="store_true", help="tiny shapes (with --device cpu)")
    parser.add_argument("--no-timing", action="store_true", help="correctness only")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    if args.device == "cpu":
        os.environ.setdefault("TRITON_INTERPRET", "1")
    info = versions()
    print(json.dumps(info, indent=1), flush=True)
    if args.versions:
        return 0
    if args.sweep:
        result, ok = {"versions": info, "sweep": sweep(args.device, args.quick)}, True
    else:
        rows, ok = check(args.device, args.quick, timing=not args.no_timing)
        result = {"versions": info, "tolerance": TOLERANCE, "rows": rows, "ok": ok}
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
