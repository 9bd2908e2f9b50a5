"""``torch.ops.convtranspose.conv_transpose1d`` as a PyTorch user meets it, against torch's own op.

Every route of the CPU rule (chosen inside the operator) is driven through the things users do
with an operator: ``torch.compile`` with ``fullgraph=True`` (forward and backward, over changing
input lengths, counting recompilations against torch's layer), ``torch.export`` with a dynamic
length, ``torch.jit.trace`` and ``torch.jit.script``, ``torch.func``'s ``vmap``, ``jvp``, ``grad``
and their compositions, ``gradcheck``/``gradgradcheck``, and ``torch.library.opcheck``.
Shapes and lengths are drawn by hypothesis or a seeded generator.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest
import torch
import torch._dynamo
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_bad_input import BAD, build_call
from torch._dynamo.utils import counters
from torch.func import grad, jacfwd, jacrev, jvp, vmap
from torch.fx.experimental.proxy_tensor import make_fx
from torch.utils._python_dispatch import TorchDispatchMode

import convtranspose
from convtranspose import cpu

OP = torch.ops.convtranspose.conv_transpose1d.default


@dataclass(frozen=True)
class Route:
    """A call shaped so that the CPU rule takes a given kind of route."""

    input: tuple[int, ...]
    weight: tuple[int, int, int]
    kwargs: dict = field(default_factory=dict)
    bias: bool = True
    dtype: torch.dtype = torch.float32

    def tensors(self, seed: int = 0, length: int | None = None, requires_grad: bool = False):
        g = torch.Generator().manual_seed(seed)
        shape = self.input if length is None else (*self.input[:-1], length)
        make = lambda *s: torch.randn(*s, generator=g, dtype=self.dtype)  # noqa: E731
        x, w = make(*shape), make(*self.weight)
        b = make(self.weight[1] * self.kwargs.get("groups", 1)) if self.bias else None
        tensors = (x, w, b)
        if requires_grad:
            for t in tensors:
                if t is not None:
                    t.requires_grad_(True)
        return tensors

    def route(self, native: bool | None = None) -> str:
        """The algorithm :func:`convtranspose.cpu.choose_algorithm` picks for this call
        (``native``: with or without the native kernel; ``None``: as this machine does)."""
        n, c_in, length = self.input if len(self.input) == 3 else (1, *self.input)
        k = self.kwargs
        return cpu.choose_algorithm(
            n, c_in, self.weight[1] * k.get("groups", 1), length, self.weight[2],
            k.get("stride", 1), k.get("groups", 1), k.get("dilation", 1), self.dtype,
            padding=k.get("padding", 0), output_padding=k.get("output_padding", 0),
            native=native,
        )  # fmt: skip


#: One call per kind of route the CPU rule distinguishes.
ROUTES = {
    "depthwise": Route((2, 8, 1200), (8, 1, 5), {"stride": 2, "padding": 1, "groups": 8}),
    "single-channel": Route((1, 1, 40), (1, 1, 3), {"stride": 2}, bias=False),
    "grouped-thin": Route((1, 16, 4096), (16, 8, 8), {"stride": 4, "padding": 2, "groups": 2}),
    "dense": Route((2, 4, 30), (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    "stamps-apart": Route((4, 32, 512), (32, 32, 3), {"stride": 4}),
    "misaligned": Route((2, 16, 256), (16, 16, 4), {"stride": 3, "padding": 1}),
    "float64": Route((2, 3, 20), (3, 2, 4), {"stride": 3}, dtype=torch.float64),
    "unbatched-dilated": Route((3, 25), (3, 2, 3), {"dilation": 2, "output_padding": 1}),
    "training": Route((4, 16, 600), (16, 8, 4), {"stride": 2, "padding": 1}),
}
routes = pytest.mark.parametrize("route", ROUTES.values(), ids=ROUTES.keys())


def tolerance(dtype: torch.dtype) -> dict:
    return {"atol": 1e-4, "rtol": 1e-4} if dtype == torch.float32 else {}


def test_the_routes_reach_every_kind_of_algorithm() -> None:
    """The table above is worth running: it sends calls down every route of the rule, the
    native kernel's where it is built (the others then where the rule without it sends them)."""
    assert {route.route(native=False) for route in ROUTES.values()} >= {
        "aten", "aten_aligned", "gemm_overlap_add", "subpixel"
    }  # fmt: skip
    assert ROUTES["training"].route(native=True) == "native"


@st.composite
def calls(draw, max_length: int = 12):
    """Small random calls over the whole signature: ``(input, weight, bias, kwargs)``."""
    groups = draw(st.integers(1, 3))
    stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kwargs = {
        "stride": stride,
        "padding": draw(st.integers(0, 2)),
        "output_padding": draw(st.integers(0, max(stride, dilation) - 1)),
        "groups": groups,
        "dilation": dilation,
    }
    c_in, c_out_g = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k, length = draw(st.integers(1, 4)), draw(st.integers(1, max_length))
    out = (length - 1) * stride - 2 * kwargs["padding"] + dilation * (k - 1)
    assume(out + kwargs["output_padding"] + 1 >= 1)
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    batch = draw(st.sampled_from([(), (2,)]))
    x = torch.randn(*batch, c_in, length, generator=g, dtype=torch.float64)
    w = torch.randn(c_in, c_out_g, k, generator=g, dtype=torch.float64)
    b = (
        torch.randn(c_out_g * groups, generator=g, dtype=torch.float64)
        if draw(st.booleans())
        else None
    )
    return x, w, b, kwargs


# ---------------------------------------------------------------------------------------------
# The operator itself
# ---------------------------------------------------------------------------------------------


@routes
def test_the_op_and_the_function_match_torch(route: Route) -> None:
    x, w, b = route.tensors()
    want = F.conv_transpose1d(x, w, b, **route.kwargs)
    torch.testing.assert_close(OP(x, w, b, **route.kwargs), want, **tolerance(route.dtype))
    torch.testing.assert_close(
        convtranspose.conv_transpose1d(x, w, b, **route.kwargs), want, **tolerance(route.dtype)
    )


OPCHECK_SAMPLES = [
    # (input shape, weight shape, bias, stride, padding, output_padding, groups, dilation, dtype)
    ((2, 3, 7), (3, 2, 4), True, 2, 1, 1, 1, 1, torch.float32),
    ((3, 7), (3, 4, 3), False, 3, 0, 0, 1, 2, torch.float64),
    ((2, 4, 9), (4, 1, 5), True, 2, 1, 1, 4, 1, torch.float32),
    ((1, 4, 6), (4, 3, 2), True, 1, 0, 1, 2, 3, torch.float64),
    ((2, 8, 1200), (8, 1, 5), True, 2, 1, 0, 8, 1, torch.float32),  # depthwise route
]


@pytest.mark.parametrize("sample", OPCHECK_SAMPLES, ids=str)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_opcheck(sample, requires_grad: bool) -> None:
    """Schema, fake tensor shapes, autograd registration and AOT dispatch with dynamic shapes."""
    x_shape, w_shape, bias, stride, padding, output_padding, groups, dilation, dtype = sample
    make = lambda *s: torch.randn(*s, dtype=dtype, requires_grad=requires_grad)  # noqa: E731
    x, w = make(*x_shape), make(*w_shape)
    b = make(w_shape[1] * groups) if bias else None
    args = (x, w, b, stride, padding, output_padding, groups, dilation)
    # Without an input that requires grad, there is no autograd registration to check.
    utils = {} if requires_grad else {"test_utils": ("test_schema", "test_faketensor", "test_aot_dispatch_dynamic")}  # fmt: skip
    result = torch.library.opcheck(OP, args, **utils)
    assert set(result.values()) == {"SUCCESS"}, result


@given(calls(max_length=6))
@settings(max_examples=8)
def test_gradcheck_and_gradgradcheck(call) -> None:
    x, w, b, kwargs = call
    inputs = tuple(t.requires_grad_() for t in (x, w, b) if t is not None)

    def f(x, w, *bias):
        return convtranspose.conv_transpose1d(x, w, *bias, **kwargs)

    assert torch.autograd.gradcheck(f, inputs)
    assert torch.autograd.gradgradcheck(f, inputs, fast_mode=True)


# ---------------------------------------------------------------------------------------------
# torch.func
# ---------------------------------------------------------------------------------------------


def ours(x, w, b, kwargs):
    return convtranspose.conv_transpose1d(x, w, b, **kwargs)


def theirs(x, w, b, kwargs):
    return F.conv_transpose1d(x, w, b, **kwargs)


@given(
    calls(),
    st.sampled_from(
        [(0, None, None), (None, 0, None), (0, 0, None), (1, 2, 0), (None, None, 0), (2, 1, 0)]
    ),
)
def test_vmap_matches_torch(call, in_dims) -> None:
    """Over the input, the weight, the bias, or several at once, at any batch position."""
    x, w, b, kwargs = call
    assume(b is not None or in_dims[2] is None)
    size = 3
    stacked = []
    for t, dim in zip((x, w, b), in_dims, strict=True):
        if t is None or dim is None:
            stacked.append(t)
        else:
            assume(dim <= t.dim())
            stacked.append(torch.stack([t * (i + 1) for i in range(size)], dim))
    got = vmap(lambda x, w, b: ours(x, w, b, kwargs), in_dims=in_dims)(*stacked)
    want = vmap(lambda x, w, b: theirs(x, w, b, kwargs), in_dims=in_dims)(*stacked)
    torch.testing.assert_close(got, want)


@given(calls())
def test_jvp_matches_torch(call) -> None:
    x, w, b, kwargs = call
    primals = tuple(t for t in (x, w, b) if t is not None)
    tangents = tuple(torch.randn_like(t) for t in primals)
    pick = lambda fn: lambda *p: fn(p[0], p[1], p[2] if len(p) > 2 else None, kwargs)  # noqa: E731
    got = jvp(pick(ours), primals, tangents)
    want = jvp(pick(theirs), primals, tangents)
    torch.testing.assert_close(got, want)


@given(calls())
@settings(max_examples=20)
def test_grad_and_its_compositions_match_torch(call) -> None:
    """``grad``, ``grad`` of ``grad``, ``jacfwd`` of ``jacrev``, ``vmap`` of ``grad``: every level
    of a nested transform must see the operator (and its derivative) as torch's."""
    x, w, b, kwargs = call

    def loss(fn):
        return lambda x, w: fn(x, w, b, kwargs).sin().sum()

    transforms = {
        "grad": lambda f: grad(f, argnums=(0, 1)),
        "grad-grad": lambda f: grad(
            lambda x, w: grad(f, argnums=1)(x, w).square().sum(), argnums=(0, 1)
        ),
        "jacfwd-jacrev": lambda f: jacfwd(jacrev(f)),
        "vmap-grad": lambda f: vmap(grad(f), in_dims=(0, None)),
    }
    for name, transform in transforms.items():
        args = (torch.stack([x, x.cos()]), w) if name == "vmap-grad" else (x, w)
        got, want = transform(loss(ours))(*args), transform(loss(theirs))(*args)
        torch.testing.assert_close(got, want, msg=name)


@routes
def test_vmap_and_jvp_on_every_route(route: Route) -> None:
    x, w, b = route.tensors()
    kw = route.kwargs
    xs, ws = torch.stack([x, -x]), torch.stack([w, 2 * w])
    for in_dims, args in (((0, None, None), (xs, w, b)), ((None, 0, None), (x, ws, b))):
        got = vmap(lambda x, w, b: ours(x, w, b, kw), in_dims=in_dims)(*args)
        want = vmap(lambda x, w, b: theirs(x, w, b, kw), in_dims=in_dims)(*args)
        torch.testing.assert_close(got, want, **tolerance(route.dtype))
    primals = (x, w) if b is None else (x, w, b)
    tangents = tuple(torch.randn_like(t) for t in primals)
    got = jvp(lambda *p: ours(*p, *(() if b is not None else (None,)), kw), primals, tangents)
    want = jvp(lambda *p: theirs(*p, *(() if b is not None else (None,)), kw), primals, tangents)
    torch.testing.assert_close(got, want, **tolerance(route.dtype))


# ---------------------------------------------------------------------------------------------
# Graph capture: compile, export, trace, script
# ---------------------------------------------------------------------------------------------


def one_node(graph: torch.fx.Graph) -> int:
    return sum(node.target is OP for node in graph.nodes)


@routes
def test_modes_and_make_fx_see_one_operator(route: Route) -> None:
    """Plain eager calls skip the dispatcher; anything watching them sees the operator: a
    dispatch mode gets one call of it, ``make_fx`` records one node, and the values agree."""
    x, w, b = route.tensors()
    seen = []

    class Log(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            seen.append(func)
            return func(*args, **(kwargs or {}))

    with Log():
        logged = ours(x, w, b, route.kwargs)
    assert seen == [OP]
    graph = make_fx(lambda x, w, b: ours(x, w, b, route.kwargs))(x, w, b).graph
    assert one_node(graph) == 1
    assert torch.equal(logged, ours(x, w, b, route.kwargs))


def gradient_tolerance(dtype: torch.dtype) -> dict:
    """Gradients sum thousands of products (the weight's, over the batch and the length): two
    float32 summation orders, torch's and the native kernel's, differ by a few 1e-4 where the
    sum is large (torch's own float32 weight gradient is 4e-4 off on the grouped-thin route)."""
    return {"atol": 1e-3, "rtol": 1e-4} if dtype == torch.float32 else {}


@routes
def test_compile_fullgraph_forward_and_backward(route: Route) -> None:
    """The operator is one node of the graph; forward values and gradients are torch's."""
    graphs = []

    def backend(gm, example_inputs):
        graphs.append(gm.graph)
        return gm

    torch._dynamo.reset()
    f = torch.compile(lambda x, w, b: ours(x, w, b, route.kwargs), backend=backend, fullgraph=True)
    for seed in (0, 1):  # the second call runs the compiled code, not the tracer
        x, w, b = route.tensors(seed, requires_grad=True)
        y = f(x, w, b)
        g = torch.randn_like(y)
        got = torch.autograd.grad(y, [t for t in (x, w, b) if t is not None], g)
        want_y = theirs(x, w, b, route.kwargs)
        want = torch.autograd.grad(want_y, [t for t in (x, w, b) if t is not None], g)
        torch.testing.assert_close(y, want_y, **tolerance(route.dtype))
        torch.testing.assert_close(got, want, **gradient_tolerance(route.dtype))
    assert len(graphs) == 1 and one_node(graphs[0]) == 1


@routes
def test_compile_with_aot_autograd(route: Route) -> None:
    """AOTAutograd traces the backward from the operator's fake implementation and derivative."""
    torch._dynamo.reset()
    f = torch.compile(
        lambda x, w, b: ours(x, w, b, route.kwargs), backend="aot_eager", fullgraph=True
    )
    x, w, b = route.tensors(2, requires_grad=True)
    tensors = [t for t in (x, w, b) if t is not None]
    y = f(x, w, b)
    want_y = theirs(x, w, b, route.kwargs)
    torch.testing.assert_close(y, want_y, **tolerance(route.dtype))
    g = torch.randn_like(y)
    got = torch.autograd.grad(y, tensors, g)
    want = torch.autograd.grad(want_y, tensors, g)
    torch.testing.assert_close(got, want, **gradient_tolerance(route.dtype))


def compiled_graphs(
    layer: torch.nn.Module, lengths: list[int], channels: int, sizes: list[int] | None = None
) -> int:
    """How many graphs ``torch.compile(layer)`` builds over calls at ``lengths`` (forward and
    backward of each), asking for outputs of ``sizes`` if given."""
    torch._dynamo.reset()
    counters.clear()
    f = torch.compile(layer, backend="aot_eager", fullgraph=True)
    for i, length in enumerate(lengths):
        output_size = None if sizes is None else [sizes[i]]
        f(torch.randn(2, channels, length), output_size).sum().backward()
    return counters["stats"]["unique_graphs"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_no_more_recompilations_than_torch_over_lengths(seed: int) -> None:
    rng = random.Random(seed)
    args = {
        "in_channels": 4, "out_channels": rng.choice([4, 8]), "kernel_size": rng.randint(1, 6),
        "stride": rng.randint(1, 4), "padding": rng.randint(0, 2), "groups": rng.choice([1, 2, 4]),
        "dilation": rng.randint(1, 2),
    }  # fmt: skip
    lengths = rng.sample(range(6, 300), 10)
    theirs_count = compiled_graphs(torch.nn.ConvTranspose1d(**args), lengths, 4)
    ours_count = compiled_graphs(convtranspose.ConvTranspose1d(**args), lengths, 4)
    assert ours_count <= theirs_count


@pytest.mark.slow
def test_output_size_over_lengths_recompiles_like_torch() -> None:
    """A U-Net decoder asks for the length of its skip connection: ``output_padding`` then
    changes with the input's length, and must stay symbolic as it does in torch's layer."""
    rng = random.Random(2)
    args = {"in_channels": 4, "out_channels": 6, "kernel_size": 4, "stride": 3, "padding": 1}
    lengths = rng.sample(range(6, 300), 8)
    sizes = [3 * (n - 1) + 2 + rng.randint(0, 2) for n in lengths]  # every reachable length
    theirs_count = compiled_graphs(torch.nn.ConvTranspose1d(**args), lengths, 4, sizes)
    ours_count = compiled_graphs(convtranspose.ConvTranspose1d(**args), lengths, 4, sizes)
    assert ours_count <= theirs_count


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_autocast_like_torch(dtype: torch.dtype) -> None:
    """Under ``torch.autocast`` the operator computes in the autocast dtype, as torch's does
    (float64 is left alone), eagerly and compiled."""
    route = ROUTES["dense"]
    x, w, b = (t.to(dtype) for t in route.tensors())
    torch._dynamo.reset()
    f = torch.compile(
        lambda x, w, b: ours(x, w, b, route.kwargs), backend="aot_eager", fullgraph=True
    )
    with torch.autocast("cpu", dtype=torch.bfloat16):
        want = theirs(x, w, b, route.kwargs)
        for got in (ours(x, w, b, route.kwargs), OP(x, w, b, **route.kwargs), f(x, w, b)):
            assert got.dtype == want.dtype
            torch.testing.assert_close(got, want, atol=2e-2, rtol=2e-2)


@pytest.mark.slow
def test_compile_with_inductor() -> None:
    """The default backend: the operator runs as an external kernel of the generated code."""
    torch._dynamo.reset()
    route = ROUTES["depthwise"]
    f = torch.compile(lambda x, w, b: ours(x, w, b, route.kwargs).relu(), fullgraph=True)
    for length in (300, 517):  # static, then dynamic
        x, w, b = route.tensors(length=length, requires_grad=True)
        y = f(x, w, b)
        want = theirs(x, w, b, route.kwargs).relu()
        torch.testing.assert_close(y, want, **tolerance(route.dtype))
        got = torch.autograd.grad(y.sum(), (x, w, b))
        torch.testing.assert_close(
            got, torch.autograd.grad(want.sum(), (x, w, b)), atol=1e-3, rtol=1e-4
        )


@pytest.mark.parametrize(
    ("overrides", "exc", "pattern"), [c[1:4] for c in BAD], ids=[c[0] for c in BAD]
)
def test_bad_input_under_compile_raises_the_packages_error(overrides, exc, pattern) -> None:
    """Every bad call of the shared table raises, compiled, the message it raises eagerly: from
    the Python entry point while it is traced, or from the fake implementation (which torch
    wraps in a ``RuntimeError`` of its own, as for its own op)."""
    args, kwargs = build_call(overrides)
    torch._dynamo.reset()
    f = torch.compile(
        lambda *a, **k: convtranspose.conv_transpose1d(*a, **k), backend="eager", fullgraph=True
    )
    with pytest.raises((exc, RuntimeError), match=pattern):
        f(*args, **kwargs)


def test_errors_under_compile_are_the_packages() -> None:
    """Bad input raises, when compiled, the same message as eagerly (torch wraps it in its
    own RuntimeError subclass, as it does for its own op)."""
    x, w = torch.randn(1, 2, 5), torch.randn(3, 3, 3)
    f = torch.compile(
        lambda x, w: convtranspose.conv_transpose1d(x, w), backend="eager", fullgraph=True
    )
    pattern = r"to have 3 channels.*got 2 channels"
    with pytest.raises(RuntimeError, match=pattern):
        convtranspose.conv_transpose1d(x, w)
    torch._dynamo.reset()
    with pytest.raises(RuntimeError, match=pattern):
        f(x, w)


@given(st.lists(st.integers(3, 200), min_size=2, max_size=4))
@settings(max_examples=3)
def test_export_with_a_dynamic_length(lengths: list[int]) -> None:
    """Exported once, the program runs at other lengths, through one operator node."""
    torch.manual_seed(0)
    layer = convtranspose.ConvTranspose1d(3, 4, 5, stride=3, padding=2)
    reference = torch.nn.ConvTranspose1d(3, 4, 5, stride=3, padding=2)
    reference.load_state_dict(layer.state_dict())
    length = torch.export.Dim("length", min=2, max=4096)
    program = torch.export.export(
        layer, (torch.randn(2, 3, 10),), dynamic_shapes={"input": {2: length}}
    )
    assert one_node(program.graph) == 1
    for n in lengths:
        x = torch.randn(2, 3, n)
        torch.testing.assert_close(program.module()(x), reference(x), atol=1e-5, rtol=1e-5)


@routes
def test_jit_trace_then_other_lengths(route: Route) -> None:
    """The trace records the operator, not the route taken at tracing time, so it runs at
    another length (where the rule may pick another route)."""
    x, w, b = route.tensors()
    traced = torch.jit.trace(lambda x, w: ours(x, w, b, route.kwargs), (x, w))
    assert "convtranspose::conv_transpose1d" in str(traced.graph)
    for length in (x.shape[-1] + 1, 2 * x.shape[-1] + 3):
        x2, _, _ = route.tensors(3, length=length)
        torch.testing.assert_close(
            traced(x2, w), theirs(x2, w, b, route.kwargs), **tolerance(route.dtype)
        )


def test_jit_script() -> None:
    """Scripted code may call the function (it compiles to the operator) and script the layer;
    scripting the Python function itself says what to do instead."""
    torch.manual_seed(0)
    layer = convtranspose.ConvTranspose1d(3, 4, 5, stride=3, padding=2)
    reference = torch.nn.ConvTranspose1d(3, 4, 5, stride=3, padding=2)
    reference.load_state_dict(layer.state_dict())
    scripted = torch.jit.script(layer)
    x = torch.randn(2, 3, 11)
    torch.testing.assert_close(scripted(x), reference(x))
    torch.testing.assert_close(scripted(x, [33]), reference(x, [33]))

    @torch.jit.script
    def call(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return convtranspose.conv_transpose1d(x, w, None, 2, 1)

    w = torch.randn(3, 2, 4)
    torch.testing.assert_close(call(x, w), F.conv_transpose1d(x, w, None, 2, 1))
    with pytest.raises(RuntimeError, match=r"torch\.jit\.trace and torch\.compile"):
        torch.jit.script(convtranspose.conv_transpose1d)


# ---------------------------------------------------------------------------------------------
# CUDA
# ---------------------------------------------------------------------------------------------


@pytest.mark.gpu
@routes
def test_cuda_forward_backward_and_compile(route: Route) -> None:
    """CUDA tensors run the Triton kernels and their gradient kernels, eagerly and compiled."""
    x, w, b = (None if t is None else t.cuda().requires_grad_() for t in route.tensors())
    tensors = [t for t in (x, w, b) if t is not None]
    f = torch.compile(
        lambda x, w, b: ours(x, w, b, route.kwargs), backend="aot_eager", fullgraph=True
    )
    want = theirs(x, w, b, route.kwargs)
    g = torch.randn_like(want)
    want_grads = torch.autograd.grad(want, tensors, g)
    for fn in (ours, lambda x, w, b, kw: f(x, w, b)):
        y = fn(x, w, b, route.kwargs)
        torch.testing.assert_close(y, want, **tolerance(route.dtype))
        got = torch.autograd.grad(y, tensors, g)
        torch.testing.assert_close(got, want_grads, atol=1e-3, rtol=1e-3)


@pytest.mark.gpu
@routes
def test_cuda_transforms_and_second_derivatives(route: Route) -> None:
    """On CUDA the first derivatives are the Triton gradient kernels; a gradient that is itself
    differentiated, ``jvp`` and ``vmap`` go through torch's differentiable ops."""
    x, w, b = (None if t is None else t.cuda() for t in route.tensors())
    kw = route.kwargs
    grads = {}
    for name, fn in (("ours", ours), ("theirs", theirs)):
        xg, wg = x.clone().requires_grad_(), w.clone().requires_grad_()
        first = torch.autograd.grad(fn(xg, wg, b, kw).square().sum(), (xg, wg), create_graph=True)
        grads[name] = torch.autograd.grad(sum(g.sum() for g in first), (xg, wg))
    torch.testing.assert_close(grads["ours"], grads["theirs"], atol=1e-3, rtol=1e-3)
    tangents = (torch.randn_like(x), torch.randn_like(w))
    got = jvp(lambda x, w: ours(x, w, b, kw), (x, w), tangents)
    want = jvp(lambda x, w: theirs(x, w, b, kw), (x, w), tangents)
    torch.testing.assert_close(got, want, **tolerance(route.dtype))
    ws = torch.stack([w, -w])
    got = vmap(lambda w: ours(x, w, b, kw))(ws)
    torch.testing.assert_close(
        got, vmap(lambda w: theirs(x, w, b, kw))(ws), **tolerance(route.dtype)
    )
