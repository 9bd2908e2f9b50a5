"""``python -m convtranspose.cpu.build``: build this machine's native CPU kernel (or find the
build already made), say where and how long it took, or why it cannot be used.

Exits with status 0 either way: without a compiler the package runs its torch-op
algorithms (the warning says so and how to fix it), so ``make book`` goes on.
"""

from __future__ import annotations

import argparse

from . import extension


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convtranspose.cpu.build", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help="show the compiler's commands")
    args = parser.parse_args(argv)
    already = extension.library_path().is_file()
    ok, seconds = extension.build(verbose=args.verbose)
    if ok:
        what = "found" if already else "built"
        print(f"native CPU kernel: {what} in {seconds:.1f} s: {extension.library_path()}")
    else:
        print(f"native CPU kernel: not available: {extension.reason()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
