"""The native kernel (``csrc/forward.cpp``, loaded by :mod:`~convtranspose.cpu.extension`) as an
algorithm on validated arguments, differentiable.

The kernel computes float32 and float64; other dtypes (bfloat16, float16) run torch's op.
When a gradient may be asked for, the forward is the kernel's; the backward runs the native
gradient kernels where :func:`~convtranspose.cpu.rule.native_gradients` says they win and no
graph of the gradient is recorded, and torch's ``convolution_backward`` otherwise (it records
its own derivatives, so gradients of gradients work).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..arguments import Conv1dArgs
from ..gradients import gradients
from . import extension, rule
from . import torch_calls as tc

__all__ = ["DTYPES", "call", "gradient_kernels", "input_grad_kernel", "weight_grad_kernel"]

#: The dtypes the kernel computes.
DTYPES = (torch.float32, torch.float64)


def _kernel(x, weight, bias, stride, padding, output_padding, groups, dilation) -> Tensor:
    wide = extension.vector_bytes() == 64
    path = 2 if rule.native_lanes(x.shape[-2], x.shape[-1], groups, wide) else 1  # lanes, positions
    return torch.ops.convtranspose_native.conv_transpose1d(
        x, weight, bias, stride, padding, output_padding, groups, dilation, path
    )


def gradient_kernels(
    grad: Tensor, input: Tensor, weight: Tensor, groups: int, needs: tuple[bool, ...]
) -> tuple[bool, bool]:
    """Which of ``(d input, d weight)`` the native gradient kernels compute for a CPU backward:
    none when autograd records the backward (``create_graph``: torch's differentiable op runs);
    else, where they are built, for float32 and float64, those
    :func:`~convtranspose.cpu.rule.native_gradients` says are faster than torch's."""
    if torch.is_grad_enabled() or not (
        grad.is_cpu
        and input.dtype in DTYPES
        and grad.dtype == input.dtype == weight.dtype
        and (needs[0] or needs[1])
        and extension.available()
    ):
        return (False, False)
    return rule.native_gradients(input.shape[-2], grad.shape[-2], weight.shape[2], groups)


def input_grad_kernel(grad_output, weight, input_length, stride, padding, dilation, groups):
    """The native kernel of the input's gradient (``csrc/backward.cpp``)."""
    return torch.ops.convtranspose_native.conv_transpose1d_input_grad(
        grad_output, weight, input_length, stride, padding, dilation, groups
    )


def weight_grad_kernel(input, grad_output, kernel_size, stride, padding, dilation, groups):
    """The native kernel of the weight's gradient (``csrc/backward.cpp``)."""
    return torch.ops.convtranspose_native.conv_transpose1d_weight_grad(
        input, grad_output, kernel_size, stride, padding, dilation, groups
    )


class _Native(torch.autograd.Function):
    """The kernel's forward, with the native gradient kernels or torch's (:func:`gradients`)."""

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
        groups = ctx.arguments[3]
        needs = ctx.needs_input_grad[:3]
        kernels = gradient_kernels(grad, x, weight, groups, needs)
        found = gradients(
            grad, x, weight, ctx.has_bias, *ctx.arguments, needs, kernels, input_grad_kernel,
            weight_grad_kernel,
        )  # fmt: skip
        return *found, None, None, None, None, None


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
