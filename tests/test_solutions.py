"""Every exercise solution's code runs, and prints what its comments promise.

Solutions sit in markdown dropdowns, so nbval never runs them: a renamed function or a
changed default would leave an instructor's answer key broken without a failing test. Here
each chapter's code cells run first (the solutions use what the chapter defined), then each
```` ```python ```` block of a ``{solution}``, in a copy of the chapter's namespace, one
statement at a time. A comment after a statement that says what it shows is a promise:
``# True`` or ``# False`` (maybe followed by words), or a value written as Python prints it
(``# [[[3.0, 3.0, 3.0]]]``, ``# 6``, ``# torch.Size([1, 1, 15])``), on the statement's last
line or on comment lines right below it; what it prints must match (:func:`promise`). So is
``# raises SomeError``: the block must raise it.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import re
import tokenize
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import torch

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
SOLUTION = re.compile(r"\{solution\}[^\n]*\n(.*?)^(?:````|:::)", re.S | re.M)
PYTHON = re.compile(r"```python\n(.*?)```", re.S)
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
        raises = RAISES.search(block)
        expected = (
            pytest.raises(getattr(builtins, raises[1])) if raises else contextlib.nullcontext()
        )
        kept = []
        with expected:
            kept = run_and_compare(block, dict(namespace), f"{path.name} solution")
        plt.close("all")
        broken = [(line, promised, shown) for line, promised, shown in kept if shown != promised]
        assert not broken, f"{path.name}: a solution's promises were not kept:\n" + "\n".join(
            f"  {line.strip()}\n    shows {shown!r}" for line, _, shown in broken
        )


def promise(comment: str) -> str | None:
    """What a comment says a statement shows, or None where it is prose. ``# True`` and
    ``# False``, maybe followed by words, promise that word; a comment that starts like a
    Python value (a number, a tuple, list or dict, a ``torch.Size``) promises that exact text."""
    if match := re.match(r"(True|False)\b", comment):
        return match[1]
    if re.match(r"[-(\[{\d]|torch\.Size\(", comment):
        return comment
    return None


def comments(block: str) -> dict[int, str]:
    """The comment on each line of ``block`` (1-based line numbers), from Python's tokenizer,
    so a ``#`` inside a string is not taken for one."""
    tokens = tokenize.generate_tokens(io.StringIO(block).readline)
    return {t.start[0]: t.string.lstrip("#").strip() for t in tokens if t.type == tokenize.COMMENT}


def run_and_compare(block: str, namespace: dict, name: str) -> list[tuple[str, str, str]]:
    """Run ``block`` one top-level statement at a time and return ``(line, promised, shown)``
    for every promise (:func:`promise`) a statement carries: on its last line, then on the
    comment lines right below it, one per line it prints (a loop's lines, or a long value
    on a line of its own). ``shown`` is the printed line, or, for an expression that printed
    nothing, ``str`` of its value. A promise anywhere else (inside a loop's body, say) fails:
    it could not be checked."""
    lines = block.splitlines()
    promises = {n: p for n, c in comments(block).items() if (p := promise(c)) is not None}
    kept = []
    for statement in ast.parse(block).body:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            if isinstance(statement, ast.Expr):
                code = compile(ast.Expression(statement.value), name, "eval")
                value = eval(code, namespace)
            else:
                exec(compile(ast.Module([statement], type_ignores=[]), name, "exec"), namespace)
                value = None
        numbers = [statement.end_lineno] if statement.end_lineno in promises else []
        below = statement.end_lineno + 1
        while below in promises and lines[below - 1].lstrip().startswith("#"):
            numbers.append(below)
            below += 1
        shown = out.getvalue().splitlines() if out.getvalue() else [str(value)]
        shown = [""] * len(numbers) + shown  # too few lines printed: compare with ""
        for number, text in zip(numbers, shown[len(shown) - len(numbers) :], strict=True):
            kept.append((lines[number - 1], promises.pop(number), text))
    assert not promises, f"{name}: promises not on or below a top-level statement: {promises}"
    return kept
