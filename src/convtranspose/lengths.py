"""Lengths on both sides of a strided convolution, and why they are ambiguous.

An ordinary strided ``conv1d`` rounds down: several input lengths give the same
output length. ``conv_transpose1d`` goes the other way, so it has to be told which
of those input lengths to give back; that is what ``output_padding`` (or
``output_size``) chooses. These helpers compute both directions, so a chapter can
print the table instead of asserting it.
"""

from __future__ import annotations

from .arguments import checked_sizes, transposed_length

__all__ = [
    "conv1d_input_lengths",
    "conv1d_output_length",
    "effective_kernel_size",
    "output_length",
]


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """How many samples a kernel of ``kernel_size`` taps spans when its taps are
    ``dilation`` apart: ``dilation*(kernel_size - 1) + 1`` (the gaps count, the
    taps at both ends count once)."""
    v = checked_sizes(kernel_size=kernel_size, dilation=dilation)
    return v["dilation"] * (v["kernel_size"] - 1) + 1


def conv1d_output_length(
    length: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Length of ``conv1d``'s output for an input of ``length`` samples::

        L_out = floor((L_in + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1

    The window (``dilation*(kernel_size - 1) + 1`` samples wide) fits at every
    ``stride``-th position of the padded input; a tail shorter than ``stride`` is
    dropped, which is why different ``length`` values can give the same result.
    Raises ``ValueError`` when the window does not fit even once.
    """
    v = checked_sizes(
        length=length, kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation
    )
    window = effective_kernel_size(v["kernel_size"], v["dilation"])
    padded = v["length"] + 2 * v["padding"]
    if window > padded:
        raise ValueError(
            f"the window of {window} samples (dilation*(kernel_size - 1) + 1) does not fit "
            f"in the padded input of {padded} samples"
        )
    room = padded - window
    return room // v["stride"] + 1


def conv1d_input_lengths(
    output_length: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> range:
    """Every input length that ``conv1d`` maps to ``output_length``, smallest first.

    There are ``stride`` of them (fewer only when ``padding`` would make the
    smallest ones non-positive). The smallest is ``conv_transpose1d``'s output length
    with ``output_padding=0``; ``output_padding=r`` gives the ``r``-th after it.
    """
    v = checked_sizes(
        output_length=output_length,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        dilation=dilation,
    )
    smallest = transposed_length(
        v["output_length"], v["kernel_size"], v["stride"], v["padding"], 0, v["dilation"]
    )
    return range(max(smallest, 1), smallest + v["stride"])


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
