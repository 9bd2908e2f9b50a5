"""The native kernel (``csrc/forward.cpp``, loaded by :mod:`~convtranspose.cpu.extension`) as an
algorithm on validated arguments, differentiable.

The kernel computes float32 and float64; other dtypes (bfloat16, float16) run torch's op.
When a gradient may be asked for, the forward is the kernel's and the backward torch's
``convolution_backward``, which records its own derivatives (so gradients of gradients work).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..arguments import Conv1dArgs
from . import torch_calls as tc

__all__ = ["DTYPES", "call"]

#: The dtypes the kernel computes.
DTYPES = (torch.float32, torch.float64)


def _kernel(x, weight, bias, stride, padding, output_padding, groups, dilation) -> Tensor:
    return torch.ops.convtranspose_native.conv_transpose1d(
        x, weight, bias, stride, padding, output_padding, groups, dilation
    )


class _Native(torch.autograd.Function):
    """The kernel's forward with torch's gradients (input, weight and bias)."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, groups, dilation):
        ctx.save_for_backward(x, weight)
        ctx.arguments = (stride, padding, output_padding, groups, dilation)
        ctx.has_bias = bias is not None
        with torch.no_grad():
            return _kernel(x, weight, bias, stride, padding, output_padding, groups, dilation)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        stride, padding, output_padding, groups, dilation = ctx.arguments
        needs = ctx.needs_input_grad
        gi, gw, gb = torch.ops.aten.convolution_backward(
            grad, x, weight, [grad.shape[1]] if ctx.has_bias else None, [stride], [padding],
            [dilation], True, [output_padding], groups, [needs[0], needs[1], ctx.has_bias and needs[2]],
        )  # fmt: skip
        return gi, gw, gb, None, None, None, None, None


def call(x, weight, bias, stride, padding, output_padding, groups, dilation) -> Tensor:
    """The kernel on a batched float32 or float64 call that passed the checks, differentiable
    where a gradient may be asked for."""
    args = (x, weight, bias, stride, padding, output_padding, groups, dilation)
    if torch.is_grad_enabled() and (
        x.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad)
    ):
        return _Native.apply(*args)
    return _kernel(*args)


def _native(a: Conv1dArgs) -> Tensor:
    if a.input.dtype not in DTYPES:
        return tc._aten(a)
    return call(a.input, a.weight, a.bias, a.stride, a.padding, a.output_padding, a.groups,
                a.dilation)  # fmt: skip
