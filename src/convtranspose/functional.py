"""``conv_transpose1d`` as a registered torch operator: ``torch.ops.convtranspose.conv_transpose1d``.

The operator has the schema of torch's own ``aten::conv_transpose1d`` and chooses its
implementation inside, by device: CPU tensors run :func:`convtranspose.cpu.conv_transpose1d`
(whose rule picks an algorithm for the shape), CUDA tensors run
:func:`convtranspose.cuda.conv_transpose1d` (the Triton kernels, imported on first use).
``torch.compile``, ``torch.export`` and ``torch.jit.trace`` therefore record one node, whatever
route a call takes at run time. Registered with it:

- a fake implementation: the package's argument checks, then an empty output of the right shape,
  computed with the lengths' own arithmetic, so symbolic lengths stay symbolic;
- derivatives, in one :class:`torch.autograd.Function` at the operator's autograd key: the
  backward is torch's ``convolution_backward`` (itself differentiable, so second derivatives
  work) or, when no graph of the gradient is wanted, the Triton gradient kernels on CUDA and the
  native C++ ones on CPU (where the rule says they win); the
  forward-mode derivative follows from linearity in ``input`` and ``weight``;
- a vmap rule: a batch of inputs is a larger batch, a batch of weights a grouped convolution
  with one group per weight.

:func:`conv_transpose1d` is the Python entry point: it reads the integer arguments as torch does
(``2``, ``(2,)``, a numpy integer), raises the package's error that names an argument the
dispatcher would reject by type, and calls the operator. A plain eager call (no compiler,
tracer, transform or mode watching, no tensor subclass) runs the same kernel and derivatives
without the dispatcher: its round trip into Python kernels costs more than a small convolution.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch._functorch.utils import enable_single_level_autograd_function
from torch.autograd import forward_ad
from torch.autograd.function import _SingleLevelFunction

try:  # torch >= 2.12
    from torch.fx.experimental.symbolic_shapes import optimization_hint
except ImportError:  # older torch: the value a symbolic integer had when traced, no guard

    def optimization_hint(a: torch.SymInt | int) -> int:
        return a.node.hint if isinstance(a, torch.SymInt) else a


from . import cpu
from .arguments import check_conv_transpose1d, integer, single, transposed_length
from .cpu.native import gradient_kernels, input_grad_kernel, weight_grad_kernel
from .gradients import gradients

__all__ = ["conv_transpose1d"]

_LIBRARY = torch.library.Library("convtranspose", "DEF")
_LIBRARY.define(
    "conv_transpose1d(Tensor input, Tensor weight, Tensor? bias=None, SymInt stride=1, "
    "SymInt padding=0, SymInt output_padding=0, SymInt groups=1, SymInt dilation=1) -> Tensor"
)
_LIBRARY.define(
    "conv_transpose1d_input_grad(Tensor grad_output, Tensor weight, SymInt input_length, "
    "int stride, int padding, int dilation, int groups) -> Tensor"
)
_LIBRARY.define(
    "conv_transpose1d_weight_grad(Tensor input, Tensor grad_output, int kernel_size, "
    "int stride, int padding, int dilation, int groups) -> Tensor"
)
_OP = torch.ops.convtranspose.conv_transpose1d.default
_INPUT_GRAD = torch.ops.convtranspose.conv_transpose1d_input_grad.default
_WEIGHT_GRAD = torch.ops.convtranspose.conv_transpose1d_weight_grad.default
_BELOW_AUTOGRAD = torch._C._after_autograd_keyset


# ---------------------------------------------------------------------------------------------
# The kernels, by device, and the output's shape without computing it
# ---------------------------------------------------------------------------------------------


def _on_cpu(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return cpu.conv_transpose1d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def _on_cuda(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    from . import cuda

    return cuda.conv_transpose1d(
        input, weight, bias, stride, padding, output_padding, groups, dilation
    )


def _fake(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The output's shape after the package's checks (every error they raise on real tensors
    they raise here too, under ``torch.compile`` and ``torch.export``). The length is the
    formula on the input's length and the arguments, symbolic where they are; the checks
    read symbolic arguments (an ``output_padding`` that a layer's ``output_size`` derives from
    the input's length, say) by their current values, without a guard that would specialise
    the graph to them (the device kernel checks the values of every call)."""
    sizes = [optimization_hint(v) for v in (stride, padding, output_padding, groups, dilation)]
    a = check_conv_transpose1d(input, weight, bias, *sizes)
    x = a.input
    length = transposed_length(x.shape[2], a.kernel_size, stride, padding, output_padding, dilation)
    return a.restore(x.new_empty(x.shape[0], weight.shape[1] * groups, length))


def _backend_kernel(implementation):
    """``implementation`` as the operator's kernel for a device: below autograd, so it records
    no derivative of its own (the operator's autograd kernel has the derivatives), whatever
    grad modes the transforms of ``torch.func`` left on for their outer levels."""

    def kernel(*args):
        with torch.no_grad(), forward_ad._set_fwd_grad_enabled(False):
            return implementation(*args)

    return kernel


def _autocast_kernel(device_type: str):
    """The operator under ``torch.autocast`` on ``device_type``, as torch's convolutions run
    there: floating-point tensors other than float64 cast to the autocast dtype, then the
    operator with autocast off (so the fake implementation sees the dtype the kernel gets)."""

    def kernel(input, weight, bias=None, *arguments):
        dtype = torch.get_autocast_dtype(device_type)
        cast = lambda t: t.to(dtype) if t is not None and t.dtype != torch.float64 else t  # noqa: E731
        with torch.autocast(device_type, enabled=False):
            return _OP(cast(input), cast(weight), cast(bias), *arguments)

    return kernel


_LIBRARY.impl("conv_transpose1d", _autocast_kernel("cpu"), "AutocastCPU")
_LIBRARY.impl("conv_transpose1d", _autocast_kernel("cuda"), "AutocastCUDA")
_LIBRARY.impl("conv_transpose1d", _backend_kernel(_on_cpu), "CPU")
_LIBRARY.impl("conv_transpose1d", _backend_kernel(_on_cuda), "CUDA")
torch.library.register_fake("convtranspose::conv_transpose1d", _fake, lib=_LIBRARY)


# The kernels get the arguments the dispatcher passes: it leaves out trailing ones equal to
# their defaults.


def _triton_input_grad(grad_output, weight, input_length, stride, padding, dilation, groups):
    from . import cuda

    return cuda.conv_transpose1d_input_grad(
        grad_output, weight, input_length, stride, padding, dilation, groups
    )


def _triton_weight_grad(input, grad_output, kernel_size, stride, padding, dilation, groups):
    from . import cuda

    return cuda.conv_transpose1d_weight_grad(
        input, grad_output, kernel_size, stride, padding, dilation, groups
    )


def _fake_input_grad(grad_output, weight, input_length, stride, padding, dilation, groups):
    return grad_output.new_empty(grad_output.shape[0], weight.shape[0], input_length)


def _fake_weight_grad(input, grad_output, kernel_size, stride, padding, dilation, groups):
    return input.new_empty(input.shape[1], grad_output.shape[1] // groups, kernel_size)


_LIBRARY.impl("conv_transpose1d_input_grad", _triton_input_grad, "CUDA")
_LIBRARY.impl("conv_transpose1d_weight_grad", _triton_weight_grad, "CUDA")
# On CPU, the native C++ kernels (:mod:`convtranspose.cpu.extension`; the backward calls these
# operators only when they are built).
_LIBRARY.impl("conv_transpose1d_input_grad", input_grad_kernel, "CPU")
_LIBRARY.impl("conv_transpose1d_weight_grad", weight_grad_kernel, "CPU")
torch.library.register_fake(
    "convtranspose::conv_transpose1d_input_grad", _fake_input_grad, lib=_LIBRARY
)
torch.library.register_fake(
    "convtranspose::conv_transpose1d_weight_grad", _fake_weight_grad, lib=_LIBRARY
)


# ---------------------------------------------------------------------------------------------
# Derivatives
# ---------------------------------------------------------------------------------------------


def _gradients(grad, input, weight, has_bias, stride, padding, output_padding, groups, dilation,
               needs):  # fmt: skip
    """``(d input, d weight, d bias)`` of the sum ``<grad, output>``, each only where ``needs``
    (:func:`convtranspose.gradients.gradients`).

    When autograd is not recording the backward (no ``create_graph``): on CUDA the Triton
    gradient kernels; on CPU the native C++ kernels for the gradients
    :func:`convtranspose.cpu.native.gradient_kernels` names. Everything else runs torch's
    ``convolution_backward``, which records its own derivatives, so a gradient can be
    differentiated again."""
    if grad.is_cuda:
        kernels = (not torch.is_grad_enabled(),) * 2
    else:
        kernels = gradient_kernels(grad, input, weight, groups, needs)
    return gradients(
        grad, input, weight, has_bias, stride, padding, output_padding, groups, dilation, needs,
        kernels, _INPUT_GRAD, _WEIGHT_GRAD,
    )  # fmt: skip


class _Differentiable(_SingleLevelFunction):
    """The operator below autograd, with its derivatives: what the autograd key runs whenever
    a gradient may be asked for (an input requires grad, or forward-mode AD is on).

    A single-level function, as every operator's autograd kernel is: under ``torch.func``'s
    transforms, their interpreter has already unwrapped the tensors to the level being
    differentiated (a :class:`torch.autograd.Function` would try to do it again)."""

    @staticmethod
    def forward(input, weight, bias, stride, padding, output_padding, groups, dilation, outside):
        if outside is None:  # called by conv_transpose1d on plain tensors: no one to tell
            kernel = _on_cuda if input.is_cuda else _on_cpu
            return kernel(input, weight, bias, stride, padding, output_padding, groups, dilation)
        # autograd's apply turns both grad modes off; the transforms' outer levels need them
        keyset, grad_mode, forward_grad_mode = outside
        with (
            torch._C._AutoDispatchBelowAutograd(),
            torch.set_grad_enabled(grad_mode),
            forward_ad._set_fwd_grad_enabled(forward_grad_mode),
        ):
            return _OP.redispatch(
                keyset & _BELOW_AUTOGRAD, input, weight, bias, stride, padding, output_padding,
                groups, dilation,
            )  # fmt: skip

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, weight, bias, *arguments, _ = inputs
        ctx.save_for_backward(input, weight)
        ctx.save_for_forward(input, weight)
        ctx.arguments = arguments  # stride, padding, output_padding, groups, dilation
        ctx.has_bias = bias is not None
        ctx.output_shape = output.shape
        ctx.set_materialize_grads(False)  # no tangent is no work, not a tangent of zeros

    @staticmethod
    def backward(ctx, grad):
        if grad is None:  # the output's gradient is undefined: so are the inputs'
            return (None,) * 9
        input, weight = ctx.saved_tensors
        gradients = _gradients(
            grad, input, weight, ctx.has_bias, *ctx.arguments, ctx.needs_input_grad[:3]
        )
        return *gradients, None, None, None, None, None, None

    @staticmethod
    def jvp(ctx, d_input, d_weight, d_bias, *_):
        """Bilinear in ``(input, weight)`` plus the bias: ``op(dx, w) + op(x, dw) + db``."""
        input, weight = ctx.saved_tensors
        terms = []
        if d_input is not None:
            terms.append(_OP(d_input, weight, None, *ctx.arguments))
        if d_weight is not None:
            terms.append(_OP(input, d_weight, None, *ctx.arguments))
        if d_bias is not None:
            terms.append(d_bias[:, None].expand(ctx.output_shape))
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total.contiguous()


def _autograd(
    keyset, input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """The operator's autograd kernel: the differentiable path when a derivative may be
    needed, else straight to the device's kernel."""
    args = (input, weight, bias, stride, padding, output_padding, groups, dilation)
    if forward_ad._current_level >= 0 or (
        torch.is_grad_enabled() and torch._C._any_requires_grad(input, weight, bias)
    ):
        outside = (keyset, torch.is_grad_enabled(), torch._C._is_fwd_grad_enabled())
        if torch._C._are_functorch_transforms_active():
            with enable_single_level_autograd_function():
                return _Differentiable.apply(*args, outside)
        return _Differentiable.apply(*args, outside)
    with torch._C._AutoDispatchBelowAutograd():
        return _OP.redispatch(keyset & _BELOW_AUTOGRAD, *args)


_LIBRARY.impl("conv_transpose1d", _autograd, "Autograd", with_keyset=True)


# ---------------------------------------------------------------------------------------------
# vmap
# ---------------------------------------------------------------------------------------------


def _batched(info, in_dims, input, weight, bias=None, stride=1, padding=0, output_padding=0,
             groups=1, dilation=1):  # fmt: skip
    """The operator on a batch of calls (``in_dims`` says which of input, weight and bias
    carry the batch, and where): the inputs become one larger batch; several weights become
    one grouped convolution, weight ``b``'s groups being groups ``b*groups ...`` of it."""
    x_dim, w_dim, b_dim = (*in_dims, None)[:3]  # the dispatcher drops trailing defaults
    size = info.batch_size
    rest = (stride, padding, output_padding)
    if w_dim is None:
        shared_bias = bias if b_dim is None else None
        if x_dim is None:  # only the bias varies: one convolution, the biases broadcast
            out = _OP(input, weight, None, *rest, groups, dilation).unsqueeze(0)
            b = bias.movedim(b_dim, 0)  # (B, C_out)
            return out + (b[:, :, None] if input.dim() == 2 else b[:, None, :, None]), 0
        x = input.movedim(x_dim, 0)  # (B, N, C, L), or (B, C, L): already one batch
        unbatched = x.dim() == 3
        if unbatched:
            out = _OP(x, weight, shared_bias, *rest, groups, dilation)
        else:
            out = _OP(x.flatten(0, 1), weight, shared_bias, *rest, groups, dilation)
            out = out.unflatten(0, (size, x.shape[1]))
        if b_dim is not None:
            b = bias.movedim(b_dim, 0)  # (B, C_out)
            out = out + (b[:, :, None] if unbatched else b[:, None, :, None])
        return out, 0
    w = weight.movedim(w_dim, 0)  # (B, C_in, C_out/g, K)
    _, c_in, c_out_g, k = w.shape
    if x_dim is None:
        unbatched = input.dim() == 2
        x = input.unsqueeze(0) if unbatched else input  # (N, C_in, L)
        x = x.unsqueeze(1).expand(x.shape[0], size, c_in, x.shape[2])
    else:
        x = input.movedim(x_dim, 0)
        unbatched = x.dim() == 3
        x = (x.unsqueeze(1) if unbatched else x).transpose(0, 1)  # (N, B, C_in, L)
    x = x.reshape(x.shape[0], size * c_in, x.shape[3])
    if bias is None:
        b = None
    elif b_dim is None:
        b = bias.repeat(size)
    else:
        b = bias.movedim(b_dim, 0).reshape(-1)
    out = _OP(x, w.reshape(size * c_in, c_out_g, k), b, *rest, size * groups, dilation)
    out = out.unflatten(1, (size, -1))  # (N, B, C_out, L_out)
    return (out.squeeze(0), 0) if unbatched else (out, 1)


torch.library.register_vmap("convtranspose::conv_transpose1d", _batched, lib=_LIBRARY)


# ---------------------------------------------------------------------------------------------
# The Python entry point
# ---------------------------------------------------------------------------------------------


_PLAIN = (Tensor, torch.nn.Parameter)
_cpu_conv_transpose1d = cpu.conv_transpose1d
_is_compiling = torch.compiler.is_compiling
_transforms_active = torch._C._are_functorch_transforms_active
_function_modes = torch._C._is_torch_function_mode_enabled
_dispatch_modes = torch._C._len_torch_dispatch_stack
_tracing_state = torch._C._get_tracing_state
_autocast = torch._C._is_any_autocast_enabled


def _plain(input, weight, bias) -> bool:
    """Whether a call is plain eager work on CPU or CUDA tensors: nothing is compiling,
    tracing, transforming, intercepting or autocasting it, and the tensors are no subclass. Such a call
    may skip the dispatcher, whose round trip into the Python kernels costs more than a small
    convolution; every other call goes through the operator."""
    return (
        not _is_compiling()
        and type(input) in _PLAIN
        and type(weight) in _PLAIN
        and (bias is None or type(bias) in _PLAIN)
        and (input.is_cpu or input.is_cuda)
        and forward_ad._current_level < 0
        and not _transforms_active()
        and not _function_modes()
        and not _autocast()
        and _dispatch_modes() == 0
        and _tracing_state() is None
    )


def _size(value, name: str, read=single):
    """An integer argument read as torch reads it (:func:`~convtranspose.arguments.single`), a
    symbolic one (under ``torch.compile``) as it is, so that the graph is not specialised to
    its value."""
    return value if isinstance(value, torch.SymInt) else read(value, name)


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
    """Transposed 1-d convolution with the semantics of
    :func:`torch.nn.functional.conv_transpose1d`, computed by this package's implementation
    for the input's device (``torch.ops.convtranspose.conv_transpose1d``): :mod:`convtranspose.cpu`
    for CPU tensors, :mod:`convtranspose.cuda` for CUDA tensors. Differentiable (twice), and
    works under ``torch.compile``, ``torch.export``, ``torch.jit.trace``, ``torch.jit.script``
    and ``torch.func``'s transforms."""
    if not (
        type(stride) is int
        and type(padding) is int
        and type(output_padding) is int
        and type(groups) is int
        and type(dilation) is int
    ):
        stride, padding = _size(stride, "stride"), _size(padding, "padding")
        output_padding = _size(output_padding, "output_padding")
        groups, dilation = _size(groups, "groups", integer), _size(dilation, "dilation")
    args = (input, weight, bias, stride, padding, output_padding, groups, dilation)
    if _plain(input, weight, bias):
        if torch.is_grad_enabled() and (
            input.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad)
        ):
            return _Differentiable.apply(*args, None)
        return _on_cuda(*args) if input.is_cuda else _cpu_conv_transpose1d(*args)
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)) or not (
        bias is None or isinstance(bias, Tensor)
    ):
        check_conv_transpose1d(*args)  # the package's TypeError, naming the argument
    return _OP(*args)


# TorchScript compiles a call to this function as a call of the operator.
torch.jit._builtins._register_builtin(conv_transpose1d, "convtranspose::conv_transpose1d")
# ``torch.jit.script(conv_transpose1d)`` itself: say what works instead of failing on its body.
conv_transpose1d.__script_unsupported = (
    "convtranspose.conv_transpose1d cannot be scripted itself, but scripted code may call it "
    "(it compiles to torch.ops.convtranspose.conv_transpose1d, with int arguments), and "
    "torch.jit.trace and torch.compile work on it"
)
