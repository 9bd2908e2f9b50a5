"""The CPU ``conv_transpose1d``: the argument checks, the rule, and a bounded memory of the
calls that passed both, so that a layer called again with the same shapes skips them."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import torch
from torch import Tensor

from ..arguments import Conv1dArgs, check_conv_transpose1d
from . import rule
from .native import DTYPES as NATIVE_DTYPES
from .native import call as native_call
from .registry import _IMPLEMENTATIONS, _run_checked
from .torch_calls import _aligned_call, _torch_op

__all__ = ["conv_transpose1d"]

#: Calls that passed the argument checks, by signature (:func:`_signature`): the algorithm
#: the rule chose, the checked arguments besides the tensors (no tensor is kept alive) and,
#: where it has one, the algorithm's direct call (:func:`_runner`).
#: A bounded LRU: past :data:`_CHECKED_SIZE` signatures the least recently used is dropped.
#: See :func:`conv_transpose1d`.
_CHECKED: OrderedDict[tuple, tuple[str, tuple, Callable | None]] = OrderedDict()
_CHECKED_SIZE = 512


def _signature(input, weight, bias, stride, padding, output_padding, groups, dilation) -> tuple:
    """Everything :func:`~convtranspose.arguments.check_conv_transpose1d` and
    :func:`~convtranspose.cpu.choose_algorithm` read from a call: types, shapes, dtypes,
    devices and the integer arguments, in one flat tuple (the cheapest to build). Where an
    integer argument is not a plain ``int`` its type follows (so ``True`` is not ``1``, nor
    ``(1.0,)`` ``(1,)``, though they are equal and hash alike). Two calls with the same
    signature get the same verdict. Raises ``AttributeError`` for an argument that is not a
    tensor; a list argument makes it unhashable (``TypeError`` when looked up): both then take
    the full checks."""
    key = (
        type(input), input.shape, input.dtype, input.device,
        type(weight), weight.shape, weight.dtype, weight.device,
        None if bias is None else (type(bias), bias.shape, bias.dtype, bias.device),
        stride, padding, output_padding, groups, dilation,
    )  # fmt: skip
    if (
        type(stride) is int
        and type(padding) is int
        and type(output_padding) is int
        and type(groups) is int
        and type(dilation) is int
    ):
        return key
    return (*key, *map(_kind, (stride, padding, output_padding, groups, dilation)))


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


def _runner(name: str, a: Conv1dArgs) -> Callable[[Tensor, Tensor, Tensor | None], Tensor] | None:
    """How a call that passed the checks runs again, on the caller's tensors as given: torch's
    op or the native kernel (batched input) with the checked integers bound, differentiable.
    ``None`` where the algorithm needs the validated arguments
    (:class:`~convtranspose.arguments.Conv1dArgs`)."""
    sizes = (a.stride, a.padding, a.output_padding, a.groups, a.dilation)
    if name == "aten" and a.output_padding <= a.padding:  # no position past the last stamp
        return lambda x, w, b: torch.conv_transpose1d(x, w, b, *sizes)
    if name == "aten":
        return lambda x, w, b: _torch_op(x, w, b, *sizes)
    if name == "aten_aligned":
        return lambda x, w, b: _aligned_call(x, w, b, *sizes, a.output_length)
    if name == "native" and a.batched and a.input.dtype in NATIVE_DTYPES:
        return lambda x, w, b: native_call(x, w, b, *sizes)
    return None


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
    so every bad call still raises exactly as before. Calls routed to ``aten``,
    ``aten_aligned`` or (batched) ``native`` go straight to torch's op or the kernel
    (:func:`_runner`).
    """
    try:
        key = _signature(input, weight, bias, stride, padding, output_padding, groups, dilation)
        known = _CHECKED.get(key)
    except (AttributeError, TypeError):
        key, known = None, None
    if known is not None:
        _CHECKED.move_to_end(key)
        name, checked, run = known
        if run is not None:
            return run(input, weight, bias)
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
        _CHECKED[key] = (name, (*checked, a.out_channels, a.output_length), _runner(name, a))
        if len(_CHECKED) > _CHECKED_SIZE:
            _CHECKED.popitem(last=False)  # the least recently used
    return _run_checked(_IMPLEMENTATIONS[name], a)
