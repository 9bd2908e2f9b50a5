"""``ConvTranspose1d``: :class:`torch.nn.ConvTranspose1d`, running this package's operator.

A subclass of torch's layer that overrides only ``forward``: the constructor, parameters
(``weight`` of shape ``(in_channels, out_channels // groups, kernel_size)``, ``bias`` of shape
``(out_channels,)``), initialisation (the same seed gives the same weights), ``state_dict``,
``repr`` and the ``output_size`` handling are torch's own. So ``isinstance(layer,
torch.nn.ConvTranspose1d)`` holds, and what treats torch's layer specially (model-wide
initialisation loops, ``spectral_norm``'s choice of ``dim``, ``weight_norm``,
``torch.nn.utils.parametrize``) treats this one the same way.
"""

from __future__ import annotations

from torch import Tensor, nn

from .functional import conv_transpose1d

__all__ = ["ConvTranspose1d"]


class ConvTranspose1d(nn.ConvTranspose1d):
    """:class:`torch.nn.ConvTranspose1d` whose forward pass is
    :func:`convtranspose.conv_transpose1d` (``torch.ops.convtranspose.conv_transpose1d``)."""

    def forward(self, input: Tensor, output_size: list[int] | None = None) -> Tensor:
        """Transposed convolution of ``input``; ``output_size`` picks among the lengths a
        strided convolution could have come from (it sets ``output_padding``, as torch's
        layer does)."""
        if self.padding_mode != "zeros":
            raise ValueError("Only `zeros` padding mode is supported for ConvTranspose1d")
        output_padding = self._output_padding(
            input, output_size, self.stride, self.padding, self.kernel_size, 1, self.dilation
        )
        return conv_transpose1d(
            input, self.weight, self.bias, self.stride[0], self.padding[0], output_padding[0],
            self.groups, self.dilation[0],
        )  # fmt: skip
