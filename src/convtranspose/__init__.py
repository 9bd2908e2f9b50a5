"""``convtranspose``: PyTorch's ``ConvTranspose1d``, from the ground up.

The public face of the package:

- :func:`conv_transpose1d`, the functional op, routed by the input's device
  (CPU tensors to :mod:`convtranspose.cpu`, CUDA tensors to :mod:`convtranspose.cuda`);
- :class:`ConvTranspose1d`, a drop-in for :class:`torch.nn.ConvTranspose1d`;
- :func:`output_length`, the output-length formula;
- :class:`PackedConvTranspose1d`, for inference on the CPU: the weight packed once
  (:mod:`convtranspose.cpu.packed`).

:mod:`convtranspose.reference` holds the definitions as plain loops.
"""

from __future__ import annotations

from torch import Tensor

from . import cpu
from .cpu.packed import PackedConvTranspose1d
from .module import ConvTranspose1d
from .shapes import output_length

__all__ = ["ConvTranspose1d", "PackedConvTranspose1d", "conv_transpose1d", "output_length"]
__version__ = "0.1.0"


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    output_padding: int | tuple[int] = 0,
    groups: int = 1,
    dilation: int | tuple[int] = 1,
) -> Tensor:
    """Transposed 1-d convolution with the semantics of
    :func:`torch.nn.functional.conv_transpose1d`, run by this package's implementation
    for the input's device: :mod:`convtranspose.cuda` for CUDA tensors, :mod:`convtranspose.cpu`
    otherwise."""
    if isinstance(input, Tensor) and input.is_cuda:
        from . import cuda as implementation
    else:
        implementation = cpu
    return implementation.conv_transpose1d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
