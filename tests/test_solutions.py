"""Every exercise solution's code runs, and prints what its comments promise.

Solutions sit in markdown dropdowns, so nbval never runs them: a renamed function or a
changed default would leave an instructor's answer key broken without a failing test. Here
each chapter's code cells run first (the solutions use what the chapter defined), then each
```` ```python ```` block of a ``{solution}``, in a copy of the chapter's namespace. A
``print(...)  # True`` (or ``# False``, maybe followed by words) comment is a promise: the printed values must match;
so is ``# raises SomeError``: the block must raise it.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import re
import warnings
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

import matplotlib.pyplot as plt

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
SOLUTION = re.compile(r"\{solution\}[^\n]*\n(.*?)^(?:````|:::)", re.S | re.M)
PYTHON = re.compile(r"```python\n(.*?)```", re.S)
PROMISE = re.compile(r"#\s*(True|False)\b")
RAISES = re.compile(r"#\s*raises\s+(\w+)")


def solution_blocks(path: Path) -> list[str]:
    """The python code blocks of every solution in a notebook, in order."""
    blocks = []
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            for solution in SOLUTION.findall("".join(cell["source"])):
                blocks += PYTHON.findall(solution)
    return blocks


def chapter_namespace(path: Path) -> dict:
    """What the chapter's code cells define, run top to bottom (IPython magics dropped; cells
    that raise on purpose may raise), with figures going nowhere."""
    namespace: dict = {"__name__": "__chapter__"}
    # Chapter 12 sets `torch.backends.cudnn.allow_tf32` as a reader would; once another test
    # has imported torch's test helpers, such assignments raise outside torch's own context
    # manager. Allow them while the chapter runs (conftest's exact_float32 restores the flags).
    with getattr(torch.backends, "__allow_nonbracketed_mutation")():
        _run_cells(path, namespace)
    return namespace


def _run_cells(path: Path, namespace: dict) -> None:
    """Execute the chapter's code cells in ``namespace``, in order."""
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(line for line in cell["source"] if not line.lstrip().startswith("%"))
        raises = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")  # plt.show() on a non-interactive backend
            try:
                exec(compile(source, f"{path.name} cell", "exec"), namespace)
            except Exception:
                if not raises:
                    raise
        plt.close("all")


def test_solutions_are_found() -> None:
    assert sum(len(solution_blocks(p)) for p in NOTEBOOKS) >= 2 * len(NOTEBOOKS)


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if solution_blocks(p)], ids=lambda p: p.name)
def test_solutions_run_and_keep_their_promises(path: Path, monkeypatch) -> None:
    monkeypatch.chdir(path.parent)  # chapters read ../book/data relative to notebooks/
    namespace = chapter_namespace(path)
    for block in solution_blocks(path):
        out = io.StringIO()
        raises = RAISES.search(block)
        expected = (
            pytest.raises(getattr(builtins, raises[1])) if raises else contextlib.nullcontext()
        )
        with contextlib.redirect_stdout(out), expected:
            exec(compile(block, f"{path.name} solution", "exec"), dict(namespace))
        plt.close("all")
        promised = PROMISE.findall(block)
        printed = [line for line in out.getvalue().split() if line in ("True", "False")]
        assert printed[-len(promised) :] == promised if promised else True, (
            f"{path.name}: a solution promised {promised} and printed {printed}:\n{block}"
        )
