""":func:`conv_transpose1d`: the Triton kernels as one differentiable function.

The forward runs :data:`~convtranspose.cuda.launch.DEFAULT_FORWARD`; the backward runs the
two gradient kernels of :mod:`.launch`, each a gather (deterministic, no atomics).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from ..arguments import check_conv_transpose1d
from . import launch
from .launch import Geometry, check_runnable

__all__ = ["conv_transpose1d"]


class _ConvTranspose1dFunction(torch.autograd.Function):
    """The kernels as an autograd op on batched tensors.

    Forward: ``y = conv_transpose1d(x, w, b)`` with the default forward kernel.

    Backward, each gradient a gather kernel of its own (deterministic, no atomics):

    - ``grad_x = conv1d(grad_y, w, stride, padding, dilation, groups)``: input ``i`` reached
      output ``i*stride + k*dilation - padding`` through tap ``k``, so it collects the output
      gradient from there; the transposed convolution's transpose is the ordinary
      convolution (``conv1d_kernel``);
    - ``grad_w[c, o, k] = sum_{n, i} x[n, c, i] * grad_y[n, o, i*stride + k*dilation - padding]``:
      the correlation of the input with the output gradient (``weight_grad_kernel``);
    - ``grad_b[o] = sum_{n, t} grad_y[n, o, t]``: the bias was added to every output of channel
      ``o`` once (a plain ``torch.sum``, deterministic).

    The backward is itself not differentiable (``once_differentiable``): no second derivatives.
    """

    @staticmethod
    def forward(ctx, x: Tensor, w: Tensor, b: Tensor | None, a: Geometry) -> Tensor:
        ctx.save_for_backward(x, w)
        ctx.args = a
        return launch.forward(launch.DEFAULT_FORWARD, a, x, w, b)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y: Tensor):
        x, w = ctx.saved_tensors
        a: Geometry = ctx.args
        need_x, need_w, need_b, _ = ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x = launch._launch_input_grad(a, grad_y, w, x.shape[2])
        if need_w:
            grad_w = launch._launch_weight_grad(a, x, grad_y, tuple(w.shape))
        if need_b:
            grad_b = grad_y.sum(dim=(0, 2))
        return grad_x, grad_w, grad_b, None


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
    """Transposed 1-d convolution by Triton kernels: the contract of
    :func:`torch.nn.functional.conv_transpose1d`, differentiable, deterministic.

    Runs natively on CUDA tensors, and on CPU tensors in Triton's interpreter when
    ``TRITON_INTERPRET=1`` was set before the kernels were first used (see
    :mod:`convtranspose.cuda`); raises ``RuntimeError`` explaining what to do otherwise.
    """
    a = check_conv_transpose1d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    check_runnable(a.input.device)
    dtype, (x, w, b) = launch._computable(a.input, a.weight, a.bias)
    geometry = Geometry.of(a)
    needs_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, w, b)
    )
    if needs_grad:
        y = _ConvTranspose1dFunction.apply(x, w, b, geometry)
    else:  # nothing to differentiate: skip autograd's bookkeeping (a few microseconds)
        y = launch.forward(launch.DEFAULT_FORWARD, geometry, x, w, b)
    return a.restore(y.to(dtype))
