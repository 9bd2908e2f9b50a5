"""Download every wheel a learner needs into one folder, for a workshop room without internet.

    python tools/wheelhouse.py _build/wheelhouse --platform linux-x86_64 --python 3.11

It builds this package's wheel from the checkout, downloads the wheels of
``requirements-learner.txt`` (and all their dependencies) for each platform and Python version
named, and copies the requirements file beside them, so the folder alone installs offline:

    python3 -m venv .venv
    .venv/bin/python -m pip install --no-index --find-links wheelhouse -r wheelhouse/requirements-learner.txt

On Linux it takes PyTorch's CPU build (from PyTorch's CPU index), which is a fraction of the
size of PyPI's CUDA build and all a learner needs. pip evaluates environment markers for the
machine it runs on, not for the target platform, so pip runs here with the target's marker
values (:data:`_PIP_FOR_TARGET`): a Windows wheelhouse built on Linux gets no Triton and no
NVIDIA libraries, and does get Jupyter's Windows-only dependencies (pywinpty, pywin32).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements-learner.txt"
PACKAGE = "convtranspose"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@dataclass(frozen=True)
class Platform:
    """A target: pip's platform tags, the marker values its learners' Python reports, and
    where its torch comes from (PyTorch's CPU index, or PyPI when ``None``)."""

    tags: tuple[str, ...]
    sys_platform: str
    platform_system: str
    os_name: str
    platform_machine: str
    torch_index: str | None = None


#: pip (23) takes a target's tags literally, so every glibc and macOS version a wheel may be
#: built for is named: manylinux 2.5 to 2.28 (torch's CPU build needs 2.28), macOS 11 to 14.
MANYLINUX = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(5, 29)),
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
)
MACOS = tuple(f"macosx_{major}_0_arm64" for major in range(11, 15))

PLATFORMS = {
    "linux-x86_64": Platform(MANYLINUX, "linux", "Linux", "posix", "x86_64", TORCH_CPU_INDEX),
    "macos-arm64": Platform(MACOS, "darwin", "Darwin", "posix", "arm64"),
    "windows-x86_64": Platform(("win_amd64",), "win32", "Windows", "nt", "AMD64"),
}


def requirements_for(platform: Platform, python: str) -> list[str]:
    """``requirements-learner.txt``'s lines that apply on ``platform`` with Python ``python``
    (markers evaluated for the target), without this package (built, not downloaded); on Linux
    torch is pinned to its CPU build."""
    environment = marker_environment(platform, python)
    lines = []
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        if requirement.name == PACKAGE:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        requirement.marker = None
        text = str(requirement)
        if requirement.name == "torch" and platform.torch_index:
            text = text + "+cpu"
        lines.append(text)
    return lines


def build_package(destination: Path) -> None:
    """This checkout's wheel (pure Python, so one serves every platform), built from a copy of
    the files it packs so that setuptools leaves no ``build/`` in the checkout."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder)
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            shutil.copy(ROOT / name, source / name)
        ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
        shutil.copytree(ROOT / "src", source / "src", ignore=ignore)
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        command += ["--quiet", "--wheel-dir", str(destination.resolve()), str(source)]
        subprocess.run(command, check=True)


#: pip with the environment markers of the target: pip evaluates a dependency's markers
#: (``nvidia-*; platform_system == "Linux"`` in torch's) for the machine it runs on, so this
#: runs pip with its vendored packaging's ``default_environment`` answering for the target
#: platform (pip's internals: checked with pip 23.2; a pip that moves it makes a wrong-platform
#: wheelhouse fail to resolve, as before, rather than pass).
_PIP_FOR_TARGET = """
import json, sys
from pip._vendor.packaging import markers
target = {**markers.default_environment(), **json.loads(sys.argv[1])}
markers.default_environment = lambda: dict(target)
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def marker_environment(platform: Platform, python: str) -> dict[str, str]:
    """The environment markers' values on ``platform`` with Python ``python``."""
    return {
        "sys_platform": platform.sys_platform,
        "platform_system": platform.platform_system,
        "os_name": platform.os_name,
        "platform_machine": platform.platform_machine,
        "python_version": python,
        "python_full_version": f"{python}.0",
    }


def _pip_download(destination: Path, platform: Platform, python: str, *arguments: str) -> None:
    """``pip download`` of binary wheels for one platform and Python version into ``destination``
    (which is also searched, so wheels already there are reused)."""
    environment = json.dumps(marker_environment(platform, python))
    command = [sys.executable, "-c", _PIP_FOR_TARGET, environment, "download", "--quiet"]
    command += ["--only-binary=:all:"]
    for tag in platform.tags:
        command += ["--platform", tag]
    command += ["--python-version", python, "--implementation", "cp"]
    command += ["--dest", str(destination), "--find-links", str(destination), *arguments]
    subprocess.run(command, check=True)


def download(destination: Path, platform: Platform, python: str) -> None:
    """Every wheel of the learner's requirements for one platform and Python version: torch
    first, alone, from PyTorch's CPU index where the platform has one, then the rest."""
    requirements = requirements_for(platform, python)
    torch = next(line for line in requirements if line.startswith("torch"))
    if platform.torch_index:
        _pip_download(
            destination, platform, python, "--no-deps", "--index-url", platform.torch_index, torch
        )
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(requirements) + "\n")
    try:
        _pip_download(destination, platform, python, "-r", handle.name)
    finally:
        Path(handle.name).unlink()


def size(folder: Path) -> int:
    """Bytes in ``folder``'s files."""
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("destination", type=Path)
    parser.add_argument(
        "--platform",
        action="append",
        choices=sorted(PLATFORMS),
        help="a target platform (repeat for several); default linux-x86_64",
    )
    parser.add_argument(
        "--python",
        action="append",
        help="the learners' Python version, e.g. 3.11 (repeat for several); default this one's",
    )
    args = parser.parse_args(argv)
    platforms = args.platform or ["linux-x86_64"]
    pythons = args.python or [f"{sys.version_info.major}.{sys.version_info.minor}"]
    args.destination.mkdir(parents=True, exist_ok=True)
    build_package(args.destination)
    for name in platforms:
        for python in pythons:
            print(f"wheelhouse: {name}, Python {python}", flush=True)
            download(args.destination, PLATFORMS[name], python)
    shutil.copy(REQUIREMENTS, args.destination / REQUIREMENTS.name)
    print(
        f"wheelhouse: {size(args.destination) / 2**20:.0f} MiB in {args.destination}\n"
        "install with: python3 -m venv .venv && .venv/bin/python -m pip install --no-index "
        f"--find-links {args.destination} -r {args.destination / REQUIREMENTS.name}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
