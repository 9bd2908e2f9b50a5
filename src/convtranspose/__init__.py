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
from .arguments import checked_sizes, transposed_length
from .cpu.packed import PackedConvTranspose1d
from .module import ConvTranspose1d

__all__ = ["ConvTranspose1d", "PackedConvTranspose1d", "conv_transpose1d", "output_length"]
__version__ = "0.1.0"


def output_length(
    length: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Length of ``conv_transpose1d``'s output for an input of ``length`` samples::

        L_out = (L_in - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1

    Each input sample moves the stamp ``stride`` further; the last stamp spans
    ``dilation*(kernel_size - 1) + 1`` samples; ``padding`` crops both ends and
    ``output_padding`` adds back at the end. Raises ``ValueError`` when an argument is
    out of range or the result is not positive.
    """
    values = checked_sizes(
        length=length, kernel_size=kernel_size, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation,
    )  # fmt: skip
    result = transposed_length(**values)
    if result < 1:
        raise ValueError(
            f"the output length {result} is not positive: padding={values['padding']} crops "
            "more than the whole output"
        )
    return result


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
