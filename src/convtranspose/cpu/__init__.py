"""Vectorised CPU implementations of ``conv_transpose1d``, built from torch tensor ops.

Eight algorithms compute the same thing, nine where this machine's native kernel is built
(chapter 09 derives the first five from the definition, chapter 11 measures them all):

- :func:`scatter`: the definition. Every input element stamps its scaled kernel onto the
  output; one ``einsum`` makes all the stamps, one ``index_add_`` adds them where they land.
- :func:`zero_insertion`: put ``stride - 1`` zeros between input samples, pad, and run an
  ordinary convolution with the flipped, transposed kernel. Simple, but most multiplications
  are by the inserted zeros.
- :func:`gemm_overlap_add`: one matrix multiply computes every (input element x tap) product,
  then a few shifted additions put them in place (what torch's own CPU op does, "col2im").
- :func:`polyphase`: output position ``t`` only receives taps ``k`` with
  ``k*dilation = t (mod stride)``, so each of the ``stride`` output phases is an ordinary
  stride-1 convolution with a sub-kernel; no multiplication by an inserted zero.
- :func:`subpixel`: the polyphase convolutions fused into one convolution with
  ``stride * C_out`` output channels, followed by a reshape that interleaves the phases
  ("sub-pixel convolution"). One large call instead of ``stride`` small ones.
- :func:`onednn`: oneDNN's own transposed convolution, called directly: what torch's op runs
  for most shapes anyway, minus torch's shape heuristic.
- :func:`aten`: torch's own operator behind this package's checks, the baseline, for the
  shapes where no reformulation is faster.
- :func:`aten_aligned`: torch's operator asked for an output whose length is a multiple of
  the stride, then cropped: oneDNN computes such outputs markedly faster.
- ``native`` (where built: ``python -m convtranspose.cpu.build``): this package's own C++
  kernel, polyphase and register-blocked in torch's ``(N, C, L)`` layout, with none of the
  layout round trips torch's op makes.

:func:`conv_transpose1d` picks one per call with the rule in :func:`choose_algorithm`.

The package, one duty per module:

- :mod:`~convtranspose.cpu.reformulations`: scatter, zero insertion, GEMM + overlap-add,
  polyphase, sub-pixel, on validated arguments;
- :mod:`~convtranspose.cpu.torch_calls`: torch's and oneDNN's own operators, called directly;
- ``convtranspose.cpu.extension``: the native kernel's build and loader (``csrc/``), and
  ``convtranspose.cpu.native``: the kernel as an algorithm;
- :mod:`~convtranspose.cpu.output_cache`: the memory the native kernel keeps for large
  outputs, its limit and how to give it back;
- :mod:`~convtranspose.cpu.registry`: the one list of algorithms, from which
  :data:`ALGORITHMS` and every other list is derived;
- :mod:`~convtranspose.cpu.rule`: :func:`choose_algorithm`, its thresholds in one table;
- :mod:`~convtranspose.cpu.workspace`: the memory model, :func:`workspace_elements`;
- :mod:`~convtranspose.cpu.dispatch`: :func:`conv_transpose1d`, with its memory of checked calls;
- :mod:`~convtranspose.cpu.packed`: :class:`PackedConvTranspose1d`, the weight packed once
  for inference.

Every algorithm keeps the contract of :func:`torch.nn.functional.conv_transpose1d`: all
parameters, batched or unbatched input, every floating dtype, differentiable (autograd
records the torch operations used).
"""

from __future__ import annotations

from . import registry, rule
from .dispatch import conv_transpose1d
from .packed import PackedConvTranspose1d, choose_route, pack
from .rule import Thresholds, choose_algorithm
from .torch_calls import torch_runs_onednn, whole_strides
from .workspace import workspace_elements

#: Every CPU algorithm by name, a function with the contract's signature (derived from the
#: one registry, :mod:`~convtranspose.cpu.registry`); the shared test suite checks each one.
ALGORITHMS = registry.ALGORITHMS
#: The algorithms' names, in the registry's order.
NAMES = registry.NAMES
#: The thresholds :func:`choose_algorithm` and :func:`choose_route` read.
THRESHOLDS = rule.THRESHOLDS

scatter = ALGORITHMS["scatter"]
zero_insertion = ALGORITHMS["zero_insertion"]
gemm_overlap_add = ALGORITHMS["gemm_overlap_add"]
polyphase = ALGORITHMS["polyphase"]
subpixel = ALGORITHMS["subpixel"]
onednn = ALGORITHMS["onednn"]
aten = ALGORITHMS["aten"]
aten_aligned = ALGORITHMS["aten_aligned"]

__all__ = [
    "ALGORITHMS",
    "NAMES",
    "THRESHOLDS",
    "PackedConvTranspose1d",
    "Thresholds",
    "aten",
    "aten_aligned",
    "choose_algorithm",
    "choose_route",
    "conv_transpose1d",
    "gemm_overlap_add",
    "onednn",
    "pack",
    "polyphase",
    "scatter",
    "subpixel",
    "torch_runs_onednn",
    "whole_strides",
    "workspace_elements",
    "zero_insertion",
]

if "native" in ALGORITHMS:  # built for this machine and loaded
    native = ALGORITHMS["native"]
    __all__.append("native")
