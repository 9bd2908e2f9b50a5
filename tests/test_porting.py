"""The ports to torch against re-implementations of Keras's and JAX's documented semantics."""

from __future__ import annotations

import itertools

import pytest
import torch

from convtranspose.porting import (
    from_jax,
    from_keras,
    jax_conv_transpose1d,
    jax_padding,
    keras_conv_transpose1d,
    keras_output_length,
)

GRID = list(itertools.product(range(1, 6), range(1, 5), range(1, 3), (1, 2, 5)))


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_keras_port_matches_its_definition(padding: str) -> None:
    gen = torch.Generator().manual_seed(0)
    for k, s, d, length in GRID:
        x = torch.randn(2, 3, length, generator=gen, dtype=torch.float64)
        kernel = torch.randn(k, 4, 3, generator=gen, dtype=torch.float64)  # (K, C_out, C_in)
        expected = keras_conv_transpose1d(x, kernel, s, padding, d)
        assert expected.shape == (2, 4, keras_output_length(length, k, s, padding, d))
        torch.testing.assert_close(from_keras(x, kernel, s, padding, d), expected)


@pytest.mark.parametrize("padding", ["SAME", "VALID", (1, 2), (0, 3), (2, 0)])
@pytest.mark.parametrize("transpose_kernel", [False, True])
def test_jax_port_matches_its_definition(padding, transpose_kernel: bool) -> None:
    gen = torch.Generator().manual_seed(1)
    for k, s, d, length in GRID:
        x = torch.randn(2, 3, length, generator=gen, dtype=torch.float64)
        shape = (k, 4, 3) if transpose_kernel else (k, 3, 4)
        kernel = torch.randn(shape, generator=gen, dtype=torch.float64)
        low, high = jax_padding(k, s, padding, d) if isinstance(padding, str) else padding
        if (length - 1) * s + 1 + low + high < d * (k - 1) + 1:
            continue  # explicit padding too small for one output: lax rejects it too
        expected = jax_conv_transpose1d(x, kernel, s, padding, d, transpose_kernel)
        torch.testing.assert_close(from_jax(x, kernel, s, padding, d, transpose_kernel), expected)


def test_keras_is_jax_with_transpose_kernel() -> None:
    """Keras's kernel layout and "same"/"valid" give what lax.conv_transpose gives with
    transpose_kernel=True and the same padding name: the two documented semantics agree."""
    gen = torch.Generator().manual_seed(2)
    for (k, s, d, length), padding in itertools.product(GRID, ["same", "valid"]):
        x = torch.randn(1, 2, length, generator=gen, dtype=torch.float64)
        kernel = torch.randn(k, 3, 2, generator=gen, dtype=torch.float64)
        torch.testing.assert_close(
            jax_conv_transpose1d(x, kernel, s, padding.upper(), d, transpose_kernel=True),
            keras_conv_transpose1d(x, kernel, s, padding, d),
        )


def test_same_gives_stride_times_the_length() -> None:
    for k, s, d, length in GRID:
        low, high = jax_padding(k, s, "SAME", d)
        kernel_span = d * (k - 1) + 1
        assert (length - 1) * s + 1 + low + high - kernel_span + 1 == s * length
        assert keras_output_length(length, k, s, "same", d) == s * length


def test_odd_excess_is_cropped_at_the_end_unlike_torchs_padding() -> None:
    """Kernel 3, stride 2: Keras keeps the first 2L samples of the full result, torch's
    padding=1, output_padding=1 the samples from 1 on: one sample apart."""
    x = torch.tensor([[[1.0, 2.0, 3.0]]])
    kernel = torch.tensor([1.0, 10.0, 100.0]).reshape(3, 1, 1)
    full = torch.nn.functional.conv_transpose1d(x, kernel.permute(2, 1, 0), stride=2)
    assert from_keras(x, kernel, 2, "same").tolist() == full[..., :6].tolist()


@pytest.mark.parametrize("padding", ["full", "SAMEISH", 3])
def test_unknown_padding_names_are_rejected(padding) -> None:
    with pytest.raises(ValueError, match="padding must be 'same' or 'valid'"):
        keras_output_length(4, 3, 2, padding)
