"""`make learner` (tools/learner.py): workshop copies with solutions removed, outputs cleared."""

from __future__ import annotations

import importlib.util
import re
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
    # the exercise, its answer cell, the placeholder for the solution, the text after it
    assert [c.cell_type for c in copy.cells] == ["markdown", "code", "markdown", "markdown"]


def test_kit_has_cleared_notebooks_and_data(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "results.json").write_text("{}")
    code = new_code_cell("1 + 1", execution_count=1, outputs=[new_output("stream", text="2")])
    notebook = new_notebook(cells=[new_markdown_cell(EXERCISE), code])
    nbformat.write(notebook, tmp_path / "notebooks" / "a.ipynb")
    assert learner.main(["notebooks", "kit", "--data", "data"]) == 0
    copy = nbformat.read(tmp_path / "kit" / "notebooks" / "a.ipynb", as_version=4)
    assert copy.cells[1].outputs == [] and copy.cells[1].execution_count is None
    assert (tmp_path / "kit" / "data" / "results.json").read_text() == "{}"


def test_every_chapter_has_a_learner_copy_without_solutions(tmp_path: Path) -> None:
    removed = learner.write_learner_copies(ROOT / "notebooks", tmp_path)
    assert removed, "no notebooks"
    for name, count in removed.items():
        text = (tmp_path / name).read_text()
        assert count >= 1, f"{name}: no solution found to remove"
        assert "{solution" not in text, name
        assert '"output_type"' not in text, name


def test_files_the_chapters_read_are_in_the_kit(tmp_path: Path, monkeypatch) -> None:
    """A chapter that reads `../book/data/...` must find it in the kit too: `make learner`
    copies book/data; a chapter reading from another folder needs it added there."""
    monkeypatch.chdir(ROOT)
    learner.write_learner_kit(Path("notebooks"), tmp_path, [Path("book/data")])
    relative = re.compile(r"""["'](\.\./[^"']+)["']""")
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for name in relative.findall(cell.source) if cell.cell_type == "code" else []:
                if (path.parent / name).exists():  # the chapter itself finds it
                    assert (tmp_path / "notebooks" / name).exists(), f"{path.name}: {name}"


def test_exercise_becomes_plain_markdown_and_an_answer_cell() -> None:
    notebook = new_notebook(cells=[new_markdown_cell("BEFORE\n\n" + EXERCISE + "\nAFTER")])
    copy, _ = learner.learner_copy(notebook)
    assert [c.cell_type for c in copy.cells] == ["markdown", "code", "markdown"]
    exercise, answer, after = copy.cells
    assert "BEFORE" in exercise.source and "**Exercise 99.1: Title**" in exercise.source
    assert "The QUESTION." in exercise.source
    assert "{exercise}" not in exercise.source and ":label:" not in exercise.source
    assert answer.source == "" and answer.outputs == []
    assert after.source == "AFTER"


def test_citations_and_references_become_text() -> None:
    bibliography = learner.read_bibliography(ROOT / "book" / "references.bib")
    text = learner.plain_roles(
        "As {cite}`odena2016deconvolution` and {cite:p}`dumoulin2016guide, shi2016realtime` "
        "show; see the {ref}`last section <separable>` and {func}`convtranspose.cpu.pack`.",
        bibliography,
    )
    assert text == (
        "As (Odena et al., 2016) and (Dumoulin and Visin, 2016; Shi et al., 2016) show; "
        "see the last section and `convtranspose.cpu.pack`."
    )


#: What JupyterLab would show raw: a MyST directive's fence, its options, a role.
RAW_MYST = re.compile(r"[`:~]{3,}\{[\w-]+\}|^\s*:(label|class):|\{[\w:-]+\}`", re.MULTILINE)


def test_learner_copies_open_in_jupyterlab_without_raw_myst(tmp_path: Path) -> None:
    bibliography = learner.read_bibliography(ROOT / "book" / "references.bib")
    learner.write_learner_copies(ROOT / "notebooks", tmp_path, bibliography)
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        original = nbformat.read(path, as_version=4)
        exercises = sum(c.source.count("{exercise}") for c in original.cells)
        copy = nbformat.read(tmp_path / path.name, as_version=4)
        nbformat.validate(copy)
        raw = [
            m.group(0)
            for c in copy.cells
            if c.cell_type == "markdown"
            for m in RAW_MYST.finditer(c.source)
        ]
        assert not raw, f"{path.name}: raw MyST in the learner copy: {raw[:5]}"
        titles = [i for i, c in enumerate(copy.cells) if "**Exercise " in c.source]
        assert len(titles) == exercises >= 1, f"{path.name}: {len(titles)} of {exercises} exercises"
        for i in titles:
            answer = copy.cells[i + 1]
            assert answer.cell_type == "code" and answer.source == "", f"{path.name}: cell {i + 1}"
