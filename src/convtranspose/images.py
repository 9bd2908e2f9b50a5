"""A photograph to upsample, and a number for the checkerboard it comes out with (chapter 13).

:func:`sample_photo` reads the portrait matplotlib ships with its sample data (no download)
as a grey-scale tensor. :func:`phase_means` measures the 2-d checkerboard: the mean of each
of the ``stride x stride`` output phases (pixels ``[r::stride, c::stride]``) relative to the
mean of all pixels. An upsampler without a checkerboard gives every phase the same share
of the brightness (all ones); uneven coverage or unequal phase sums of the kernel show up
as a tile of different numbers.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import cbook
from matplotlib import image as mpimg
from torch import Tensor

from .arguments import integer

__all__ = ["phase_means", "sample_photo"]


def sample_photo(size: int = 96) -> Tensor:
    """matplotlib's sample portrait (``grace_hopper.jpg``) as a ``(size, size)`` float64
    tensor of grey levels in ``[0, 1]``: the channels averaged, the largest centred square
    cut out and averaged down to ``size`` pixels a side."""
    size = integer(size, "size")
    if size < 2:
        raise ValueError(f"size must be >= 2, got {size}")
    rgb = torch.from_numpy(np.array(mpimg.imread(cbook.get_sample_data("grace_hopper.jpg"))))
    grey = rgb[..., :3].double().mean(dim=-1) / 255.0
    height, width = grey.shape
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = grey[top : top + side, left : left + side]
    return F.adaptive_avg_pool2d(square[None, None], size)[0, 0]


def phase_means(image: Tensor, stride: int) -> list[list[float]]:
    """Mean of the pixels ``image[r::stride, c::stride]`` over the mean of the whole image,
    for every phase ``(r, c)``: a ``stride x stride`` table, all ones when every phase is
    equally bright. ``image`` is 2-d (height, width), each side a multiple of ``stride``."""
    stride = integer(stride, "stride")
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    if image.dim() != 2 or image.shape[0] % stride or image.shape[1] % stride:
        raise ValueError(
            f"image must be 2-d with sides that are multiples of stride={stride}, "
            f"got shape {list(image.shape)}"
        )
    total = image.double().mean()
    return [
        [(image[r::stride, c::stride].double().mean() / total).item() for c in range(stride)]
        for r in range(stride)
    ]
