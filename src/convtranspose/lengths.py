"""Lengths on both sides of a strided convolution, and why they are ambiguous.

An ordinary strided ``conv1d`` rounds down: several input lengths give the same
output length. ``conv_transpose1d`` goes the other way, so it has to be told which
of those input lengths to give back; that is what ``output_padding`` (or
``output_size``) chooses. These helpers compute both directions, so a chapter can
print the table instead of asserting it.
"""

from __future__ import annotations

from .shapes import checked_sizes, conv1d_length, kernel_span, transposed_length

__all__ = ["conv1d_input_lengths", "conv1d_output_length", "effective_kernel_size"]


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """How many samples a kernel of ``kernel_size`` taps spans when its taps are
    ``dilation`` apart: ``dilation*(kernel_size - 1) + 1`` (the gaps count, the
    taps at both ends count once)."""
    v = checked_sizes(kernel_size=kernel_size, dilation=dilation)
    return kernel_span(v["kernel_size"], v["dilation"])


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
    return conv1d_length(v["length"], v["kernel_size"], v["stride"], v["padding"], v["dilation"])


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


# --- Part V: "same" upsampling (chapter 14) ------------------------------------------------

__all__ += ["same_padding"]


def same_padding(kernel_size: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """The ``(padding, output_padding)`` that make a transposed convolution's output exactly
    ``stride`` times as long as its input, whatever the input length.

    ``L_out = stride * L_in`` for every ``L_in`` means ``2*padding - output_padding =
    dilation*(kernel_size - 1) + 1 - stride`` (the span of the kernel past one stride). The
    smallest ``padding`` that solves it is returned: half the excess, rounded up, and
    ``output_padding = 1`` when the excess is odd; ``padding = 0`` and ``output_padding``
    making up the shortfall when the kernel spans less than the stride. torch requires
    ``output_padding < max(stride, dilation)``, which only fails for ``stride = dilation = 1``
    with an even kernel: then no symmetric choice exists, and the ``ValueError`` says so.
    Raises ``TypeError`` (not an int) or ``ValueError`` (below 1) naming the argument.
    """
    v = checked_sizes(kernel_size=kernel_size, stride=stride, dilation=dilation)
    k, s, d = v["kernel_size"], v["stride"], v["dilation"]
    excess = effective_kernel_size(k, d) - s
    padding = max(0, -(-excess // 2))
    output_padding = 2 * padding - excess
    if output_padding >= max(s, d):
        raise ValueError(
            f"no (padding, output_padding) keeps the length with kernel_size={k}, stride={s}, "
            f"dilation={d}: the full output is {excess} samples longer than stride * L_in, an "
            "odd number, padding crops both ends equally, and output_padding (which adds one "
            f"back) must stay below max(stride, dilation) = {max(s, d)}; use an odd "
            "kernel_size, a stride or dilation of 2 or more, or crop one more sample at one "
            "end after the layer"
        )
    return padding, output_padding
