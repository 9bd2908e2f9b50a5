"""Tests specific to :mod:`convtranspose.cpu`: the selection rule and each algorithm's edge cases.

The shared suite (test_conv_transpose1d.py) already checks every algorithm in
``cpu.ALGORITHMS`` against torch on random configurations; these cover what it cannot see:
which algorithm the rule picks, paths it draws rarely (oneDNN's float32 backward, its
fallbacks), half precision, and the analytic workspace sizes.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from convtranspose import cpu
from convtranspose.arguments import single

ALGORITHM_NAMES = list(cpu.ALGORITHMS)


def make(*shapes, dtype=torch.float32, seed=0, grad=False):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=gen, dtype=dtype).requires_grad_(grad) for s in shapes]


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        # (batch, c_in, c_out, length, kernel, stride, groups, dilation, dtype)
        ((1, 512, 256, 32, 16, 8, 1, 1, torch.float32), "aten"),  # HiFi-GAN stage
        ((1, 128, 128, 512, 3, 1, 1, 4, torch.float32), "aten"),  # dilated
        ((1, 1, 1, 1 << 17, 16, 4, 1, 1, torch.float32), "gemm_overlap_add"),  # long mono
        ((1, 256, 256, 512, 8, 4, 256, 1, torch.float32), "gemm_overlap_add"),  # depthwise
        ((2, 111, 69, 333, 5, 3, 3, 1, torch.float32), "aten_aligned"),  # odd groups
        ((4, 32, 32, 1024, 7, 4, 4, 1, torch.float32), "subpixel"),  # thin groups, long batch
        ((1, 64, 32, 4096, 16, 8, 8, 1, torch.float32), "subpixel"),  # thin groups, unbatched
        ((4, 256, 256, 1024, 7, 4, 4, 1, torch.float32), "aten_aligned"),  # 64 per group
        ((1, 128, 64, 512, 7, 3, 2, 1, torch.float32), "aten_aligned"),  # groups, unbatched
        ((1, 128, 64, 1024, 7, 8, 1, 1, torch.float32), "gemm_overlap_add"),  # no overlap
        ((1, 64, 64, 256, 3, 4, 1, 1, torch.float32), "aten"),  # no overlap, small
        ((1, 512, 512, 32, 7, 10, 1, 1, torch.float32), "aten"),  # no overlap, short input
        ((1, 256, 256, 256, 4, 4, 1, 1, torch.float32), "aten"),  # stamps tile exactly, short
        ((4, 256, 256, 512, 10, 10, 1, 1, torch.float32), "gemm_overlap_add"),  # tiling, long
        ((1, 128, 64, 256, 7, 8, 4, 1, torch.float32), "gemm_overlap_add"),  # no overlap, groups
        ((4, 64, 64, 64, 20, 10, 64, 2, torch.float32), "gemm_overlap_add"),  # 20 dilated taps
        ((1, 32, 32, 32, 11, 5, 32, 2, torch.float32), "aten"),  # depthwise, tiny
        ((4, 32, 16, 64, 20, 10, 4, 1, torch.float32), "aten"),  # groups, batched, small
        ((1, 512, 256, 32, 16, 8, 1, 1, torch.float64), "gemm_overlap_add"),  # no oneDNN dtype
    ],
    ids=[
        "hifigan",
        "dilated",
        "long-mono",
        "depthwise",
        "odd-groups",
        "groups-long-batch",
        "thin-groups-unbatched",
        "wide-groups-long-batch",
        "groups-unbatched",
        "no-overlap",
        "no-overlap-small",
        "no-overlap-short",
        "no-overlap-tiling",
        "no-overlap-tiling-long",
        "no-overlap-groups",
        "depthwise-many-taps",
        "depthwise-tiny",
        "odd-groups-small",
        "float64",
    ],
)
def test_choose_algorithm_rule(shape: tuple, expected: str) -> None:
    """The rule without the native kernel (test_native.py checks the shapes it takes)."""
    assert cpu.choose_algorithm(*shape, native=False) == expected


@pytest.mark.parametrize(
    ("shape", "geometry", "expected"),
    [
        # (batch, c_in, c_out, length, kernel, stride, groups, dilation), (padding, output_padding)
        ((2, 111, 69, 333, 5, 3, 3, 1), (1, 1), "aten_aligned"),  # 1000 outputs, stride 3
        ((2, 111, 69, 333, 5, 3, 3, 1), (1, 0), "aten"),  # 999 outputs: whole strides
        ((4, 512, 256, 32, 16, 8, 1, 1), (3, 0), "aten_aligned"),  # 8*32 + 2 outputs
        ((4, 512, 256, 32, 16, 8, 1, 1), (4, 0), "aten"),  # HiFi-GAN's padding: 8*32
        ((1, 512, 256, 32, 16, 8, 1, 1), (3, 0), "aten"),  # torch's native path, not oneDNN
        ((1, 512, 256, 64, 16, 8, 1, 1), (3, 0), "aten_aligned"),  # 32768 inputs: oneDNN
        ((2, 128, 128, 512, 5, 2, 1, 3), (1, 0), "aten"),  # dilated: no faster path
        ((2, 96, 96, 256, 5, 3, 8, 1), (1, 1), "aten"),  # 12 channels per group
        ((2, 128, 128, 512, 5, 3, 8, 1), (1, 1), "aten_aligned"),  # 16 per group
        ((2, 64, 64, 512, 3, 1, 1, 1), (1, 0), "aten"),  # stride 1: always whole
    ],
)
def test_choose_algorithm_aligns_outputs(shape: tuple, geometry: tuple, expected: str) -> None:
    """Shapes torch sends to oneDNN go to ``aten_aligned`` when the output length is not a
    multiple of the stride (undilated, at least 16 channels per group)."""
    padding, output_padding = geometry
    got = cpu.choose_algorithm(*shape, padding=padding, output_padding=output_padding, native=False)
    assert got == expected


@pytest.mark.parametrize("stride", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("output_padding", [0, 1, 2, 4, 7])
def test_whole_strides(stride: int, output_padding: int) -> None:
    """The longer call's output starts where the wanted one does, is a multiple of the
    stride, at most one stride longer, and its output_padding stays below the stride."""
    for length in range(1, 30):
        zeros, used = cpu.whole_strides(length, stride, output_padding)
        longer = length + zeros * stride + used - output_padding
        assert 0 <= used < stride or (zeros, used) == (0, output_padding)
        assert longer % stride == 0 or longer == length
        assert length <= longer < length + stride
        if length % stride == 0:
            assert (zeros, used) == (0, output_padding)


@pytest.mark.parametrize("groups", [1, 2, 4])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_choose_algorithm_names_an_algorithm(groups: int, dtype: torch.dtype) -> None:
    for k, s, d in [(1, 1, 1), (4, 2, 1), (3, 4, 2), (16, 8, 1)]:
        name = cpu.choose_algorithm(2, 4 * groups, 2 * groups, 9, k, s, groups, d, dtype)
        assert name in cpu.ALGORITHMS


@pytest.mark.parametrize(
    "kwargs",
    [
        {"stride": 8, "padding": 4},
        {"groups": 4, "stride": 4, "padding": 2},  # depthwise-like: the broadcast path
        {"groups": 2, "stride": 3, "padding": 1, "output_padding": 1},  # subpixel
        {"stride": 4},  # no overlap
        {"stride": 1, "dilation": 3, "output_padding": 2},  # output_padding >= stride
    ],
)
def test_conv_transpose1d_float32_gradients(kwargs: dict) -> None:
    """float32 gradients of the chosen algorithm (oneDNN's backward included) match torch's;
    the shared suite checks gradients in float64, where oneDNN is not used."""
    groups = kwargs.get("groups", 1)
    x, w, b = make(
        (2, 4, 11), (4, 8 // groups, 16 if kwargs["stride"] == 8 else 3), (8,), grad=True
    )
    got = cpu.conv_transpose1d(x, w, b, **kwargs)
    want = F.conv_transpose1d(x, w, b, **kwargs)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    cotangent = torch.randn_like(want)
    got_grads = torch.autograd.grad(got, (x, w, b), cotangent)
    want_grads = torch.autograd.grad(want, (x, w, b), cotangent)
    for g, e in zip(got_grads, want_grads, strict=True):
        torch.testing.assert_close(g, e, atol=1e-4, rtol=1e-4)


def test_onednn_gradients_and_fallback() -> None:
    """oneDNN's autograd wrapper gives torch's gradients; where oneDNN refuses
    (``output_padding >= stride``, float64) the algorithm falls back and stays exact."""
    x, w, b = make((2, 6, 7), (6, 2, 4), (6,), grad=True)
    kw = {"stride": 2, "padding": 1, "output_padding": 1, "groups": 3, "dilation": 2}
    got = cpu.onednn(x, w, b, **kw)
    want = F.conv_transpose1d(x, w, b, **kw)
    torch.testing.assert_close(got, want)
    for g, e in zip(
        torch.autograd.grad(got.sum(), (x, w, b)),
        torch.autograd.grad(want.sum(), (x, w, b)),
        strict=True,
    ):
        torch.testing.assert_close(g, e, atol=1e-4, rtol=1e-4)
    x, w = make((1, 3, 5), (3, 2, 3))
    # output_padding past the stride (allowed by torch because it is below the dilation),
    # at the stride (the boundary oneDNN refuses), and just below it (oneDNN computes it)
    for stride, output_padding in [(1, 2), (2, 2), (2, 1)]:
        kw = {"stride": stride, "dilation": 3, "output_padding": output_padding}
        torch.testing.assert_close(cpu.onednn(x, w, **kw), F.conv_transpose1d(x, w, **kw))


def test_inference_and_training_paths_agree() -> None:
    x, w, b = make((1, 8, 10), (8, 4, 6), (4,))
    with torch.no_grad():
        fast = cpu.onednn(x, w, b, stride=3, padding=2)
    tracked = cpu.onednn(x, w, b.requires_grad_(), stride=3, padding=2)
    assert tracked.requires_grad
    assert torch.equal(fast, tracked.detach())


@pytest.mark.parametrize("name", ALGORITHM_NAMES)
def test_bfloat16(name: str) -> None:
    """Half precision runs and stays close to torch's float32 answer."""
    x, w, b = make((2, 6, 9), (6, 2, 5), (6,))
    kw = {"stride": 3, "padding": 1, "groups": 3, "dilation": 2}
    got = cpu.ALGORITHMS[name](x.bfloat16(), w.bfloat16(), b.bfloat16(), **kw)
    assert got.dtype == torch.bfloat16
    want = F.conv_transpose1d(x, w, b, **kw)
    torch.testing.assert_close(got.float(), want, atol=0.1, rtol=0.05)


@pytest.mark.parametrize("name", ALGORITHM_NAMES)
def test_empty_batch_keeps_shape_and_graph(name: str) -> None:
    """An empty batch gives torch's empty output, and gradients (zeros for input and weight,
    and for the bias too: it was added to no output) as torch's op does."""
    x, w, b = (t.requires_grad_() for t in make((0, 4, 5), (4, 3, 3), (3,)))
    out = cpu.ALGORITHMS[name](x, w, b, stride=2)
    assert out.shape == (0, 3, 11)
    grads = torch.autograd.grad(out.sum(), (x, w, b))
    assert [g.shape for g in grads] == [x.shape, w.shape, b.shape]
    assert all(not g.any() for g in grads)


@pytest.mark.parametrize("name", ALGORITHM_NAMES)
def test_stride_larger_than_dilated_kernel_leaves_zeros(name: str) -> None:
    """Stride 5, kernel 2 dilated by 2 (span 3): the positions between stamps stay exactly 0."""
    x = torch.tensor([[[1.0, 2.0]]])
    w = torch.tensor([[[1.0, 10.0]]])
    out = cpu.ALGORITHMS[name](x, w, None, stride=5, dilation=2)
    assert out.tolist() == [[[1.0, 0.0, 10.0, 0.0, 0.0, 2.0, 0.0, 20.0]]]


def test_workspace_elements() -> None:
    # batch 1, 2 -> 3 channels, length 4, kernel 4, stride 2: 3*4*4 = 48 products,
    # uncropped output 3*((4-1)*2 + 3 + 1) = 30.
    sizes = (1, 2, 3, 4, 4, 2)
    assert cpu.workspace_elements("gemm_overlap_add", *sizes) == 48 + 30
    assert cpu.workspace_elements("scatter", *sizes) == 48 + 30
    assert cpu.workspace_elements("zero_insertion", *sizes) == 2 * (7 + 6)
    assert cpu.workspace_elements("onednn", *sizes) == 0
    assert cpu.workspace_elements("aten", *sizes) == 48  # torch's native path: its columns
    assert cpu.workspace_elements("aten", 2, 2, 3, 4, 4, 2) == 0  # a batch: oneDNN's own
    assert cpu.workspace_elements("gemm_overlap_add", 1, 2, 3, 4, 2, 2) == 3 * 2 * 4  # tiles
    # sub-pixel: the stacked phase kernels (2 x 3 x (2 phases x 2 rows), the weight's size
    # here, since the stride divides the kernel), and the result, twice (4 + 2 - 1 rows).
    assert cpu.workspace_elements("subpixel", *sizes) == 2 * 3 * 2 * 2 + 2 * 3 * 2 * (4 + 1)
    with pytest.raises(ValueError, match="unknown algorithm"):
        cpu.workspace_elements("fft", *sizes)


def test_every_algorithm_is_public_and_documented() -> None:
    for name, fn in cpu.ALGORITHMS.items():
        assert fn.__name__ == name
        assert name in cpu.__all__
        assert fn.__doc__ and "conv_transpose1d" in fn.__doc__


@pytest.fixture
def fresh_signatures():
    """An empty memory of checked signatures, before and after (tests must not leak into it)."""
    cpu.dispatch._CHECKED.clear()
    yield cpu.dispatch._CHECKED
    cpu.dispatch._CHECKED.clear()


@pytest.mark.parametrize("name", ALGORITHM_NAMES)
def test_conv_transpose1d_runs_what_the_rule_names(
    name: str, monkeypatch, fresh_signatures
) -> None:
    """Whatever the rule returns, ``conv_transpose1d`` runs that algorithm, correctly."""
    calls = []

    def rule(*args, **geometry):
        calls.append((args, geometry))
        return name

    monkeypatch.setattr(cpu.rule, "choose_algorithm", rule)
    x, w, b = make((2, 6, 7), (6, 2, 4), (6,), grad=True)
    kw = {"stride": 3, "padding": 1, "output_padding": 2, "groups": 3, "dilation": 1}
    got = cpu.conv_transpose1d(x, w, b, **kw)
    want = F.conv_transpose1d(x, w, b, **kw)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    assert calls == [((2, 6, 6, 7, 4, 3, 3, 1, torch.float32), {"padding": 1, "output_padding": 2})]
    grads = torch.autograd.grad(got.sum(), (x, w, b))
    for g, e in zip(grads, torch.autograd.grad(want.sum(), (x, w, b)), strict=True):
        torch.testing.assert_close(g, e, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(
    ("shapes", "kwargs", "algorithm"),
    [
        (((1, 64, 40), (64, 32, 16), (32,)), {"stride": 8, "padding": 4}, "aten"),
        (((2, 64, 160), (64, 1, 8), (64,)), {"stride": (4,), "padding": 2, "groups": 64},
         "gemm_overlap_add"),
        (((2, 64, 40), (64, 32, 16), (32,)), {"stride": 8, "padding": 3}, "aten_aligned"),
        (((2, 64, 40), (64, 32, 16), (32,)), {"stride": 8, "padding": 3, "output_padding": 7},
         "aten_aligned"),  # a zero is appended to the input
        (((8, 32, 1500), (32, 16, 4), (16,)), {"stride": 2, "padding": 1}, "native"),
    ],
    ids=["aten", "depthwise", "aten_aligned", "aten_aligned-longer-input", "native"],
)  # fmt: skip
def test_checked_signatures_skip_only_identical_calls(
    fresh_signatures, monkeypatch, shapes: tuple, kwargs: dict, algorithm: str
) -> None:
    """The second identical call skips the checks and the rule; a call that differs in
    anything the checks read (a bool or a float for an int, a dtype) is checked again.
    (The native kernel only in its own case, where it is built.)"""
    if algorithm == "native" and algorithm not in cpu.ALGORITHMS:
        pytest.skip("the native kernel is not built")
    native = functools.partial(cpu.rule.choose_algorithm, native=algorithm == "native")
    monkeypatch.setattr(cpu.rule, "choose_algorithm", native)
    x, w, b = make(*shapes)
    first = cpu.conv_transpose1d(x, w, b, **kwargs)
    assert [name for name, *_ in fresh_signatures.values()] == [algorithm]
    with pytest.MonkeyPatch.context() as patch:  # the repeat must not check again

        def no_checks(*args):
            raise AssertionError("checked again")

        patch.setattr(cpu.dispatch, "check_conv_transpose1d", no_checks)
        patch.setattr(cpu.rule, "choose_algorithm", no_checks)
        again = cpu.conv_transpose1d(x, w, b, **kwargs)
    torch.testing.assert_close(again, first, rtol=0, atol=0)
    torch.testing.assert_close(first, F.conv_transpose1d(x, w, b, **kwargs))
    groups = kwargs.get("groups", 1)
    with pytest.raises(TypeError, match="groups"):
        cpu.conv_transpose1d(
            x, w, b, **{**kwargs, "groups": True if groups == 1 else float(groups)}
        )
    with pytest.raises(TypeError, match="'stride' must be an int"):
        cpu.conv_transpose1d(
            x, w, b, **{**kwargs, "stride": (float(single(kwargs["stride"], "stride")),)}
        )
    with pytest.raises(TypeError, match="dtype"):
        cpu.conv_transpose1d(x, w.double(), b, **kwargs)
    with pytest.raises(RuntimeError, match="bias"):  # another bias shape: checked again
        cpu.conv_transpose1d(x, w, b[:, None], **kwargs)
    with pytest.raises(TypeError, match="same dtype"):  # another bias dtype: checked again
        cpu.conv_transpose1d(x, w, b.double(), **kwargs)
    assert len(fresh_signatures) == 1
    unbatched = cpu.conv_transpose1d(x[0], w, b, **kwargs)
    torch.testing.assert_close(unbatched, first[0])
    assert len(fresh_signatures) == 2
    torch.testing.assert_close(
        cpu.conv_transpose1d(x[0], w, b, **kwargs), unbatched, rtol=0, atol=0
    )
    no_bias = cpu.conv_transpose1d(x, w, None, **kwargs)  # no bias: its own signature
    torch.testing.assert_close(no_bias, F.conv_transpose1d(x, w, None, **kwargs))
    assert len(fresh_signatures) == 3


def test_tensor_arguments_are_never_remembered(fresh_signatures) -> None:
    """An integer tensor given as ``stride`` (torch accepts one) may change in place between
    two calls: such calls take the full checks every time."""
    x, w = make((1, 2, 5), (2, 3, 3))
    stride = torch.tensor(2)
    first = cpu.conv_transpose1d(x, w, stride=stride)
    stride.fill_(3)
    second = cpu.conv_transpose1d(x, w, stride=(stride,))
    assert not fresh_signatures
    assert first.shape[-1] == 11 and second.shape[-1] == 15
    torch.testing.assert_close(second, F.conv_transpose1d(x, w, stride=3))


#: Runs torch's op on each shape, printing a marker before each call (oneDNN logs after it).
_WHICH_PATH = """
import sys

import torch
import torch.nn.functional as F

for batch, channels, length, groups in {shapes!r}:
    x = torch.randn(batch, channels, length)
    w = torch.randn(channels, 16 // groups, 4)
    print("CASE", flush=True)
    F.conv_transpose1d(x, w, stride=2, groups=groups)
    sys.stdout.flush()
"""


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="torch built without oneDNN")
def test_torch_runs_onednn_is_what_torch_does() -> None:
    """The rule's model of torch's dispatcher (which shapes reach oneDNN) against what
    oneDNN itself reports running (``ONEDNN_VERBOSE=1`` prints every primitive it executes):
    a torch upgrade that moves the 20480-element threshold fails here."""
    shapes = [(1, 64, 320, 1), (1, 64, 321, 1), (2, 16, 16, 1), (1, 16, 16, 2), (1, 16, 16, 1)]
    env = {**os.environ, "ONEDNN_VERBOSE": "1"}
    run = subprocess.run(
        [sys.executable, "-c", _WHICH_PATH.format(shapes=shapes)],
        env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    cases = run.stdout.split("CASE\n")[1:]
    assert len(cases) == len(shapes)
    for (batch, channels, length, groups), log in zip(shapes, cases, strict=True):
        ran_onednn = ",deconvolution," in log
        assert ran_onednn == cpu.torch_runs_onednn(batch, channels, length, groups), (
            batch, channels, length, groups,
        )  # fmt: skip


def test_the_signature_memo_is_a_bounded_lru(monkeypatch, fresh_signatures) -> None:
    """Past its size the least recently used signature is dropped, not the whole memo."""
    monkeypatch.setattr(cpu.dispatch, "_CHECKED_SIZE", 2)
    w = torch.randn(2, 2, 3)
    for length in (4, 5, 4, 6):  # 4 used again before 6 arrives: 5 is the one dropped
        cpu.conv_transpose1d(torch.randn(1, 2, length), w)
    assert [key[1][-1] for key in fresh_signatures] == [4, 6]


def test_a_tensor_argument_is_never_remembered(fresh_signatures) -> None:
    x, w = torch.randn(1, 2, 4), torch.randn(2, 2, 3)
    stride = torch.tensor(2)
    assert cpu.conv_transpose1d(x, w, stride=stride).shape[-1] == 9
    stride.fill_(3)
    assert cpu.conv_transpose1d(x, w, stride=stride).shape[-1] == 12
    assert not fresh_signatures
