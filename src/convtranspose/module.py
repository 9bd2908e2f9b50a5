"""``ConvTranspose1d``: a drop-in for :class:`torch.nn.ConvTranspose1d`.

Same constructor, same parameters (``weight`` of shape
``(in_channels, out_channels // groups, kernel_size)``, ``bias`` of shape
``(out_channels,)``), same initialisation (so the same seed gives the same
weights), same ``repr``, and the same ``forward(input, output_size=None)``. The
forward pass runs :func:`convtranspose.conv_transpose1d` instead of torch's op.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .arguments import output_padding_for, single

__all__ = ["ConvTranspose1d"]


class ConvTranspose1d(nn.Module):
    """Applies a 1-d transposed convolution over an input of shape ``(N, C_in, L)`` or ``(C_in, L)``.

    Arguments, attributes and initialisation are those of :class:`torch.nn.ConvTranspose1d`;
    ``padding_mode`` must be ``'zeros'``, the only mode torch supports for transposed
    convolutions.
    """

    __constants__ = (
        "stride", "padding", "dilation", "groups", "padding_mode", "output_padding",
        "in_channels", "out_channels", "kernel_size",
    )  # fmt: skip

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int],
        stride: int | tuple[int] = 1,
        padding: int | tuple[int] = 0,
        output_padding: int | tuple[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int] = 1,
        padding_mode: str = "zeros",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(
                f'Only "zeros" padding mode is supported for {type(self).__name__}, '
                f"got padding_mode={padding_mode!r}"
            )
        if isinstance(padding, str):
            raise ValueError(
                f"padding must be an int or a tuple of one int for "
                f"{type(self).__name__}, got the string {padding!r}"
            )
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"groups must be a positive integer, got {groups!r}")
        if in_channels % groups != 0:
            raise ValueError(
                f"in_channels must be divisible by groups, got {in_channels} and {groups}"
            )
        if out_channels % groups != 0:
            raise ValueError(
                f"out_channels must be divisible by groups, got {out_channels} and {groups}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = (single(kernel_size, "kernel_size"),)
        self.stride = (single(stride, "stride"),)
        self.padding = (single(padding, "padding"),)
        self.output_padding = (single(output_padding, "output_padding"),)
        self.dilation = (single(dilation, "dilation"),)
        self.groups = groups
        self.padding_mode = padding_mode
        self.transposed = True
        factory = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(
            torch.empty(in_channels, out_channels // groups, self.kernel_size[0], **factory)
        )
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Kaiming-uniform weights and uniform bias, exactly as torch's ``_ConvNd`` does,
        so the same random seed gives the same parameters as ``torch.nn.ConvTranspose1d``."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                nn.init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,):
            s += ", padding={padding}"
        if self.dilation != (1,):
            s += ", dilation={dilation}"
        if self.output_padding != (0,):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        return s.format(**self.__dict__)

    def output_padding_for(self, input: Tensor, output_size: Sequence[int] | None) -> int:
        """The ``output_padding`` that makes the output ``output_size`` long (or the
        constructor's when ``output_size`` is None). ``output_size`` may be the length
        alone or the whole shape; any length from the minimum to ``stride - 1`` more is
        reachable, as in torch (:func:`convtranspose.arguments.output_padding_for`)."""
        return output_padding_for(
            input, output_size, self.kernel_size[0], self.stride[0], self.padding[0],
            self.dilation[0], self.output_padding[0],
        )  # fmt: skip

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        """Transposed convolution of ``input``; ``output_size`` picks among the lengths a
        strided convolution could have come from (it sets ``output_padding``)."""
        from . import conv_transpose1d

        return conv_transpose1d(
            input, self.weight, self.bias, self.stride, self.padding,
            self.output_padding_for(input, output_size), self.groups, self.dilation,
        )  # fmt: skip
