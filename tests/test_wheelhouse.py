"""The offline install of a workshop room (`make wheelhouse`, tools/wheelhouse.py).

The full test downloads the wheelhouse (about 550 MiB on Linux) and installs it into a fresh
virtual environment with no index, so it is opt-in: ``CONVTRANSPOSE_WHEELHOUSE=1 pytest
tests/test_wheelhouse.py``. The requirement-per-platform tests always run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import wheelhouse

FULL = os.environ.get("CONVTRANSPOSE_WHEELHOUSE", "") not in ("", "0")


def names(lines: list[str]) -> set[str]:
    return {wheelhouse.Requirement(line).name for line in lines}


def test_linux_gets_cpu_torch_and_triton() -> None:
    lines = wheelhouse.requirements_for(wheelhouse.PLATFORMS["linux-x86_64"], "3.11")
    assert "torch==2.13.0+cpu" in lines
    assert "triton" in names(lines)
    assert wheelhouse.PACKAGE not in names(lines)  # built from the checkout, not downloaded


@pytest.mark.parametrize("platform", ["macos-arm64", "windows-x86_64"])
def test_other_platforms_get_no_triton(platform: str) -> None:
    lines = wheelhouse.requirements_for(wheelhouse.PLATFORMS[platform], "3.11")
    assert "triton" not in names(lines)
    assert "torch==2.13.0" in lines


def test_learner_torch_is_the_projects() -> None:
    """requirements-learner.txt pins torch exactly as requirements.txt does (the notebooks'
    outputs depend on its numerics)."""
    root = Path(wheelhouse.ROOT)

    def torch_pin(path: Path) -> str:
        return next(line for line in path.read_text().splitlines() if line.startswith("torch=="))

    assert torch_pin(root / "requirements.txt") == torch_pin(wheelhouse.REQUIREMENTS)


@pytest.mark.slow
@pytest.mark.skipif(not FULL, reason="downloads ~550 MiB: set CONVTRANSPOSE_WHEELHOUSE=1")
def test_fresh_environment_installs_offline_and_is_ready(tmp_path: Path) -> None:
    house, env_dir = tmp_path / "wheelhouse", tmp_path / "venv"
    subprocess.run([sys.executable, str(Path(wheelhouse.__file__)), str(house)], check=True)
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    # No index, no configuration, no find-links but the wheelhouse: what a room without
    # internet has. The check runs outside the checkout, on the installed package.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    clean["PIP_CONFIG_FILE"] = os.devnull
    install = [python, "-m", "pip", "install", "--no-index", "--find-links", str(house)]
    subprocess.run([*install, "-r", str(house / "requirements-learner.txt")], check=True, env=clean)
    done = subprocess.run(
        [python, "-m", "convtranspose.check"],
        env=clean,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "VERDICT: READY" in done.stdout.splitlines()[-1], done.stdout
