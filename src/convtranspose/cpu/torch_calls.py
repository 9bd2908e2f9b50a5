"""torch's and oneDNN's own operators, called as the CPU routes need them: oneDNN's
ordinary convolution without torch's shape heuristic, oneDNN's transposed convolution with
torch's backward, torch's transposed convolution as it is, and asked for whole strides.

oneDNN multiplies zeros by the weight where ``output_padding`` reaches past the last stamp
and where an appended zero lengthens the input; with a non-finite tap those products are
``nan`` where the definition has the bias: :func:`_bias_past_the_stamps` and
:func:`_nan_from` restore the definition's values there, at no cost on finite data beyond
a short slice.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..arguments import Conv1dArgs
from ..shapes import stamp_span

__all__ = ["torch_runs_onednn", "whole_strides"]


def _onednn_bf16() -> bool:
    """Whether this CPU runs oneDNN's bfloat16 kernels (AVX-512 or newer)."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _onednn_ok(x: Tensor) -> bool:
    """oneDNN's convolution runs float32, and bfloat16 where the CPU supports it, on builds
    with mkldnn support."""
    return (
        x.device.type == "cpu"
        and (x.dtype == torch.float32 or (x.dtype == torch.bfloat16 and _onednn_bf16()))
        and torch.backends.mkldnn.is_available()
        and torch.backends.mkldnn.enabled
    )


def _conv1d(
    x: Tensor, weight: Tensor, bias: Tensor | None, padding: int, dilation: int, groups: int
) -> Tensor:
    """``F.conv1d`` (stride 1), sent straight to oneDNN where it can run.

    For 1-d inputs with a batch of one and fewer than ~20k input elements, torch's dispatcher
    uses its generic im2col + GEMM path instead of oneDNN (a heuristic tuned for 2-d images);
    calling ``mkldnn_convolution`` directly skips that choice. It is differentiable.
    """
    if _onednn_ok(x) and x.shape[0] > 0:
        return torch.ops.aten.mkldnn_convolution(
            x.contiguous(), weight.contiguous(), bias, [padding], [1], [dilation], groups
        )
    return F.conv1d(x, weight, bias, padding=padding, dilation=dilation, groups=groups)


def _bias_past_the_stamps(
    out: Tensor, bias: Tensor | None, length: int, kernel_size: int, stride: int,
    padding: int, output_padding: int, dilation: int,
) -> Tensor:  # fmt: skip
    """``out`` with the bias alone (or zero) at the positions ``output_padding`` adds past
    the last stamp, which no product reaches. oneDNN's deconvolution multiplies zeros by the
    weight there, so a non-finite tap would leave ``nan`` where the definition has the bias.
    Such positions exist only when ``output_padding > padding``: otherwise ``out`` as it is."""
    if output_padding <= padding:
        return out
    start = stamp_span(length, kernel_size, stride, dilation) - padding
    if start >= out.shape[-1]:
        return out
    tail = out[..., max(start, 0) :]  # written in place: a few positions, no copy of out
    if bias is None:
        tail.zero_()
    else:
        tail.copy_(bias[:, None].expand_as(tail))
    return out


class _OneDNNTransposed(torch.autograd.Function):
    """oneDNN's transposed convolution, called directly, with torch's own backward."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, groups, dilation):
        if ctx is not None:
            ctx.save_for_backward(x, weight)
            ctx.conf = (stride, padding, output_padding, groups, dilation, bias is not None)
            ctx.bias_shape = None if bias is None else bias.shape
        return torch.ops.mkldnn._convolution_transpose_pointwise(
            x.contiguous(), weight.contiguous(), bias, [padding], [output_padding], [stride],
            [dilation], groups, "none", [], "",
        )  # fmt: skip

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        stride, padding, output_padding, groups, dilation, has_bias = ctx.conf
        mask = [
            ctx.needs_input_grad[0],
            ctx.needs_input_grad[1],
            has_bias and ctx.needs_input_grad[2],
        ]
        gx, gw, gb = torch.ops.aten.convolution_backward(
            grad.contiguous(), x, weight, list(ctx.bias_shape) if has_bias else None,
            [stride], [padding], [dilation], True, [output_padding], groups, mask,
        )  # fmt: skip
        return gx, gw, gb, None, None, None, None, None


def _onednn_deconv_ok(a: Conv1dArgs) -> bool:
    """oneDNN's deconvolution takes float32 or bfloat16 and ``output_padding < stride``
    (torch also allows ``output_padding < dilation``)."""
    return (
        _onednn_ok(a.input)
        and a.output_padding < a.stride
        and hasattr(torch.ops.mkldnn, "_convolution_transpose_pointwise")
    )


def _onednn(a: Conv1dArgs) -> Tensor:
    """oneDNN's deconvolution on arguments it computes (:func:`_onednn_deconv_ok`)."""
    args = (a.input, a.weight, a.bias, a.stride, a.padding, a.output_padding, a.groups, a.dilation)
    tensors = (t for t in args[:3] if t is not None)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        out = _OneDNNTransposed.apply(*args)
    else:
        out = _OneDNNTransposed.forward(None, *args)  # inference: skip autograd's bookkeeping
    return _bias_past_the_stamps(
        out, a.bias, a.input.shape[-1], a.kernel_size, a.stride, a.padding, a.output_padding,
        a.dilation,
    )  # fmt: skip


def _aten(a: Conv1dArgs) -> Tensor:
    """torch's own operator, through its C++ binding ``torch.conv_transpose1d`` (what
    ``F.conv_transpose1d`` is): the kernel torch's dispatcher picks (its GEMM + col2im for
    small batch-one shapes, oneDNN for the rest), with torch's own autograd formula. The
    binding costs less per call than ``torch.ops.aten.convolution``, whose Python-side
    operator lookup runs every call."""
    return _torch_op(
        a.input, a.weight, a.bias, a.stride, a.padding, a.output_padding, a.groups, a.dilation
    )


def _torch_op(
    x: Tensor, weight: Tensor, bias: Tensor | None, stride: int, padding: int,
    output_padding: int, groups: int, dilation: int,
) -> Tensor:  # fmt: skip
    """``torch.conv_transpose1d`` on checked integer arguments (batched or unbatched ``x``),
    with the definition's bias-only values past the last stamp (:func:`_bias_past_the_stamps`)."""
    out = torch.conv_transpose1d(x, weight, bias, stride, padding, output_padding, groups, dilation)
    return _bias_past_the_stamps(
        out, bias, x.shape[-1], weight.shape[-1], stride, padding, output_padding, dilation
    )


def torch_runs_onednn(batch: int, in_channels: int, length: int, groups: int = 1) -> bool:
    """Whether torch's CPU op hands a float32 shape to oneDNN (on a build with oneDNN
    enabled, the default): its dispatcher's test for 1-d inputs (``use_mkldnn`` in ATen's
    ``Convolution.cpp``, written for images) sends a batch of one with at most 20480 input
    elements and no groups to its own GEMM + col2im path instead."""
    return batch > 1 or groups > 1 or in_channels * length > 20480


def whole_strides(output_length: int, stride: int, output_padding: int) -> tuple[int, int]:
    """How to ask torch's op for an output whose length is a multiple of ``stride`` (the
    smallest one at least ``output_length`` long, same start): ``(zeros, output_padding)``,
    the zero samples to append to the input (each lengthens the output by ``stride``) and the
    ``output_padding`` to use instead, always below ``stride``. ``(0, output_padding)`` when
    the length is already a multiple."""
    missing = -output_length % stride
    return (0, output_padding) if missing == 0 else divmod(output_padding + missing, stride)


def _aligned_call(
    x: Tensor, weight: Tensor, bias: Tensor | None, stride: int, padding: int,
    output_padding: int, groups: int, dilation: int, output_length: int,
) -> Tensor:  # fmt: skip
    """torch's op on an output of whole strides, cropped to ``output_length`` (see
    :data:`aten_aligned`), on checked integer arguments; batched or unbatched ``x``."""
    zeros, used = whole_strides(output_length, stride, output_padding)
    length = x.shape[-1]
    y = torch.conv_transpose1d(
        F.pad(x, (0, zeros)) if zeros else x, weight, bias, stride, padding, used, groups, dilation
    )
    out = y[..., :output_length].contiguous()  # already whole: the whole tensor, no copy
    if zeros and _nan_from(out, length * stride - padding):  # maybe an appended zero times inf
        return _torch_op(x, weight, bias, stride, padding, output_padding, groups, dilation)
    return _bias_past_the_stamps(
        out, bias, length, weight.shape[-1], stride, padding, output_padding, dilation
    )


def _nan_from(out: Tensor, start: int) -> bool:
    """Whether ``out`` has a ``nan`` from position ``start`` on: where the products of zeros
    appended to the input land (zero times the weight: zero, unless a tap is not finite).
    A short slice at the end of the output, checked instead of the whole weight."""
    return start < out.shape[-1] and bool(out[..., max(start, 0) :].isnan().any())


def _aten_aligned(a: Conv1dArgs) -> Tensor:
    return _aligned_call(
        a.input, a.weight, a.bias, a.stride, a.padding, a.output_padding, a.groups,
        a.dilation, a.output_length,
    )  # fmt: skip
