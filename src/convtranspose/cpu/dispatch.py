"""The CPU ``conv_transpose1d``: the argument checks, the rule, and a bounded memory of the
calls that passed both, so that a layer called again with the same shapes skips them."""

from __future__ import annotations

from collections import OrderedDict

from torch import Tensor

from ..arguments import Conv1dArgs, check_conv_transpose1d
from . import rule
from .registry import _IMPLEMENTATIONS, _run_checked
from .torch_calls import _aligned_call, _torch_op

__all__ = ["conv_transpose1d"]

#: Calls that passed the argument checks, by signature (:func:`_signature`): the algorithm
#: the rule chose and the checked arguments besides the tensors (no tensor is kept alive).
#: A bounded LRU: past :data:`_CHECKED_SIZE` signatures the least recently used is dropped.
#: See :func:`conv_transpose1d`.
_CHECKED: OrderedDict[tuple, tuple[str, tuple]] = OrderedDict()
_CHECKED_SIZE = 512


def _signature(input, weight, bias, stride, padding, output_padding, groups, dilation) -> tuple:
    """Everything :func:`~convtranspose.arguments.check_conv_transpose1d` and
    :func:`~convtranspose.cpu.choose_algorithm` read from a call: types (so ``True`` is not ``1``, nor
    ``(1.0,)`` ``(1,)``, though they are equal and hash alike), shapes,
    dtypes, devices and the integer arguments, in one flat tuple (the cheapest to build).
    Two calls with the same signature get the same verdict. Raises ``AttributeError`` for an
    argument that is not a tensor; a list argument makes it unhashable (``TypeError`` when
    looked up): both then take the full checks."""
    return (
        type(input), input.shape, input.dtype, input.device,
        type(weight), weight.shape, weight.dtype, weight.device,
        None if bias is None else (type(bias), bias.shape, bias.dtype, bias.device),
        stride, padding, output_padding, groups, dilation,
        _kind(stride), _kind(padding), _kind(output_padding), _kind(groups), _kind(dilation),
    )  # fmt: skip


def _kind(value: object) -> object:
    """The type of an argument, and of its elements when it is a tuple. A tensor (an
    integer tensor given as ``stride``, say) raises ``TypeError``: it hashes by identity and
    may change in place, so such calls are never remembered."""
    if type(value) is tuple:
        if any(isinstance(v, Tensor) for v in value):
            raise TypeError("tensor arguments are not remembered")
        return (tuple, *map(type, value))
    if isinstance(value, Tensor):
        raise TypeError("tensor arguments are not remembered")
    return type(value)


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
    """The CPU ``conv_transpose1d``: runs the algorithm :func:`~convtranspose.cpu.choose_algorithm` picks for
    the shape. Same contract as :func:`torch.nn.functional.conv_transpose1d`, differentiable.

    Per-call overhead: the argument checks cost tens of microseconds when the interpreter's
    data is cold, as it is for a layer inside a network (chapter 11), a large share of a
    small problem. A call whose signature (:func:`_signature`) already
    passed the checks therefore skips them and the rule: the same signature can only get the
    same verdict and the same choice, and a call that fails the checks is never remembered,
    so every bad call still raises exactly as before. Calls routed to ``aten`` or
    ``aten_aligned`` go straight to torch's op.
    """
    try:
        key = _signature(input, weight, bias, stride, padding, output_padding, groups, dilation)
        known = _CHECKED.get(key)
    except (AttributeError, TypeError):
        key, known = None, None
    if known is not None:
        _CHECKED.move_to_end(key)
        name, checked = known
        # checked = (stride, padding, output_padding, groups, dilation, C_out, L_out)
        if name == "aten":
            return _torch_op(input, weight, bias, *checked[:5])
        if name == "aten_aligned":
            return _aligned_call(input, weight, bias, *checked[:5], checked[6])
        batched = input.dim() == 3
        x = input if batched else input.unsqueeze(0)
        b = None if bias is None else bias.contiguous()  # as the checks make it
        a = Conv1dArgs(x, weight, b, *checked[:5], batched, *checked[5:])
        return _run_checked(_IMPLEMENTATIONS[name], a)
    a = check_conv_transpose1d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )
    x = a.input
    name = rule.choose_algorithm(
        x.shape[0], x.shape[1], a.out_channels, x.shape[2], a.kernel_size,
        a.stride, a.groups, a.dilation, x.dtype,
        padding=a.padding, output_padding=a.output_padding,
    )  # fmt: skip
    if key is not None and x.numel() > 0:
        checked = (a.stride, a.padding, a.output_padding, a.groups, a.dilation)
        _CHECKED[key] = (name, (*checked, a.out_channels, a.output_length))
        if len(_CHECKED) > _CHECKED_SIZE:
            _CHECKED.popitem(last=False)  # the least recently used
    return _run_checked(_IMPLEMENTATIONS[name], a)
