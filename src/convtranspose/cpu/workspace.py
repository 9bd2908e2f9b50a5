"""The workspace model: the elements of the intermediate tensors each CPU algorithm holds
at its peak besides its output, computed from the code (chapter 11 compares them)."""

from __future__ import annotations

from ..shapes import kernel_span, rows_of, stamp_span, subpixel_rows, transposed_length
from .registry import NAMES
from .torch_calls import torch_runs_onednn, whole_strides

__all__ = ["workspace_elements"]


def workspace_elements(
    name: str,
    batch: int,
    in_channels: int,
    out_channels: int,
    length: int,
    kernel_size: int,
    stride: int = 1,
    dilation: int = 1,
    groups: int = 1,
    *,
    padding: int = 0,
    output_padding: int = 0,
) -> int:
    """Elements of the intermediate tensors ``name`` holds at its peak besides its output
    (computed from the code, not measured; for scatter and GEMM + overlap-add the stamps and
    the uncropped output they are added into, alive together): the memory an algorithm needs
    on top of torch's answer. Multiply by the element size for bytes. (Only ``aten_aligned``
    and ``native`` depend on ``padding`` and ``output_padding``.)"""
    n, c_in, c_out, length, k, s, d = (
        batch, in_channels, out_channels, length, kernel_size, stride, dilation,
    )  # fmt: skip
    if name == "aten_aligned":  # torch's op on a longer input and output, then the crop
        out_len = transposed_length(length, k, s, padding, output_padding, d)
        if out_len % s == 0:  # nothing to align: torch's op as asked
            return workspace_elements("aten", n, c_in, c_out, length, k, s, d, groups)
        zeros, _ = whole_strides(out_len, s, output_padding)
        padded_input = n * c_in * (length + zeros) if zeros else 0
        whole_output = n * c_out * rows_of(out_len, s) * s
        torch_op = workspace_elements("aten", n, c_in, c_out, length + zeros, k, s, d, groups)
        return torch_op + padded_input + whole_output
    stamps = n * c_out * k * length  # one product per (input element, tap, output channel)
    full = n * c_out * stamp_span(length, k, s, d)  # the uncropped output
    rows = subpixel_rows(k, s, d)
    if name == "gemm_overlap_add" and c_in == groups:
        rows = rows_of(stamp_span(length, k, s, d), s)
        return n * c_out * s * rows  # the phase-major output (about the uncropped one)
    if name in ("scatter", "gemm_overlap_add"):
        return stamps + (0 if (name == "gemm_overlap_add" and k == s and d == 1) else full)
    if name == "zero_insertion":
        return n * c_in * (stamp_span(length, 1, s) + 2 * (kernel_span(k, d) - 1))
    if name == "polyphase":
        return full + n * c_out * (length + (k - 1) * d)  # + one phase's result at a time
    if name == "native":  # its packed copy of the weight, made when the weight serves at least
        # 512 positions (batch x outputs per phase); a few KiB of buffer per thread aside
        out_len = transposed_length(length, k, s, padding, output_padding, d)
        per_phase = (out_len - 1 + padding) // s - padding // s + 1
        return c_in * (c_out // groups) * k if n * per_phase >= 512 else 0
    if name == "onednn":
        return 0  # oneDNN's scratch memory is its own, not counted here
    if name == "aten":  # torch's op: its col2im columns on its native path, else oneDNN's own
        return 0 if torch_runs_onednn(n, c_in, length, groups) else c_out * k * length
    if name == "subpixel":  # the stacked phase kernels (a copy of the whole weight, every
        # call), and the convolution's result, interleaved
        return c_in * (c_out // groups) * s * rows + 2 * n * c_out * s * (length + rows - 1)
    raise ValueError(f"unknown algorithm {name!r}; expected one of {sorted(NAMES)}")
