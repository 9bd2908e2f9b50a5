"""The native CPU kernel (``convtranspose.cpu.csrc``, ``cpu.ALGORITHMS["native"]`` where built).

The shared suite (tests/implementations.py) runs it as ``cpu.native`` on small shapes; these
cover what small shapes cannot reach: lengths that straddle its register tiles and length
blocks (the dense interior path and the ends), channel counts past its channel tile,
non-contiguous tensors, identical bits with 1 and 2 threads, large outputs in reused memory,
non-finite values on long rows, the loader's paths (turned off, no compiler), the rule, the
dispatcher's memory and the check.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from test_nonfinite import NON_FINITE, assert_same_non_finite

from convtranspose import check, cpu
from convtranspose.cpu import dispatch, extension, output_cache, rule

AVAILABLE = extension.available()
needs_native = pytest.mark.skipif(not AVAILABLE, reason=f"native kernel: {extension.reason()}")
SRC = str(Path(__file__).resolve().parents[1] / "src")

#: Lengths around multiples of the register tile (24 floats or 12 doubles with AVX2, 32/48 or
#: 16/24 with AVX-512) and of the length blocks (about 250 to 500 positions at stride 1).
LENGTHS = [1, 2, 11, 12, 13, 23, 24, 25, 31, 32, 33, 47, 48, 49, 95, 97, 503, 1009, 2100]


def native(*args, **kwargs):
    return cpu.ALGORITHMS["native"](*args, **kwargs)


def test_ci_builds_the_kernel() -> None:
    """CI builds the kernel (``make test`` runs ``make native`` first): there it must load,
    unless a run turns it off on purpose (``CONVTRANSPOSE_NATIVE=0``)."""
    if os.environ.get(extension.DISABLE_VARIABLE, "").strip() == "0":
        pytest.skip("turned off by CONVTRANSPOSE_NATIVE=0")
    if os.environ.get("CI") and not AVAILABLE:
        pytest.fail(f"CI is set but the native kernel is not available: {extension.reason()}")


@st.composite
def long_cases(draw, dtype: torch.dtype):
    """A call over the whole parameter space with lengths around the kernel's tiles."""
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 9))
    c_out_per_group = draw(st.integers(1, 11))
    kernel_size = draw(st.one_of(st.integers(1, 6), st.integers(7, 40)))
    stride = draw(st.integers(1, 9))
    dilation = draw(st.integers(1, 4))
    output_padding = draw(st.integers(0, max(stride, dilation) - 1))
    length = draw(st.one_of(st.sampled_from(LENGTHS), st.integers(1, 130)))
    full = (length - 1) * stride + dilation * (kernel_size - 1) + output_padding + 1
    most = (full - 1) // 2
    padding = draw(st.one_of(st.integers(0, min(3, most)), st.integers(0, most)))
    batch = draw(st.sampled_from([1, 2, 3]))
    if batch * c_in * length * stride > 60_000:  # keep each example quick
        length = max(1, 60_000 // (batch * c_in * stride))
        full = (length - 1) * stride + dilation * (kernel_size - 1) + output_padding + 1
        padding = min(padding, (full - 1) // 2)
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    make = lambda *s: torch.randn(*s, generator=gen, dtype=dtype)  # noqa: E731
    bias = make(c_out_per_group * groups) if draw(st.booleans()) else None
    kwargs = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                  dilation=dilation)  # fmt: skip
    return make(batch, c_in, length), make(c_in, c_out_per_group, kernel_size), bias, kwargs


def forced(path: int):
    """The kernel's op with its forward path forced: 1 the tiles of positions, 2 the lanes
    (``native`` passes what :func:`convtranspose.cpu.rule.native_lanes` chooses)."""

    def run(x, w, b, stride, padding, output_padding, groups, dilation):
        return torch.ops.convtranspose_native.conv_transpose1d(
            x, w, b, stride, padding, output_padding, groups, dilation, path
        )

    return run


#: The forward paths, each forced on every shape.
PATHS = pytest.mark.parametrize("path", [1, 2], ids=["positions", "lanes"])


def assert_matches_torch(x, w, b, kwargs, run=native) -> None:
    """The kernel against torch's op in float64 on the same numbers: float32 sums of up to a
    few hundred products differ from float64 by a few ulps of their magnitude."""
    wide = lambda t: None if t is None else t.double()  # noqa: E731
    want = F.conv_transpose1d(wide(x), wide(w), wide(b), **kwargs)
    got = run(x, w, b, **kwargs)
    assert got.dtype == x.dtype and got.shape == want.shape
    tolerance = 1e-4 if x.dtype == torch.float32 else 1e-11
    torch.testing.assert_close(got.double(), want, atol=tolerance, rtol=tolerance)


def shape_case(shape: tuple, dtype: torch.dtype):
    """Seeded random tensors for ``(N, C_in, C_out, L, K, stride, padding, output_padding,
    groups, dilation)``: input, weight, bias and the call's keyword arguments."""
    n, c_in, c_out, length, k, s, p, op, g, d = shape
    gen = torch.Generator().manual_seed(sum(shape))
    x = torch.randn(n, c_in, length, generator=gen, dtype=dtype)
    w = torch.randn(c_in, c_out // g, k, generator=gen, dtype=dtype)
    b = torch.randn(c_out, generator=gen, dtype=dtype)
    kwargs = dict(stride=s, padding=p, output_padding=op, groups=g, dilation=d)
    return x, w, b, kwargs


@needs_native
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@settings(max_examples=100)
@given(data=st.data())
def test_matches_torch(dtype: torch.dtype, data) -> None:
    assert_matches_torch(*data.draw(long_cases(dtype)))


@needs_native
@PATHS
@settings(max_examples=60)
@given(data=st.data())
def test_each_path_matches_torch(path: int, data) -> None:
    """Both forward paths over the whole parameter space, whichever the kernel would choose:
    the tiles of positions, and the lanes (a product over the weight's (channel, tap)
    columns, then an overlap-add) it runs for many channels over short rows."""
    dtype = data.draw(st.sampled_from([torch.float32, torch.float64]))
    assert_matches_torch(*data.draw(long_cases(dtype)), run=forced(path))


@needs_native
@PATHS
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize(
    "shape",
    [
        # N, C_in, C_out, L, K, stride, padding, output_padding, groups, dilation
        (1, 512, 64, 33, 4, 2, 1, 0, 1, 1),  # lanes: blocks of whole channels, a partial tile
        (2, 256, 75, 40, 5, 3, 2, 1, 1, 2),  # K = 5: blocks of 16 channels, padded lanes
        (1, 512, 36, 20, 7, 2, 3, 1, 2, 1),  # grouped, 256 channels per group
        (3, 300, 5, 90, 16, 8, 4, 0, 1, 1),  # few output channels, one block, many positions
        (1, 256, 16, 700, 3, 1, 1, 0, 1, 3),  # long rows: several output blocks
    ],
    ids=str,
)
def test_wide_shapes(shape: tuple, dtype: torch.dtype, path: int) -> None:
    """Many input channels, where the lanes path runs (256 or more per group over short
    rows): blocks of output channels, lanes that do not fill a tile, several output blocks."""
    x, w, b, kwargs = shape_case(shape, dtype)
    assert_matches_torch(x, w, b, kwargs, run=forced(path))
    assert_matches_torch(x, w, None, kwargs, run=native)


@needs_native
def test_path_argument_is_checked() -> None:
    x, w = torch.randn(1, 2, 5), torch.randn(2, 2, 3)
    with pytest.raises(RuntimeError, match="path must be 1"):
        forced(3)(x, w, None, 1, 0, 0, 1, 1)


@needs_native
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize(
    "shape",
    [
        # N, C_in, C_out, L, K, stride, padding, output_padding, groups, dilation
        (16, 48, 48, 600, 4, 2, 1, 0, 1, 1),  # the training shape, shorter
        (1, 64, 32, 2048, 16, 8, 4, 0, 1, 1),  # inference, K = 2 * stride
        (2, 8, 8, 100, 3, 8, 0, 7, 1, 1),  # stride > K: phases without a tap (bias only)
        (2, 6, 9, 5, 40, 3, 2, 2, 3, 1),  # K > L, grouped, remainder channel tile
        (1, 4, 4, 50, 5, 3, 7, 1, 1, 4),  # dilated: taps of a phase not consecutive
        (1, 3, 5, 1, 7, 4, 0, 3, 1, 5),  # one input sample: all ends, output_padding < dilation
        (3, 5, 7, 30, 2, 1, 0, 0, 1, 1),  # stride 1, output shorter than a tile
        (2, 4, 4, 1000, 6, 5, 20, 4, 2, 3),  # stride 5, dilated, several length blocks
        (2, 4, 6, 700, 21, 10, 3, 9, 2, 1),  # runtime stride (10), several length blocks
    ],
    ids=str,
)
def test_edge_shapes(shape: tuple, dtype: torch.dtype) -> None:
    """Hand-picked corners: empty phases, K > L, L_out < stride, remainder channel tiles,
    a stride outside the kernel's specialised ones (1 to 8)."""
    x, w, b, kwargs = shape_case(shape, dtype)
    assert_matches_torch(x, w, b, kwargs)
    assert_matches_torch(x, w, None, kwargs)


@needs_native
def test_short_output_than_stride() -> None:
    """An output shorter than the stride (one input sample, K = 1, stride 7 ignored)."""
    x, w = torch.randn(2, 3, 1), torch.randn(3, 2, 1)
    assert_matches_torch(x, w, torch.randn(2), dict(stride=7, padding=0, output_padding=0,
                                                     groups=1, dilation=1))  # fmt: skip


@needs_native
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_non_contiguous(dtype: torch.dtype) -> None:
    """Transposed, sliced and expanded tensors: the kernel reads them as torch does."""
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(300, 6, 4, generator=gen, dtype=dtype).permute(2, 1, 0)[:, :, ::2]
    w = torch.randn(5, 6, 8, generator=gen, dtype=dtype).permute(1, 2, 0)[:, ::2, :]
    b = torch.randn(16, generator=gen, dtype=dtype)[::2]
    assert not (x.is_contiguous() or w.is_contiguous() or b.is_contiguous())
    kwargs = dict(stride=3, padding=2, output_padding=1, groups=2, dilation=2)
    assert_matches_torch(x, w, b, kwargs)


@needs_native
@PATHS
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_threads_give_identical_bits(dtype: torch.dtype, path: int) -> None:
    """Each output element is summed by one work item in one order: 1 and 2 threads agree
    bit for bit (no atomics, no reduction across threads)."""
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(3, 40, 3000, generator=gen, dtype=dtype)
    w = torch.randn(40, 20, 7, generator=gen, dtype=dtype)
    b = torch.randn(20, generator=gen, dtype=dtype)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = forced(path)(x, w, b, 3, 2, 0, 1, 1)
        torch.set_num_threads(2)
        two = forced(path)(x, w, b, 3, 2, 0, 1, 1)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(one, two)


@pytest.fixture
def fresh_output_cache():
    """An empty output cache at its default limit, before and after the test."""
    output_cache.empty()
    limit = output_cache.set_limit(256 << 20)
    yield
    output_cache.set_limit(limit)
    output_cache.empty()


@needs_native
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_reused_output_memory_is_written_whole(dtype: torch.dtype, fresh_output_cache) -> None:
    """Large outputs (4 MiB and more) come from memory the kernel keeps for reuse: an output
    freed after being filled with nan gives its memory to the next output of that size,
    which must still match torch everywhere (every element written, none left over)."""
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(8, 16, 8200, generator=gen, dtype=dtype)  # output (8, 8, 16401): > 4 MiB
    w = torch.randn(16, 4, 4, generator=gen, dtype=dtype)
    b = torch.randn(8, generator=gen, dtype=dtype)
    kwargs = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1)
    first = native(x, w, b, **kwargs)
    size = first.nbytes
    assert size >= 4 << 20
    first.fill_(float("nan"))
    del first
    assert output_cache.info() == (size, 256 << 20)  # kept, nans and all
    second = native(x, w, b, **kwargs)
    assert output_cache.info()[0] == 0  # ... and given to the next output of that size
    held = native(x, w, b, **kwargs)  # while the other is alive: other memory
    assert held.data_ptr() != second.data_ptr()
    expected = F.conv_transpose1d(x, w, b, **kwargs)
    for y in (second, held):
        torch.testing.assert_close(y, expected)
    held.resize_(8, 8, 20000)  # a CPU tensor like any other: its storage can grow
    torch.testing.assert_close(held.view(-1)[: expected.numel()], expected.view(-1))


@needs_native
def test_output_cache_limit_and_empty(fresh_output_cache) -> None:
    """The cache keeps freed outputs up to its limit, the oldest given back first; a limit of
    0 keeps nothing; empty() gives everything back; bad limits are refused by name."""
    x = torch.randn(1, 4, 300_000)  # output (1, 4, 600_002) float32: 9.2 MB
    w = torch.randn(4, 4, 3)
    outputs = [native(x, w, None, 2, 0, 1, 1, 1) for _ in range(3)]
    size = outputs[0].nbytes
    assert output_cache.set_limit(2 * size) == 256 << 20
    outputs.clear()
    assert output_cache.info() == (2 * size, 2 * size)  # three freed, the oldest given back
    assert output_cache.set_limit(0) == 2 * size
    assert output_cache.info() == (0, 0)
    y = native(x, w, None, 2, 0, 1, 1, 1)
    del y
    assert output_cache.info() == (0, 0)  # nothing kept at limit 0
    output_cache.set_limit(256 << 20)
    y = native(x, w, None, 2, 0, 1, 1, 1)
    del y
    assert output_cache.empty() == size
    assert output_cache.info() == (0, 256 << 20)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="bytes must be an int >= 0"):
            output_cache.set_limit(bad)


@needs_native
def test_output_cache_limit_from_the_environment() -> None:
    """CONVTRANSPOSE_OUTPUT_CACHE_MIB sets the limit at start-up (read by the library)."""
    code = "from convtranspose.cpu import output_cache; print(output_cache.info()[1])"
    env = {**os.environ, "CONVTRANSPOSE_OUTPUT_CACHE_MIB": "3", "PYTHONPATH": SRC}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.stdout.strip() == str(3 << 20), done.stderr


@needs_native
@PATHS
@settings(max_examples=60)
@given(data=st.data())
def test_non_finite(path: int, data) -> None:
    """``nan``, ``inf`` and ``-inf`` planted in input, weight and bias on long rows: exactly
    where the definition (torch's float64 op) has them, finite elsewhere (the dense interior
    tiles and the ends, where no product with padding may be formed), on both paths."""
    dtype = data.draw(st.sampled_from([torch.float32, torch.float64]))
    x, w, b, kwargs = data.draw(long_cases(dtype))
    tensors = [t for t in (x, w, b) if t is not None]
    for _ in range(data.draw(st.integers(1, 4))):
        tensor = data.draw(st.sampled_from(tensors))
        tensor.view(-1)[data.draw(st.integers(0, tensor.numel() - 1))] = data.draw(
            st.sampled_from(NON_FINITE)
        )
    wide = lambda t: None if t is None else t.double()  # noqa: E731
    want = F.conv_transpose1d(wide(x), wide(w), wide(b), **kwargs)
    got = forced(path)(x, w, b, **kwargs)
    assert_same_non_finite(got.double(), want, 1e-3 if dtype == torch.float32 else 1e-9)


@needs_native
def test_gradients_through_native() -> None:
    """The algorithm is differentiable: the kernel's forward, torch's backward."""
    gen = torch.Generator().manual_seed(5)
    make = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64).requires_grad_()  # noqa: E731
    x, w, b = make(2, 4, 30), make(4, 3, 5), make(3)
    kwargs = dict(stride=2, padding=1, output_padding=1)
    assert torch.autograd.gradcheck(lambda *t: native(*t, **kwargs), (x, w, b))
    assert torch.autograd.gradgradcheck(lambda *t: native(*t, **kwargs), (x, w, b))


@needs_native
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_other_dtypes_run_torch(dtype: torch.dtype) -> None:
    """The kernel computes float32 and float64; half types run torch's op."""
    x, w = torch.randn(2, 4, 50).to(dtype), torch.randn(4, 3, 4).to(dtype)
    torch.testing.assert_close(native(x, w, stride=2), F.conv_transpose1d(x, w, stride=2))


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": SRC, **env}
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", code],
        env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_turned_off() -> None:
    """``CONVTRANSPOSE_NATIVE=0``: no ``native`` anywhere, the rule never names it, and the
    build command says so with one warning and exits 0."""
    code = (
        "import convtranspose.cpu as c\n"
        "assert 'native' not in c.NAMES and 'native' not in c.ALGORITHMS\n"
        "assert c.choose_algorithm(16, 48, 48, 6000, 4, 2) != 'native'\n"
        "from convtranspose.cpu import build\n"
        "raise SystemExit(build.main([]))\n"
    )
    done = _run_python(code, CONVTRANSPOSE_NATIVE="0")
    assert done.returncode == 0, done.stderr
    assert "turned off by CONVTRANSPOSE_NATIVE=0" in done.stdout
    assert done.stderr.count("RuntimeWarning") == 1, done.stderr
    assert "native CPU kernel is not in use" in done.stderr


def test_no_compiler(tmp_path: Path) -> None:
    """A machine without a compiler (and no build): one warning naming the fix, no traceback,
    and the torch-op algorithms."""
    code = (
        "from pathlib import Path\n"
        "from convtranspose.cpu import extension as e\n"
        f"e.build_directory = lambda: Path({str(tmp_path)!r})\n"
        f"e.library_path = lambda: Path({str(tmp_path / 'missing.so')!r})\n"
        "e._state['loaded'] = False\n"
        "assert not e.load() and not e.load()\n"
        "print(e.reason())\n"
    )
    done = _run_python(code, CONVTRANSPOSE_NATIVE="1", CXX="no-such-compiler-here")
    assert done.returncode == 0, done.stderr
    assert "no C++ compiler found" in done.stdout and "apt-get install g++" in done.stdout
    assert done.stderr.count("RuntimeWarning") == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_import_never_compiles() -> None:
    """Importing the package never calls the compiler: it loads a build that exists (here,
    where this test run's build exists) or reports that there is none."""
    code = (
        "import torch.utils.cpp_extension as ce\n"
        "ce.load = lambda *a, **k: (_ for _ in ()).throw(AssertionError('compiled'))\n"
        "import convtranspose\n"
        "from convtranspose.cpu import extension as e\n"
        "print(e.available(), e.reason() or 'loaded')\n"
    )
    done = _run_python(code, CONVTRANSPOSE_NATIVE="1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("True loaded" if AVAILABLE else f"False {extension.reason()}"), (
        done.stdout
    )
    assert "Warning" not in done.stderr, done.stderr


def test_cache_directory() -> None:
    """The build lives under the checkout's _build/native/ (this repository), keyed by torch's
    version and a hash of the CPU and the sources."""
    directory = extension.build_directory()
    assert directory.parent == Path(SRC).parent / "_build" / "native"
    assert directory.name.startswith("torch-") and directory.name == extension.cache_key()


@pytest.mark.parametrize(
    "shape",
    [
        (16, 48, 48, 6000, 4, 2),  # the training shapes
        (32, 24, 24, 6000, 3, 2),
        (4, 32, 16, 16000, 8, 4),
        (1, 64, 32, 8192, 4, 2),  # batch-1 inference
        (1, 256, 128, 4096, 16, 8),  # 256 channels in, K > stride, 4096 positions
        (8, 64, 64, 1000, 4, 4, 64),  # depthwise
    ],
)
@pytest.mark.parametrize("width", [32, 64], ids=["AVX2", "AVX-512"])
def test_rule_sends_training_shapes_to_native(shape: tuple, width: int) -> None:
    assert cpu.choose_algorithm(*shape, native=True, vector_bytes=width) == "native"
    assert cpu.choose_algorithm(*shape, native=False) != "native"


@pytest.mark.parametrize(
    "shape",
    [
        (1, 1024, 512, 64, 16, 8),  # channel-heavy: torch's matrix multiply near the roofline
        (1, 256, 256, 8, 4, 2),  # short input, C_in*K = 1024 rows
        (2, 271, 157, 77, 4, 2),  # 1084 rows, 154 positions
        (1, 512, 256, 2048, 16, 8),  # 512 channels in, 2048 positions
        (1, 356, 67, 4820, 4, 7),  # 356 channels in, stamps apart: one GEMM and a copy
        (1, 128, 128, 512, 3, 1, 1, 4),  # stride 1, short kernel, short: oneDNN's convolution
        (1, 64, 64, 2048, 5, 1),
    ],
)
def test_rule_keeps_torch_where_it_wins_with_avx2(shape: tuple) -> None:
    assert cpu.choose_algorithm(*shape, native=True, vector_bytes=32) != "native"


@pytest.mark.parametrize(
    ("shape", "chosen"),
    [
        ((1, 1024, 512, 64, 16, 8), "native"),  # lanes: many channels over a short row
        ((1, 256, 256, 8, 4, 2), "native"),
        ((2, 271, 157, 77, 4, 2), "native"),
        ((4, 512, 512, 128, 4, 2), "native"),  # 512 channels: rows up to 192 positions
        ((1, 256, 128, 256, 16, 8), "aten"),  # 4096 rows over 256 positions: torch's GEMM
        ((1, 128, 128, 64, 32, 16), "aten"),  # 4096 rows, 128 channels (no lanes) ...
        ((1, 128, 128, 600, 32, 16), "native"),  # ... over 600 positions
        ((1, 80, 80, 100, 32, 16), "native"),  # 2560 rows: the grid's wavenet-up16
        ((1, 356, 67, 4820, 4, 7), "gemm_overlap_add"),  # stamps apart: one GEMM and a copy
        ((1, 128, 128, 512, 3, 1, 1, 4), "native"),  # stride 1: the tiles win with AVX-512
        ((1, 64, 64, 2048, 5, 1), "native"),
        ((1, 512, 256, 2048, 16, 8), "native"),
    ],
)
def test_rule_with_avx512(shape: tuple, chosen: str) -> None:
    """With AVX-512 the kernel's tiles are twice as wide and it has the lanes path: only the
    widest short products and separate stamps leave it."""
    assert cpu.choose_algorithm(*shape, native=True, vector_bytes=64) == chosen


@pytest.mark.parametrize(
    ("shape", "lanes"),
    [
        ((1024, 64, 1), True),  # the grid's channel-heavy layer
        ((512, 32, 1), True),  # HiFi-GAN's first upsampler
        ((512, 96, 2), True),  # 256 channels per group: rows up to 96 positions
        ((512, 97, 2), False),  # longer rows: tiles of positions
        ((1024, 384, 1), True),  # 1024 channels: up to 384
        ((510, 32, 2), False),  # 255 channels per group
        ((128, 16, 1), False),
    ],
)
def test_native_lanes_takes_many_channels_over_short_rows(shape: tuple, lanes: bool) -> None:
    assert rule.native_lanes(*shape) is lanes
    assert not rule.native_lanes(*shape, wide=False)  # AVX2: the tiles of positions


def test_rule_unit_stride_line_is_float32_only_and_bounded() -> None:
    """Short stride-1 convolutions go to torch in float32 only (float64 has no oneDNN), and
    only while short, with a short kernel and many output channels."""
    avx2 = dict(native=True, vector_bytes=32)
    short = (1, 128, 128, 512, 3, 1)
    assert cpu.choose_algorithm(*short, **avx2) == "aten"
    assert cpu.choose_algorithm(*short, dtype=torch.float64, **avx2) == "native"
    assert cpu.choose_algorithm(1, 128, 128, 4096, 3, 1, **avx2) == "native"  # long
    assert cpu.choose_algorithm(1, 64, 64, 512, 7, 1, **avx2) == "native"  # K = 7
    assert cpu.choose_algorithm(1, 32, 32, 512, 3, 1, **avx2) == "native"  # 32 out
    assert cpu.choose_algorithm(1, 128, 128, 512, 3, 2, **avx2) == "native"  # stride 2


def test_rule_default_follows_availability() -> None:
    chosen = cpu.choose_algorithm(16, 48, 48, 6000, 4, 2)
    assert (chosen == "native") == AVAILABLE
    assert extension.vector_bytes() in ((16, 32, 64) if AVAILABLE else (None,))
    if AVAILABLE:  # this machine's width unless told
        wide = cpu.choose_algorithm(1, 1024, 1024, 64, 4, 2, vector_bytes=64) == "native"
        narrow = cpu.choose_algorithm(1, 1024, 1024, 64, 4, 2, vector_bytes=32) == "native"
        mine = cpu.choose_algorithm(1, 1024, 1024, 64, 4, 2) == "native"
        assert (wide, narrow, mine) == (True, False, extension.vector_bytes() == 64)


def test_workspace() -> None:
    """The packed copy of the weight, made where it serves at least 512 positions."""
    assert cpu.workspace_elements("native", 16, 48, 24, 6000, 4, 2, groups=2) == 48 * 12 * 4
    assert cpu.workspace_elements("native", 1, 512, 256, 32, 16, 8, padding=4) == 0


@needs_native
def test_dispatcher_remembers_native() -> None:
    """The dispatcher's memory of checked calls runs the kernel on the second call too."""
    gen = torch.Generator().manual_seed(6)
    x, w, b = torch.randn(8, 32, 1500, generator=gen), torch.randn(32, 16, 4, generator=gen), None
    dispatch._CHECKED.clear()
    first = cpu.conv_transpose1d(x, w, b, stride=2, padding=1)
    ((name, *_),) = dispatch._CHECKED.values()
    assert name == rule.choose_algorithm(8, 32, 16, 1500, 4, 2, padding=1) == "native"
    second = cpu.conv_transpose1d(x, w, b, stride=2, padding=1)
    assert torch.equal(first, second)
    torch.testing.assert_close(second, F.conv_transpose1d(x, w, b, stride=2, padding=1),
                               atol=1e-4, rtol=1e-4)  # fmt: skip


def test_check_reports_the_kernel() -> None:
    """``python -m convtranspose.check`` has one line for the kernel: in use (where), or why
    not (a warning, never a failure)."""
    result = check.check_native()
    assert result.status == (check.OK if AVAILABLE else check.WARN)
    if AVAILABLE:
        assert str(extension.library_path()) in result.detail
        assert ("AVX-512" in result.detail) == (extension.vector_bytes() == 64)
    else:
        assert extension.reason() in result.detail
