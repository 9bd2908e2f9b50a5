"""Every length formula of a 1-d (transposed) convolution, and the checks of its scalar
arguments: the one place each quantity is written.

Output position ``t`` of a transposed convolution receives tap ``k`` of input ``i`` when
``t + padding = i*stride + k*dilation``. From that one relation: the output length
(:func:`transposed_length`), the span of one stamp and of all of them before the crop
(:func:`kernel_span`, :func:`stamp_span`), the output *phases* ``(t + padding) % stride``
and the taps each receives (:func:`phase_taps`, :func:`tap_step`), and the rows of the
sub-pixel kernel (:func:`subpixel_rows`). The ordinary convolution's length
(:func:`conv1d_length`) is the same relation read the other way.
"""

from __future__ import annotations

import math
import operator

import torch
from torch import Tensor

__all__ = [
    "check_scalar_arguments",
    "checked_sizes",
    "conv1d_length",
    "integer",
    "kernel_span",
    "output_length",
    "phase_taps",
    "rows_of",
    "single",
    "stamp_span",
    "subpixel_rows",
    "tap_step",
    "transposed_length",
]


def integer(value: object, name: str, what: str = "an int") -> int:
    """``value`` as a Python int: anything torch reads as an integer (an ``int``, a numpy
    integer, an integer tensor of one element: whatever has ``__index__``), but not a
    ``bool`` or a float. Raises ``TypeError`` naming the argument otherwise."""
    is_bool = isinstance(value, bool) or (isinstance(value, Tensor) and value.dtype == torch.bool)
    if not is_bool:
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise TypeError(f"argument '{name}' must be {what}, not {type(value).__name__}")


def single(value: object, name: str) -> int:
    """Return ``value`` as an int, accepting an integer or a sequence of one integer.

    This is how torch reads ``stride``, ``padding``, ``output_padding`` and
    ``dilation`` for a 1-d convolution: ``2``, ``(2,)``, ``[2]`` and ``numpy.int64(2)``
    all mean 2 (see :func:`integer`).
    """
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise RuntimeError(
                f"expected {name} to be a single integer value or a list of 1 values "
                f"to match the convolution dimensions, but got {name}={list(value)}"
            )
        (value,) = value
    return integer(value, name, "an int or a tuple of one int")


def checked_sizes(**arguments: object) -> dict[str, int]:
    """Read each size argument as an int (or 1-tuple) and check its range, raising
    ``ValueError`` that names it: ``padding`` and ``output_padding`` must be >= 0, every
    other size (lengths, kernel sizes, strides, dilations, channel counts) >= 1, and
    ``output_padding < max(stride, dilation)``. The scalar rules shared by
    :func:`convtranspose.output_length`, :mod:`convtranspose.lengths` and
    :class:`convtranspose.cost.Shape`; tensors are checked by :func:`check_conv_transpose1d`."""
    values = {name: single(value, name) for name, value in arguments.items()}
    for name, value in values.items():
        smallest = 0 if name in ("padding", "output_padding") else 1
        if value < smallest:
            raise ValueError(f"{name} must be >= {smallest}, got {value}")
    if "output_padding" in values:
        limit = max(values.get("stride", 1), values.get("dilation", 1))
        if values["output_padding"] >= limit:
            raise ValueError(
                "output_padding must be smaller than max(stride, dilation) = "
                f"{limit}, got output_padding={values['output_padding']}"
            )
    return values


def check_scalar_arguments(stride: int, padding: int, dilation: int, groups: int) -> None:
    """The integer arguments of a call, as torch's op checks them (``RuntimeError``, torch's
    wording, then the rule)."""
    if stride <= 0:
        raise RuntimeError(
            f"non-positive stride is not supported: stride must be >= 1, got {stride}"
        )
    if padding < 0:
        raise RuntimeError(
            f"negative padding is not supported: padding must be >= 0, got {padding}"
        )
    if dilation <= 0:
        raise RuntimeError(
            f"dilation should be greater than zero: dilation must be >= 1, got {dilation}"
        )
    if groups <= 0:
        raise RuntimeError(
            f"non-positive groups is not supported: groups must be >= 1, got {groups}"
        )


def transposed_length(
    length: int, kernel_size: int, stride: int, padding: int, output_padding: int, dilation: int
) -> int:
    """``(L_in - 1)*stride - 2*padding + dilation*(K - 1) + output_padding + 1``, unchecked."""
    return (length - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def output_length(
    length: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Length of ``conv_transpose1d``'s output for an input of ``length`` samples::

        L_out = (L_in - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1

    Each input sample moves the stamp ``stride`` further; the last stamp spans
    ``dilation*(kernel_size - 1) + 1`` samples; ``padding`` crops both ends and
    ``output_padding`` adds back at the end. Raises ``ValueError`` when an argument is
    out of range or the result is not positive.
    """
    values = checked_sizes(
        length=length, kernel_size=kernel_size, stride=stride, padding=padding,
        output_padding=output_padding, dilation=dilation,
    )  # fmt: skip
    result = transposed_length(**values)
    if result < 1:
        raise ValueError(
            f"the output length {result} is not positive: padding={values['padding']} crops "
            "more than the whole output"
        )
    return result


def kernel_span(kernel_size: int, dilation: int = 1) -> int:
    """Positions one stamp (or one convolution window) covers, first tap to last:
    ``dilation*(K - 1) + 1``."""
    return dilation * (kernel_size - 1) + 1


def stamp_span(length: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> int:
    """Length of the uncropped output, the positions all stamps cover together: the last
    stamp starts at ``(L_in - 1)*stride``, so ``(L_in - 1)*stride + dilation*(K - 1) + 1``
    (``padding`` crops that at both ends, ``output_padding`` adds to the end)."""
    return (length - 1) * stride + kernel_span(kernel_size, dilation)


def conv1d_length(
    length: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Length of ``conv1d``'s output, unchecked: ``floor((L_in + 2*padding -
    dilation*(K - 1) - 1) / stride) + 1`` (the window fits at every ``stride``-th position of
    the padded input; the tail shorter than ``stride`` is what ``output_padding`` gives back)."""
    return (length + 2 * padding - kernel_span(kernel_size, dilation)) // stride + 1


def rows_of(length: int, stride: int) -> int:
    """Rows of ``stride`` positions that hold ``length`` positions: ``ceil(length / stride)``
    (an output laid out phase-major, ``[q, r]`` for position ``q*stride + r``)."""
    return -(-length // stride)


def tap_step(stride: int, dilation: int) -> int:
    """``k*dilation % stride`` repeats every ``stride // gcd(stride, dilation)`` taps: the
    distance between two taps of the same phase."""
    return stride // math.gcd(stride, dilation)


def phase_taps(
    kernel_size: int, stride: int, padding: int = 0, dilation: int = 1
) -> list[list[int]]:
    """The taps each output phase receives: output ``t`` with ``t % stride == r`` receives
    tap ``k`` exactly when ``(r + padding - k*dilation) % stride == 0``. With
    ``padding=0`` the phases are those of the uncropped output (``k*dilation % stride``).
    The taps of one phase are ``tap_step(stride, dilation)`` apart.

    Polyphase runs one small convolution per phase with exactly these taps; the Triton
    kernel gives each phase its own programs.
    """
    return [
        [k for k in range(kernel_size) if (r + padding - k * dilation) % stride == 0]
        for r in range(stride)
    ]


def subpixel_rows(kernel_size: int, stride: int, dilation: int = 1) -> int:
    """Taps of each sub-pixel phase kernel: the dilated kernel (``dilation*(K-1) + 1``
    positions) cut into rows of ``stride``: ``dilation*(K-1) // stride + 1``."""
    return dilation * (kernel_size - 1) // stride + 1
