"""The one registry of CPU algorithms: each name with its implementation (on validated
arguments) and its documentation. :data:`ALGORITHMS` (the public functions, with the
contract's signature and the shared argument checks), :data:`_IMPLEMENTATIONS` (what the
dispatcher runs) and :data:`NAMES` are all derived from :data:`_REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from ..arguments import Conv1dArgs, check_conv_transpose1d
from . import extension
from . import reformulations as re_
from . import torch_calls as tc
from .native import _native


def _run(algorithm: Callable[[Conv1dArgs], Tensor], args: tuple) -> Tensor:
    return _run_checked(algorithm, check_conv_transpose1d(*args))


def _run_checked(algorithm: Callable[[Conv1dArgs], Tensor], a: Conv1dArgs) -> Tensor:
    """``algorithm`` on checked arguments, in the caller's shape. Where it would compute
    nothing (an empty batch) or record no autograd graph although an argument requires grad
    (every product cropped away, so the output is zeros plus no bias), torch's op answers
    instead: its output keeps the graph, with zero gradients, as torch's always does."""
    if a.input.numel() == 0:
        return a.restore(tc._aten(a))
    out = algorithm(a)
    if not out.requires_grad and torch.is_grad_enabled() and _requires_grad(a):
        out = tc._aten(a)
    return a.restore(out)


def _requires_grad(a: Conv1dArgs) -> bool:
    return (
        a.input.requires_grad
        or a.weight.requires_grad
        or (a.bias is not None and a.bias.requires_grad)
    )


def _public(implementation: Callable[[Conv1dArgs], Tensor], name: str, doc: str):
    """One public algorithm: the contract's signature, the shared argument checks, then
    ``implementation`` on the validated arguments."""

    def algorithm(
        input: Tensor,
        weight: Tensor,
        bias: Tensor | None = None,
        stride: int | tuple[int] = 1,
        padding: int | tuple[int] = 0,
        output_padding: int | tuple[int] = 0,
        groups: int = 1,
        dilation: int | tuple[int] = 1,
    ) -> Tensor:
        args = (input, weight, bias, stride, padding, output_padding, groups, dilation)
        return _run(implementation, args)

    algorithm.__name__ = algorithm.__qualname__ = name
    algorithm.__doc__ = doc
    return algorithm


def _onednn(a: Conv1dArgs) -> Tensor:
    """oneDNN's transposed convolution where it computes the call (float32, bfloat16 where
    the CPU has it, ``output_padding < stride``), else the definition's GEMM."""
    return tc._onednn(a) if tc._onednn_deconv_ok(a) else re_._gemm_overlap_add(a)


class Algorithm(NamedTuple):
    """One CPU algorithm: its name, its implementation on validated arguments, and the
    documentation of its public function."""

    name: str
    implementation: Callable[[Conv1dArgs], Tensor]
    doc: str


#: Every CPU algorithm, in the order chapters 9 and 11 present them. The one list: every
#: other list of algorithms is derived from it.
_REGISTRY = (
    Algorithm(
        "scatter",
        re_._scatter,
        """The definition, vectorised: every input element ``x[n, c, i]`` stamps
    ``x[n, c, i] * weight[c, :, :]`` onto the output at ``i*stride + k*dilation``.

    One ``einsum`` forms all ``L x K`` stamps (summing over the input channels of each
    group), one ``index_add`` scatters them to where they land, then ``padding`` is cropped.
    Cost: ``N*C_in*C_out/g*K*L`` multiplications, every product of every stamp (including
    those ``padding`` crops away), and an intermediate of ``N*C_out*K*L`` elements. Same
    contract as :func:`torch.nn.functional.conv_transpose1d`.
    """,
    ),
    Algorithm(
        "zero_insertion",
        re_._zero_insertion,
        """Zero insertion + an ordinary convolution (how the operator is often explained).

    Insert ``stride - 1`` zeros between input samples, pad both ends by
    ``dilation*(K-1) - padding`` (cropping where that is negative) plus ``output_padding`` at
    the end, and convolve (stride 1) with the kernel flipped and its in/out channels swapped.
    Cost: about ``stride`` times the minimum multiplications, since all but one in ``stride``
    inputs the kernel sees are inserted zeros; an intermediate of ``N*C_in*L*stride`` elements.
    Same contract as :func:`torch.nn.functional.conv_transpose1d`.

    A zero times ``inf`` is ``nan``, which the definition does not have: with a non-finite
    weight it computes only the definition's terms, as :func:`gemm_overlap_add` does.
    """,
    ),
    Algorithm(
        "gemm_overlap_add",
        re_._gemm_overlap_add,
        """GEMM + overlap-add (col2im): one matrix multiply ``(N*L, C_in) @ (C_in, C_out*K)``
    gives every input element's stamp, then ``ceil(K/stride)`` shifted additions (``K`` when
    dilated) put the stamps in place, and ``padding`` is cropped.

    When ``K == stride`` (and no dilation) stamps tile the output without overlap and the
    additions disappear: the GEMM result, reordered, is the output. When every output channel
    reads one input channel (depthwise, or a single channel in) the GEMM is an outer product:
    one broadcast multiply-add per block of ``stride`` taps, straight into the output.
    Cost: the same multiplications as :func:`scatter`, an intermediate of ``N*C_out*K*L``
    elements. Same contract as :func:`torch.nn.functional.conv_transpose1d`.
    """,
    ),
    Algorithm(
        "polyphase",
        re_._polyphase,
        """Polyphase: ``stride`` ordinary convolutions, one per output phase.

    Output position ``t = q*stride + r`` receives tap ``k`` of input ``i`` exactly when
    ``k*dilation = (q - i)*stride + r``: only the taps with ``k*dilation = r (mod stride)``
    (every ``stride/gcd(stride, dilation)``-th tap) reach phase ``r``, and for them the output
    is a stride-1 convolution of the *undilated-by-stride* input. Each phase is computed with
    its sub-kernel and written to every ``stride``-th output. Cost: the minimum
    multiplications plus products with the zero padding at the ends, no inserted zeros;
    ``stride`` calls. Same contract as
    :func:`torch.nn.functional.conv_transpose1d`.

    A zero times ``inf`` is ``nan``, which the definition does not have: with a non-finite
    weight it computes only the definition's terms, as :func:`gemm_overlap_add` does.
    """,
    ),
    Algorithm(
        "subpixel",
        re_._subpixel,
        """Sub-pixel convolution: the polyphase convolutions fused into one.

    The ``stride`` sub-kernels become ``stride`` blocks of output channels of a single
    ordinary convolution with ``ceil((dilation*(K-1)+1)/stride)`` taps; reshaping its
    ``(C_out, stride, rows)`` result to ``(C_out, rows*stride)`` interleaves the phases (the
    "pixel shuffle" of Shi et al., 2016). One large convolution keeps the matrix engine busy;
    the price is multiplications by zero where a phase has fewer taps than the longest
    (none when ``stride`` divides ``K``, as in HiFi-GAN's upsamplers). Same contract as
    :func:`torch.nn.functional.conv_transpose1d`.

    A zero times ``inf`` is ``nan``, which the definition does not have: with a non-finite
    weight, or a non-finite input where the phases have unequal numbers of taps, it computes
    only the definition's terms, as :func:`gemm_overlap_add` does.
    """,
    ),
    Algorithm(
        "onednn",
        _onednn,
        """oneDNN's transposed convolution, called directly.

    torch's CPU op already runs oneDNN's kernel for most shapes, but decides with a heuristic
    written for 2-d images: a batch of one with fewer than ~20k input elements goes to its
    generic GEMM + col2im path instead. This calls oneDNN whatever the shape (float32 and
    bfloat16; other dtypes run :func:`gemm_overlap_add`), with torch's own backward.
    Same contract as :func:`torch.nn.functional.conv_transpose1d`.
    """,
    ),
    Algorithm(
        "aten",
        tc._aten,
        """torch's own transposed convolution (its C++ binding ``torch.conv_transpose1d``),
    called after this package's argument checks.

    Not a reformulation: it is the baseline itself, kept as an algorithm so that
    :func:`conv_transpose1d` can hand a shape back to torch where none of the
    reformulations is measurably faster (on cold caches, every dense shape measured: torch's
    op is then little more than one well-laid-out matrix multiply). Same contract as
    :func:`torch.nn.functional.conv_transpose1d`.
    """,
    ),
    Algorithm(
        "aten_aligned",
        tc._aten_aligned,
        """torch's own operator, asked for an output whose length is a multiple of ``stride``,
    then cropped to the length wanted.

    oneDNN's transposed convolution (torch's op for most shapes) takes up to about 1.5 times
    as long when the output length is not a multiple of the stride: it computes the output as
    ``stride`` interleaved phases, and phases of unequal length take a slower path (chapter
    11). A longer output costs almost nothing more: ``output_padding`` (kept below ``stride``)
    and, where that cannot reach, one zero appended to the input lengthen it to whole
    strides, and the extra samples at the end are dropped (a copy of the output). The
    positions kept are computed exactly as torch computes them. Same contract as
    :func:`torch.nn.functional.conv_transpose1d`.
    """,
    ),
)

#: The native kernel, an algorithm only where it is built and loaded
#: (:func:`~convtranspose.cpu.extension.available`): every list derived from the registry has it
#: exactly then.
_NATIVE = Algorithm(
    "native",
    _native,
    """This package's own C++ kernel (``csrc/forward.cpp``), compiled for this machine's CPU.

    Polyphase, in torch's ``(N, C, L)`` layout: output phase ``rho = (t + padding) mod stride``
    receives only the taps with ``k*dilation = rho (mod stride)``, so each phase is a small dense
    product over ``C_in/groups x`` its taps, with no multiplication by an inserted zero. The
    product is register-blocked: a tile of output channels x consecutive positions (4 x 24 floats
    with AVX2) accumulates in vector registers, fed per (input channel, tap) by one broadcast
    weight per channel and a few unaligned loads of consecutive inputs, so most instructions are
    fused multiply-adds. Each output row is written once, phases interleaved and bias added, and
    work items (batch x group x length block x channel tile) run in parallel without atomics
    (the same bits with any number of threads). Fast because it skips what torch's op spends on
    the way: no reorder to channels-last and back, no copy of the output, no column buffer. Ends
    of rows only sum the taps that read real input, so non-finite values follow the definition.
    float32 and float64; other dtypes run torch's op. Gradients: torch's. Same contract as
    :func:`torch.nn.functional.conv_transpose1d`.
    """,
)

if extension.available():
    _REGISTRY = (*_REGISTRY, _NATIVE)

#: The algorithms' names, in registry order.
NAMES: tuple[str, ...] = tuple(entry.name for entry in _REGISTRY)

#: Every CPU algorithm by name, as a public function with the contract's signature; the
#: shared test suite checks each one against torch.
ALGORITHMS: dict[str, Callable[..., Tensor]] = {
    entry.name: _public(entry.implementation, entry.name, entry.doc) for entry in _REGISTRY
}

#: The same algorithms on validated arguments (what :func:`conv_transpose1d` dispatches to).
_IMPLEMENTATIONS: dict[str, Callable[[Conv1dArgs], Tensor]] = {
    entry.name: entry.implementation for entry in _REGISTRY
}
