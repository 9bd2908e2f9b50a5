"""What each ``conv_transpose1d`` algorithm costs for a shape: multiplies and extra memory.

Every algorithm computes the same output, but not with the same work. The unit of
work here is one *multiply*: one input value times one weight value. The
definition needs exactly the products whose result lands in the (cropped)
output, :func:`useful_multiplies`; an algorithm may do more:

- multiplies by zeros (zero insertion convolves a signal that is mostly zeros;
  sub-pixel pads every phase kernel with zero taps to the same length; polyphase and
  sub-pixel still meet the zero padding at the signal's two ends);
- products that land in the ``padding`` positions and are cropped away afterwards
  (scatter and GEMM + overlap-add compute every stamp in full).

``extra memory`` counts the elements of the intermediate tensors an algorithm
builds besides its input, weight and output, in the algorithm's textbook form
(the one chapter 09 derives). These are a *model*: the tests check the multiply
counts against operations counted one by one and against torch's own FLOP counter.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from .shapes import checked_sizes, kernel_span, phase_taps, subpixel_rows, transposed_length

# phase_taps and subpixel_rows are re-exported: chapter 9 finds them here, beside the costs.

__all__ = [
    "ALGORITHMS",
    "Cost",
    "Shape",
    "cost",
    "costs",
    "phase_taps",
    "stamp_multiplies",
    "subpixel_rows",
    "table",
    "useful_multiplies",
]

#: The algorithms the model knows, in the order chapter 09 derives them.
ALGORITHMS = (
    "scatter",
    "gather",
    "zero_insertion",
    "gemm_overlap_add",
    "polyphase",
    "subpixel",
)


@dataclass(frozen=True)
class Shape:
    """The sizes and arguments of one ``conv_transpose1d`` call (weight ``(C_in, C_out/groups, K)``)."""

    batch: int
    in_channels: int
    out_channels: int
    length: int
    kernel_size: int
    stride: int = 1
    padding: int = 0
    output_padding: int = 0
    groups: int = 1
    dilation: int = 1

    def __post_init__(self) -> None:
        # The sizes (a subclass may add fields, e.g. a name): the rules every entry point shares.
        checked_sizes(**{f.name: getattr(self, f.name) for f in fields(Shape)})
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"groups={self.groups} must divide in_channels={self.in_channels} "
                f"and out_channels={self.out_channels}"
            )
        if self.output_length < 1:
            raise ValueError(f"the output length {self.output_length} is not positive")

    @property
    def output_length(self) -> int:
        """``(L_in - 1)*stride - 2*padding + dilation*(K - 1) + output_padding + 1``."""
        s = self
        return transposed_length(
            s.length, s.kernel_size, s.stride, s.padding, s.output_padding, s.dilation
        )

    @property
    def channel_products(self) -> int:
        """Multiplies behind one (input position, tap) pair: every batch item, and every
        input channel times every output channel of its group."""
        return stamp_multiplies(self.batch, self.in_channels, self.out_channels, 1, 1, self.groups)


def stamp_multiplies(
    batch: int, in_channels: int, out_channels: int, length: int, kernel_size: int, groups: int = 1
) -> int:
    """Every tap of every stamp: ``N * C_in * C_out/groups * K * L`` multiplies (the
    definition's work, counting the products ``padding`` crops away). The size measure the
    algorithm rules of :mod:`convtranspose.cpu` and :mod:`convtranspose.cpu.packed` compare."""
    return batch * in_channels * (out_channels // groups) * kernel_size * length


@dataclass(frozen=True)
class Cost:
    """The work one algorithm does for one shape."""

    algorithm: str
    #: input x weight products it computes.
    multiplies: int
    #: of those, the ones that are not needed (by zeros, or cropped away).
    wasted: int
    #: elements of the intermediate tensors it builds (besides input, weight, output).
    extra_memory: int


def _inputs_in_range(shape: Shape, offset: int) -> int:
    """How many input positions ``i`` put tap offset ``offset`` inside the output:
    ``0 <= i*stride + offset - padding < L_out``."""
    s, lo = shape.stride, shape.padding - offset  # need lo <= i*s < hi
    hi = lo + shape.output_length
    first = max(0, -(-lo // s))  # smallest i with i*s >= lo
    last = min(shape.length - 1, (hi - 1) // s)  # largest i with i*s < hi
    return max(0, last - first + 1)


def useful_multiplies(shape: Shape) -> int:
    """The multiplies the definition needs: one per (input position, tap) pair whose
    product lands inside the cropped output, times :attr:`Shape.channel_products`."""
    pairs = sum(_inputs_in_range(shape, k * shape.dilation) for k in range(shape.kernel_size))
    return pairs * shape.channel_products


def _phase_offsets(shape: Shape, algorithm: str) -> list[list[int]]:
    """For each output phase ``r``, the offsets (in samples of the dilated kernel) of the
    taps its convolution multiplies: polyphase keeps the taps that reach the phase,
    sub-pixel every position ``m`` of a ``rows*stride`` grid with ``m = r + padding
    (mod stride)``, zero where no tap sits."""
    s, p, d = shape.stride, shape.padding, shape.dilation
    if algorithm == "polyphase":
        taps = phase_taps(shape.kernel_size, s, p, d)
        return [[k * d for k in phase] for phase in taps]
    grid = subpixel_rows(shape.kernel_size, s, d) * s
    return [[m for m in range(grid) if (r + p - m) % s == 0] for r in range(s)]


def _phase_reads(shape: Shape, algorithm: str) -> tuple[int, int]:
    """Polyphase and sub-pixel: output ``t = q*stride + r`` multiplies, for each offset
    ``m`` of phase ``r``, input ``q + (r + padding - m) // stride`` (a zero outside the
    input). Returns the pairs multiplied and the length of the zero-padded input that
    holds every index read."""
    s, length = shape.stride, shape.output_length
    pairs, lowest, highest = 0, 0, shape.length - 1
    for r, offsets in enumerate(_phase_offsets(shape, algorithm)):
        n_r = len(range(r, length, s))  # outputs in phase r
        pairs += n_r * len(offsets)
        if offsets and n_r:
            shifts = [(r + shape.padding - m) // s for m in offsets]
            lowest, highest = min(lowest, min(shifts)), max(highest, n_r - 1 + max(shifts))
    return pairs, highest - lowest + 1


def cost(algorithm: str, shape: Shape) -> Cost:
    """The :class:`Cost` of ``algorithm`` (one of :data:`ALGORITHMS`) for ``shape``."""
    k, d, p, s = shape.kernel_size, shape.dilation, shape.padding, shape.stride
    n, c_in, c_out, l_in, l_out = (
        shape.batch,
        shape.in_channels,
        shape.out_channels,
        shape.length,
        shape.output_length,
    )
    every_stamp = l_in * k * shape.channel_products  # every tap of every stamp, in full
    stamps = n * c_out * k * l_in  # the products, one per (input, tap, output channel)
    uncropped_output = n * c_out * (l_out + 2 * p)
    if algorithm in ("scatter", "gemm_overlap_add"):  # every stamp, then added into place
        multiplies, extra = every_stamp, stamps + uncropped_output
    elif algorithm == "gather":  # each output collects its inputs (loops, nothing stored)
        multiplies, extra = useful_multiplies(shape), 0
    elif algorithm == "zero_insertion":  # K taps for every output, over a mostly-zero signal
        multiplies = l_out * k * shape.channel_products
        extra = n * c_in * (l_out + kernel_span(k, d) - 1)  # the zero-stuffed, padded input
    elif algorithm in ("polyphase", "subpixel"):
        pairs, padded = _phase_reads(shape, algorithm)
        multiplies = pairs * shape.channel_products
        # the padded input, and the phases' results before they are interleaved
        extra = n * (c_in * padded + c_out * l_out)
        if algorithm == "subpixel":  # the phase kernels, stacked into one weight
            extra += c_in * (c_out // shape.groups) * s * subpixel_rows(k, s, d)
    else:
        raise ValueError(f"unknown algorithm {algorithm!r}: expected one of {ALGORITHMS}")
    return Cost(algorithm, multiplies, multiplies - useful_multiplies(shape), extra)


def costs(shape: Shape) -> list[Cost]:
    """The cost of every algorithm in :data:`ALGORITHMS` for ``shape``."""
    return [cost(name, shape) for name in ALGORITHMS]


def table(shape: Shape, bytes_per_element: int = 4) -> str:
    """:func:`costs` as a plain-text table: millions of multiplies, the share wasted, and
    the extra memory in MiB (``bytes_per_element=4``: float32)."""
    useful = useful_multiplies(shape)
    lines = [
        f"{'algorithm':<18}{'multiplies (M)':>16}{'x useful':>10}{'wasted':>9}{'extra (MiB)':>13}"
    ]
    for c in costs(shape):
        lines.append(
            f"{c.algorithm:<18}{c.multiplies / 1e6:>16.1f}{c.multiplies / useful:>10.2f}"
            f"{c.wasted / c.multiplies:>9.1%}{c.extra_memory * bytes_per_element / 2**20:>13.2f}"
        )
    return "\n".join(lines)
