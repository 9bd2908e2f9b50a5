"""The native CPU kernel's loader: builds ``csrc/*.cpp`` with the machine's C++ compiler
(:mod:`torch.utils.cpp_extension`) and loads the library, whose operators register as
``torch.ops.convtranspose_native.*``.

Importing the package never compiles: it only loads a library built before (by
``python -m convtranspose.cpu.build``, which ``make book`` and ``make test`` run, or by
:func:`load`), which takes milliseconds. A build is cached in a directory keyed by torch's
version, the CPU (``-march=native`` code runs only on the CPU it was built for) and the
sources: ``<checkout>/_build/native/<key>/`` when the package is this repository's ``src/``,
else ``~/.cache/convtranspose/native/<key>/``. A new torch, another machine or an edited
source gets a build of its own.

``CONVTRANSPOSE_NATIVE=0`` turns the kernel off. Without it (no compiler, a failed build, not
built, turned off) the package runs its torch-op algorithms: :func:`available` says whether
the kernel is loaded, :func:`reason` why not; building or loading explicitly warns once with
the reason and the fix, never raises.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import sys
import time
import warnings
from pathlib import Path

import torch

__all__ = ["NAME", "available", "build_directory", "library_path", "load", "reason"]

#: The library's name, and the namespace of its operators (``torch.ops.convtranspose_native``).
NAME = "convtranspose_native"

#: The C++ sources, compiled into one library.
SOURCES = tuple(sorted((Path(__file__).parent / "csrc").glob("*.cpp")))

#: The compiler's flags: optimised for this CPU (vector width, FMA; ARM compilers spell it
#: ``-mcpu``), OpenMP for ``at::parallel_for`` (implemented in torch's headers with OpenMP
#: pragmas; Apple's clang has none, and the kernel then runs on one thread), and fused
#: multiply-adds allowed (ISO C++ modes leave them off).
_ARM = platform.machine().lower() in ("arm64", "aarch64")
_OPENMP = () if sys.platform == "darwin" else ("-fopenmp",)
CFLAGS = ("-O3", "-mcpu=native" if _ARM else "-march=native", *_OPENMP, "-ffp-contract=fast",
          "-DNDEBUG")  # fmt: skip
LDFLAGS = _OPENMP

#: What turns the kernel off.
DISABLE_VARIABLE = "CONVTRANSPOSE_NATIVE"

BUILD_COMMAND = "python -m convtranspose.cpu.build"

#: Whether the library is loaded; why not (the last attempt to load a build); why the last
#: build failed in this process (it outlives later attempts to load); whether we warned.
_state: dict[str, object] = {"loaded": False, "reason": "", "failure": "", "warned": False}


def _disabled() -> bool:
    return os.environ.get(DISABLE_VARIABLE, "").strip().lower() in ("0", "false", "no", "off")


def _cpu_description() -> str:
    """The CPU's model and feature flags (what ``-march=native`` compiles for)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return f"{platform.machine()} {platform.processor()}"
    lines = text.split("\n\n")[0].splitlines()
    keep = ("model name", "flags", "Features", "CPU implementer", "CPU part")
    return "\n".join(line for line in lines if line.split(":")[0].strip() in keep)


def cache_key() -> str:
    """torch's version, then a hash of everything a build depends on: torch, Python, the CPU,
    the flags and the sources."""
    digest = hashlib.sha256()
    for part in (torch.__version__, str(torch.version.git_version), sys.version,
                 platform.machine(), _cpu_description(), " ".join(CFLAGS + LDFLAGS)):  # fmt: skip
        digest.update(part.encode())
    for source in SOURCES:
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    version = torch.__version__.replace("+", "-")
    return f"torch-{version}-{digest.hexdigest()[:16]}"


def _checkout() -> Path | None:
    """The repository checkout the package lives in (``<checkout>/src/convtranspose``), if so."""
    root = Path(__file__).resolve().parents[3]
    package = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and package.parent == root / "src":
        return root
    return None


def build_directory() -> Path:
    """Where this machine's build lives (see the module's documentation)."""
    checkout = _checkout()
    base = checkout / "_build" if checkout is not None else Path.home() / ".cache/convtranspose"
    return base / "native" / cache_key()


def library_path() -> Path:
    """The built library's path (present once built)."""
    return build_directory() / f"{NAME}.so"


def _registered() -> bool:
    return hasattr(torch.ops, NAME) and hasattr(getattr(torch.ops, NAME), "conv_transpose1d")


def _load_built() -> bool:
    """Load the library if it was built before; record why not otherwise. Never compiles."""
    if _state["loaded"]:
        return True
    if _disabled():
        _state["reason"] = f"turned off by {DISABLE_VARIABLE}=0"
        return False
    path = library_path()
    if not path.is_file():
        _state["reason"] = f"not built for this machine: run `{BUILD_COMMAND}` (or `make native`)"
        return False
    try:
        torch.ops.load_library(str(path))
    except (OSError, RuntimeError) as error:
        _state["reason"] = f"the library at {path} failed to load ({error}); rebuild it with " + (
            f"`{BUILD_COMMAND}` after deleting that directory"
        )
        _warn()
        return False
    _state["loaded"] = _registered()
    if not _state["loaded"]:
        _state["reason"] = f"the library at {path} registered no operator"
    return bool(_state["loaded"])


def _compiler() -> str | None:
    return shutil.which(os.environ.get("CXX", "c++"))


def _warn() -> None:
    """One warning per process, naming the reason and the fix."""
    if _state["warned"]:
        return
    _state["warned"] = True
    why = _state["failure"] or _state["reason"]
    warnings.warn(
        f"convtranspose: the native CPU kernel is not in use: {why}. "
        "The package runs its torch-op algorithms instead (correct, slower on batched shapes).",
        RuntimeWarning,
        stacklevel=3,
    )


def load(verbose: bool = False) -> bool:
    """Load the kernel, building it first if needed (a minute or so). Returns whether it is
    available; if not, warns once with the reason (:func:`reason`) and returns ``False``."""
    if _load_built():
        return True
    if _disabled():
        _warn()
        return False
    compiler = _compiler()
    if compiler is None:
        _state["failure"] = (
            "no C++ compiler found (`c++`, or $CXX): install one (Debian/Ubuntu: "
            f"`sudo apt-get install g++`; macOS: `xcode-select --install`), then run `{BUILD_COMMAND}`"
        )
        _warn()
        return False
    # torch's builder runs ninja: the one installed beside this interpreter (requirements.txt).
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    directory = build_directory()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        from torch.utils import cpp_extension

        cpp_extension.load(
            name=NAME,
            sources=[str(s) for s in SOURCES],
            extra_cflags=list(CFLAGS),
            extra_ldflags=list(LDFLAGS),
            build_directory=str(directory),
            is_python_module=False,
            verbose=verbose,
        )
    except Exception as error:  # a compiler error, ninja missing, ...: report, never raise
        message = str(error).strip().splitlines()
        errors = [line.strip() for line in message if "error" in line.lower()]
        detail = (errors or message or [type(error).__name__])[0][:300]
        _state["failure"] = (
            f"the build failed ({type(error).__name__}: {detail}); see the compiler's output with "
            f"`{BUILD_COMMAND} --verbose`"
        )
        _warn()
        return False
    _state["loaded"] = _registered()
    if not _state["loaded"]:
        _state["failure"] = "the build registered no operator"
        _warn()
    return bool(_state["loaded"])


def available() -> bool:
    """Whether the native kernel is loaded (loading a previous build if there is one; never
    compiles)."""
    return _load_built()


def vector_bytes() -> int | None:
    """The loaded kernel's vector width in bytes (64 with AVX-512, 32 with AVX2), or ``None``
    without the kernel: the rule's native lines depend on it."""
    if not available():
        return None
    if _state.get("vector_bytes") is None:
        _state["vector_bytes"] = int(torch.ops.convtranspose_native.vector_bytes())
    return _state["vector_bytes"]


def reason() -> str:
    """Why the native kernel is not available (empty when it is)."""
    if available():
        return ""
    return str(_state["failure"] or _state["reason"])


def build(verbose: bool = False) -> tuple[bool, float]:
    """Build (or find) and load the kernel: whether it is available, and the seconds it took."""
    start = time.perf_counter()
    ok = load(verbose=verbose)
    return ok, time.perf_counter() - start
