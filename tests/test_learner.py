"""`make learner` (tools/learner.py): workshop copies with solutions removed, outputs cleared."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("learner", ROOT / "tools" / "learner.py")
learner = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(learner)

EXERCISE = "```{exercise} Title\n:label: ex-99-1\n\nThe QUESTION.\n```\n"
SOLUTIONS = {
    "backticks, nested code": "````{solution} ex-99-1\n:class: dropdown\n\nANSWER\n\n"
    "```python\nprint('ANSWER')\n```\n````\n",
    "colons": ":::{solution} ex-99-1\n:class: dropdown\nANSWER\n:::\n",
    "indented": "  ```{solution} ex-99-1\n  ANSWER\n  ```\n",
}


@pytest.mark.parametrize("solution", SOLUTIONS.values(), ids=SOLUTIONS.keys())
def test_solution_block_removed_exercise_kept(solution: str) -> None:
    text, removed, gated = learner.strip_solutions(EXERCISE + "\n" + solution + "\nAFTER\n")
    assert (removed, gated) == (1, False)
    assert "ANSWER" not in text and "{solution" not in text
    assert "QUESTION" in text and "AFTER" in text and learner.PLACEHOLDER in text


def test_gated_solution_removed_across_cells() -> None:
    notebook = new_notebook(
        cells=[
            new_markdown_cell(EXERCISE + "\n```{solution-start} ex-99-1\n```\nANSWER"),
            new_code_cell("print('ANSWER')"),
            new_markdown_cell("ANSWER\n```{solution-end}\n```\nAFTER"),
        ]
    )
    copy, removed = learner.learner_copy(notebook)
    sources = "".join(c.source for c in copy.cells)
    assert removed == 1 and "ANSWER" not in sources and "AFTER" in sources
    assert [c.cell_type for c in copy.cells] == ["markdown", "markdown"]


def test_outputs_cleared_and_files_written(tmp_path: Path) -> None:
    code = new_code_cell("1 + 1", execution_count=1, outputs=[new_output("stream", text="2")])
    nbformat.write(new_notebook(cells=[new_markdown_cell(EXERCISE), code]), tmp_path / "a.ipynb")
    assert learner.main([str(tmp_path), str(tmp_path / "out")]) == 0
    copy = nbformat.read(tmp_path / "out" / "a.ipynb", as_version=4)
    assert copy.cells[1].outputs == [] and copy.cells[1].execution_count is None


def test_every_chapter_has_a_learner_copy_without_solutions(tmp_path: Path) -> None:
    removed = learner.write_learner_copies(ROOT / "notebooks", tmp_path)
    assert removed, "no notebooks"
    for name, count in removed.items():
        text = (tmp_path / name).read_text()
        assert count >= 1, f"{name}: no solution found to remove"
        assert "{solution" not in text, name
        assert '"output_type"' not in text, name
