"""`python -m convtranspose.check`: the workshop's setup check."""

from __future__ import annotations

import subprocess
import sys

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
