"""A learned upsampler you can hear (chapter 16): synthetic audio, four tiny x-stride
upsamplers, their artifact energy, and WAV players that carry their sound inline.

The audio is made here (no download): harmonic tones, chirps and noise bursts, all kept
below the low rate's Nyquist frequency, so the low-rate input is an exact subsampling of
the target and everything an upsampler puts above that frequency is an artifact. Each
model is ``conv -> ReLU -> upsample by stride -> ReLU -> conv``; only the upsampling layer
differs (:data:`UPSAMPLERS`). The ReLU gives the hidden features a mean, and a mean is a
constant input: chapter 15's condition says where the upsampler turns it into tones.
"""

from __future__ import annotations

import base64
import io
import math
import wave

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .coverage import resize_convolution
from .module import ConvTranspose1d
from .shapes import checked_sizes
from .spectral import icnr_, pixel_shuffle1d

__all__ = [
    "UPSAMPLERS",
    "Upsampler",
    "audio_html",
    "band_energy",
    "read_wav",
    "spectrogram",
    "synthetic_audio",
    "train",
    "wav_bytes",
    "wav_data_uri",
]

#: The four upsampling layers of :class:`Upsampler`, by name.
UPSAMPLERS = (
    "transposed, K multiple of s",
    "transposed, K not a multiple",
    "resize-conv",
    "sub-pixel + ICNR",
)


def _band_limit(signal: Tensor, sample_rate: int, cutoff: float) -> Tensor:
    """Zero every Fourier coefficient above ``cutoff`` Hz (exactly band-limited, periodic)."""
    spectrum = torch.fft.rfft(signal)
    hz = torch.fft.rfftfreq(signal.shape[-1], 1 / sample_rate)
    return torch.fft.irfft(spectrum * (hz <= cutoff), signal.shape[-1])


def synthetic_audio(seconds: float, sample_rate: int, cutoff: float, seed: int = 0) -> Tensor:
    """A float32 signal of ``seconds`` at ``sample_rate``, peak 0.9, with no energy above
    ``cutoff`` Hz: one-second-or-shorter notes, each a harmonic tone (a few partials with
    falling amplitudes), a chirp sweeping across the band, or a burst of noise."""
    generator = torch.Generator().manual_seed(seed)
    n = int(seconds * sample_rate)
    t = torch.arange(n, dtype=torch.float64) / sample_rate
    out = torch.zeros(n, dtype=torch.float64)
    note, start = 0.5, 0.0
    kinds = ["tone", "chirp", "noise"]
    while start < seconds:
        kind = kinds[int(torch.randint(3, (1,), generator=generator))]
        local = t - start
        envelope = ((local >= 0) & (local < note)).double() * torch.sin(
            math.pi * local.clamp(0, note) / note
        )
        if kind == "tone":
            f0 = 110 * 2 ** (float(torch.rand(1, generator=generator)) * 2)  # 110-440 Hz
            partials = [h for h in range(1, 8) if h * f0 < cutoff]
            voice = sum(torch.sin(2 * math.pi * h * f0 * local) / h for h in partials)
        elif kind == "chirp":
            low, high = 100.0, 0.9 * cutoff
            rate = (high - low) / note
            voice = torch.sin(2 * math.pi * (low * local + rate * local**2 / 2))
        else:
            voice = torch.randn(n, generator=generator, dtype=torch.float64)
        out += envelope * voice
        start += note
    out = _band_limit(out, sample_rate, cutoff)
    return (0.9 * out / out.abs().max()).float()


class Upsampler(nn.Module):
    """``conv(1->C, 9) -> ReLU -> upsample x stride (C->C) -> ReLU -> conv(C->1, 9)``, with
    the upsampling layer one of :data:`UPSAMPLERS`: a transposed convolution with kernel
    ``2*stride`` or ``2*stride - 1``, nearest repetition then ``conv1d`` of kernel 3, or a
    ``conv1d`` to ``C*stride`` channels then :func:`~convtranspose.spectral.pixel_shuffle1d`, ICNR-initialised.
    Input ``(N, 1, L)``, output ``(N, 1, L*stride)``."""

    def __init__(self, kind: str, stride: int = 4, channels: int = 8):
        super().__init__()
        if kind not in UPSAMPLERS:
            raise ValueError(f"kind must be one of {UPSAMPLERS}, got {kind!r}")
        self.kind, self.stride = kind, checked_sizes(stride=stride)["stride"]
        if self.stride % 2:
            raise ValueError(
                f"stride must be even (the output is then exactly L*stride), got {stride}"
            )
        s, c = self.stride, channels
        self.encode = nn.Conv1d(1, c, 9, padding=4)
        self.decode = nn.Conv1d(c, 1, 9, padding=4)
        if kind == "transposed, K multiple of s":  # 2s taps, output exactly L*s long
            self.up = ConvTranspose1d(c, c, 2 * s, stride=s, padding=s // 2)
        elif kind == "transposed, K not a multiple":  # 2s - 1 taps; output_padding fills L*s
            self.up = ConvTranspose1d(c, c, 2 * s - 1, stride=s, padding=s // 2, output_padding=1)
        elif kind == "resize-conv":
            self.up = nn.Conv1d(c, c, 3, padding=1)
        else:
            self.up = nn.Conv1d(c, c * s, 3, padding=1)
            icnr_(self.up.weight, s)
            with torch.no_grad():  # one bias per channel, not per phase: a constant stays one
                self.up.bias.copy_(self.up.bias[::s].repeat_interleave(s))

    def upsample(self, hidden: Tensor) -> Tensor:
        """The upsampling layer alone, on ``(N, C, L)`` features."""
        if self.kind == "resize-conv":
            return resize_convolution(hidden, self.up.weight, self.up.bias, self.stride, 1)
        if self.kind == "sub-pixel + ICNR":
            return pixel_shuffle1d(self.up(hidden), self.stride)
        return self.up(hidden)

    def forward(self, input: Tensor) -> Tensor:
        return self.decode(F.relu(self.upsample(F.relu(self.encode(input)))))


def train(
    model: Upsampler, target: Tensor, steps: int, crop: int = 2048, batch: int = 8, seed: int = 0
) -> list[float]:
    """Adam on the mean squared error between ``model(target[::stride])`` and ``target``, on
    random crops of ``crop`` target samples; returns the losses (seeded: same on one machine)."""
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    s, losses = model.stride, []
    for _ in range(steps):
        starts = torch.randint(0, (target.shape[-1] - crop) // s, (batch,), generator=generator)
        y = torch.stack([target[int(i) * s : int(i) * s + crop] for i in starts])[:, None]
        loss = F.mse_loss(model(y[..., ::s]), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return losses


def band_energy(signal: Tensor, sample_rate: int, centres: list[float], width: float) -> float:
    """The fraction of ``signal``'s energy within ``width`` Hz of any of ``centres`` (Hz)."""
    power = torch.fft.rfft(signal.double()).abs() ** 2
    hz = torch.fft.rfftfreq(signal.shape[-1], 1 / sample_rate)
    near = torch.zeros_like(hz, dtype=torch.bool)
    for centre in centres:
        near |= (hz - centre).abs() <= width
    return float(power[near].sum() / power.sum())


def spectrogram(signal: Tensor, n_fft: int = 256) -> Tensor:
    """Power in decibels, ``(n_fft // 2 + 1, frames)``, from a Hann-windowed STFT."""
    window = torch.hann_window(n_fft, dtype=signal.dtype)
    stft = torch.stft(signal, n_fft, hop_length=n_fft // 4, window=window, return_complex=True)
    return 10 * torch.log10(stft.abs() ** 2 + 1e-10)


def wav_bytes(signal: Tensor, sample_rate: int) -> bytes:
    """A mono 16-bit PCM WAV file of ``signal`` (values in ``[-1, 1]``, clipped)."""
    if signal.dim() != 1:
        raise ValueError(f"signal must be 1-dimensional, got shape {list(signal.shape)}")
    pcm = (signal.detach().double().clamp(-1, 1) * 32767).round().to(torch.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.numpy().astype("<i2").tobytes())
    return buffer.getvalue()


def read_wav(data: bytes) -> tuple[Tensor, int]:
    """``(signal, sample_rate)`` from the bytes of a mono 16-bit WAV file."""
    with wave.open(io.BytesIO(data), "rb") as file:
        if file.getnchannels() != 1 or file.getsampwidth() != 2:
            raise ValueError("read_wav reads mono 16-bit PCM only")
        frames = file.readframes(file.getnframes())
        rate = file.getframerate()
    pcm = torch.frombuffer(bytearray(frames), dtype=torch.int16)
    return pcm.double() / 32767, rate


def wav_data_uri(signal: Tensor, sample_rate: int) -> str:
    """``data:audio/wav;base64,...``: the WAV file inline, for an ``<audio>`` element."""
    return "data:audio/wav;base64," + base64.b64encode(wav_bytes(signal, sample_rate)).decode()


def audio_html(signal: Tensor, sample_rate: int, label: str = ""):
    """An IPython HTML object: ``label`` and an ``<audio controls>`` element whose source is
    the WAV inline, so it plays offline and on the published site (nothing is fetched)."""
    from html import escape

    from IPython.display import HTML

    uri = wav_data_uri(signal, sample_rate)
    return HTML(f'<p>{escape(label)}</p><audio controls preload="none" src="{uri}"></audio>')
