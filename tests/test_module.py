"""``convtranspose.ConvTranspose1d`` against ``torch.nn.ConvTranspose1d``, and ``output_length``."""

from __future__ import annotations

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import convtranspose
from convtranspose import ConvTranspose1d, output_length
from convtranspose.cpu.packed import PACKED, PackedConvTranspose1d


@st.composite
def layer_args(draw) -> dict:
    groups = draw(st.integers(1, 3))
    stride = draw(st.integers(1, 4))
    dilation = draw(st.integers(1, 3))
    return {
        "in_channels": groups * draw(st.integers(1, 3)),
        "out_channels": groups * draw(st.integers(1, 3)),
        "kernel_size": draw(st.integers(1, 5)),
        "stride": stride,
        "padding": draw(st.integers(0, 2)),
        "output_padding": draw(st.integers(0, max(stride, dilation) - 1)),
        "groups": groups,
        "bias": draw(st.booleans()),
        "dilation": dilation,
    }


def twin_layers(args: dict, seed: int = 0, **factory):
    torch.manual_seed(seed)
    ours = ConvTranspose1d(**args, **factory)
    torch.manual_seed(seed)
    theirs = torch.nn.ConvTranspose1d(**args, **factory)
    return ours, theirs


@given(layer_args(), st.integers(3, 9), st.sampled_from([None, 1, 2]))
def test_layer_matches_torch(args: dict, length: int, batch) -> None:
    """Same seed, same parameters, same repr, same output."""
    smallest = (length - 1) * args["stride"] + args["dilation"] * (args["kernel_size"] - 1) + 1
    assume(smallest + args["output_padding"] - 2 * args["padding"] >= 1)
    ours, theirs = twin_layers(args)
    assert repr(ours) == repr(theirs)
    for name in ("weight", "bias"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert (a is None) == (b is None)
        if a is not None:
            assert a.shape == b.shape
            assert torch.equal(a, b)
    shape = (args["in_channels"], length)
    x = torch.randn(shape if batch is None else (batch, *shape))
    torch.testing.assert_close(ours(x), theirs(x), atol=1e-5, rtol=1e-5)


#: The layers that take ``output_size``: this package's, and the packed inference layer made
#: from it (its route chosen per call, or the packed deconvolution forced).
def _packed_forced(layer: ConvTranspose1d) -> PackedConvTranspose1d:
    return PackedConvTranspose1d(
        layer.weight, layer.bias, layer.stride, layer.padding, layer.output_padding,
        layer.groups, layer.dilation, algorithm=PACKED,
    )  # fmt: skip


LAYER_KINDS = {
    "ConvTranspose1d": lambda layer: layer,
    "PackedConvTranspose1d": PackedConvTranspose1d.from_module,
    "PackedConvTranspose1d-packed": _packed_forced,
}


@pytest.mark.parametrize("kind", LAYER_KINDS)
@given(layer_args(), st.integers(2, 8), st.data())
@torch.no_grad()
def test_output_size_picks_output_padding_like_torch(kind: str, args: dict, length: int, data) -> None:  # fmt: skip
    args["output_padding"] = 0
    ours, theirs = twin_layers(args)
    ours = LAYER_KINDS[kind](ours)
    x = torch.randn(1, args["in_channels"], length)
    k, stride, dilation = args["kernel_size"], args["stride"], args["dilation"]
    smallest = (length - 1) * stride - 2 * args["padding"] + dilation * (k - 1) + 1
    assume(smallest >= 1)
    size = data.draw(st.integers(smallest, smallest + args["stride"] - 1))
    form = data.draw(st.sampled_from([[size], (1, args["out_channels"], size), torch.Size([size])]))
    got, want = ours(x, output_size=form), theirs(x, output_size=form)
    assert got.shape[-1] == size
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_output_size_out_of_range(kind: str) -> None:
    layer = LAYER_KINDS[kind](ConvTranspose1d(1, 1, 3, stride=2))
    x = torch.ones(1, 1, 4)
    for size in ([11], [8]):
        with pytest.raises(ValueError, match=r"valid sizes range from \[9\] to \[10\]"):
            layer(x, output_size=size)
        with pytest.raises(ValueError):
            torch.nn.ConvTranspose1d(1, 1, 3, stride=2)(x, output_size=size)
    for shape, size in (((1, 1, 4), [1, 9]), ((1, 4), [1, 1, 9])):  # not 1 nor input.dim()
        with pytest.raises(ValueError, match=f"output_size (to|must) have 1 or {len(shape)} elem"):
            layer(torch.ones(shape), output_size=size)
        with pytest.raises(ValueError, match="output_size must have 1 or"):
            torch.nn.ConvTranspose1d(1, 1, 3, stride=2)(torch.ones(shape), output_size=size)
    dilated = LAYER_KINDS[kind](ConvTranspose1d(1, 1, 3, stride=1, dilation=3))
    with pytest.raises(ValueError, match=r"valid sizes range from \[10\] to \[10\]"):
        dilated(torch.ones(1, 1, 4), output_size=[11])  # torch: the stride, not the dilation
    with torch.no_grad():  # after the errors, the valid sizes still work (nothing remembered)
        assert [layer(x, output_size=[n]).shape[-1] for n in (9, 10, 9)] == [9, 10, 9]


def test_string_padding_is_rejected_by_name() -> None:
    """torch's constructor accepts ``padding='same'`` and its forward fails; so does ours, with
    an error that names the argument."""
    layer = ConvTranspose1d(2, 4, 3, padding="same")
    with pytest.raises(TypeError, match="'padding' must be an int"):
        layer(torch.ones(2, 5))
    with pytest.raises(TypeError):
        torch.nn.ConvTranspose1d(2, 4, 3, padding="same")(torch.ones(2, 5))


def test_dtype_and_device_arguments() -> None:
    layer = ConvTranspose1d(2, 4, 3, dtype=torch.float64, device="cpu")
    assert layer.weight.dtype == torch.float64
    assert layer.weight.device.type == "cpu"
    assert layer(torch.ones(2, 5, dtype=torch.float64)).shape == (4, 7)


def test_is_differentiable_module() -> None:
    ours, theirs = twin_layers({"in_channels": 2, "out_channels": 4, "kernel_size": 3, "stride": 2})
    x = torch.randn(2, 2, 6)
    ours(x).square().sum().backward()
    theirs(x).square().sum().backward()
    torch.testing.assert_close(ours.weight.grad, theirs.weight.grad, atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(ours.bias.grad, theirs.bias.grad, atol=1e-4, rtol=1e-5)


def test_is_torch_layer_and_runs_the_operator() -> None:
    """Code that looks for torch's layer finds this one (a model-wide initialisation loop), and
    its forward pass is this package's operator."""
    ours, theirs = twin_layers({"in_channels": 2, "out_channels": 4, "kernel_size": 3, "stride": 2})
    model = torch.nn.Sequential(ours, torch.nn.ReLU(), theirs.__class__(4, 2, 3))
    found = [m for m in model.modules() if isinstance(m, torch.nn.ConvTranspose1d)]
    assert found[0] is ours and len(found) == 2
    for layer in found:
        torch.nn.init.zeros_(layer.bias)
    assert not ours.bias.any()
    traced = torch.jit.trace(ours, torch.randn(1, 2, 5))
    assert "convtranspose::conv_transpose1d" in str(traced.graph)


@given(layer_args(), st.integers(3, 9), st.integers(0, 2**16))
def test_spectral_norm_treats_it_as_torchs_layer(args: dict, length: int, seed: int) -> None:
    """Both spectral norms pick ``dim=1`` for a transposed convolution (its output channels);
    with the same random start they give torch's layer's output."""
    smallest = (length - 1) * args["stride"] + args["dilation"] * (args["kernel_size"] - 1) + 1
    assume(smallest + args["output_padding"] - 2 * args["padding"] >= 1)
    x = torch.randn(2, args["in_channels"], length)
    for spectral_norm in (
        torch.nn.utils.spectral_norm,
        torch.nn.utils.parametrizations.spectral_norm,
    ):
        outputs = []
        for layer in twin_layers(args, seed):
            torch.manual_seed(seed)
            normed = spectral_norm(layer)
            outputs.append(normed(x))
        torch.testing.assert_close(outputs[0], outputs[1], atol=1e-5, rtol=1e-5)
    ours, _ = twin_layers(args, seed)
    u = torch.nn.utils.spectral_norm(ours).weight_u
    assert u.shape == (args["out_channels"] // args["groups"],)  # dim=1 of the weight


@given(layer_args(), st.integers(3, 9))
def test_weight_norm_and_parametrize(args: dict, length: int) -> None:
    """Parametrized weights (torch's weight norm, and a parametrization of one's own) give
    torch's outputs and gradients."""
    smallest = (length - 1) * args["stride"] + args["dilation"] * (args["kernel_size"] - 1) + 1
    assume(smallest + args["output_padding"] - 2 * args["padding"] >= 1)
    x = torch.randn(2, args["in_channels"], length)

    class Halved(torch.nn.Module):
        def forward(self, weight: torch.Tensor) -> torch.Tensor:
            return weight / 2

    parametrizations = {
        "weight_norm": lambda layer: torch.nn.utils.parametrizations.weight_norm(layer, dim=1),
        "own": lambda layer: torch.nn.utils.parametrize.register_parametrization(
            layer, "weight", Halved()
        ),
    }
    for name, parametrize in parametrizations.items():
        layers = [parametrize(layer) for layer in twin_layers(args)]
        outputs = [layer(x) for layer in layers]
        torch.testing.assert_close(outputs[0], outputs[1], atol=1e-5, rtol=1e-5, msg=name)
        grads = [
            torch.autograd.grad(y.sin().sum(), list(layer.parameters()))
            for y, layer in zip(outputs, layers, strict=True)
        ]
        torch.testing.assert_close(grads[0], grads[1], atol=1e-4, rtol=1e-4, msg=name)


@given(layer_args(), st.integers(3, 9))
def test_state_dict_round_trip_with_torchs_layer(args: dict, length: int) -> None:
    """Each layer loads the other's state strictly (same keys and shapes) and then computes
    what the layer it came from computes."""
    smallest = (length - 1) * args["stride"] + args["dilation"] * (args["kernel_size"] - 1) + 1
    assume(smallest + args["output_padding"] - 2 * args["padding"] >= 1)
    ours, theirs = twin_layers(args, seed=1)
    torch.manual_seed(2)
    donor_theirs, donor_ours = torch.nn.ConvTranspose1d(**args), ConvTranspose1d(**args)
    ours.load_state_dict(donor_theirs.state_dict())
    theirs.load_state_dict(donor_ours.state_dict())
    x = torch.randn(1, args["in_channels"], length)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), donor_theirs(x), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(theirs(x), donor_ours(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"padding_mode": "reflect"}, r'Only "zeros" padding mode'),
        ({"groups": 0}, "groups must be a positive integer"),
        ({"groups": 4}, "in_channels must be divisible by groups"),
        ({"in_channels": 4, "groups": 4, "out_channels": 6}, "out_channels must be divisible"),
    ],
)
def test_constructor_rejects_like_torch(kwargs: dict, pattern: str) -> None:
    args = {"in_channels": 2, "out_channels": 4, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=pattern):
        ConvTranspose1d(**args)
    with pytest.raises(ValueError):
        torch.nn.ConvTranspose1d(**args)


@given(
    length=st.integers(1, 50),
    kernel_size=st.integers(1, 9),
    stride=st.integers(1, 6),
    padding=st.integers(0, 6),
    dilation=st.integers(1, 4),
    data=st.data(),
)
def test_output_length_matches_torch(length, kernel_size, stride, padding, dilation, data) -> None:
    output_padding = data.draw(st.integers(0, max(stride, dilation) - 1))
    args = (length, kernel_size, stride, padding, output_padding, dilation)
    expected = (
        (length - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    )
    if expected < 1:
        with pytest.raises(ValueError, match="not positive"):
            output_length(*args)
        return
    assert output_length(*args) == expected
    out = torch.nn.functional.conv_transpose1d(
        torch.zeros(1, 1, length), torch.zeros(1, 1, kernel_size), None, stride, padding,
        output_padding, 1, dilation,
    )  # fmt: skip
    assert out.shape[-1] == expected


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"stride": 0}, "stride must be >= 1"),
        ({"padding": -1}, "padding must be >= 0"),
        ({"output_padding": 2, "stride": 2}, "smaller than max"),
        ({"kernel_size": 0}, "kernel_size must be >= 1"),
    ],
)
def test_output_length_rejects_bad_arguments(kwargs: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        output_length(**{"length": 4, "kernel_size": 3, **kwargs})


def test_dispatch_runs_cpu_tensors_on_the_cpu_implementation() -> None:
    x, w = torch.randn(1, 2, 5), torch.randn(2, 3, 3)
    assert torch.equal(
        convtranspose.conv_transpose1d(x, w), convtranspose.cpu.conv_transpose1d(x, w)
    )
