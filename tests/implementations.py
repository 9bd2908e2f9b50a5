"""Every implementation of ``conv_transpose1d`` the shared suite checks against torch.

A new implementation plugs in by adding one :class:`Implementation` here: the
property-based, gradient and bad-input tests are parametrized over this list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import convtranspose
from convtranspose import cpu, cuda, reference
from convtranspose.cpu.packed import PackedConvTranspose1d


def packed(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """A :class:`~convtranspose.cpu.packed.PackedConvTranspose1d` made for one call, its packed
    oneDNN route forced (the automatic choice keeps it for shapes too large for the suite)."""
    layer = PackedConvTranspose1d(
        weight, bias, stride, padding, output_padding, groups, dilation, algorithm="packed"
    )
    return layer(input)


@dataclass(frozen=True)
class Implementation:
    name: str
    fn: Callable
    #: where its tensors live: "cpu", or "cuda" for the native GPU path.
    device: str = "cpu"
    #: slow implementations (python loops, Triton's interpreter) get smaller shapes.
    slow: bool = False
    #: inference-only implementations are left out of the gradient tests.
    differentiable: bool = True

    def __str__(self) -> str:
        return self.name


IMPLEMENTATIONS = [
    Implementation("reference", reference.conv_transpose1d, slow=True),
    Implementation("cpu", cpu.conv_transpose1d),
    *(Implementation(f"cpu.{name}", fn) for name, fn in cpu.ALGORITHMS.items()),
    Implementation("convtranspose", convtranspose.conv_transpose1d),
    Implementation("packed", packed, differentiable=False),
]

# The Triton kernels: natively on a GPU, else on CPU tensors in Triton's interpreter
# (conftest sets TRITON_INTERPRET=1 without a GPU), else (no Triton) not at all.
if cuda.is_available("cuda"):
    IMPLEMENTATIONS.append(Implementation("cuda", cuda.conv_transpose1d, device="cuda"))
    IMPLEMENTATIONS.append(
        Implementation("convtranspose-cuda", convtranspose.conv_transpose1d, device="cuda")
    )
    IMPLEMENTATIONS.extend(
        Implementation(f"cuda.{name}", fn, device="cuda", differentiable=False)
        for name, fn in cuda.FORWARD_KERNELS.items()
    )
elif cuda.is_available("cpu"):
    IMPLEMENTATIONS.append(Implementation("cuda-interpreter", cuda.conv_transpose1d, slow=True))
    IMPLEMENTATIONS.extend(
        Implementation(f"cuda-interpreter.{name}", fn, slow=True, differentiable=False)
        for name, fn in cuda.FORWARD_KERNELS.items()
    )
