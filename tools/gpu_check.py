"""What the benchmark does not measure, for a GPU session (the benchmark itself checks every
forward variant against a float64 answer before timing it):

- ``--versions``: Python, torch, Triton, CUDA, cuDNN, the GPU's name and compute capability;
- ``--sweep``: the coalesced variant's tile table measured: a few tile configurations per
  channel-heavy shape of the CUDA benchmark grid (bfloat16 and TF32), timed against the
  table's own choice, in interleaved rounds (the benchmark's harness).

``--device cpu --quick`` runs the sweep on one tiny shape in Triton's interpreter
(``TRITON_INTERPRET=1``), to test this script without a GPU. Results go to ``--json``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import sys
from pathlib import Path


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
    from convtranspose.bench import grids
    from convtranspose.bench.harness import cpu_clock, cuda_clock, time_interleaved
    from convtranspose.bench.precisions import (
        CUDA_PRECISIONS,
        cudnn_flags,
        dtype_name,
        precision_label,
    )
    from convtranspose.cuda import launch, tiles

    fn = cuda.FORWARD_KERNELS["coalesced"]
    own = tiles.choose_coalesced_tiles
    clock = cuda_clock if device == "cuda" else cpu_clock
    rows = []
    shapes = grids.CUDA_GRID
    if quick:  # one tiny channel-heavy shape, to test the sweep in the interpreter
        shapes = [type(shapes[0])(1, 16, 16, 8, 4, 2, 1, name="tiny-dot")]
    for shape in shapes:
        if shape.in_channels // shape.groups < 16 or shape.stride == 1:
            continue
        for dtype, tf32 in CUDA_PRECISIONS:
            label = precision_label(dtype_name(dtype), tf32)
            if label == "float32 exact":
                continue
            x, w, b = shape.tensors(dtype, device)
            kwargs = shape.kwargs()
            timings = {}
            with cudnn_flags(tf32):
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
                        call()  # compile
                        readings = time_interleaved({name: call}, 9, 0.002, clock)[name]
                        timings[name] = statistics.median(readings) * 1e3
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
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    if args.device == "cpu":
        os.environ.setdefault("TRITON_INTERPRET", "1")
    info = versions()
    print(json.dumps(info, indent=1), flush=True)
    if args.versions:
        return 0
    result = {"versions": info}
    if args.sweep:
        result["sweep"] = sweep(args.device, args.quick)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
