"""Learner copies of the chapters: solutions removed, outputs cleared (`make learner`).

    python tools/learner.py notebooks _build/learner --data book/data --bib book/references.bib

For a workshop, learners should predict before they run: each copy keeps every exercise
but none of its solution, and no cell shows its output until the learner runs it.

The copies keep the repository's layout, so a chapter that reads ``../book/data/...`` finds
it: the notebooks go to ``_build/learner/notebooks/`` and each ``--data`` folder to the same
place under ``_build/learner/``. Zip ``_build/learner/`` (with the package, installed as the
setup page says) and it is the learners' kit.

Removed:

- every ``{solution}`` block in a markdown cell (a fenced directive, ```` ``` ```` or
  ``:::``, however long its fence, with whatever code blocks it contains), replaced by a
  one-line note;
- everything between a ``{solution-start}`` and a ``{solution-end}`` block (sphinx-exercise's
  gated form), across cells, code cells included;
- every code cell's outputs and execution count.

Rewritten for JupyterLab, which renders plain Markdown, not MyST:

- each ``{exercise}`` becomes a bold title and its statement, followed by an empty code cell
  to answer in;
- each ``{cite}`key``` becomes its text, "(Odena et al., 2016)", from ``--bib``;
- each ``{ref}`text <label>``` becomes its text.

The copies are written with nbformat and validated, one file per chapter, same names.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

#: Opening fence of a directive: indentation, the fence (3+ backticks, tildes or colons), name.
OPENING = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,}|:{3,})\{(?P<name>[\w-]+)\}")
PLACEHOLDER = "*(The solution is not in the workshop copy: work it out, then check the book.)*"
#: A MyST role in running text: ``{name}`content```.
ROLE = re.compile(r"\{(?P<name>[\w:-]+)\}`(?P<content>[^`]*)`")
#: The first line of an exercise's body that is not one of its options (``:label: ...``).
OPTION = re.compile(r"^\s*:[\w-]+:")


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


def exercise_title(title: str, label: str | None) -> str:
    """The heading a learner sees: "**Exercise 7.3: Title**" from the label ``ex-07-3``."""
    number = re.fullmatch(r"ex-0*(\d+)-(\d+)", label or "")
    name = f"Exercise {number[1]}.{number[2]}" if number else "Exercise"
    return f"**{name}: {title.strip()}**" if title.strip() else f"**{name}**"


def split_exercises(text: str) -> list[str | None]:
    """``text`` as plain Markdown pieces, with ``None`` after each exercise: where an empty
    code cell goes for the learner's answer. Each ``{exercise}`` block becomes its title
    (:func:`exercise_title`) and its statement, without the directive and its options."""
    lines = text.splitlines(keepends=True)
    pieces: list[str | None] = []
    current: list[str] = []
    i = 0
    while i < len(lines):
        match = OPENING.match(lines[i])
        if not match or match["name"] != "exercise":
            current.append(lines[i])
            i += 1
            continue
        end = _skip_block(lines, i, match["fence"])
        body = lines[
            i + 1 : end - 1 if end - 1 > i and _closes(lines[end - 1], match["fence"]) else end
        ]
        label = None
        while body and OPTION.match(body[0]):
            option = body.pop(0).strip()
            if option.startswith(":label:"):
                label = option.removeprefix(":label:").strip()
        title = lines[i][match.end() :]
        statement = "".join(line.removeprefix(match["indent"]) for line in body).strip("\n")
        current.append(exercise_title(title, label) + "\n\n" + statement + "\n")
        pieces += ["".join(current), None]
        current = []
        i = end
    pieces.append("".join(current))
    return [p for p in pieces if p is None or p.strip()]


def read_bibliography(path: Path) -> dict[str, str]:
    """``{key: "Odena et al., 2016"}`` for each entry of a BibTeX file (authors' surnames and
    year: how the book cites, author-year)."""
    text = path.read_text(encoding="utf-8")
    cites = {}
    for entry in re.finditer(r"@\w+\{(?P<key>[^,\s]+),(?P<body>.*?)\n\}", text, re.S):
        fields = dict(
            (m["name"].lower(), m["value"])
            for m in re.finditer(
                r"(?P<name>\w+)\s*=\s*\{(?P<value>(?:[^{}]|\{[^{}]*\})*)\}", entry["body"]
            )
        )
        surnames = [
            re.sub(r"[{}\\']", "", a.split(",")[0]).strip()
            for a in fields.get("author", "Anonymous").split(" and ")
        ]
        authors = surnames[0] + " et al." if len(surnames) > 2 else " and ".join(surnames)
        cites[entry["key"]] = f"{authors}, {fields.get('year', 'n.d.')}"
    return cites


def plain_roles(text: str, bibliography: dict[str, str]) -> str:
    """MyST roles as plain text: ``{cite}`` as "(Author, year)" (the key itself when the
    bibliography lacks it), ``{ref}`text <label>``` as its text, any other role as code."""

    def plain(match: re.Match) -> str:
        name, content = match["name"], match["content"]
        if name.startswith("cite"):
            keys = [k.strip() for k in content.split(",")]
            return "(" + "; ".join(bibliography.get(k, k) for k in keys) + ")"
        if name in ("ref", "numref", "doc", "term"):
            return re.sub(r"\s*<[^>]*>$", "", content)
        if name == "math":
            return f"${content}$"
        return f"`{content}`"

    return ROLE.sub(plain, text)


def learner_copy(
    notebook: nbformat.NotebookNode, bibliography: dict[str, str] | None = None
) -> tuple[nbformat.NotebookNode, int]:
    """The learner's copy of ``notebook`` (solutions out, outputs cleared, exercises and
    citations as plain Markdown, an empty code cell after each exercise) and how many
    solutions were removed."""
    cells, removed, gated = [], 0, False
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source, count, gated = strip_solutions(cell.source, gated)
            removed += count
            if not cell.source.strip():
                continue  # wholly inside a gated solution
            pieces = split_exercises(plain_roles(cell.source, bibliography or {}))
            for n, piece in enumerate(pieces):
                if piece is None:
                    cells.append(nbformat.v4.new_code_cell(""))
                elif n == 0:
                    cell.source = piece
                    cells.append(cell)
                else:
                    cells.append(nbformat.v4.new_markdown_cell(piece.strip("\n")))
            continue
        elif gated:
            continue  # a code cell inside a gated solution
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        cells.append(cell)
    notebook.cells = cells
    return notebook, removed


def write_learner_copies(
    source: Path, destination: Path, bibliography: dict[str, str] | None = None
) -> dict[str, int]:
    """Write the learner copy of every notebook in ``source`` into ``destination`` (emptied
    first, so a removed chapter does not linger); return the solutions removed from each."""
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    removed = {}
    for path in sorted(source.glob("*.ipynb")):
        notebook, removed[path.name] = learner_copy(nbformat.read(path, as_version=4), bibliography)
        nbformat.validate(notebook)
        nbformat.write(notebook, destination / path.name)
    return removed


def write_learner_kit(
    source: Path, kit: Path, data: Sequence[Path] = (), bib: Path | None = None
) -> dict[str, int]:
    """The workshop kit in ``kit``: learner copies of ``source``'s notebooks in
    ``kit / source``, and each folder of ``data`` (relative paths, like ``source``) copied to
    ``kit / folder``, so relative paths between them still resolve."""
    for folder in (source, *data):
        if folder.is_absolute():
            raise ValueError(f"give {folder} relative to the repository's root")
    for folder in data:
        if folder.is_dir():  # git keeps no empty folder: a fresh clone may lack it
            shutil.copytree(folder, kit / folder, dirs_exist_ok=True)
    bibliography = read_bibliography(bib) if bib else {}
    return write_learner_copies(source, kit / source, bibliography)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder of the chapters' notebooks")
    parser.add_argument("kit", type=Path, help="folder for the learners' kit")
    parser.add_argument(
        "--data", type=Path, action="append", default=[], help="a folder the chapters read"
    )
    parser.add_argument(
        "--bib", type=Path, help="the book's BibTeX file, to write citations as text"
    )
    args = parser.parse_args(argv)
    removed = write_learner_kit(args.source, args.kit, args.data, args.bib)
    if not removed:
        print(f"no notebooks in {args.source}", file=sys.stderr)
        return 1
    for name, count in removed.items():
        print(f"{args.kit / args.source / name}: {count} solution(s) removed, outputs cleared")
    for folder in args.data:
        print(f"{args.kit / folder}: " + ("copied" if folder.is_dir() else "no such folder"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
