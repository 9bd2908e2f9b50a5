"""Chapter 16's package code: synthetic audio, the upsamplers, WAV players, the figures."""

from __future__ import annotations

import base64
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from convtranspose.audio import (
    UPSAMPLERS,
    Upsampler,
    audio_html,
    band_energy,
    read_wav,
    spectrogram,
    synthetic_audio,
    train,
    wav_bytes,
    wav_data_uri,
)
from convtranspose.diagrams import draw_insertion_spectra, draw_response, draw_spectrograms
from convtranspose.spectral import checkerboard_free, frequency_response, image_response


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@given(
    st.lists(st.integers(-32767, 32767), min_size=1, max_size=200), st.sampled_from([8000, 16000])
)
def test_wav_round_trips(samples, rate) -> None:
    signal = torch.tensor(samples, dtype=torch.float64) / 32767
    back, back_rate = read_wav(wav_bytes(signal, rate))
    assert back_rate == rate
    assert torch.equal(back, signal)


def test_wav_data_uri_and_player_carry_the_file() -> None:
    signal = torch.sin(torch.arange(800) / 5.0)
    uri = wav_data_uri(signal, 8000)
    assert uri.startswith("data:audio/wav;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == wav_bytes(signal, 8000)
    html = audio_html(signal, 8000, "a <tone>").data
    assert f'src="{uri}"' in html and "<audio controls" in html and "a &lt;tone&gt;" in html
    assert "http" not in html  # nothing fetched
    with pytest.raises(ValueError, match="1-dimensional"):
        wav_bytes(signal[None], 8000)


def test_synthetic_audio_is_band_limited_and_seeded() -> None:
    audio = synthetic_audio(1.0, 8000, cutoff=1000.0, seed=3)
    assert audio.shape == (8000,) and audio.dtype == torch.float32
    assert math.isclose(audio.abs().max().item(), 0.9, rel_tol=1e-6)
    assert band_energy(audio, 8000, [2500.0], 1490.0) < 1e-12  # 1010 Hz .. 3990 Hz: nothing
    assert torch.equal(audio, synthetic_audio(1.0, 8000, cutoff=1000.0, seed=3))
    assert not torch.equal(audio, synthetic_audio(1.0, 8000, cutoff=1000.0, seed=4))


def test_band_energy_finds_a_tone() -> None:
    t = torch.arange(8000) / 8000
    signal = torch.sin(2 * math.pi * 1000 * t) + 0.1 * torch.sin(2 * math.pi * 3000 * t)
    assert math.isclose(band_energy(signal, 8000, [3000.0], 5.0), 0.01 / 1.01, rel_tol=1e-4)


@pytest.mark.parametrize("kind", UPSAMPLERS)
@pytest.mark.parametrize("stride", [2, 4])
def test_upsamplers_shapes_and_init(kind, stride) -> None:
    torch.manual_seed(0)
    model = Upsampler(kind, stride, channels=4)
    x = torch.randn(2, 1, 50)
    assert model(x).shape == (2, 1, 50 * stride)
    hidden = torch.full((1, 4, 40), 0.5)  # a constant: the ReLU's mean, say
    middle = model.upsample(hidden)[0, :, 3 * stride : -3 * stride]
    constant = torch.allclose(middle, middle[:, :1].expand_as(middle), atol=1e-6)
    if kind.startswith("transposed"):  # random kernels: unequal phase sums, a ripple
        assert not constant
    else:  # resize-conv and ICNR: constant in, constant out (chapter 15's condition)
        assert constant


def test_upsampler_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        Upsampler("sinc")
    with pytest.raises(ValueError, match="stride must be even"):
        Upsampler(UPSAMPLERS[0], 3)


def test_training_lowers_the_loss() -> None:
    torch.manual_seed(0)
    audio = synthetic_audio(1.0, 8000, cutoff=900.0)
    model = Upsampler(UPSAMPLERS[3], 4, channels=4)
    losses = train(model, audio, steps=30, crop=512, batch=4)
    assert sum(losses[-5:]) < 0.5 * sum(losses[:5])


def test_insertion_spectra_figure() -> None:
    x = torch.randn(16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    w = torch.tensor([1.0, 2.0, 1.0])
    fig = draw_insertion_spectra(x, w, stride=2)
    spectra = list(fig.spectra.values())
    # the inserted spectrum at omega is the input's at 2*omega: the input's, twice over
    n = spectra[0][1].numel()
    assert torch.allclose(spectra[1][1], spectra[0][1][(2 * torch.arange(n)) % n], atol=1e-9)
    # filtering multiplies it by the kernel's response
    response = frequency_response(w, n)[1].abs()
    assert torch.allclose(spectra[2][1], spectra[1][1] * response, atol=1e-9)
    out = F.conv_transpose1d(x.reshape(1, 1, -1), w.double().reshape(1, 1, -1), stride=2)
    assert torch.allclose(fig.signals["filtered by the kernel"], out.reshape(-1))
    assert torch.allclose(spectra[2][1], torch.fft.fft(out.reshape(-1), n).abs())


def test_response_figure_marks_zeros() -> None:
    kernels = {"K=3": torch.ones(3), "K=4": torch.ones(4)}
    fig = draw_response(kernels, stride=2)
    assert fig.marks["K=4"] == pytest.approx([0.0], abs=1e-12)
    assert fig.marks["K=3"] == pytest.approx([1.0])
    for name, kernel in kernels.items():
        assert torch.allclose(fig.response[name][1], frequency_response(kernel, 512)[1].abs())
        assert torch.allclose(
            torch.tensor(fig.marks[name], dtype=torch.float64), image_response(kernel, 2).abs()
        )
        assert checkerboard_free(kernel, 2) == (max(fig.marks[name]) < 1e-9)


def test_spectrogram_figure() -> None:
    t = torch.arange(4000) / 8000
    tone = torch.sin(2 * math.pi * 1000 * t)
    fig = draw_spectrograms({"tone": tone}, 8000, marks=[2000.0])
    power = fig.spectrograms["tone"]
    assert torch.equal(power, spectrogram(tone))
    assert power.shape[0] == 129
    assert int(power[:, 10].argmax()) == 32  # 1000 Hz is bin 1000 / (8000 / 256)
