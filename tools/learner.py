"""Learner copies of the chapters: solutions removed, outputs cleared (`make learner`).

    python tools/learner.py notebooks _build/learner

For a workshop, learners should predict before they run: each copy keeps every exercise
but none of its solution, and no cell shows its output until the learner runs it.

Removed:

- every ``{solution}`` block in a markdown cell (a fenced directive, ```` ``` ```` or
  ``:::``, however long its fence, with whatever code blocks it contains), replaced by a
  one-line note;
- everything between a ``{solution-start}`` and a ``{solution-end}`` block (sphinx-exercise's
  gated form), across cells, code cells included;
- every code cell's outputs and execution count.

The copies are written with nbformat and validated, one file per chapter, same names.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

#: Opening fence of a directive: indentation, the fence (3+ backticks, tildes or colons), name.
OPENING = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,}|:{3,})\{(?P<name>[\w-]+)\}")
PLACEHOLDER = "*(The solution is not in the workshop copy: work it out, then check the book.)*"


def _closes(line: str, fence: str) -> bool:
    """Whether ``line`` closes a block opened by ``fence`` (CommonMark: only the same
    character, at least as many of them, and nothing else on the line)."""
    stripped = line.strip()
    return len(stripped) >= len(fence) and stripped == fence[0] * len(stripped)


def strip_solutions(text: str, gated: bool = False) -> tuple[str, int, bool]:
    """Remove solution blocks from one markdown cell's ``text``.

    ``gated`` says whether the cell starts inside a ``{solution-start}`` ... ``{solution-end}``
    region. Returns the new text, the number of solutions removed, and whether the cell ends
    inside such a region.
    """
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    removed = 0
    i = 0
    while i < len(lines):
        match = OPENING.match(lines[i])
        name = match["name"] if match else None
        if gated:  # inside a gated solution: drop everything up to and including solution-end
            if name == "solution-end":
                gated = False
                i = _skip_block(lines, i, match["fence"])
                continue
            i += 1
            continue
        if name in ("solution", "solution-start"):
            removed += 1
            kept.append(match["indent"] + PLACEHOLDER + "\n")
            i = _skip_block(lines, i, match["fence"])
            gated = name == "solution-start"
            continue
        kept.append(lines[i])
        i += 1
    return "".join(kept), removed, gated


def _skip_block(lines: list[str], start: int, fence: str) -> int:
    """Index of the line after the block that opens at ``lines[start]`` (its end if unclosed)."""
    for j in range(start + 1, len(lines)):
        if _closes(lines[j], fence):
            return j + 1
    return len(lines)


def learner_copy(notebook: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """The learner's copy of ``notebook`` (solutions out, outputs cleared) and how many
    solutions were removed."""
    cells, removed, gated = [], 0, False
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source, count, gated = strip_solutions(cell.source, gated)
            removed += count
            if not cell.source.strip():
                continue  # wholly inside a gated solution
        elif gated:
            continue  # a code cell inside a gated solution
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        cells.append(cell)
    notebook.cells = cells
    return notebook, removed


def write_learner_copies(source: Path, destination: Path) -> dict[str, int]:
    """Write the learner copy of every notebook in ``source`` into ``destination``; return
    the number of solutions removed from each."""
    destination.mkdir(parents=True, exist_ok=True)
    removed = {}
    for path in sorted(source.glob("*.ipynb")):
        notebook, removed[path.name] = learner_copy(nbformat.read(path, as_version=4))
        nbformat.validate(notebook)
        nbformat.write(notebook, destination / path.name)
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder of the chapters' notebooks")
    parser.add_argument("destination", type=Path, help="folder for the learner copies")
    args = parser.parse_args(argv)
    removed = write_learner_copies(args.source, args.destination)
    if not removed:
        print(f"no notebooks in {args.source}", file=sys.stderr)
        return 1
    for name, count in removed.items():
        print(f"{args.destination / name}: {count} solution(s) removed, outputs cleared")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
