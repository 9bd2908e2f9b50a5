"""Structural checks nbval cannot make: every code cell ran, in order, with no cell skipped.

nbval passes a cell that was never executed without checking anything, so a
notebook committed half-run would look green. These tests close that hole.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def code_cells(path: Path) -> list[dict]:
    cells = json.loads(path.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_executed_in_order(path: Path) -> None:
    counts = [c.get("execution_count") for c in code_cells(path)]
    assert counts, f"{path.name} has no code cells"
    assert None not in counts, f"{path.name}: cells never executed at positions " + str(
        [i for i, n in enumerate(counts) if n is None]
    )
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: not run top to bottom in one fresh kernel: execution counts {counts}"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_cell_is_skipped_by_nbval(path: Path) -> None:
    for cell in code_cells(path):
        source = "".join(cell["source"])
        tags = cell.get("metadata", {}).get("tags", [])
        assert "NBVAL_SKIP" not in source and "nbval-skip" not in tags, source[:80]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_error_outputs_except_tagged(path: Path) -> None:
    for cell in code_cells(path):
        tags = cell.get("metadata", {}).get("tags", [])
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        if errors:
            assert "raises-exception" in tags, "".join(cell["source"])[:80]
