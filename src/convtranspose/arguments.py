"""Argument checks shared by every implementation.

Every implementation of ``conv_transpose1d`` (and the reference ``conv1d``)
calls :func:`check_conv_transpose1d` (or :func:`check_conv1d`) first, so there
is exactly one place that decides what counts as valid input and one wording
for each error. The checks follow the rules of
:func:`torch.nn.functional.conv_transpose1d` and raise where torch raises, with
a message that names the argument and the rule it broke. Deliberate differences, where
torch's CPU op computes something: integer and complex tensors and a bias of another dtype
are rejected (the contract is floating point, one dtype), and so is an output of length 0,
which torch itself rejects on some paths (a batch of one) and returns empty on others.

They also normalise the input: ``int | (int,)`` arguments (numpy integers and integer
tensors included) become ints, the bias becomes contiguous, and an unbatched ``(C, L)``
input becomes a batch of one, so implementations only ever see ``(N, C, L)`` tensors and
call :meth:`Conv1dArgs.restore` on their result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

# The scalar checks and length formulas live in .shapes; re-exported here, where the layer
# and the package root have always found them.
from .shapes import (  # noqa: F401 (checked_sizes, integer: re-exported)
    check_scalar_arguments,
    checked_sizes,
    conv1d_length,
    integer,
    kernel_span,
    single,
    transposed_length,
)

#: dtypes every implementation supports on every device. Half types are
#: accepted too; whether a given device computes in them is the implementation's call.
FLOAT_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def check_tensor_types(input: Tensor, weight: Tensor, bias: Tensor | None, op: str) -> None:
    """The checks every convolution's tensors share, whatever their number of dimensions:
    tensors (a missing bias allowed), of one floating-point dtype, on one device."""
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is None and name == "bias":
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"argument '{name}' must be a Tensor, not {type(t).__name__}")
        if t.dtype not in FLOAT_DTYPES:
            raise TypeError(
                f"{op}: {name} must be a floating-point tensor "
                f"(float32, float64, float16 or bfloat16), got {t.dtype}"
            )
    if weight.dtype != input.dtype or (bias is not None and bias.dtype != input.dtype):
        got = f"input {input.dtype}, weight {weight.dtype}"
        if bias is not None:
            got += f", bias {bias.dtype}"
        raise TypeError(f"{op}: input, weight and bias must have the same dtype, got {got}")
    devices = {t.device for t in (input, weight, bias) if t is not None}
    if len(devices) > 1:
        raise RuntimeError(
            f"{op}: input, weight and bias must be on the same device, got {sorted(map(str, devices))}"
        )


def _check_tensors(input: Tensor, weight: Tensor, bias: Tensor | None, op: str) -> None:
    check_tensor_types(input, weight, bias, op)
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"Expected 2D (unbatched) or 3D (batched) input to {op}, "
            f"but got input of size: {list(input.shape)}"
        )
    if weight.dim() != 3:
        raise RuntimeError(
            f"{op}: weight must be 3-dimensional, but got weight of size {list(weight.shape)}"
        )
    if weight.shape[2] == 0:
        raise RuntimeError(
            f"{op}: kernel size should be greater than zero, but got weight of size "
            f"{list(weight.shape)}"
        )


@dataclass(frozen=True)
class Conv1dArgs:
    """Validated, normalised arguments of a 1-d (transposed) convolution.

    ``input`` is always batched ``(N, C_in, L_in)``; ``batched`` remembers
    whether the caller's was, so :meth:`restore` can give the result back in
    the caller's shape.
    """

    input: Tensor
    weight: Tensor
    bias: Tensor | None
    stride: int
    padding: int
    output_padding: int
    groups: int
    dilation: int
    batched: bool
    out_channels: int
    output_length: int

    @property
    def kernel_size(self) -> int:
        return self.weight.shape[2]

    def restore(self, output: Tensor) -> Tensor:
        """Drop the batch dimension again if the caller's input had none."""
        return output if self.batched else output.squeeze(0)


def _batched(input: Tensor) -> tuple[Tensor, bool]:
    return (input, True) if input.dim() == 3 else (input.unsqueeze(0), False)


def _check_nonempty(input: Tensor, op: str) -> None:
    n, c, length = input.shape
    if length == 0 and n > 0 and c > 0:
        raise RuntimeError(
            f"{op}: input length must be >= 1 (only zero batch or zero channel inputs may be "
            f"empty), but got input of size {list(input.shape)}"
        )


def check_channels(
    input: Tensor, x: Tensor, weight: Tensor, bias: Tensor | None, groups: int, op: str
) -> int:
    """The channel counts of a transposed convolution of any dimension agree: the weight's
    ``(C_in, C_out/groups, ...)`` with ``groups``, with the batched input ``x`` (``input`` as
    given, for the message) and with the bias. Returns ``C_out``."""
    c_in, c_out_per_group = weight.shape[:2]
    if c_in < groups or c_in % groups != 0:
        raise RuntimeError(
            f"Given groups={groups}, weight.shape[0] (in_channels={c_in}) must be a positive "
            f"multiple of groups, but got weight of size {list(weight.shape)}"
        )
    if c_out_per_group == 0:
        raise RuntimeError(
            f"{op}: weight.shape[1] (out_channels / groups) must be >= 1, "
            f"but got weight of size {list(weight.shape)}"
        )
    if x.shape[1] != c_in:
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)}, expected input{list(input.shape)} to have "
            f"{c_in} channels (weight.shape[0]), but got {x.shape[1]} channels instead"
        )
    out_channels = c_out_per_group * groups
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != out_channels):
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)} and groups={groups}, expected bias to be "
            f"1-dimensional with {out_channels} elements (out_channels), "
            f"but got bias of size {list(bias.shape)} instead"
        )
    return out_channels


def check_conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    output_padding: int | tuple[int] = 0,
    groups: int = 1,
    dilation: int | tuple[int] = 1,
) -> Conv1dArgs:
    """Validate the arguments of ``conv_transpose1d`` and normalise them.

    Raises ``TypeError`` for wrong types and dtypes, ``RuntimeError`` for
    values and shapes torch rejects, each naming the argument and the rule.
    """
    op = "conv_transpose1d"
    stride = single(stride, "stride")
    padding = single(padding, "padding")
    output_padding = single(output_padding, "output_padding")
    dilation = single(dilation, "dilation")
    groups = integer(groups, "groups")
    check_scalar_arguments(stride, padding, dilation, groups)
    if output_padding < 0:
        raise RuntimeError(
            f"negative output_padding is not supported: output_padding must be >= 0, "
            f"got {output_padding}"
        )
    if output_padding >= max(stride, dilation):
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation: "
            f"output_padding < max(stride, dilation) = {max(stride, dilation)}, "
            f"but got output_padding={output_padding}, stride={stride}, dilation={dilation}"
        )
    _check_tensors(input, weight, bias, op)
    x, batched = _batched(input)
    k = weight.shape[2]
    out_channels = check_channels(input, x, weight, bias, groups, op)
    _check_nonempty(x, op)
    if bias is not None:  # every implementation may read it as a plain array (oneDNN, Triton)
        bias = bias.contiguous()
    length = transposed_length(x.shape[2], k, stride, padding, output_padding, dilation)
    if length <= 0:
        raise RuntimeError(
            f"Given input length {x.shape[2]}, kernel_size={k}, stride={stride}, "
            f"padding={padding}, output_padding={output_padding}, dilation={dilation}: the "
            f"calculated output length is {length}, but it must be >= 1 (output size is too small; "
            "reduce padding)"
        )
    return Conv1dArgs(
        x, weight, bias, stride, padding, output_padding, groups, dilation, batched,
        out_channels, length,
    )  # fmt: skip


def check_conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int] = 1,
    padding: int | tuple[int] = 0,
    dilation: int | tuple[int] = 1,
    groups: int = 1,
) -> Conv1dArgs:
    """Validate the arguments of an ordinary ``conv1d`` (weight ``(C_out, C_in/groups, K)``)."""
    op = "conv1d"
    stride = single(stride, "stride")
    padding = single(padding, "padding")
    dilation = single(dilation, "dilation")
    groups = integer(groups, "groups")
    check_scalar_arguments(stride, padding, dilation, groups)
    _check_tensors(input, weight, bias, op)
    x, batched = _batched(input)
    c_out, c_in_per_group, k = weight.shape
    if c_out < groups or c_out % groups != 0:
        raise RuntimeError(
            f"Given groups={groups}, weight.shape[0] (out_channels={c_out}) must be a positive "
            f"multiple of groups, but got weight of size {list(weight.shape)}"
        )
    if x.shape[1] != c_in_per_group * groups:
        raise RuntimeError(
            f"Given groups={groups} and weight of size {list(weight.shape)}, expected input"
            f"{list(input.shape)} to have {c_in_per_group * groups} channels "
            f"(groups * weight.shape[1]), but got {x.shape[1]} channels instead"
        )
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != c_out):
        raise RuntimeError(
            f"expected bias to be 1-dimensional with {c_out} elements (out_channels), "
            f"but got bias of size {list(bias.shape)} instead"
        )
    _check_nonempty(x, op)
    length = conv1d_length(x.shape[2], k, stride, padding, dilation)
    if length <= 0:
        raise RuntimeError(
            f"Given input length {x.shape[2]} with padding={padding}, the dilated kernel size "
            f"dilation*(kernel_size-1)+1 = {kernel_span(k, dilation)} can't be greater than the "
            "padded input length"
        )
    return Conv1dArgs(x, weight, bias, stride, padding, 0, groups, dilation, batched, c_out, length)


def output_padding_for(
    input: Tensor,
    output_size: Sequence[int] | int | None,
    kernel_size: int,
    stride: int,
    padding: int,
    dilation: int,
    output_padding: int,
) -> int:
    """The ``output_padding`` that makes a layer's output ``output_size`` long, as
    ``torch.nn.ConvTranspose1d.forward(input, output_size)`` computes it (``output_padding``,
    the layer's own, when ``output_size`` is None). ``output_size`` may be the length alone
    or the whole shape; any length from the minimum to ``stride - 1`` more is reachable.
    Raises ``ValueError``, as torch does, for any other length or number of elements."""
    if output_size is None:
        return output_padding
    sizes = [output_size] if isinstance(output_size, int) else list(output_size)
    if len(sizes) == input.dim() > 1:  # the whole shape: its length
        sizes = sizes[-1:]
    if len(sizes) != 1:
        raise ValueError(
            "ConvTranspose1d expects output_size to have 1 or "
            f"{input.dim()} elements (the length or the full shape), got {len(sizes)}"
        )
    length = int(sizes[0])
    smallest = transposed_length(input.shape[-1], kernel_size, stride, padding, 0, dilation)
    largest = smallest + stride - 1
    if not smallest <= length <= largest:
        raise ValueError(
            f"requested an output size of [{length}], but valid sizes range from "
            f"[{smallest}] to [{largest}] (for an input of {list(input.shape[-1:])})"
        )
    return length - smallest
