"""The frequency view (chapters 15 and 16): spectra of zero insertion and filtering, a
kernel's response with the image frequencies marked, and spectrograms.

Each function keeps what it drew on the figure (``fig.spectra``, ``fig.response``,
``fig.marks``, ``fig.spectrograms``) so tests can check it against the package.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import Tensor

from ..audio import spectrogram
from ..spectral import frequency_response, image_frequencies, image_response, insert_zeros

__all__ = ["draw_insertion_spectra", "draw_response", "draw_spectrograms"]


POINTS = 1024  # frequencies drawn: the DTFT sampled on one grid for every panel


def _magnitude(signal: Tensor) -> tuple[Tensor, Tensor]:
    """``(omega, X)`` at ``POINTS`` frequencies over ``[0, 2*pi)`` of a 1-d signal."""
    return frequency_response(signal, POINTS)


def draw_insertion_spectra(signal: Tensor, kernel: Tensor, stride: int, padding: int = 0) -> Figure:
    """Three magnitude spectra one above the other: ``signal``, ``signal`` with ``stride - 1``
    zeros inserted (its images at ``2*pi*j/stride`` marked), and the transposed convolution's
    output (insertion filtered by ``kernel``). ``fig.spectra`` maps each title to
    ``(omega, magnitude)`` on one grid of ``POINTS`` frequencies (padding 0: the output's
    spectrum is then exactly the inserted one times ``|W|``); ``fig.signals`` maps each title
    to the signal it is of."""
    x = signal.reshape(-1).double()
    w = kernel.reshape(1, 1, -1).double()
    signals = {
        "input": x,
        f"{stride - 1} zeros inserted": insert_zeros(x, stride),
        "filtered by the kernel": F.conv_transpose1d(
            x.reshape(1, 1, -1), w, stride=stride, padding=padding
        ).reshape(-1),
    }
    fig, axes = plt.subplots(3, 1, figsize=(7, 6), sharex=True)
    fig.signals, fig.spectra = signals, {}
    for ax, (title, values) in zip(axes, signals.items(), strict=True):
        omega, response = _magnitude(values)
        fig.spectra[title] = (omega, response.abs())
        ax.plot(omega, response.abs(), color="#3d85c6")
        for centre in image_frequencies(stride):
            ax.axvline(centre, color="#e69138", linestyle=":", linewidth=1)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("|spectrum|")
    axes[-1].set_xticks([j * math.pi / 2 for j in range(5)], ["0", "π/2", "π", "3π/2", "2π"])
    axes[-1].set_xlabel("frequency ω (radians per sample); dotted: 2πj/stride")
    fig.tight_layout()
    return fig


def draw_response(kernels: Mapping[str, Tensor], stride: int, dilation: int = 1) -> Figure:
    """``|W(omega)|`` of each kernel on ``[0, 2*pi)``, with the image frequencies
    ``2*pi*j/stride`` marked: a filled dot where the response vanishes there (no
    checkerboard), a cross where it does not. ``fig.response`` maps each name to
    ``(omega, |W|)``, ``fig.marks`` to the list of ``|W|`` at the image frequencies."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    fig.response, fig.marks = {}, {}
    for name, kernel in kernels.items():
        omega, response = frequency_response(kernel, 512)
        (line,) = ax.plot(omega, response.abs(), label=name)
        at = image_response(kernel, stride, dilation).abs()
        fig.response[name], fig.marks[name] = (omega, response.abs()), at.tolist()
        scale = float(torch.as_tensor(kernel).abs().sum()) or 1.0
        for centre, value in zip(image_frequencies(stride), at.tolist(), strict=True):
            zero = value <= 1e-9 * scale
            ax.plot(centre, value, "o" if zero else "x", color=line.get_color(), markersize=7)
    for centre in image_frequencies(stride):
        ax.axvline(centre, color="#999999", linestyle=":", linewidth=1)
    ax.set_xticks([j * math.pi / 2 for j in range(5)], ["0", "π/2", "π", "3π/2", "2π"])
    ax.set_xlabel(f"ω; dotted: 2πj/{stride}, dot = zero there, cross = not")
    ax.set_ylabel("|W(ω)|")
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def draw_spectrograms(
    signals: Mapping[str, Tensor], sample_rate: int, marks: list[float] = ()
) -> Figure:
    """One spectrogram per signal (dB, :func:`~convtranspose.audio.spectrogram`), at most
    three to a row (so the figure fits the text column), with dashed lines at ``marks``
    (Hz). ``fig.spectrograms`` maps each title to the array drawn."""
    n_cols = min(3, len(signals))
    n_rows = -(-len(signals) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.4 * n_cols, 2.3 * n_rows), squeeze=False)
    for ax in axes.flat[len(signals) :]:
        ax.axis("off")
    fig.spectrograms = {}
    for ax, (title, signal) in zip(axes.flat, signals.items(), strict=False):
        power = spectrogram(signal.detach().reshape(-1).float())
        fig.spectrograms[title] = power
        seconds = signal.numel() / sample_rate
        ax.imshow(
            power.numpy(),
            origin="lower",
            aspect="auto",
            cmap="magma",
            vmin=-80,
            vmax=30,
            extent=(0, seconds, 0, sample_rate / 2),
        )
        for hz in marks:
            ax.axhline(hz, color="#6fa8dc", linestyle="--", linewidth=0.8)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("s")
    for row in axes:
        row[0].set_ylabel("Hz")
    fig.tight_layout()
    return fig
