"""`python -m convtranspose.check`: the workshop's setup check."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from convtranspose import check


def test_command_says_ready_here() -> None:
    """The real command, as a learner runs it: this environment has everything."""
    done = subprocess.run(
        [sys.executable, "-m", "convtranspose.check"], capture_output=True, text=True, timeout=600
    )
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    assert lines[-1].startswith("VERDICT: READY"), lines[-1]
    for name in ("Python", "torch", "Jupyter", "Triton", "GPU", "reference", "cpu", "cuda"):
        assert any(name in line for line in lines), f"no line about {name}"


def test_missing_requirement_fails_with_advice(monkeypatch, capsys) -> None:
    real_version = check._version

    def without_jupyterlab(name: str) -> str:
        if name == "jupyterlab":
            raise ImportError("No module named 'jupyterlab'")
        return real_version(name)

    monkeypatch.setattr(check, "_version", without_jupyterlab)
    monkeypatch.setattr(check, "check_cuda_interpreter", lambda: check.Result("cuda", "ok", ""))
    assert check.main([]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("VERDICT: NOT READY: 1 problem(s) (Jupyter)"), out[-1]
    assert any("make env" in line for line in out), "no advice"


def test_wrong_values_are_a_failure(monkeypatch) -> None:
    """Right shape, wrong values (torch's answer plus a small error): the comparison fails."""
    import torch.nn.functional as F

    wrong = lambda *a, **k: F.conv_transpose1d(*a, **k) + 1e-6  # noqa: E731
    monkeypatch.setattr(check, "_implementation", lambda name: wrong)
    result = check.check_implementation("broken", "convtranspose.cpu")
    assert result.status == check.FAIL
    assert "max |difference| = 1e-06" in result.detail


def test_wrong_shape_is_a_failure(monkeypatch) -> None:
    monkeypatch.setattr(check, "_implementation", lambda name: lambda *a, **k: a[0] * 0)
    result = check.check_implementation("broken", "convtranspose.cpu")
    assert result.status == check.FAIL


@pytest.mark.parametrize("status", [check.WARN, check.OK])
def test_warnings_do_not_block(status: str) -> None:
    results = [check.Result("a", check.OK, ""), check.Result("b", status, "")]
    assert check.verdict(results).startswith("VERDICT: READY")


# --- without Triton: macOS and Windows, where Triton does not exist -------------------------

#: The check in a fresh process as on another platform: the modules are imported on the real
#: one first, then `import triton` is made to fail (as where it is not installed) and the
#: platform's names changed before the check runs.
WITHOUT_TRITON = """
import platform, sys
import ipykernel, jupyterlab, nbformat, torch
sys.modules["triton"] = None
sys.platform, platform.system = {platform!r}, lambda: {system!r}
from convtranspose.check import main
raise SystemExit(main())
"""


@functools.cache
def check_without_triton(platform: str, system: str) -> subprocess.CompletedProcess:
    code = WITHOUT_TRITON.format(platform=platform, system=system)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)


def line(output: str, name: str) -> str:
    """The report's line about ``name``, its spaces collapsed."""
    return " ".join(next(x for x in output.splitlines() if x[7:].startswith(name)).split())


@pytest.mark.parametrize(("platform", "system"), [("darwin", "Darwin"), ("win32", "Windows")])
def test_without_triton_elsewhere_ready_and_says_which_chapters_need_it(platform, system):
    done = check_without_triton(platform, system)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("VERDICT: READY")
    triton = line(done.stdout, "Triton")
    assert triton.startswith(f"[warn] Triton not available on {system}:")
    assert "chapters 1 to 11 and Part V need none" in triton
    assert "chapter 12" in triton
    assert "interpreter on the CPU" not in line(done.stdout, "GPU")  # no Triton, no interpreter
    assert "Traceback" not in done.stdout + done.stderr


def test_without_triton_on_linux_not_ready() -> None:
    """On Linux Triton is in the requirements: without it the check fails, with advice."""
    done = check_without_triton("linux", "Linux")
    assert done.returncode == 1
    assert line(done.stdout, "Triton").startswith("[FAIL] Triton not importable")
    assert "VERDICT: NOT READY: 1 problem(s) (Triton)" in done.stdout


def test_setup_page_shows_what_the_check_prints_without_triton() -> None:
    """The setup page's example for macOS and Windows is the check's own output."""
    page = (Path(__file__).resolve().parent.parent / "book" / "setup.md").read_text()
    shown = page[page.index("(macos-and-windows)=") :]
    shown = shown[shown.index("```text") + 7 : shown.index("```", shown.index("```text") + 7)]
    done = check_without_triton("win32", "Windows")
    for example in shown.strip().splitlines():
        name = example[7:].split("  ")[0]
        assert " ".join(example.split()) == line(done.stdout, name)


def test_chapter_12_without_triton_says_so_once_then_one_line_errors(tmp_path, monkeypatch):
    """Chapter 12's first cell, and its first cell that runs the kernel, in a Jupyter kernel
    where `import triton` fails: one message, then a one-line error (no traceback wall)."""
    import nbformat
    from nbclient import NotebookClient

    notebooks = Path(__file__).resolve().parent.parent / "notebooks"
    (tmp_path / "sitecustomize.py").write_text('import sys\nsys.modules["triton"] = None\n')
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), *sys.path]))
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    nb = nbformat.read(notebooks / "12-cuda-kernel.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    first, kernel = code[0], next(c for c in code if "cuda.conv_transpose1d(" in c.source)
    nb.cells = [first, kernel]
    NotebookClient(
        nb, timeout=300, allow_errors=True, resources={"metadata": {"path": str(notebooks)}}
    ).execute()
    printed = "".join(o.get("text", "") for o in first.outputs if o.output_type == "stream")
    assert "Triton is not installed" in printed
    assert "chapters 1 to 11 and Part V need no Triton" in printed
    assert [o.output_type for o in first.outputs if o.output_type == "error"] == []
    assert first.outputs[-1]["data"]["text/plain"] == "False"  # cuda.is_available(DEVICE)
    (error,) = kernel.outputs
    assert error.output_type == "error" and error.ename == "RuntimeError"
    assert "needs Triton" in error.evalue and "convtranspose.cpu" in error.evalue
    assert len(error.traceback) == 1  # the error's one line, not a traceback
