"""The workshop's timing measures of each chapter: words of prose, code cells, exercises.

    python tools/chapter_lengths.py [notebooks/]

prints one Markdown table row per chapter with the estimate the workshop page uses: words / 200
(read together, the instructor summarising) + code cells / 2 (each predicted, then run) + 6
minutes per "Do" exercise (``--do`` per chapter, 1 by default; the page's plans give some
chapters 2).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

WORDS_PER_MINUTE = 200
MINUTES_PER_CODE_CELL = 0.5
MINUTES_PER_EXERCISE = 6


def measure(notebook: Path) -> dict[str, int]:
    """Words in the markdown cells, code cells, and exercises (``{exercise}`` directives)."""
    cells = json.loads(notebook.read_text())["cells"]
    markdown = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    return {
        "words": sum(len(re.findall(r"[A-Za-z]+", text)) for text in markdown),
        "code": sum(c["cell_type"] == "code" for c in cells),
        "exercises": sum(len(re.findall(r"\{exercise\}", text)) for text in markdown),
    }


def estimate(words: int, code: int, do: int) -> float:
    """Minutes for a chapter read together, its cells run, ``do`` exercises done in pairs."""
    return words / WORDS_PER_MINUTE + code * MINUTES_PER_CODE_CELL + do * MINUTES_PER_EXERCISE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, nargs="?", default=Path("notebooks"))
    parser.add_argument("--do", type=int, default=1, help="'Do' exercises per chapter")
    args = parser.parse_args(argv)
    print("| Chapter | Words | Code cells | Exercises | Estimate (min) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for notebook in sorted(args.folder.glob("[0-9][0-9]-*.ipynb")):
        m = measure(notebook)
        minutes = estimate(m["words"], m["code"], args.do)
        print(
            f"| {notebook.stem} | {m['words']:,} | {m['code']} | {m['exercises']} | {minutes:.0f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
