"""``conv_transpose1d`` as Triton kernels: native on NVIDIA GPUs, on the CPU in Triton's interpreter.

The kernels are *gathers*: each program owns a block of outputs, reads the inputs and taps
that land on it and stores it once, so results are deterministic (no atomics) and
bit-identical from run to run. The package has one duty per module:

- :mod:`.kernels`: the ``@triton.jit`` kernels (forward variants and the two gradients);
- :mod:`.phases`: how the per-phase forward kernel splits the output among its programs
  (plain Python, also drawn by chapter 12's figure);
- :mod:`.tiles`: the tile sizes of each launch, per shape bucket;
- :mod:`.launch`: where the kernels can run, the launches (grids, cached launch metadata,
  the weight's re-layout cached per weight version), :data:`FORWARD_KERNELS` and the two
  gradient functions;
- :mod:`.autograd`: :func:`conv_transpose1d`, the forward and its gradients as one
  differentiable function with the contract of :func:`torch.nn.functional.conv_transpose1d`.

Where it runs:

- CUDA tensors run natively (Linux with an NVIDIA GPU; Triton ships with torch's CUDA wheels);
- CPU tensors run in Triton's interpreter, *if* ``TRITON_INTERPRET=1`` was set before the
  kernels were defined, that is before the first use of anything but :mod:`.phases`::

      import os
      os.environ["TRITON_INTERPRET"] = "1"  # before using convtranspose.cuda
      import convtranspose.cuda

  The interpreter executes the very same kernel code with numpy: slow, but exact, and it
  needs no GPU. Half-precision CPU tensors are computed in float32 there (the interpreter
  lacks bfloat16 arithmetic) and rounded back.
- Without Triton (macOS, Windows) or with CPU tensors and no interpreter, calls raise a
  ``RuntimeError`` that says what to do; :mod:`convtranspose.cpu` runs everywhere.

Precision follows torch's own convolutions: float32 tiles may be rounded to TF32 (10 bits of
mantissa) for the tensor cores exactly when torch's cuDNN convolutions may
(``torch.backends.cudnn.allow_tf32``, on by default; it takes effect on Ampere and newer GPUs),
and are multiplied in exact IEEE float32 otherwise, as they always are in the interpreter;
float64 is computed on CUDA cores in float64; float16 and bfloat16 on tensor cores,
accumulating in float32.

Its public names are loaded on first use (:pep:`562`): importing the package, or its phase
grid for a figure, defines no kernel, so ``TRITON_INTERPRET`` can still be set afterwards.
"""

from __future__ import annotations

import importlib

#: Each public name and the module that defines it.
_EXPORTS = {
    "conv_transpose1d": "autograd",
    "DEFAULT_FORWARD": "launch",
    "FORWARD_KERNELS": "launch",
    "INTERPRETED": "launch",
    "address_span": "launch",
    "conv_transpose1d_input_grad": "launch",
    "conv_transpose1d_weight_grad": "launch",
    "dot_precision": "launch",
    "is_available": "launch",
    "Tiles": "tiles",
    "choose_tiles": "tiles",
}
_SUBMODULES = ("autograd", "kernels", "launch", "phases", "tiles")

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    """Import the submodule that defines ``name`` on first use."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS, *_SUBMODULES])
