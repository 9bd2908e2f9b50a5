"""Argument checks of the 2-d transposed convolution (Part V's reference).

The 2-d rules are the 1-d rules of :mod:`convtranspose.arguments` applied to each axis:
``stride``, ``padding``, ``output_padding`` and ``dilation`` are an int or a pair (a
1-tuple means the same value on both axes, as torch reads it), the weight is
``(C_in, C_out/groups, kH, kW)``, the input ``(N, C_in, H, W)`` or unbatched
``(C_in, H, W)``. :func:`check_conv_transpose2d` raises where
:func:`torch.nn.functional.conv_transpose2d` raises, with a message that names the argument
and the rule (and the axis), and returns the arguments normalised to pairs and a batched
input. Deliberate differences are those of the 1-d checks: floating point tensors of one
dtype only, and no output of size 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from .arguments import check_channels, check_tensor_types, integer, transposed_length

__all__ = ["ConvTranspose2dArgs", "check_conv_transpose2d", "pair"]

AXES = ("height", "width")


def pair(value: object, name: str) -> tuple[int, int]:
    """``value`` as ``(height, width)``: an int (or anything with ``__index__``) means the same
    on both axes, and so does a sequence of one; a sequence of two gives one per axis.
    ``TypeError`` naming the argument for a non-integer, ``RuntimeError`` (torch's) for a
    sequence of another length."""
    if isinstance(value, (tuple, list)):
        if len(value) not in (1, 2):
            raise RuntimeError(
                f"expected {name} to be a single integer value or a list of 2 values "
                f"to match the convolution dimensions, but got {name}={list(value)}"
            )
        values = tuple(integer(v, name, "an int or a pair of ints") for v in value)
        return (values * 2)[:2]
    v = integer(value, name, "an int or a pair of ints")
    return (v, v)


@dataclass(frozen=True)
class ConvTranspose2dArgs:
    """Validated, normalised arguments of ``conv_transpose2d``: every size a
    ``(height, width)`` pair, ``input`` batched ``(N, C_in, H, W)``, ``batched`` whether the
    caller's was, ``output_size`` the output's ``(H_out, W_out)``."""

    input: Tensor
    weight: Tensor
    bias: Tensor | None
    stride: tuple[int, int]
    padding: tuple[int, int]
    output_padding: tuple[int, int]
    groups: int
    dilation: tuple[int, int]
    batched: bool
    out_channels: int
    output_size: tuple[int, int]

    def restore(self, output: Tensor) -> Tensor:
        """Drop the batch dimension again if the caller's input had none."""
        return output if self.batched else output.squeeze(0)


def _check_sizes(
    stride: tuple[int, int],
    padding: tuple[int, int],
    output_padding: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
) -> None:
    rules = (
        ("stride", stride, 1, "non-positive stride is not supported"),
        ("padding", padding, 0, "negative padding is not supported"),
        ("output_padding", output_padding, 0, "negative output_padding is not supported"),
        ("dilation", dilation, 1, "dilation should be greater than zero"),
    )
    for name, values, smallest, what in rules:
        for axis, value in zip(AXES, values, strict=True):
            if value < smallest:
                raise RuntimeError(
                    f"{what}: {name} must be >= {smallest} on every axis, "
                    f"got {name}={values} ({axis} {value})"
                )
    if groups <= 0:
        raise RuntimeError(
            f"non-positive groups is not supported: groups must be >= 1, got {groups}"
        )
    for axis, o, s, d in zip(AXES, output_padding, stride, dilation, strict=True):
        if o >= max(s, d):
            raise RuntimeError(
                "output padding must be smaller than either stride or dilation: on the "
                f"{axis} axis output_padding < max(stride, dilation) = {max(s, d)}, but got "
                f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
            )


def _check_tensors(input: Tensor, weight: Tensor, bias: Tensor | None) -> None:
    op = "conv_transpose2d"
    check_tensor_types(input, weight, bias, op)
    if input.dim() not in (3, 4):
        raise RuntimeError(
            f"Expected 3D (unbatched) or 4D (batched) input to {op}, "
            f"but got input of size: {list(input.shape)}"
        )
    if weight.dim() != 4:
        raise RuntimeError(
            f"{op}: weight must be 4-dimensional (C_in, C_out/groups, kH, kW), "
            f"but got weight of size {list(weight.shape)}"
        )
    if min(weight.shape[2:]) == 0:
        raise RuntimeError(
            f"{op}: kernel size should be greater than zero on both axes, but got weight of "
            f"size {list(weight.shape)}"
        )


def check_conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    output_padding: int | tuple[int, int] = 0,
    groups: int = 1,
    dilation: int | tuple[int, int] = 1,
) -> ConvTranspose2dArgs:
    """Validate the arguments of ``conv_transpose2d`` and normalise them.

    Raises ``TypeError`` for wrong types and dtypes and ``RuntimeError`` for values and
    shapes torch rejects, each naming the argument, the rule and, for a per-axis rule, the
    axis."""
    op = "conv_transpose2d"
    stride, padding = pair(stride, "stride"), pair(padding, "padding")
    output_padding, dilation = pair(output_padding, "output_padding"), pair(dilation, "dilation")
    groups = integer(groups, "groups")
    _check_sizes(stride, padding, output_padding, dilation, groups)
    _check_tensors(input, weight, bias)
    batched = input.dim() == 4
    x = input if batched else input.unsqueeze(0)
    out_channels = check_channels(input, x, weight, bias, groups, op)
    n, c, height, width = x.shape
    if min(height, width) == 0 and n > 0 and c > 0:
        raise RuntimeError(
            f"{op}: input height and width must be >= 1 (only zero batch or zero channel "
            f"inputs may be empty), but got input of size {list(input.shape)}"
        )
    size = tuple(
        transposed_length(length, k, s, p, o, d)
        for length, k, s, p, o, d in zip(
            (height, width), weight.shape[2:], stride, padding, output_padding, dilation,
            strict=True,
        )
    )  # fmt: skip
    if min(size) <= 0:
        raise RuntimeError(
            f"Given input size {(height, width)}, kernel size {tuple(weight.shape[2:])}, "
            f"stride={stride}, padding={padding}, output_padding={output_padding}, "
            f"dilation={dilation}: the calculated output size is {size}, but each side must be "
            ">= 1 (output size is too small; reduce padding)"
        )
    if bias is not None:
        bias = bias.contiguous()
    return ConvTranspose2dArgs(
        x, weight, bias, stride, padding, output_padding, groups, dilation, batched,
        out_channels, size,
    )  # fmt: skip
