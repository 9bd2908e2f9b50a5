"""The Triton kernels behind :mod:`convtranspose.cuda` (imported only when Triton is installed).

Four kernels, all *gathers*: each program owns a block of the tensor it writes, reads
everything that lands on that block, and stores it once. Nothing is ever added to memory
from two programs, so there are no atomics and every run gives bit-identical results.

- :func:`conv_transpose1d_kernel`: the forward pass, ``y = conv_transpose1d(x, w, b)``, one
  output phase per program (its stores are ``stride`` apart);
- :func:`conv_transpose1d_coalesced_kernel`: the same forward pass, every phase of a block
  of positions per program (contiguous stores for unit dilation);
- :func:`conv1d_kernel`: an ordinary convolution, which is the gradient with respect to
  ``x`` (``grad_x = conv1d(grad_y, w)``, the transpose of the transpose);
- :func:`weight_grad_kernel`: the correlation of ``x`` with ``grad_y``, the gradient with
  respect to ``w``.

Non-finite values follow the definition: a product of a masked (absent) element, loaded as
zero, with an ``inf`` or ``nan`` would be ``nan`` (``0 * inf``). Blocks at the edges of the
signal, where such products occur, drop them with :func:`_mac`'s mask *after* the product;
blocks inside it, where every product is real, accumulate with :func:`_mac_fused`
(``tl.dot(a, b, acc)``, which keeps the tensor cores' accumulation in flight).

Triton reads ``TRITON_INTERPRET`` when ``@triton.jit`` runs, that is when this module is
imported: with ``TRITON_INTERPRET=1`` the kernels run on CPU tensors in Triton's
interpreter (numpy), otherwise they are compiled for the GPU. :data:`INTERPRETED` records
which.

Layouts (``x``, ``w``, ``y`` and the gradients are addressed through their strides, so
views work too; the bias, made contiguous by the argument checks, by its index; offsets are
int64 when a tensor's elements reach 2**31 past its first, see
:func:`convtranspose.cuda.launch.address_span`): ``x (N, C_in, L_in)``, ``w (C_in, C_out/G, K)``,
``y (N, C_out, L_out)``, channels of group ``g`` are the contiguous ranges ``g*C_in/G ...``
and ``g*C_out/G ...``.
"""

from __future__ import annotations

import os

import triton
import triton.language as tl

#: True when the kernels below were defined for Triton's interpreter (CPU tensors).
INTERPRETED = os.environ.get("TRITON_INTERPRET", "0") == "1"


@triton.jit
def _mac(acc, a, b, keep, USE_DOT: tl.constexpr, PRECISION: tl.constexpr):
    """``acc + where(keep, a @ b, 0)`` for tiles ``a (M, R)`` and ``b (R, P)``, ``keep``
    broadcastable to ``(M, P)``: the entries of ``a @ b`` that sum real products only.

    ``a @ b`` is computed with ``tl.dot`` when the tiles are big enough (every side >= 16,
    not float64): on tensor cores for float16, bfloat16 and float32 rounded to TF32
    (``PRECISION="tf32"``), as exact fused multiply-adds on CUDA cores for
    ``PRECISION="ieee"``; else as a broadcast multiply and a sum over ``R`` (any tile size,
    any dtype, CUDA cores). Masking after the product, not zeroing an operand, keeps a real
    ``inf`` or ``nan`` out of sums that never contain it (``0 * inf`` is ``nan``): one
    select per accumulator element per step."""
    if USE_DOT:
        part = tl.dot(a, b, input_precision=PRECISION)
    else:
        part = tl.sum(a[:, :, None].to(acc.dtype) * b[None, :, :].to(acc.dtype), axis=1)
    return acc + tl.where(keep, part.to(acc.dtype), 0.0)


@triton.jit
def _mac_fused(acc, a, b, USE_DOT: tl.constexpr, PRECISION: tl.constexpr):
    """``acc + a @ b`` as :func:`_mac` computes it, with no mask: for tiles in which every
    product is real, where ``tl.dot`` accumulates in place (tensor cores' fused add)."""
    if USE_DOT:
        acc = tl.dot(a, b, acc, input_precision=PRECISION)
    else:
        acc += tl.sum(a[:, :, None].to(acc.dtype) * b[None, :, :].to(acc.dtype), axis=1)
    return acc


# fmt: off
@triton.jit
def conv_transpose1d_kernel(
    x_ptr, w_ptr, b_ptr, y_ptr,  # input, weight, bias (any pointer if none), output
    C_IN_G, C_OUT_G,  # input and output channels per group
    L_IN, L_OUT, K, G,  # input and output lengths, kernel size, groups
    STRIDE, PADDING, DILATION,  # the convolution's arguments
    TAP_STEP,  # stride // gcd(stride, dilation): taps of one phase are this far apart
    N_Q_BLOCKS, N_CO_BLOCKS,  # blocks of q per phase, blocks of output channels per group
    sxn, sxc, sxl,  # strides of x (in elements)
    swc, swo, swk,  # strides of w
    syn, syc, syl,  # strides of y
    HAS_BIAS: tl.constexpr,  # add b[co] to every output of channel co
    BLOCK_CO: tl.constexpr,  # output channels per program
    BLOCK_C: tl.constexpr,  # input channels per step of the reduction
    BLOCK_Q: tl.constexpr,  # output positions per program (all of one phase, see below)
    STRIDE_P2: tl.constexpr,  # a power of two >= stride (to search the first tap)
    USE_DOT: tl.constexpr,  # tl.dot (tensor cores) or broadcast-and-sum (CUDA cores)
    PRECISION: tl.constexpr,  # tl.dot's input_precision for float32: "ieee" is exact
    ACC: tl.constexpr,  # accumulator dtype: float32, or float64 for float64 tensors
    INT64: tl.constexpr,  # compute offsets in int64 (a tensor has >= 2**31 elements)
):
    # fmt: on
    """One program computes ``y[n, co_block, t_block]`` for one sample ``n`` and group ``g``.

    Output position ``t`` receives tap ``k`` from input ``i = (t + padding - k*dilation) /
    stride`` when that is an integer in ``[0, L_in)``. Write ``t + padding = q*stride + r``:
    tap ``k`` reaches the outputs of *phase* ``r`` exactly when ``k*dilation % stride == r``,
    and then from input ``i = q - k*dilation // stride``. So a program takes the outputs of
    one phase ``r`` (``t = q*stride + r - padding`` for a block of consecutive ``q``), visits
    only the taps of that phase, and for each adds the matrix product
    ``w[:, co_block, k]^T @ x[n, :, q_block - k*dilation // stride]`` over the group's
    input channels: no multiplication by an inserted zero is ever done.
    """
    # Which block this program owns. Program ids run fastest along q, then phase r, then
    # output-channel block, then (sample, group): one flat grid axis (no 65535 limit).
    pid = tl.program_id(0)
    qb = pid % N_Q_BLOCKS  # block of q within the phase
    rest = pid // N_Q_BLOCKS
    r = rest % STRIDE  # the phase: (t + padding) % stride
    rest = rest // STRIDE
    cob = rest % N_CO_BLOCKS  # block of output channels within the group
    ng = rest // N_CO_BLOCKS
    n = ng // G  # sample
    g = ng % G  # group
    arange_c = tl.arange(0, BLOCK_C)
    if INT64:  # every offset below is then computed in int64, block starts included
        n, g, cob, qb = n.to(tl.int64), g.to(tl.int64), cob.to(tl.int64), qb.to(tl.int64)
        arange_c = arange_c.to(tl.int64)

    offs_co = cob * BLOCK_CO + tl.arange(0, BLOCK_CO)  # output channels (within the group)
    q_first = (PADDING - r + STRIDE - 1) // STRIDE  # first q of phase r with t >= 0
    q = q_first + qb * BLOCK_Q + tl.arange(0, BLOCK_Q)  # consecutive q of phase r
    t = q * STRIDE + r - PADDING  # the output positions this program writes
    co_mask = offs_co < C_OUT_G  # the last channel block may stick out
    t_mask = t < L_OUT  # so may the last position block

    # The taps of phase r: k*dilation % stride == r repeats every TAP_STEP taps, so they are
    # k = first, first + TAP_STEP, ... below K (none when no k < TAP_STEP hits phase r).
    ks = tl.arange(0, STRIDE_P2)
    first = tl.min(tl.where((ks < TAP_STEP) & ((ks * DILATION) % STRIDE == r), ks, K), axis=0)
    n_taps = tl.cdiv(K - first, TAP_STEP)  # 0 when first == K
    n_cb = tl.cdiv(C_IN_G, BLOCK_C)  # steps over the group's input channels per tap

    x_base = x_ptr + n * sxn + (g * C_IN_G) * sxc  # x[n, first channel of group g, 0]
    w_base = w_ptr + (g * C_IN_G) * swc + offs_co[:, None] * swo  # w[group's c, co, 0]
    acc = tl.zeros((BLOCK_CO, BLOCK_Q), dtype=ACC)
    # Inside the signal (every input of every tap of the phase exists) no product involves an
    # absent input: the sum needs no mask and keeps tl.dot's fused accumulation. Blocks at
    # the signal's edges drop the products of absent inputs (see _phase_step).
    q_lo = q_first + qb * BLOCK_Q  # the block's first q
    k_last = first + (n_taps - 1) * TAP_STEP  # the phase's last tap (reads the lowest input)
    inside = (q_lo - (k_last * DILATION) // STRIDE >= 0) & (
        q_lo + BLOCK_Q - 1 - (first * DILATION) // STRIDE < L_IN
    )
    if inside:
        for step in range(0, n_taps * n_cb):  # one loop over (tap, channel block): pipelined
            acc = _phase_step(
                acc, step, n_cb, first, q, t_mask, co_mask, x_base, w_base, arange_c,
                C_IN_G, L_IN, STRIDE, DILATION, TAP_STEP, sxc, sxl, swc, swk,
                BLOCK_C, False, USE_DOT, PRECISION,  # MASKED=False
            )  # fmt: skip
    else:
        for step in range(0, n_taps * n_cb):
            acc = _phase_step(
                acc, step, n_cb, first, q, t_mask, co_mask, x_base, w_base, arange_c,
                C_IN_G, L_IN, STRIDE, DILATION, TAP_STEP, sxc, sxl, swc, swk,
                BLOCK_C, True, USE_DOT, PRECISION,  # MASKED=True
            )  # fmt: skip
    if HAS_BIAS:  # the bias is added once per output, after the sum
        bias = tl.load(b_ptr + g * C_OUT_G + offs_co, mask=co_mask, other=0.0)
        acc += bias.to(ACC)[:, None]
    y_offs = n * syn + (g * C_OUT_G + offs_co)[:, None] * syc + t[None, :] * syl
    tl.store(y_ptr + y_offs, acc.to(y_ptr.dtype.element_ty), mask=co_mask[:, None] & t_mask[None, :])


@triton.jit
def _phase_step(
    acc, step, n_cb,  # the accumulator, this step, channel blocks per tap
    first, q, t_mask, co_mask,  # the phase's first tap, the block's q, masks of t and co
    x_base, w_base, arange_c,  # x[n, group's c, 0], w[group's c, co, 0], 0 .. BLOCK_C-1
    C_IN_G, L_IN, STRIDE, DILATION, TAP_STEP,  # as in the kernel
    sxc, sxl, swc, swk,  # strides of x and w
    BLOCK_C: tl.constexpr,  # input channels per step
    MASKED: tl.constexpr,  # drop the products of absent inputs (edge blocks)
    USE_DOT: tl.constexpr, PRECISION: tl.constexpr,  # as in the kernel
):
    """One step of the per-phase kernel's sum, the ``j``-th tap ``k`` of the phase and one
    block of input channels: ``acc += w[c_block, co_block, k]^T @ x[n, c_block, i]``."""
    j = step // n_cb  # the j-th tap of the phase ...
    k = first + j * TAP_STEP  # ... is tap k
    offs_c = (step - j * n_cb) * BLOCK_C + arange_c  # this step's input channels
    i = q - (k * DILATION) // STRIDE  # the input each output t takes tap k from
    i_mask = (i >= 0) & (i < L_IN) & t_mask  # inputs that exist, outputs we write
    c_mask = offs_c < C_IN_G
    xs = tl.load(  # (BLOCK_C, BLOCK_Q): x[n, c, i]
        x_base + offs_c[:, None] * sxc + i[None, :] * sxl,
        mask=c_mask[:, None] & i_mask[None, :],
        other=0.0,
    )
    ws = tl.load(  # (BLOCK_CO, BLOCK_C): w[c, co, k], transposed
        w_base + offs_c[None, :] * swc + k * swk,
        mask=co_mask[:, None] & c_mask[None, :],
        other=0.0,
    )
    if MASKED:
        # keep only the columns whose input exists: a masked x (zero) times an inf weight is nan
        acc = _mac(acc, ws, xs, i_mask[None, :], USE_DOT, PRECISION)
    else:
        acc = _mac_fused(acc, ws, xs, USE_DOT, PRECISION)
    return acc


# fmt: off
@triton.jit
def conv_transpose1d_coalesced_kernel(
    x_ptr, w_ptr, b_ptr, y_ptr,  # input, weight, bias (any pointer if none), output
    C_IN_G, C_OUT_G,  # input and output channels per group
    L_IN, L_OUT, K, G,  # input and output lengths, kernel size, groups
    STRIDE, PADDING, DILATION,  # the convolution's arguments
    TAP_STEP,  # stride // gcd(stride, dilation): taps of one phase are this far apart
    SHIFT,  # dilation // gcd(stride, dilation): the input step between two taps of a phase
    ALL_TAPS,  # 1 when every phase has as many taps (gcd(stride, dilation) = 1, K % stride = 0)
    Q_START,  # the first q of block 0 (the smallest q any phase writes)
    N_Q_BLOCKS, N_CO_BLOCKS,  # blocks of q, blocks of output channels per group
    sxn, sxc, sxl,  # strides of x (in elements)
    swc, swo, swk,  # strides of w
    syn, syc, syl,  # strides of y
    HAS_BIAS: tl.constexpr,  # add b[co] to every output of channel co
    PHASES: tl.constexpr,  # a power of two >= stride: the phase rows of the tile
    BLOCK_CO: tl.constexpr,  # output channels per program (per phase)
    BLOCK_C: tl.constexpr,  # input channels per step of the reduction
    BLOCK_Q: tl.constexpr,  # q per program: PHASES * BLOCK_Q output positions per channel
    USE_DOT: tl.constexpr,  # tl.dot (tensor cores) or broadcast-and-sum (CUDA cores)
    PRECISION: tl.constexpr,  # tl.dot's input_precision for float32: "ieee" is exact
    ACC: tl.constexpr,  # accumulator dtype: float32, or float64 for float64 tensors
    INT64: tl.constexpr,  # compute offsets in int64 (a tensor has >= 2**31 elements)
):
    # fmt: on
    """One program computes ``y[n, co_block, t]`` for *every* phase of a block of ``q``.

    Phase ``r`` holds its taps ``k_r(j) = first_r + j*TAP_STEP`` (``first_r`` the smallest
    tap with ``first_r*dilation % stride == r``). Write phase ``r``'s outputs as
    ``t = q*stride + first_r*dilation - padding``: tap ``k_r(j)`` then reads input
    ``i = q - j*SHIFT`` for *every* phase, so step ``j`` is one matrix product
    ``W_j (PHASES*BLOCK_CO, BLOCK_C) @ x[n, c_block, q_block - j*SHIFT] (BLOCK_C, BLOCK_Q)``
    whose row ``r*BLOCK_CO + co`` holds ``w[c, co, k_r(j)]``: the sub-pixel GEMM, with the
    input tile shared by all phases. A phase no tap reaches (``K < stride``, or
    ``gcd(stride, dilation) > 1``) has its rows masked and writes ``t = q*stride + r - padding``
    (bias only). The ``(PHASES*BLOCK_CO, BLOCK_Q)`` result is interleaved to
    ``(BLOCK_CO, BLOCK_Q*PHASES)``: for unit dilation and a power-of-two stride, the
    positions ``t`` of a row are consecutive, so the store is contiguous (coalesced).
    """
    pid = tl.program_id(0)
    # Program ids run fastest along q, then output-channel block, then (sample, group).
    qb = pid % N_Q_BLOCKS  # block of q
    rest = pid // N_Q_BLOCKS
    cob = rest % N_CO_BLOCKS  # block of output channels within the group
    ng = rest // N_CO_BLOCKS
    n = ng // G  # sample
    g = ng % G  # group
    arange_c = tl.arange(0, BLOCK_C)
    if INT64:  # every offset below is then computed in int64, block starts included
        n, g, cob, qb = n.to(tl.int64), g.to(tl.int64), cob.to(tl.int64), qb.to(tl.int64)
        arange_c = arange_c.to(tl.int64)

    rows = tl.arange(0, PHASES * BLOCK_CO)  # tile row = phase * BLOCK_CO + channel
    r_row = rows // BLOCK_CO  # each row's phase (>= STRIDE: padding rows, never written)
    co_row = cob * BLOCK_CO + rows % BLOCK_CO  # each row's output channel within the group
    first_row = _first_tap(r_row, K, STRIDE, DILATION, TAP_STEP, PHASES)  # K if none
    taps_row = tl.cdiv(K - first_row, TAP_STEP)  # taps of the row's phase (0 if none)
    row_mask = (r_row < STRIDE) & (co_row < C_OUT_G)  # rows that exist

    q0 = Q_START + qb * BLOCK_Q  # the first q of this block, all phases
    q = q0 + tl.arange(0, BLOCK_Q)
    n_j = tl.cdiv(K, TAP_STEP)  # phase 0 has the most taps (its first is k = 0)
    n_cb = tl.cdiv(C_IN_G, BLOCK_C)  # steps over the group's input channels per tap

    x_base = x_ptr + n * sxn + (g * C_IN_G) * sxc  # x[n, first channel of group g, 0]
    w_base = w_ptr + (g * C_IN_G) * swc + co_row[:, None] * swo  # w[group's c, row's co, 0]
    acc = tl.zeros((PHASES * BLOCK_CO, BLOCK_Q), dtype=ACC)
    # Inside the signal (every input of every tap exists) and with as many taps in every
    # phase, no product involves an absent element: the sum needs no mask and keeps the
    # fused tl.dot(a, b, acc). Blocks at the signal's edges, or with unequal phases, mask.
    inside = (ALL_TAPS != 0) & (q0 - (n_j - 1) * SHIFT >= 0) & (q0 + BLOCK_Q - 1 < L_IN)
    if inside:
        for step in range(0, n_j * n_cb):  # one loop over (tap rank j, channel block)
            acc = _coalesced_step(
                acc, step, n_cb, first_row, taps_row, row_mask, q, x_base, w_base, arange_c,
                C_IN_G, L_IN, TAP_STEP, SHIFT, sxc, sxl, swc, swk,
                BLOCK_C, False, USE_DOT, PRECISION,  # MASKED=False
            )  # fmt: skip
    else:
        for step in range(0, n_j * n_cb):
            acc = _coalesced_step(
                acc, step, n_cb, first_row, taps_row, row_mask, q, x_base, w_base, arange_c,
                C_IN_G, L_IN, TAP_STEP, SHIFT, sxc, sxl, swc, swk,
                BLOCK_C, True, USE_DOT, PRECISION,  # MASKED=True
            )  # fmt: skip
    if HAS_BIAS:  # the bias is added once per output, after the sum
        bias = tl.load(b_ptr + g * C_OUT_G + co_row, mask=co_row < C_OUT_G, other=0.0)
        acc += bias.to(ACC)[:, None]
    # Interleave the phases: (PHASES, BLOCK_CO, BLOCK_Q) -> (BLOCK_CO, BLOCK_Q, PHASES) ->
    # (BLOCK_CO, BLOCK_Q*PHASES): column q_offset*PHASES + r of a channel's row.
    out = tl.reshape(
        tl.permute(tl.reshape(acc, (PHASES, BLOCK_CO, BLOCK_Q)), (1, 2, 0)),
        (BLOCK_CO, BLOCK_Q * PHASES),
    )
    cols = tl.arange(0, BLOCK_Q * PHASES)  # the interleaved columns
    r_col = cols % PHASES  # each column's phase
    first_col = _first_tap(r_col, K, STRIDE, DILATION, TAP_STEP, PHASES)
    # Phase r's column q writes t = q*stride + first*dilation - padding (r for a tapless phase):
    # consecutive t along the row for unit dilation and a power-of-two stride.
    shift_col = tl.where(first_col < K, first_col * DILATION, r_col)
    t = (q0 + cols // PHASES) * STRIDE + shift_col - PADDING
    col_mask = (r_col < STRIDE) & (t >= 0) & (t < L_OUT)  # phases that exist, positions inside
    co = cob * BLOCK_CO + tl.arange(0, BLOCK_CO)  # the tile's output channels
    y_offs = n * syn + (g * C_OUT_G + co)[:, None] * syc + t[None, :] * syl
    y_mask = (co < C_OUT_G)[:, None] & col_mask[None, :]
    tl.store(y_ptr + y_offs, out.to(y_ptr.dtype.element_ty), mask=y_mask)


@triton.jit
def _first_tap(r, K, STRIDE, DILATION, TAP_STEP, PHASES: tl.constexpr):
    """Elementwise over the phases ``r``: the smallest tap ``k < TAP_STEP`` with
    ``k*dilation % stride == r`` (the phase's first tap), or ``K`` when no tap reaches ``r``."""
    ks = tl.arange(0, PHASES)  # the candidates: TAP_STEP <= STRIDE <= PHASES
    hit = (ks[None, :] < TAP_STEP) & ((ks[None, :] * DILATION) % STRIDE == r[:, None])
    return tl.min(tl.where(hit, ks[None, :], K), axis=1)


@triton.jit
def _coalesced_step(
    acc, step, n_cb,  # the accumulator, this step, channel blocks per tap
    first_row, taps_row, row_mask,  # each row's first tap, tap count, existence
    q, x_base, w_base, arange_c,  # the block's q, x[n, group's c, 0], w[group's c, row's co, 0]
    C_IN_G, L_IN, TAP_STEP, SHIFT,  # as in the kernel
    sxc, sxl, swc, swk,  # strides of x and w
    BLOCK_C: tl.constexpr,  # input channels per step
    MASKED: tl.constexpr,  # drop the products of absent elements (edge blocks)
    USE_DOT: tl.constexpr, PRECISION: tl.constexpr,  # as in the kernel
):
    """One step of the coalesced kernel's sum: tap rank ``j`` of every phase, one block of
    input channels: ``acc += W_j @ x[n, c_block, q - j*SHIFT]``."""
    j = step // n_cb  # every row's j-th tap ...
    k_row = first_row + j * TAP_STEP  # ... is tap k_row
    tap_mask = row_mask & (j < taps_row)  # rows whose phase has a j-th tap
    offs_c = (step - j * n_cb) * BLOCK_C + arange_c  # this step's input channels
    c_mask = offs_c < C_IN_G
    i = q - j * SHIFT  # the input every row's column q takes its j-th tap from
    i_mask = (i >= 0) & (i < L_IN)  # inputs that exist
    xs = tl.load(  # (BLOCK_C, BLOCK_Q): x[n, c, i], shared by every phase
        x_base + offs_c[:, None] * sxc + i[None, :] * sxl,
        mask=c_mask[:, None] & i_mask[None, :],
        other=0.0,
    )
    ws = tl.load(  # (PHASES*BLOCK_CO, BLOCK_C): w[c, co, k_row], one tap per row
        w_base + offs_c[None, :] * swc + k_row[:, None] * swk,
        mask=tap_mask[:, None] & c_mask[None, :],
        other=0.0,
    )
    if MASKED:
        # keep real products only: a tapless row (zero weight) times an inf input is nan,
        # and so is an absent input (zero) times an inf weight
        acc = _mac(acc, ws, xs, tap_mask[:, None] & i_mask[None, :], USE_DOT, PRECISION)
    else:
        acc = _mac_fused(acc, ws, xs, USE_DOT, PRECISION)
    return acc


# fmt: off
@triton.jit
def conv1d_kernel(
    g_ptr, w_ptr, x_ptr,  # grad_y (N, C_out, L_out), w (C_in, C_out/G, K), grad_x (N, C_in, L_in)
    C_IN_G, C_OUT_G,  # input and output channels per group
    L_IN, L_OUT, K, G,  # input and output lengths, kernel size, groups
    STRIDE, PADDING, DILATION,  # the transposed convolution's arguments
    N_I_BLOCKS, N_C_BLOCKS,  # blocks of input positions and of input channels
    sgn, sgc, sgl,  # strides of grad_y
    swc, swo, swk,  # strides of w
    sxn, sxc, sxl,  # strides of grad_x
    BLOCK_C: tl.constexpr,  # input channels per program
    BLOCK_O: tl.constexpr,  # output channels per step of the reduction
    BLOCK_I: tl.constexpr,  # input positions per program
    USE_DOT: tl.constexpr, PRECISION: tl.constexpr,  # as in conv_transpose1d_kernel
    ACC: tl.constexpr, INT64: tl.constexpr,  # as in conv_transpose1d_kernel
):
    # fmt: on
    """``grad_x[n, c, i] = sum_{o, k} w[c, o, k] * grad_y[n, o, i*stride + k*dilation - padding]``.

    This is ``conv1d(grad_y, w, stride, padding, dilation, groups)`` evaluated at the
    ``L_in`` input positions: input ``i`` fed output ``i*stride + k*dilation - padding``
    through tap ``k``, so its gradient gathers the output gradient from there. One program
    computes a ``(BLOCK_C, BLOCK_I)`` block of ``grad_x`` for one sample and group.
    """
    pid = tl.program_id(0)
    ib = pid % N_I_BLOCKS  # block of input positions
    rest = pid // N_I_BLOCKS
    cb = rest % N_C_BLOCKS  # block of input channels within the group
    ng = rest // N_C_BLOCKS
    n = ng // G
    g = ng % G
    arange_o = tl.arange(0, BLOCK_O)
    if INT64:  # int64 offsets, block starts included
        n, g, cb, ib = n.to(tl.int64), g.to(tl.int64), cb.to(tl.int64), ib.to(tl.int64)
        arange_o = arange_o.to(tl.int64)

    offs_c = cb * BLOCK_C + tl.arange(0, BLOCK_C)
    offs_i = ib * BLOCK_I + tl.arange(0, BLOCK_I)
    c_mask = offs_c < C_IN_G
    i_mask = offs_i < L_IN

    g_base = g_ptr + n * sgn + (g * C_OUT_G) * sgc  # grad_y[n, first channel of group g, 0]
    w_base = w_ptr + (g * C_IN_G + offs_c)[:, None] * swc  # w[c, 0, 0] per row
    acc = tl.zeros((BLOCK_C, BLOCK_I), dtype=ACC)
    # Inside the output (every tap of every input of the block landed in it), no product
    # involves an absent output gradient: the sum keeps tl.dot's fused accumulation. Blocks at
    # the edges drop the products of absent ones (see _input_grad_tap).
    i_lo = ib * BLOCK_I  # the block's first input
    inside = (i_lo * STRIDE - PADDING >= 0) & (
        (i_lo + BLOCK_I - 1) * STRIDE + (K - 1) * DILATION - PADDING < L_OUT
    )
    if inside:
        for k in range(K):
            acc = _input_grad_tap(
                acc, k, offs_i, i_mask, c_mask, g_base, w_base, arange_o,
                C_OUT_G, L_OUT, STRIDE, PADDING, DILATION, sgc, sgl, swo, swk,
                BLOCK_O, False, USE_DOT, PRECISION,  # MASKED=False
            )  # fmt: skip
    else:
        for k in range(K):
            acc = _input_grad_tap(
                acc, k, offs_i, i_mask, c_mask, g_base, w_base, arange_o,
                C_OUT_G, L_OUT, STRIDE, PADDING, DILATION, sgc, sgl, swo, swk,
                BLOCK_O, True, USE_DOT, PRECISION,  # MASKED=True
            )  # fmt: skip
    x_offs = n * sxn + (g * C_IN_G + offs_c)[:, None] * sxc + offs_i[None, :] * sxl
    tl.store(x_ptr + x_offs, acc.to(x_ptr.dtype.element_ty), mask=c_mask[:, None] & i_mask[None, :])


@triton.jit
def _input_grad_tap(
    acc, k,  # the accumulator, the tap
    offs_i, i_mask, c_mask,  # the block's inputs, which exist, which channels exist
    g_base, w_base, arange_o,  # grad_y[n, group's o, 0], w[c, 0, 0] per row, 0 .. BLOCK_O-1
    C_OUT_G, L_OUT, STRIDE, PADDING, DILATION,  # as in the kernel
    sgc, sgl, swo, swk,  # strides of grad_y and w
    BLOCK_O: tl.constexpr,  # output channels per step
    MASKED: tl.constexpr,  # drop the products of absent output gradients (edge blocks)
    USE_DOT: tl.constexpr, PRECISION: tl.constexpr,  # as in the kernel
):
    """Tap ``k``'s share of ``conv1d_kernel``'s block: ``acc += w[c, :, k] @ grad_y[n, :, t]``
    with ``t = i*stride + k*dilation - padding``, over the group's output channels."""
    t = offs_i * STRIDE + k * DILATION - PADDING  # where tap k of input i landed
    t_mask = (t >= 0) & (t < L_OUT) & i_mask  # landed inside the (cropped) output
    for o0 in range(0, C_OUT_G, BLOCK_O):  # reduce over the group's output channels
        offs_o = o0 + arange_o
        o_mask = offs_o < C_OUT_G
        ws = tl.load(  # (BLOCK_C, BLOCK_O): w[c, o, k]
            w_base + offs_o[None, :] * swo + k * swk,
            mask=c_mask[:, None] & o_mask[None, :],
            other=0.0,
        )
        gs = tl.load(  # (BLOCK_O, BLOCK_I): grad_y[n, o, t]
            g_base + offs_o[:, None] * sgc + t[None, :] * sgl,
            mask=o_mask[:, None] & t_mask[None, :],
            other=0.0,
        )
        if MASKED:
            # keep only the columns whose output exists (a masked grad_y times an inf weight)
            acc = _mac(acc, ws, gs, t_mask[None, :], USE_DOT, PRECISION)
        else:
            acc = _mac_fused(acc, ws, gs, USE_DOT, PRECISION)
    return acc


# fmt: off
@triton.jit
def weight_grad_kernel(
    x_ptr, g_ptr, w_ptr,  # x (N, C_in, L_in), grad_y (N, C_out, L_out), grad_w (C_in, C_out/G, K)
    N, C_IN_G, C_OUT_G,  # batch, input and output channels per group
    L_IN, L_OUT, K,  # input and output lengths, kernel size
    STRIDE, PADDING, DILATION,  # the transposed convolution's arguments
    N_C_BLOCKS, N_O_BLOCKS,  # blocks of input and of output channels
    sxn, sxc, sxl,  # strides of x
    sgn, sgc, sgl,  # strides of grad_y
    swc, swo, swk,  # strides of grad_w
    BLOCK_C: tl.constexpr,  # input channels per program
    BLOCK_O: tl.constexpr,  # output channels per program
    BLOCK_I: tl.constexpr,  # input positions per step of the reduction
    USE_DOT: tl.constexpr, PRECISION: tl.constexpr,  # as in conv_transpose1d_kernel
    ACC: tl.constexpr, INT64: tl.constexpr,  # as in conv_transpose1d_kernel
):
    # fmt: on
    """``grad_w[c, o, k] = sum_{n, i} x[n, c, i] * grad_y[n, o, i*stride + k*dilation - padding]``.

    Tap ``k`` multiplied input ``i`` into output ``i*stride + k*dilation - padding``, so its
    gradient correlates the input with the output gradient at that shift. One program owns a
    ``(BLOCK_C, BLOCK_O)`` block of ``grad_w[:, :, k]`` for one group and tap, and reduces over
    every sample and position itself, in a fixed order: deterministic, no atomics.
    """
    pid = tl.program_id(0)
    ob = pid % N_O_BLOCKS  # block of output channels within the group
    rest = pid // N_O_BLOCKS
    cb = rest % N_C_BLOCKS  # block of input channels within the group
    rest = rest // N_C_BLOCKS
    k = rest % K  # the tap
    g = rest // K  # the group

    arange_i = tl.arange(0, BLOCK_I)
    if INT64:  # int64 offsets, block starts included
        g, cb, ob, k = g.to(tl.int64), cb.to(tl.int64), ob.to(tl.int64), k.to(tl.int64)
        arange_i = arange_i.to(tl.int64)
    offs_c = cb * BLOCK_C + tl.arange(0, BLOCK_C)
    offs_o = ob * BLOCK_O + tl.arange(0, BLOCK_O)
    c_mask = offs_c < C_IN_G
    o_mask = offs_o < C_OUT_G

    acc = tl.zeros((BLOCK_C, BLOCK_O), dtype=ACC)
    x_base = x_ptr + (g * C_IN_G + offs_c)[:, None] * sxc  # x[0, c, 0]
    g_base = g_ptr + (g * C_OUT_G + offs_o)[None, :] * sgc  # grad_y[0, o, 0]
    for _n in range(N):  # pointers step one sample at a time (64-bit, no overflow)
        for i0 in range(0, L_IN, BLOCK_I):  # reduce over input positions
            offs_i = i0 + arange_i
            t = offs_i * STRIDE + k * DILATION - PADDING  # where tap k of input i landed
            i_mask = (offs_i < L_IN) & (t >= 0) & (t < L_OUT)
            xs = tl.load(  # (BLOCK_C, BLOCK_I): x[n, c, i]
                x_base + offs_i[None, :] * sxl, mask=c_mask[:, None] & i_mask[None, :], other=0.0
            )
            gs = tl.load(  # (BLOCK_I, BLOCK_O): grad_y[n, o, t], transposed
                g_base + t[:, None] * sgl, mask=i_mask[:, None] & o_mask[None, :], other=0.0
            )
            # both operands are masked by the same i_mask, so an absent pair is 0 * 0 (a row
            # of a channel that does not exist may be nan, and is never stored): no mask
            acc = _mac_fused(acc, xs, gs, USE_DOT, PRECISION)
        x_base += sxn
        g_base += sgn
    w_offs = (g * C_IN_G + offs_c)[:, None] * swc + offs_o[None, :] * swo + k * swk
    tl.store(w_ptr + w_offs, acc.to(w_ptr.dtype.element_ty), mask=c_mask[:, None] & o_mask[None, :])
