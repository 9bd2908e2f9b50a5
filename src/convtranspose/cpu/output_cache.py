"""The native kernel's output cache: the memory of large outputs kept for the next output of
the same size.

Writing a large output into fresh memory costs about as much as computing it on few-channel
shapes: the operating system zeroes every page on its first write (chapter 11 measures it).
So the native forward kernel (``csrc/forward.cpp``) takes outputs of 4 MiB or more from a
cache of its own: when such an output is freed, its memory is kept and handed to the next
output of exactly that size, as PyTorch's CUDA allocator does for GPU memory. A training loop
asks for the same sizes every step, so from the second step on no output pays for fresh pages.

The cache keeps at most 256 MiB (blocks of up to 128 MiB), the oldest given back first; the
environment variable ``CONVTRANSPOSE_OUTPUT_CACHE_MIB`` sets another limit at start-up (``0``
keeps nothing), :func:`set_limit` at any time, and :func:`empty` gives it all back, as
:func:`torch.cuda.empty_cache` does. Only memory no tensor uses is kept: an output alive is
the tensor's, and a kept block is reused only after every element is written again.

Where the kernel is not built, there is no cache: :func:`info` says ``(0, 0)`` and the others
do nothing.
"""

from __future__ import annotations

import torch

from . import extension

__all__ = ["empty", "info", "set_limit"]


def info() -> tuple[int, int]:
    """``(bytes kept now, the most it keeps)``."""
    if not extension.available():
        return (0, 0)
    held, limit = torch.ops.convtranspose_native.output_cache_info()
    return (held, limit)


def set_limit(bytes: int) -> int:
    """Keep at most ``bytes`` (``0``: nothing) from now on, giving back the oldest blocks over
    it; returns the previous limit."""
    if not isinstance(bytes, int) or isinstance(bytes, bool) or bytes < 0:
        raise ValueError(f"set_limit: bytes must be an int >= 0, got {bytes!r}")
    if not extension.available():
        return 0
    return torch.ops.convtranspose_native.set_output_cache_limit(bytes)


def empty() -> int:
    """Give every kept block back to the system; returns the bytes freed."""
    if not extension.available():
        return 0
    return torch.ops.convtranspose_native.empty_output_cache()
