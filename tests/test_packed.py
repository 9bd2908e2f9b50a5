"""``PackedConvTranspose1d``: the inference module whose weight is packed once for oneDNN.

Its values are checked against torch by the shared suite (``packed`` in
``implementations.py``, packed route forced); here: that the packed route really runs, that
one packed weight serves inputs of any batch and length, the snapshot and inference-only
rules, and the routing rule.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from helpers import TOLERANCE, Case, cases
from hypothesis import given

from convtranspose import ConvTranspose1d
from convtranspose.cpu import extension, torch_calls
from convtranspose.cpu.packed import PACKED, PackedConvTranspose1d, choose_route, pack

HIFIGAN_UP1 = {"in_channels": 512, "out_channels": 256, "kernel_size": 16, "stride": 8}


def hifigan_up1_layer() -> torch.nn.ConvTranspose1d:
    torch.manual_seed(0)
    return torch.nn.ConvTranspose1d(**HIFIGAN_UP1, padding=4)


@given(cases(dtype=torch.float32))
def test_forced_packed_route_runs_and_matches_torch(case: Case) -> None:
    """float32 calls with ``output_padding < stride`` take the packed deconvolution."""
    layer = PackedConvTranspose1d(case.weight, case.bias, **case.kwargs, algorithm="packed")
    stride = case.kwargs["stride"]
    stride = stride if isinstance(stride, int) else stride[0]
    output_padding = case.kwargs["output_padding"]
    output_padding = output_padding if isinstance(output_padding, int) else output_padding[0]
    if case.input.numel() > 0 and output_padding < stride:
        assert layer.route(case.input) == PACKED
    atol, rtol = TOLERANCE[torch.float32]
    torch.testing.assert_close(
        layer(case.input), case.run(F.conv_transpose1d), atol=atol, rtol=rtol
    )


@pytest.mark.parametrize("groups", [1, 2])
def test_bfloat16_is_packed_and_accurate(groups: int) -> None:
    """bfloat16 runs oneDNN's bfloat16 kernel (float32 accumulation): within bfloat16's
    rounding (8 bits of mantissa) of the float32 answer."""
    torch.manual_seed(1)
    x, w, b = torch.randn(2, 6, 11), torch.randn(6, 4 // groups, 5), torch.randn(4)
    kw = {"stride": 3, "padding": 1, "groups": groups}
    layer = PackedConvTranspose1d(w.bfloat16(), b.bfloat16(), **kw, algorithm=PACKED)
    if torch_calls._onednn_bf16():  # CPUs without oneDNN's bfloat16 kernels take cpu's choice
        assert layer.route(x.bfloat16()) == PACKED
    got = layer(x.bfloat16())
    assert got.dtype == torch.bfloat16
    want = F.conv_transpose1d(
        x.bfloat16().float(), w.bfloat16().float(), b.bfloat16().float(), **kw
    )
    torch.testing.assert_close(got.float(), want, atol=2e-2 * want.abs().max().item(), rtol=0)


def test_hifigan_stage_is_packed_and_matches_torch() -> None:
    layer = hifigan_up1_layer()
    packed = PackedConvTranspose1d.from_module(layer)
    x = torch.randn(1, 512, 32)
    # packed, unless the native kernel's lanes path (AVX-512) runs it: 1.7-1.9x torch's op
    # there, against 1.5x packed
    wide = extension.vector_bytes() == 64
    assert packed.route(x) == ("native" if wide else PACKED)
    with torch.no_grad():
        torch.testing.assert_close(packed(x), layer(x), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("shape", [(1, 512, 32), (3, 512, 7), (512, 50), (2, 512, 1)])
def test_one_packed_weight_serves_any_batch_and_length(shape: tuple) -> None:
    layer = hifigan_up1_layer()
    packed = PackedConvTranspose1d.from_module(layer)
    packed.algorithm = PACKED
    with torch.no_grad():
        packed(torch.randn(1, 512, 32))  # packs for this shape
        x = torch.randn(*shape)
        torch.testing.assert_close(packed(x), layer(x), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("algorithm", [None, PACKED, "aten"])
def test_repeated_calls_skip_nothing_that_matters(algorithm: str | None) -> None:
    """A module remembers the route of input signatures that passed the checks: repeats,
    unbatched inputs, new lengths and bad inputs after good ones all behave as the first call."""
    torch.manual_seed(5)
    weight, bias = torch.randn(4, 3, 5), torch.randn(6)
    packed = PackedConvTranspose1d(weight, bias, stride=3, padding=1, groups=2, algorithm=algorithm)
    inputs = [torch.randn(2, 4, 7), torch.randn(2, 4, 7), torch.randn(4, 7), torch.randn(1, 4, 30)]
    for x in inputs * 2:
        want = F.conv_transpose1d(x, weight, bias, stride=3, padding=1, groups=2)
        torch.testing.assert_close(packed(x), want, atol=1e-5, rtol=1e-5)
    with pytest.raises(RuntimeError, match="to have 4 channels"):
        packed(torch.randn(2, 3, 7))
    with pytest.raises(TypeError, match="same dtype"):
        packed(torch.randn(2, 4, 7, dtype=torch.float64))
    with pytest.raises(TypeError, match="'input' must be a Tensor"):
        packed([[1.0] * 7] * 4)


@pytest.mark.parametrize("algorithm", [PACKED, "scatter"])
def test_weight_is_a_snapshot(algorithm: str) -> None:
    """Changing the tensors after the module is made (before or after its first call,
    which packs) changes nothing."""
    weight, bias = torch.randn(4, 3, 5), torch.randn(3)
    x = torch.randn(2, 4, 9)
    want = F.conv_transpose1d(x, weight, bias, stride=2)
    packed = PackedConvTranspose1d(weight, bias, stride=2, algorithm=algorithm)
    weight.mul_(2.0)
    bias.add_(1.0)
    torch.testing.assert_close(packed(x), want)
    weight.mul_(2.0)
    torch.testing.assert_close(packed(x), want)


def test_from_our_module_matches_its_forward() -> None:
    torch.manual_seed(3)
    layer = ConvTranspose1d(6, 4, 5, stride=3, padding=1, output_padding=2, groups=2)
    x = torch.randn(2, 6, 11)
    with torch.no_grad():
        torch.testing.assert_close(PackedConvTranspose1d.from_module(layer)(x), layer(x))


def test_input_that_requires_grad_is_refused() -> None:
    packed = PackedConvTranspose1d(torch.randn(2, 3, 3))
    x = torch.randn(1, 2, 5, requires_grad=True)
    with pytest.raises(RuntimeError, match="for inference: input requires grad"):
        packed(x)
    with torch.no_grad():
        assert packed(x).shape == (1, 3, 7)


def test_weight_on_another_device_is_refused() -> None:
    with pytest.raises(ValueError, match="packs weights for the CPU: weight is on meta"):
        PackedConvTranspose1d(torch.empty(2, 3, 3, device="meta"))


def test_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="algorithm must be None, 'packed' or one of"):
        PackedConvTranspose1d(torch.randn(2, 3, 3), algorithm="fft")


def test_bad_call_raises_like_the_functional_op() -> None:
    packed = PackedConvTranspose1d(torch.randn(2, 3, 3), padding=10)
    with pytest.raises(RuntimeError, match=r"output length is -13.*must be >= 1"):
        packed(torch.randn(1, 2, 5))
    with pytest.raises(RuntimeError, match=r"to have 2 channels.*got 3 channels"):
        PackedConvTranspose1d(torch.randn(2, 3, 3))(torch.randn(1, 3, 5))


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        # (batch, C_in, C_out, length, K, stride, groups, dilation): HiFi-GAN's first stage
        ((1, 512, 256, 32, 16, 8, 1, 1), PACKED),
        ((1, 1024, 1024, 64, 4, 2, 1, 1), PACKED),  # channel-heavy
        ((1, 128, 128, 512, 3, 1, 1, 4), "aten"),  # dilated: oneDNN's dilated kernel is slow
        ((1, 64, 32, 4096, 4, 2, 1, 1), "aten"),  # a long input: the copy is a small share
        ((1, 64, 64, 256, 3, 4, 1, 1), "aten"),  # small: oneDNN's per-call setup dominates
        ((1, 256, 256, 512, 8, 4, 256, 1), "gemm_overlap_add"),  # depthwise: ours wins
    ],
)
def test_route_rule(shape: tuple, expected: str) -> None:
    assert choose_route(*shape, native=False) == expected


@given(cases(dtype=torch.float64))
def test_float64_runs_the_cpu_choice(case: Case) -> None:
    """oneDNN computes no float64: a forced packed route falls back, still exact."""
    layer = PackedConvTranspose1d(case.weight, case.bias, **case.kwargs, algorithm=PACKED)
    assert case.input.numel() == 0 or layer.route(case.input) != PACKED
    atol, rtol = TOLERANCE[torch.float64]
    torch.testing.assert_close(
        layer(case.input), case.run(F.conv_transpose1d), atol=atol, rtol=rtol
    )


def test_pack_replaces_every_transposed_layer_in_a_copy() -> None:
    torch.manual_seed(2)
    model = torch.nn.Sequential(
        torch.nn.ConvTranspose1d(8, 6, 4, stride=2, padding=1),
        torch.nn.LeakyReLU(0.1),
        torch.nn.Sequential(ConvTranspose1d(6, 4, 6, stride=3, padding=2, groups=2)),
        torch.nn.Conv1d(4, 1, 3),
    )
    x = torch.randn(2, 8, 20)
    packed = pack(model)
    kinds = [type(m) for m in packed.modules()]
    assert kinds.count(PackedConvTranspose1d) == 2
    assert torch.nn.ConvTranspose1d not in kinds and ConvTranspose1d not in kinds
    assert type(model[0]) is torch.nn.ConvTranspose1d  # the original is untouched
    with torch.no_grad():
        torch.testing.assert_close(packed(x), model(x), atol=1e-5, rtol=1e-5)
    assert type(pack(model[0])) is PackedConvTranspose1d


class _Decoder(torch.nn.Module):
    """A U-Net-style upsampling step: its output must match the skip connection's length."""

    def __init__(self) -> None:
        super().__init__()
        self.up = torch.nn.ConvTranspose1d(8, 4, 4, stride=2, padding=1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.up(x, output_size=skip.shape) + skip


@torch.no_grad()
def test_packed_model_keeps_output_size() -> None:
    """A packed layer takes ``output_size`` like the layer it replaces: both lengths a
    stride-2 downsampling could have come from."""
    torch.manual_seed(3)
    model, x = _Decoder(), torch.randn(2, 8, 10)
    packed = pack(model)
    assert type(packed.up) is PackedConvTranspose1d
    for length in (20, 21):
        skip = torch.randn(2, 4, length)
        torch.testing.assert_close(packed(x, skip), model(x, skip), atol=1e-5, rtol=1e-5)


@torch.no_grad()
def test_state_dict_and_to_repack() -> None:
    """The snapshots are buffers with the keys of the layer they replace: ``load_state_dict``
    and ``.to(dtype)`` are followed, and the next call packs the new weight (packed route
    forced, so a stale pack would show)."""
    torch.manual_seed(4)
    first, second = (torch.nn.ConvTranspose1d(6, 4, 5, stride=3, padding=1) for _ in range(2))
    packed = PackedConvTranspose1d.from_module(first)
    packed.algorithm = PACKED
    assert set(packed.state_dict()) == set(first.state_dict()) == {"weight", "bias"}
    x = torch.randn(2, 6, 9)
    torch.testing.assert_close(packed(x), first(x), atol=1e-5, rtol=1e-5)  # packs first's
    packed.load_state_dict(second.state_dict())
    torch.testing.assert_close(packed(x), second(x), atol=1e-5, rtol=1e-5)
    assert packed.to(torch.float64)(x.double()).dtype == torch.float64  # cpu's choice
    torch.testing.assert_close(packed(x.double()), second.double()(x.double()))
    packed.float()
    second.float()
    torch.testing.assert_close(packed(x), second(x), atol=1e-5, rtol=1e-5)
    assert packed.route(x) == PACKED


def test_moved_off_the_cpu_it_refuses_to_run() -> None:
    """Moving the layer (here to the meta device, which needs no GPU) makes calls raise
    clearly instead of running CPU code on other tensors."""
    packed = PackedConvTranspose1d(torch.randn(4, 3, 5)).to("meta")
    with pytest.raises(RuntimeError, match="runs on the CPU, but its weight is on meta"):
        packed(torch.randn(1, 4, 9, device="meta"))


@torch.no_grad()
def test_a_used_layer_can_be_copied_and_saved() -> None:
    """After its first call holds oneDNN's packed weight (an opaque tensor that cannot be
    copied or saved), the layer still deep-copies and round-trips through ``torch.save``:
    the copies pack again at their first call."""
    import copy
    import io

    torch.manual_seed(5)
    layer = torch.nn.ConvTranspose1d(16, 8, 4, stride=2, padding=1)
    packed = PackedConvTranspose1d(
        layer.weight, layer.bias, layer.stride, layer.padding, algorithm=PACKED
    )
    x = torch.randn(2, 16, 12)
    want = packed(x)
    assert packed._packed is not None
    buffer = io.BytesIO()
    torch.save(packed, buffer)
    buffer.seek(0)
    for other in (copy.deepcopy(packed), torch.load(buffer, weights_only=False)):
        assert other._packed is None
        torch.testing.assert_close(other(x), want)
        assert other.route(x) == PACKED


@pytest.mark.parametrize(
    ("setting", "value"),
    [("stride", 3), ("padding", 2), ("output_padding", 1), ("dilation", 2), ("groups", 2)],
)
@pytest.mark.parametrize("algorithm", [None, PACKED, "scatter"])
def test_settings_changed_after_a_call_are_honoured(setting, value, algorithm) -> None:
    """A setting assigned after a call (the route remembered, the weight packed) is used by
    the next call, as torch's layer would use it."""
    gen = torch.Generator().manual_seed(3)
    weight, bias = torch.randn(4, 3, 4, generator=gen), torch.randn(3, generator=gen)
    x = torch.randn(2, 4, 9, generator=gen)
    layer = PackedConvTranspose1d(weight, bias, stride=2, padding=1, algorithm=algorithm)
    with torch.no_grad():
        layer(x)
        if setting == "groups":
            layer.bias = torch.randn(6, generator=gen)
        setattr(layer, setting, value)
        kwargs = {"stride": 2, "padding": 1, setting: value}
        expected = F.conv_transpose1d(x, layer.weight, layer.bias, **kwargs)
        torch.testing.assert_close(layer(x), expected, atol=1e-5, rtol=1e-5)


def test_algorithm_is_checked_when_assigned() -> None:
    layer = PackedConvTranspose1d(torch.randn(2, 3, 3))
    with pytest.raises(ValueError, match=r"algorithm must be None, 'packed' or one of .*'scatter'"):
        layer.algorithm = "fft"
    assert layer.algorithm is None


def test_weight_written_in_place_is_packed_again() -> None:
    gen = torch.Generator().manual_seed(4)
    weight, x = torch.randn(4, 3, 4, generator=gen), torch.randn(2, 4, 9, generator=gen)
    layer = PackedConvTranspose1d(weight, stride=2, algorithm=PACKED)
    with torch.no_grad():
        layer(x)
        layer.weight.mul_(2)
        torch.testing.assert_close(layer(x), F.conv_transpose1d(x, 2 * weight, stride=2))


def test_a_tensor_in_output_size_is_never_remembered() -> None:
    """``output_size`` holding a tensor changed in place between calls: each call reads
    the length it holds now (remembering the tensor would bring the old length back)."""
    gen = torch.Generator().manual_seed(5)
    weight, x = torch.randn(2, 2, 3, generator=gen), torch.randn(1, 2, 4, generator=gen)
    layer = PackedConvTranspose1d(weight, stride=2)
    size = [torch.tensor(9)]
    with torch.no_grad():
        assert layer(x, size).shape[-1] == 9
        size[0].fill_(10)
        assert layer(x, size).shape[-1] == 10
        assert layer(x, torch.tensor([1, 2, 9])).shape[-1] == 9


def test_the_route_memo_is_a_bounded_lru(monkeypatch) -> None:
    """Past its size the least recently used input signature is dropped, not all of them."""
    monkeypatch.setattr("convtranspose.cpu.packed._ROUTES_KEPT", 2)
    layer = PackedConvTranspose1d(torch.randn(2, 2, 3))
    with torch.no_grad():
        for length in (4, 5, 4, 6):  # 4 used again before 6 arrives: 5 is the one dropped
            layer(torch.randn(1, 2, length))
    assert [key[1][-1] for key in layer._routes] == [4, 6]
