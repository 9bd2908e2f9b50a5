"""``python -m convtranspose.check``: is this machine ready for the book and the workshop?

Run it once before a workshop (or before opening the notebooks): it reports, one line each,

- Python, torch and Jupyter (JupyterLab, the ``python3`` kernel, nbformat): required;
- Triton: required on Linux, where chapter 12 runs its kernel (natively or in Triton's
  interpreter); it does not exist for macOS or Windows, where chapters 1 to 11 and Part V
  need none and only chapter 12's kernel cells cannot run (a warning, not a failure);
- the native CPU kernel: optional; built by ``make book``/``make test`` (or ``python -m
  convtranspose.cpu.build``), it says where, or why it is not in use (a warning: the package
  then runs its torch-op algorithms);
- the GPU: optional; without one, chapter 12 runs the very same kernel in the interpreter;
- a tiny run of each implementation (:mod:`convtranspose.reference`, :mod:`convtranspose.cpu`,
  :func:`convtranspose.conv_transpose1d`, and :mod:`convtranspose.cuda` in Triton's interpreter
  and on the GPU where there is one) against :func:`torch.nn.functional.conv_transpose1d`.

It ends with one verdict line, and exits with status 1, after advice on how to fix each
problem, when something the book needs is missing or wrong (0 otherwise).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Result", "main", "run_checks"]

OK, WARN, FAIL = "ok", "warn", "FAIL"

#: The package's ``requires-python``; a learner may run this check with an older Python.
MINIMUM_PYTHON = (3, 10)

#: How to (re)create the project's environment: the advice for anything missing.
SETUP_ADVICE = (
    "from the project's folder run `make env` (or `python -m pip install -r requirements.txt "
    "&& python -m pip install -e .`), then run this check with `.venv/bin/python -m "
    "convtranspose.check`"
)

#: The implementation check's case: stride, padding, output padding, groups and dilation all
#: differ from their defaults, so a mistake in any of them shows.
CASE = {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": 2}


@dataclass(frozen=True)
class Result:
    """One line of the report: what was checked, how it went, and what to do if it failed."""

    name: str
    status: str
    detail: str
    advice: str = ""


def _version(module_name: str) -> str:
    """Import ``module_name`` and return its version (``ImportError`` if it is missing)."""
    module = importlib.import_module(module_name)
    return str(getattr(module, "__version__", "installed"))


def check_python() -> Result:
    """Python 3.10 or newer (the package's ``requires-python``)."""
    version = platform.python_version()
    if sys.version_info[:2] >= MINIMUM_PYTHON:
        return Result("Python", OK, f"{version} ({sys.executable})")
    return Result("Python", FAIL, version, "install Python 3.10 or newer (CI uses 3.11)")


def check_torch() -> Result:
    """PyTorch importable."""
    try:
        return Result("torch", OK, _version("torch"))
    except ImportError as error:
        return Result("torch", FAIL, f"not importable ({error})", SETUP_ADVICE)


def check_jupyter() -> Result:
    """JupyterLab, the IPython kernel and nbformat: what ``make lab`` needs to open the notebooks."""
    versions, missing = [], []
    for module_name in ("jupyterlab", "ipykernel", "nbformat"):
        try:
            versions.append(f"{module_name} {_version(module_name)}")
        except ImportError:
            missing.append(module_name)
    if missing:
        return Result("Jupyter", FAIL, "missing: " + ", ".join(missing), SETUP_ADVICE)
    return Result("Jupyter", OK, ", ".join(versions))


def check_triton() -> Result:
    """Triton: needed on Linux for chapter 12's kernel; it does not exist elsewhere."""
    try:
        return Result("Triton", OK, _version("triton"))
    except ImportError as error:
        if sys.platform.startswith("linux"):
            return Result("Triton", FAIL, f"not importable ({error})", SETUP_ADVICE)
        return Result(
            "Triton",
            WARN,
            f"not available on {platform.system()}: chapters 1 to 11 and Part V need none; "
            "only chapter 12's kernel cells cannot run here",
            "for chapter 12's kernel cells, read their outputs in the book (website or PDF), "
            "or run the chapter on Linux (WSL2 on Windows) or from its launch button",
        )


def check_gpu() -> Result:
    """A CUDA GPU is optional: without one the kernel runs in Triton's interpreter."""
    try:
        import torch
    except ImportError:
        return Result("GPU", WARN, "unknown (torch is missing)")
    if torch.cuda.is_available():
        return Result("GPU", OK, f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})")
    if importlib.util.find_spec("triton") is None:
        return Result("GPU", OK, "none (not needed)")
    return Result(
        "GPU",
        OK,
        "none (not needed: chapter 12 runs the kernel in Triton's interpreter on the CPU)",
    )


def check_native() -> Result:
    """The native CPU kernel: in use (its vector width, which the rule reads, and where it
    was built), or why not (a warning, not a failure)."""
    try:
        from .cpu import extension
    except ImportError as error:
        return Result("native CPU kernel", WARN, f"cannot import the loader ({error})")
    if extension.available():
        width = {64: "AVX-512", 32: "AVX2"}.get(extension.vector_bytes(), "narrow")
        detail = f"in use, {width} vectors: {extension.library_path()}"
        return Result("native CPU kernel", OK, detail)
    return Result(
        "native CPU kernel",
        WARN,
        f"not in use: {extension.reason()}",
        "optional (the torch-op algorithms run instead); to build it: `make native` or "
        f"`{extension.BUILD_COMMAND}`",
    )


def _case_tensors(device: str):
    """The check's tiny case: float64 input, weight and bias on ``device``, fixed seed."""
    import torch

    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 5, generator=generator, dtype=torch.float64)
    w = torch.randn(4, 3, 3, generator=generator, dtype=torch.float64)
    b = torch.randn(6, generator=generator, dtype=torch.float64)
    return x.to(device), w.to(device), b.to(device)


def compare_with_torch(fn: Callable, device: str = "cpu") -> float:
    """Run ``fn`` (a ``conv_transpose1d``) and torch's op on the check's case and return the
    largest absolute difference; raise ``AssertionError`` if the shapes differ."""
    import torch

    x, w, b = _case_tensors(device)
    expected = torch.nn.functional.conv_transpose1d(x, w, b, **CASE)
    got = fn(x, w, b, **CASE)
    assert got.shape == expected.shape, f"shape {tuple(got.shape)} != {tuple(expected.shape)}"
    return float((got - expected).abs().max())


def _implementation(module_name: str, attribute: str = "conv_transpose1d") -> Callable:
    """``module_name.attribute``, imported on demand (so a missing module is reported, not fatal)."""
    return getattr(importlib.import_module(module_name), attribute)


def check_implementation(label: str, module_name: str, device: str = "cpu") -> Result:
    """One implementation against torch on the check's case, in this process."""
    name = f"{label} vs torch"
    try:
        error = compare_with_torch(_implementation(module_name), device)
    except ImportError as exc:
        return Result(name, FAIL, f"cannot import {module_name} ({exc})", SETUP_ADVICE)
    except Exception as exc:
        return Result(name, FAIL, f"{type(exc).__name__}: {exc}", _ERROR_ADVICE)
    if error > 1e-9:
        return Result(name, FAIL, f"max |difference| = {error:.3g}", _REPORT_ADVICE)
    return Result(name, OK, f"max |difference| = {error:.1g} (float64)")


_ERROR_ADVICE = (
    "it raised the error shown: run this check with the project's environment "
    "(`.venv/bin/python -m convtranspose.check`, after `make env`), and report the output of "
    "this check if it persists"
)
_REPORT_ADVICE = (
    "the package gives a wrong answer here: check that this checkout is unmodified "
    "(`git status`), reinstall it with `python -m pip install -e .`, and report the output "
    "of this check if it persists"
)


def check_cuda_interpreter() -> Result:
    """:mod:`convtranspose.cuda` in Triton's interpreter, in a fresh Python process: Triton reads
    ``TRITON_INTERPRET`` when the kernels are defined, so it must be set before the import."""
    name = "cuda (Triton interpreter) vs torch"
    if importlib.util.find_spec("convtranspose.cuda") is None:
        return Result(name, WARN, "convtranspose.cuda is missing from this version of the package")
    if importlib.util.find_spec("triton") is None:
        return Result(name, WARN, "skipped: Triton is not installed")
    command = [sys.executable, "-m", "convtranspose.check", "--only", "cuda-interpreter"]
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return Result(name, FAIL, "timed out after 300 s", _REPORT_ADVICE)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        detail = (lines[-1] if lines else done.stderr.strip()[-300:]) or "no output"
        return Result(name, FAIL, detail, _ERROR_ADVICE)
    return Result(name, OK, lines[-1])


def check_cuda_gpu() -> Result | None:
    """:mod:`convtranspose.cuda` natively on the GPU, when there is one (``None`` otherwise)."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available() or os.environ.get("TRITON_INTERPRET") == "1":
        return None
    return check_implementation("cuda (GPU)", "convtranspose.cuda", device="cuda")


def run_checks() -> list[Result]:
    """Every check, in the order the report prints them."""
    results = [check_python(), check_torch(), check_jupyter(), check_triton(), check_gpu()]
    if results[1].status == FAIL:  # without torch no implementation can run
        return results
    results.append(check_native())
    results += [
        check_implementation("reference", "convtranspose.reference"),
        check_implementation("cpu", "convtranspose.cpu"),
        check_implementation("conv_transpose1d (dispatch)", "convtranspose"),
        check_cuda_interpreter(),
    ]
    gpu = check_cuda_gpu()
    if gpu is None:
        return results
    if gpu.status == OK and results[-1].status == FAIL:
        # With a GPU the kernel runs natively; the interpreter is only a fallback here.
        failed = results[-1]
        results[-1] = Result(failed.name, WARN, failed.detail + " (not needed: the GPU works)")
    return [*results, gpu]


def verdict(results: list[Result]) -> str:
    """The report's last line: ready, or how many problems stand in the way."""
    failed = [r.name for r in results if r.status == FAIL]
    if failed:
        return (
            f"VERDICT: NOT READY: {len(failed)} problem(s) ({', '.join(failed)}): "
            "fix them with the advice above, then run this check again."
        )
    warned = [r.name for r in results if r.status == WARN]
    note = f" (see the warnings: {', '.join(warned)})" if warned else ""
    return f"VERDICT: READY: everything the book needs works on this machine{note}."


def report(results: list[Result]) -> str:
    """The whole report: one line per check, advice for each problem, the verdict."""
    width = max(len(r.name) for r in results)
    lines = [f"[{r.status:>4}] {r.name:<{width}}  {r.detail}" for r in results]
    advice = [f"- {r.name}: {r.advice}" for r in results if r.status != OK and r.advice]
    if advice:
        lines += ["", "What to do:", *advice]
    return "\n".join([*lines, "", verdict(results)])


def main(argv: list[str] | None = None) -> int:
    """Print the report; return 0 when ready, 1 when something the book needs is missing."""
    parser = argparse.ArgumentParser(prog="python -m convtranspose.check", description=__doc__)
    parser.add_argument("--only", choices=["cuda-interpreter"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.only == "cuda-interpreter":  # the child process of check_cuda_interpreter
        result = check_implementation("cuda (Triton interpreter)", "convtranspose.cuda")
        print(result.detail)  # the parent reports it as its own line
        return 0 if result.status == OK else 1
    results = run_checks()
    print(report(results))
    return 1 if any(r.status == FAIL for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
