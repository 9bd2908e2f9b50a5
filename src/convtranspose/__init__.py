"""``convtranspose``: PyTorch's ``ConvTranspose1d``, from the ground up.

The public face of the package:

- :func:`conv_transpose1d`, the functional op (``torch.ops.convtranspose.conv_transpose1d``),
  routed by the input's device (CPU tensors to :mod:`convtranspose.cpu`, CUDA tensors to
  :mod:`convtranspose.cuda`; :mod:`convtranspose.functional`);
- :class:`ConvTranspose1d`, a subclass of :class:`torch.nn.ConvTranspose1d` that runs it;
- :func:`output_length`, the output-length formula;
- :class:`PackedConvTranspose1d`, for inference on the CPU: the weight packed once
  (:mod:`convtranspose.cpu.packed`).

:mod:`convtranspose.reference` holds the definitions as plain loops.
"""

from __future__ import annotations

from .cpu.packed import PackedConvTranspose1d
from .functional import conv_transpose1d
from .module import ConvTranspose1d
from .shapes import output_length

__all__ = ["ConvTranspose1d", "PackedConvTranspose1d", "conv_transpose1d", "output_length"]
__version__ = "0.1.0"
