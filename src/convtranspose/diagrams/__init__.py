"""The book's figures, drawn with matplotlib from descriptions of cases.

Every figure is built from a case description (:class:`TransposedCase`,
:class:`ConvCase`) that computes, in plain Python, where each value lands; the
figure functions return a matplotlib Figure that carries what it drew as
``fig.drawing`` (see :mod:`.grid`), so the tests check each figure's content
against torch. Nothing here calls ``plt.show()``: the notebooks do.

One module per area; each adds one import line here.
"""

from .algorithms import draw_gather, draw_gemm_overlap_add, draw_polyphase, draw_zero_insertion
from .benchmark import draw_algorithm_map, draw_speedups, draw_throughput, draw_training
from .case import ConvCase, Stamp, TransposedCase, Window
from .checkerboard import draw_coverage, draw_coverage_2d, draw_signals
from .grid import STYLES, Cell, Drawing, fmt, render
from .kernel import Program, draw_programs, programs
from .matrix import draw_matrix_pair, matrix_labels
from .signature import (
    draw_channel_stamps,
    draw_dilated_kernels,
    draw_length_ambiguity,
    draw_output_padding_choices,
    draw_weight_blocks,
)
from .spectra import draw_insertion_spectra, draw_response, draw_spectrograms
from .stamps import describe, draw_crop, draw_sliding_window, draw_stamps

__all__ = [
    "STYLES",
    "Cell",
    "ConvCase",
    "Drawing",
    "Program",
    "Stamp",
    "TransposedCase",
    "Window",
    "describe",
    "draw_algorithm_map",
    "draw_channel_stamps",
    "draw_coverage",
    "draw_coverage_2d",
    "draw_crop",
    "draw_dilated_kernels",
    "draw_gather",
    "draw_gemm_overlap_add",
    "draw_length_ambiguity",
    "draw_matrix_pair",
    "draw_output_padding_choices",
    "draw_polyphase",
    "draw_programs",
    "draw_signals",
    "draw_sliding_window",
    "draw_speedups",
    "draw_stamps",
    "draw_throughput",
    "draw_training",
    "draw_weight_blocks",
    "draw_zero_insertion",
    "fmt",
    "matrix_labels",
    "programs",
    "render",
]

# Part V (chapter 13): 2-d stamps, the crop per axis, upsampled photographs.
from .two_d import draw_crop_2d, draw_stamps_2d, draw_upsampled

__all__ += ["draw_crop_2d", "draw_stamps_2d", "draw_upsampled"]

# Part V (chapters 15 and 16): the frequency view and the audio upsampler.

__all__ += ["draw_insertion_spectra", "draw_response", "draw_spectrograms"]
