"""The gradients of ``conv_transpose1d``, assembled from the package's gradient kernels and
torch's ``convolution_backward``: one function for the registered operator's backward
(:mod:`convtranspose.functional`) and the native CPU algorithm's (:mod:`convtranspose.cpu.native`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["gradients"]


def gradients(
    grad: Tensor, input: Tensor, weight: Tensor, has_bias: bool, stride: int, padding: int,
    output_padding: int, groups: int, dilation: int, needs: tuple[bool, bool, bool],
    kernels: tuple[bool, bool], input_grad: Callable, weight_grad: Callable,
) -> tuple[Tensor | None, Tensor | None, Tensor | None]:  # fmt: skip
    """``(d input, d weight, d bias)`` of the sum ``<grad, output>``, each only where ``needs``.

    ``kernels`` says which of ``(d input, d weight)`` the package's own kernels compute:
    ``input_grad(grad, weight, L_in, stride, padding, dilation, groups)`` and
    ``weight_grad(input, grad, K, stride, padding, dilation, groups)``. The rest runs torch's
    ``convolution_backward``, in one call, which records its own derivatives (so a gradient
    can be differentiated again); the bias alone is a sum."""
    batched = input.dim() == 3
    if not batched:
        grad, input = grad.unsqueeze(0), input.unsqueeze(0)
    s, p, d = stride, padding, dilation
    gi = gw = gb = None
    if needs[0] and kernels[0]:
        gi = input_grad(grad, weight, input.shape[2], s, p, d, groups)
    if needs[1] and kernels[1]:
        gw = weight_grad(input, grad, weight.shape[2], s, p, d, groups)
    rest = [needs[0] and gi is None, needs[1] and gw is None, has_bias and needs[2]]
    if rest[0] or rest[1]:
        torch_gi, torch_gw, gb = torch.ops.aten.convolution_backward(
            grad, input, weight, [grad.shape[1]] if has_bias else None, [s], [p], [d], True,
            [output_padding], groups, rest,
        )  # fmt: skip
        gi = torch_gi if rest[0] else gi
        gw = torch_gw if rest[1] else gw
    elif rest[2]:
        gb = grad.sum((0, 2))
    if gi is not None and not batched:
        gi = gi.squeeze(0)
    return gi, gw, gb
