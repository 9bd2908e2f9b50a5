"""Inference with the weight packed once: :class:`PackedConvTranspose1d`.

torch's CPU ``conv_transpose1d`` receives a plain ``(C_in, C_out/groups, K)`` weight on every
call, and for most shapes hands it to oneDNN, which first copies it into its own blocked
layout and only then computes. On cold caches that copy is a large part of the call for a
large weight and a short input (chapter 11).
The functional op cannot avoid it (the weight may change between two calls, and nothing tells
the op it did not), but a model served for inference does not change its weights, so the
copy can be made once. torch does that for 2-d and 3-d transposed convolutions when a model
is frozen (``torch.ops.mkldnn._reorder_convolution_transpose_weight``, which inductor's
freezing uses) and refuses 1-d weights; a 1-d transposed convolution is a 2-d one of height
one, and packed as such it runs.

Packing pays only where that copy is a large share of the work: an undilated convolution with
a large weight and a short input. Everywhere else :class:`PackedConvTranspose1d` runs what
:func:`convtranspose.cpu.conv_transpose1d` runs (see :func:`choose_route`).

Inference only, and the weight is a snapshot: changing the weight a module was made from is
not seen (make a new one, as after :func:`torch.jit.freeze`).
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..arguments import Conv1dArgs, check_conv_transpose1d, output_padding_for
from ..cost import stamp_multiplies
from ..shapes import single, transposed_length
from .dispatch import conv_transpose1d
from .registry import _IMPLEMENTATIONS, NAMES, _run_checked
from .rule import THRESHOLDS, choose_algorithm
from .torch_calls import _bias_past_the_stamps, _nan_from, _onednn_deconv_ok, whole_strides

__all__ = ["PackedConvTranspose1d", "choose_route", "pack"]

#: Input signatures one module remembers the route of (the least recently used is dropped).
_ROUTES_KEPT = 64


#: The routes :class:`PackedConvTranspose1d` can take: the packed oneDNN deconvolution, or
#: one of :data:`convtranspose.cpu.ALGORITHMS` on the plain weight.
PACKED = "packed"


def choose_route(
    batch: int,
    in_channels: int,
    out_channels: int,
    length: int,
    kernel_size: int,
    stride: int = 1,
    groups: int = 1,
    dilation: int = 1,
    output_padding: int = 0,
    dtype: torch.dtype = torch.float32,
    *,
    padding: int = 0,
    native: bool | None = None,
    vector_bytes: int | None = None,
) -> str:
    """``"packed"`` or the name of the :mod:`convtranspose.cpu` algorithm to run instead.

    Packing saves oneDNN's copy of the weight into its blocked layout on every call, which
    pays where that copy is a large share of the work: undilated shapes with at least
    :attr:`~convtranspose.cpu.Thresholds.packed_multiplies` multiply-adds and at most
    :attr:`~convtranspose.cpu.Thresholds.packed_positions` input positions in the batch
    (``batch * length``), where :func:`~convtranspose.cpu.choose_algorithm` would hand the
    shape to torch's op or to the sub-pixel convolution. Not packed: dilated shapes (oneDNN's
    dilated deconvolution is slower than torch's op even packed), small problems (oneDNN's
    setup per call), long inputs (the copy is then a small share), the shapes where this
    package's own algorithms beat torch (depthwise, non-overlapping stamps), and
    ``output_padding >= stride`` or dtypes oneDNN cannot compute: those get
    :mod:`convtranspose.cpu`'s choice. ``native`` and ``vector_bytes`` are passed to it
    (``None``: whether the native kernel is built, and its width).
    """
    chosen = choose_algorithm(
        batch, in_channels, out_channels, length, kernel_size, stride, groups, dilation, dtype,
        padding=padding, output_padding=output_padding, native=native, vector_bytes=vector_bytes,
    )  # fmt: skip
    multiply_adds = stamp_multiplies(batch, in_channels, out_channels, length, kernel_size, groups)
    if (
        chosen in ("aten", "aten_aligned", "subpixel")
        and dilation == 1
        and output_padding < stride
        and dtype in (torch.float32, torch.bfloat16)
        and multiply_adds >= THRESHOLDS.packed_multiplies
        and batch * length <= THRESHOLDS.packed_positions
    ):
        return PACKED
    return chosen


def _hashable(output_size: Sequence[int] | int | None) -> object:
    """``output_size`` as part of a dictionary key: a list or ``torch.Size`` as a tuple of
    ints. A tensor (or a tensor inside it) raises ``TypeError``: it hashes by identity and may
    change in place, so such calls are never remembered."""
    if output_size is None or type(output_size) is int:
        return output_size
    if isinstance(output_size, Tensor):
        raise TypeError("tensor arguments are not remembered")
    key = tuple(output_size)
    if any(type(v) is not int for v in key):
        raise TypeError("only int sizes are remembered")
    return key


def _algorithm(value: str | None) -> str | None:
    """``value`` if it names a route (``None``: chosen per call), else a ``ValueError``
    listing the valid names."""
    if value is not None and value != PACKED and value not in NAMES:
        raise ValueError(
            f"algorithm must be None, {PACKED!r} or one of {sorted(NAMES)}, got {value!r}"
        )
    return value


class PackedConvTranspose1d(nn.Module):
    """A transposed 1-d convolution for inference, its weight packed once for oneDNN.

    ``PackedConvTranspose1d(weight, bias, stride, padding, output_padding, groups, dilation)``
    takes the arguments of :func:`torch.nn.functional.conv_transpose1d` except the input;
    :meth:`from_module` takes a :class:`torch.nn.ConvTranspose1d` (or this package's). Calling
    it with an input gives ``conv_transpose1d(input, weight, bias, ...)``, with the same
    argument checks and errors, batched or unbatched input, on the CPU; like the layer it
    replaces, ``forward(input, output_size)`` picks ``output_padding`` from the length wanted.

    - The weight and bias are copied when the module is made, into the buffers ``weight`` and
      ``bias``: later changes to the tensors passed in are not seen. The weight is packed into
      oneDNN's layout at the first call that takes the packed route (:func:`choose_route`),
      and kept: memory for one more copy of the weight. The buffers are in ``state_dict``
      (the keys of the layer it replaces) and follow ``.to(dtype)``; ``load_state_dict``,
      ``.to()``, assigning a buffer and writing into the weight in place (``copy_``, not
      through ``.data``, which escapes the version counter) drop the packed copy, so the next
      call packs the new weight. CPU only: moving the layer to another device makes its calls
      raise.
    - Every setting (``stride``, ``padding``, ``output_padding``, ``groups``, ``dilation``,
      ``algorithm``) may be assigned after a call and is honoured from the next call on;
      ``algorithm`` is checked when assigned (a ``ValueError`` listing the valid names).
    - Not a subclass of :class:`torch.nn.ConvTranspose1d`, on purpose: its weight is a
      frozen buffer serving a packed copy, not a parameter. Model-wide loops that find
      ``nn.ConvTranspose1d`` layers (initialisation, ``spectral_norm``, parametrizations,
      :func:`pack` itself) are for trainable layers and must not rewrite it.
    - Inference only: an input that requires grad (with grad mode on) raises a
      ``RuntimeError``; use :func:`convtranspose.conv_transpose1d` to train.
    - ``algorithm=None`` picks the route per call (:func:`choose_route`); ``"packed"`` or a
      name from :data:`convtranspose.cpu.ALGORITHMS` forces one (to compare them). Calls the
      packed deconvolution cannot compute (``output_padding >= stride``, float64, an empty
      input) run :mod:`convtranspose.cpu`'s choice even when ``"packed"`` is forced.
    """

    def __init__(
        self,
        weight: Tensor,
        bias: Tensor | None = None,
        stride: int | tuple[int] = 1,
        padding: int | tuple[int] = 0,
        output_padding: int | tuple[int] = 0,
        groups: int = 1,
        dilation: int | tuple[int] = 1,
        algorithm: str | None = None,
    ) -> None:
        super().__init__()
        self._packed: Tensor | None = None
        self._packed_version = -1
        self._routes: OrderedDict[tuple, tuple[str, int]] = OrderedDict()
        self.algorithm = algorithm
        for name, tensor in (("weight", weight), ("bias", bias)):
            if isinstance(tensor, Tensor) and tensor.device.type != "cpu":
                raise ValueError(
                    f"PackedConvTranspose1d packs weights for the CPU: {name} is on "
                    f"{tensor.device}; use convtranspose.conv_transpose1d on other devices"
                )
        if not isinstance(weight, Tensor):
            raise TypeError(f"argument 'weight' must be a Tensor, not {type(weight).__name__}")
        # Snapshots, as buffers (not parameters: inference only). See _forget_pack.
        self.register_buffer("weight", weight.detach().clone())
        self.register_buffer("bias", bias.detach().clone() if isinstance(bias, Tensor) else bias)
        self.stride = stride
        self.padding = padding
        self.output_padding = output_padding
        self.groups = groups
        self.dilation = dilation

    def __setattr__(self, name: str, value: object) -> None:
        """Every setting may change after a call: the packed weight and the remembered routes
        depend on them, so assigning one drops both (the next call packs again); ``algorithm``
        is validated here, the integer settings read as torch reads them."""
        if name in _SETTINGS:
            value = _SETTINGS[name](value)
        if (name in _SETTINGS or name in ("weight", "bias")) and "_routes" in self.__dict__:
            self._forget_pack()
        super().__setattr__(name, value)

    def _forget_pack(self) -> None:
        """Drop the packed weight and the remembered routes: the buffers or settings changed."""
        self._packed = None
        self._routes.clear()

    def _apply(self, fn, recurse: bool = True):  # .to(), .float(), .double(), .cpu(), ...
        result = super()._apply(fn, recurse)
        self._forget_pack()
        return result

    def _load_from_state_dict(self, *args, **kwargs) -> None:  # load_state_dict
        super()._load_from_state_dict(*args, **kwargs)
        self._forget_pack()

    def __getstate__(self) -> dict:  # copy.deepcopy, pickle, torch.save
        """Everything but the packed weight: oneDNN's opaque tensor can be neither copied
        nor saved. A copy or a loaded layer packs again at its first call."""
        state = self.__dict__.copy()
        state["_packed"] = None
        state["_routes"] = OrderedDict()
        return state

    @classmethod
    def from_module(cls, module: nn.Module) -> PackedConvTranspose1d:
        """The packed inference version of a ``ConvTranspose1d`` layer (torch's or this
        package's), with a snapshot of its current weight and bias."""
        if getattr(module, "padding_mode", "zeros") != "zeros":
            raise ValueError(f"only padding_mode='zeros' is supported, got {module.padding_mode!r}")
        return cls(
            module.weight, module.bias, module.stride, module.padding, module.output_padding,
            module.groups, module.dilation,
        )  # fmt: skip

    def extra_repr(self) -> str:
        c_in, c_out_g, k = self.weight.shape if self.weight.dim() == 3 else (0, 0, 0)
        return (
            f"{c_in}, {c_out_g * self.groups}, kernel_size=({k},), stride=({self.stride},), "
            f"padding=({self.padding},), output_padding=({self.output_padding},), "
            f"groups={self.groups}, dilation=({self.dilation},), bias={self.bias is not None}"
        )

    def route(self, input: Tensor, output_size: Sequence[int] | int | None = None) -> str:
        """What a call with ``input`` (and ``output_size``) runs: ``"packed"`` or a
        :mod:`convtranspose.cpu` algorithm's name (checks the arguments first)."""
        return self._route(self._check(input, output_size))

    def forward(self, input: Tensor, output_size: Sequence[int] | int | None = None) -> Tensor:
        """The transposed convolution of ``input``; ``output_size`` (the length, or the whole
        shape) chooses ``output_padding`` as :class:`torch.nn.ConvTranspose1d` does."""
        if isinstance(input, Tensor) and input.requires_grad and torch.is_grad_enabled():
            raise RuntimeError(
                "PackedConvTranspose1d is for inference: input requires grad; run it under "
                "torch.no_grad() or use convtranspose.conv_transpose1d to train"
            )
        # Between two assignments to the layer's settings or buffers (each drops what is
        # remembered, __setattr__), a call signature that passed the checks once passes them
        # again and takes the same route: remember it, and skip the checks (chapter 11).
        try:
            key = (type(input), input.shape, input.dtype, input.device, _hashable(output_size))
            known = self._routes.get(key)
        except (AttributeError, TypeError):  # not a tensor, or an odd output_size: full checks
            key, known = None, None
        if known is None:
            a = self._check(input, output_size)
            known = (self._route(a), a.output_padding)
            if self.algorithm not in (None, PACKED) or a.input.numel() == 0:
                return _run_checked(_IMPLEMENTATIONS[known[0]], a)  # forced, or empty
            if key is not None:
                self._routes[key] = known
                if len(self._routes) > _ROUTES_KEPT:
                    self._routes.popitem(last=False)  # the least recently used
        else:
            self._routes.move_to_end(key)
        route, output_padding = known
        if route == PACKED:
            batched = input.dim() == 3
            out = self._deconvolve(input if batched else input[None], output_padding)
            return out if batched else out[0]
        # Not packed: what cpu.conv_transpose1d runs (it remembers checked calls too).
        return conv_transpose1d(
            input, self.weight, self.bias, self.stride, self.padding, output_padding,
            self.groups, self.dilation,
        )  # fmt: skip

    def _check(self, input: Tensor, output_size: Sequence[int] | int | None = None) -> Conv1dArgs:
        """The checked arguments of a call; with ``output_size``, the layer's own
        ``output_padding`` is replaced by the one that gives that length (as in torch)."""
        if self.weight.device.type != "cpu":  # moved with .to(): the pack is for the CPU
            raise RuntimeError(
                f"PackedConvTranspose1d runs on the CPU, but its weight is on "
                f"{self.weight.device}; use convtranspose.conv_transpose1d on other devices"
            )
        checked = [self.weight, self.bias, self.stride, self.padding]
        rest = [self.groups, self.dilation]
        if output_size is None:
            return check_conv_transpose1d(input, *checked, self.output_padding, *rest)
        a = check_conv_transpose1d(input, *checked, 0, *rest)  # everything but output_padding
        output_padding = output_padding_for(
            input, output_size, a.kernel_size, a.stride, a.padding, a.dilation,
            self.output_padding,
        )  # fmt: skip
        return check_conv_transpose1d(input, *checked, output_padding, *rest)

    def _route(self, a: Conv1dArgs) -> str:
        if self.algorithm not in (None, PACKED):
            return self.algorithm
        x = a.input
        shape = (x.shape[0], x.shape[1], a.out_channels, x.shape[2], a.kernel_size, a.stride)
        if x.numel() == 0 or not _onednn_deconv_ok(a):  # oneDNN cannot: cpu's choice
            return choose_algorithm(
                *shape, a.groups, a.dilation, x.dtype,
                padding=a.padding, output_padding=a.output_padding,
            )  # fmt: skip
        if self.algorithm == PACKED:
            return PACKED
        return choose_route(
            *shape, a.groups, a.dilation, a.output_padding, x.dtype, padding=a.padding
        )

    def _deconvolve(self, input: Tensor, output_padding: int) -> Tensor:
        """oneDNN's deconvolution of height one with the packed weight: ``(N, C_in, 1, L)``
        in, ``(N, C_out, 1, L_out)`` out, on a batched input that passed the checks. (The
        packed layout serves any input length and ``output_padding``.) As in
        :func:`convtranspose.cpu.aten_aligned`, oneDNN is asked for an output of whole
        strides, faster to compute, and the copy into torch's layout below drops the rest."""
        length = transposed_length(
            input.shape[-1], self.weight.shape[-1], self.stride, self.padding, output_padding,
            self.dilation,
        )  # fmt: skip
        zeros, used = whole_strides(length, self.stride, output_padding)
        padded = F.pad(input, (0, zeros)) if zeros else input
        # 2-d arguments: height 1 (no padding, stride 1, dilation 1), then the 1-d ones.
        geometry = ([0, self.padding], [0, used], [1, self.stride], [1, self.dilation])
        x = padded[:, :, None, :].contiguous()
        # Packed once, for oneDNN's choice of layout at this shape; again after an in-place
        # write into the weight buffer (its version counter moved).
        if self._packed is None or self._packed_version != self.weight._version:
            self._packed = torch.ops.mkldnn._reorder_convolution_transpose_weight(
                self.weight[:, :, None, :].contiguous(), *geometry, self.groups, list(x.shape)
            )
            self._packed_version = self.weight._version
        out = torch.ops.mkldnn._convolution_transpose_pointwise(
            x, self._packed, self.bias, *geometry, self.groups, "none", [], ""
        )
        # oneDNN's packed deconvolution answers in channels-last order (all channels of one
        # position together): copied into torch's layout, as torch's op returns it. The copy
        # costs up to ~0.1 ms on long outputs (chapter 11); skipping it would hand a
        # non-contiguous tensor, and the same copy, to whatever reads the output.
        out = out[:, :, 0, :length].contiguous()
        # Zeros times the weight (appended inputs, output_padding past the last stamp) are
        # zero unless a tap is not finite: then the definition's values, as cpu's routes give.
        if zeros and _nan_from(out, input.shape[-1] * self.stride - self.padding):
            return conv_transpose1d(
                input, self.weight, self.bias, self.stride, self.padding, output_padding,
                self.groups, self.dilation,
            )  # fmt: skip
        return _bias_past_the_stamps(
            out, self.bias, input.shape[-1], self.weight.shape[-1], self.stride, self.padding,
            output_padding, self.dilation,
        )  # fmt: skip


#: The settings of :class:`PackedConvTranspose1d` and how an assigned value is read.
_SETTINGS = {
    "algorithm": _algorithm,
    "stride": lambda v: single(v, "stride"),
    "padding": lambda v: single(v, "padding"),
    "output_padding": lambda v: single(v, "output_padding"),
    "groups": lambda v: v,  # checked with the call, as torch's layer does
    "dilation": lambda v: single(v, "dilation"),
}


def pack(model: nn.Module) -> nn.Module:
    """A copy of ``model`` for CPU inference in which every transposed 1-d convolution
    (:class:`torch.nn.ConvTranspose1d` or this package's) is a :class:`PackedConvTranspose1d`
    made from it; ``model`` itself is left as it is. Use the copy under ``torch.no_grad()``
    (and ``.eval()``, for the rest of the model). The packed layers take ``output_size`` as
    the layers they replace do."""
    from ..module import ConvTranspose1d

    layers = (nn.ConvTranspose1d, ConvTranspose1d)
    if isinstance(model, layers):
        return PackedConvTranspose1d.from_module(model)
    packed = copy.deepcopy(model)
    for parent in list(packed.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, layers):
                setattr(parent, name, PackedConvTranspose1d.from_module(child))
    return packed
