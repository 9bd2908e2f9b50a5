"""Descriptions of one 1-d case, and the layout every figure is drawn from.

A figure in this book is never drawn from hand-placed numbers: it is drawn from
a :class:`TransposedCase` (or a :class:`ConvCase` for ordinary convolution),
which computes, in plain Python, where everything lands. The tests check those
layouts against torch, so a figure cannot show something torch does not do.

Positions are counted in the *full* (uncropped) output of the transposed
convolution: tap ``k`` of the stamp of input element ``i`` lands at
``i*stride + k*dilation``. The final output is the window
``[padding, padding + L_out)`` of that full output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from ..shapes import kernel_span, output_length, stamp_span, transposed_length

__all__ = ["ConvCase", "Stamp", "TransposedCase", "Window"]


def _floats(values: object) -> tuple[float, ...]:
    """Accept any sequence of numbers (or a 1-d tensor) and keep plain floats."""
    if hasattr(values, "tolist"):
        values = values.tolist()
    return tuple(float(v) for v in values)


def _positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")


@dataclass(frozen=True)
class Stamp:
    """The scaled copy of the kernel that one input element contributes.

    ``positions[k]`` is where tap ``k`` lands in the full output and
    ``values[k] = value * kernel[k]`` is what it adds there.
    """

    index: int
    value: float
    positions: tuple[int, ...]
    values: tuple[float, ...]

    def cells(self) -> dict[int, float]:
        """``{position: contribution}`` (taps never collide within one stamp)."""
        return dict(zip(self.positions, self.values, strict=True))


@dataclass(frozen=True)
class TransposedCase:
    """One single-channel transposed convolution, described by its numbers.

    ``input`` and ``kernel`` are sequences of numbers; the other fields are the
    arguments of :func:`torch.nn.functional.conv_transpose1d` with the same
    names. Build one per figure: a new case is one more call.
    """

    input: tuple[float, ...]
    kernel: tuple[float, ...]
    stride: int = 1
    padding: int = 0
    output_padding: int = 0
    dilation: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "input", _floats(self.input))
        object.__setattr__(self, "kernel", _floats(self.kernel))
        if not self.input or not self.kernel:
            raise ValueError("input and kernel must each hold at least one value")
        # The one validator of shape-only arguments: the same rules and words as the op's.
        output_length(
            len(self.input), self.kernel_size, self.stride, self.padding, self.output_padding,
            self.dilation,
        )  # fmt: skip

    @classmethod
    def ones(cls, length: int, kernel_size: int, **arguments: int) -> TransposedCase:
        """The seed cases: an input of ``length`` ones and a kernel of ones."""
        return cls((1.0,) * length, (1.0,) * kernel_size, **arguments)

    @property
    def kernel_size(self) -> int:
        return len(self.kernel)

    @property
    def stamp_span(self) -> int:
        """Positions one stamp covers, first tap to last: ``dilation*(K-1) + 1``."""
        return kernel_span(self.kernel_size, self.dilation)

    @property
    def covered_length(self) -> int:
        """Positions the stamps cover together: ``(L_in-1)*stride + dilation*(K-1) + 1``."""
        return stamp_span(len(self.input), self.kernel_size, self.stride, self.dilation)

    @property
    def output_length(self) -> int:
        """``L_out``, the formula of :func:`convtranspose.output_length`."""
        s = self
        return transposed_length(
            len(s.input), s.kernel_size, s.stride, s.padding, s.output_padding, s.dilation
        )

    @property
    def kept(self) -> tuple[int, int]:
        """The region of the full output that is returned: ``[padding, padding + L_out)``."""
        return self.padding, self.padding + self.output_length

    @property
    def full_length(self) -> int:
        """Length of the full output: the stamps, extended if ``output_padding`` reaches past them."""
        return max(self.covered_length, self.kept[1])

    @property
    def cropped(self) -> tuple[int, ...]:
        """Positions of the full output that ``padding`` crops away (both ends)."""
        start, stop = self.kept
        return tuple(t for t in range(self.full_length) if not start <= t < stop)

    @property
    def output_padding_positions(self) -> tuple[int, ...]:
        """The last ``output_padding`` kept positions: what ``output_padding`` adds back
        (fewer when the output is shorter than that)."""
        start, stop = self.kept
        return tuple(range(max(start, stop - self.output_padding), stop))

    def stamps(self) -> list[Stamp]:
        """One :class:`Stamp` per input element: the scatter definition."""
        return [
            Stamp(
                index=i,
                value=x,
                positions=tuple(
                    i * self.stride + k * self.dilation for k in range(self.kernel_size)
                ),
                values=tuple(x * w for w in self.kernel),
            )
            for i, x in enumerate(self.input)
        ]

    @property
    def full(self) -> tuple[float, ...]:
        """The overlap-add: every stamp added into the full, uncropped output."""
        full = [0.0] * self.full_length
        for stamp in self.stamps():
            for t, v in stamp.cells().items():
                full[t] += v
        return tuple(full)

    @property
    def output(self) -> tuple[float, ...]:
        """What ``conv_transpose1d`` returns: the kept window of :attr:`full`."""
        start, stop = self.kept
        return self.full[start:stop]

    @property
    def equivalent_padding(self) -> int:
        """Zeros the equivalent direct convolution adds on each side of the
        zero-stuffed input: ``dilation*(K-1) - padding`` (negative means it crops)."""
        return self.dilation * (self.kernel_size - 1) - self.padding

    def zero_stuffed(self) -> tuple[float, ...]:
        """The input with ``stride - 1`` zeros inserted between neighbours."""
        stuffed = [0.0] * stamp_span(len(self.input), 1, self.stride)
        stuffed[:: self.stride] = self.input
        return tuple(stuffed)

    def as_direct_convolution(self) -> ConvCase:
        """The same result as an ordinary convolution (stride 1): the zero-stuffed
        input, padded by :attr:`equivalent_padding` on each side (plus
        ``output_padding`` zeros on the right), slid under the flipped kernel."""
        q = self.equivalent_padding
        stuffed = list(self.zero_stuffed())
        padded = [0.0] * q + stuffed if q >= 0 else stuffed[-q:]
        right = q + self.output_padding
        padded = padded + [0.0] * right if right >= 0 else padded[:right]
        data = {q + i * self.stride for i in range(len(self.input))}  # where x[i] sits
        added = tuple(p for p in range(len(padded)) if p not in data)
        return ConvCase(tuple(padded), self.kernel[::-1], dilation=self.dilation, added_zeros=added)

    def arguments(self) -> dict[str, int]:
        """The keyword arguments of ``conv_transpose1d`` this case uses."""
        return {
            "stride": self.stride,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "dilation": self.dilation,
        }

    def run(
        self, conv_transpose1d: Callable[..., Tensor], dtype: torch.dtype = torch.float32
    ) -> Tensor:
        """Run this case through any ``conv_transpose1d`` (torch's or one of this
        package's): input ``(1, 1, L_in)``, weight ``(1, 1, K)``, no bias."""
        x = torch.tensor([[self.input]], dtype=dtype)
        w = torch.tensor([[self.kernel]], dtype=dtype)
        return conv_transpose1d(x, w, **self.arguments())

    def torch_output(self) -> tuple[float, ...]:
        """The same case run by :func:`torch.nn.functional.conv_transpose1d` (float64)."""
        return tuple(self.run(torch.nn.functional.conv_transpose1d, torch.float64)[0, 0].tolist())


@dataclass(frozen=True)
class Window:
    """One output of an ordinary convolution: the kernel laid over the input.

    ``positions[k]`` is the (padded) input position under tap ``k``;
    ``products[k]`` is ``kernel[k]`` times the value there; ``value`` is their sum.
    """

    index: int
    positions: tuple[int, ...]
    products: tuple[float, ...]
    value: float


@dataclass(frozen=True)
class ConvCase:
    """One single-channel ordinary convolution (cross-correlation, like torch's ``conv1d``).

    ``added_zeros`` lists input positions that hold zeros put there by a construction
    (zero insertion, explicit padding) rather than data; figures shade them as padding.
    """

    input: tuple[float, ...]
    kernel: tuple[float, ...]
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    added_zeros: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "input", _floats(self.input))
        object.__setattr__(self, "kernel", _floats(self.kernel))
        if not self.input or not self.kernel:
            raise ValueError("input and kernel must each hold at least one value")
        _positive("stride", self.stride)
        _positive("dilation", self.dilation)
        if self.padding < 0:
            raise ValueError("padding must be >= 0")
        if self.output_length < 1:
            raise ValueError("the kernel does not fit in the padded input")

    @classmethod
    def ones(cls, length: int, kernel_size: int, **arguments: int) -> ConvCase:
        return cls((1.0,) * length, (1.0,) * kernel_size, **arguments)

    @property
    def padded_input(self) -> tuple[float, ...]:
        """The input with ``padding`` zeros at each end."""
        zeros = (0.0,) * self.padding
        return zeros + self.input + zeros

    @property
    def output_length(self) -> int:
        """``(L + 2*padding - dilation*(K-1) - 1) // stride + 1``."""
        reach = self.dilation * (len(self.kernel) - 1) + 1
        return (len(self.input) + 2 * self.padding - reach) // self.stride + 1

    def windows(self) -> list[Window]:
        """One :class:`Window` per output: the gather definition."""
        x = self.padded_input
        result = []
        for t in range(self.output_length):
            positions = tuple(t * self.stride + k * self.dilation for k in range(len(self.kernel)))
            products = tuple(w * x[p] for w, p in zip(self.kernel, positions, strict=True))
            result.append(Window(t, positions, products, sum(products)))
        return result

    @property
    def output(self) -> tuple[float, ...]:
        return tuple(w.value for w in self.windows())

    def torch_output(self) -> tuple[float, ...]:
        """The same case run by :func:`torch.nn.functional.conv1d` (float64)."""
        out = torch.nn.functional.conv1d(
            torch.tensor([[self.input]], dtype=torch.float64),
            torch.tensor([[self.kernel]], dtype=torch.float64),
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
        )
        return tuple(out[0, 0].tolist())
