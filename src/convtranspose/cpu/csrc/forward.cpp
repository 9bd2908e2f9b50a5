// convtranspose_native::conv_transpose1d: the forward of a transposed 1-d convolution on the CPU,
// computed in torch's (N, C, L) layout, polyphase, register-blocked, parallel over work items.
//
// The definition: y[n, co, t] = bias[co] + sum over (ci in co's group, k, i) with
// i*stride + k*dilation = t + padding of x[n, ci, i] * w[ci, co - group*C_out/g, k].
//
// Polyphase: write u = t + padding = q*stride + rho (rho = u mod stride, the output's phase).
// Tap k reaches phase rho exactly when k*dilation = m*stride + rho for an integer m >= 0, and
// then reads input i = q - m. So each phase is an ordinary stride-1 correlation over the rows
// (ci, tap of the phase): a small dense product, with no multiplication by an inserted zero.
//
// Blocking: one work item is (batch n, group g, a block of QB values of q, a tile of C output
// channels). For each phase it computes tiles of C channels x Q consecutive q in registers
// (C*Q/W vector accumulators, W lanes per vector): per row (ci, tap) one broadcast of each of the
// C weights and Q/W unaligned loads of consecutive inputs feed C*Q/W fused multiply-adds. Long
// rows use 4 x 24 tiles (AVX2 floats), rows shorter than that 12 x 8. The phases' results land
// phase-major in a small local buffer; then each output row of the block is written once,
// contiguously, phases interleaved, bias added; the item asks for those output lines (for
// writing) before its tiles compute, so that the stores do not wait for memory. The weight is
// packed per channel tile (C values per row, contiguous) when it serves enough positions to
// repay the copy, else read in place, a few rows ahead fetched by software.
//
// Many input channels over short rows take the lanes path instead (forward_lanes, below): a
// product vectorised over the weight's (output channel, tap) columns, then an overlap-add. The
// caller chooses the path (the op's last argument: convtranspose.cpu.rule.native_lanes).
//
// Non-finite values: 0 * inf is nan, which the definition does not have. A tile whose rows all
// read valid input takes the dense path. At the ends of a row, where some rows would read
// padding: if every weight is finite, the dense path runs on a zero-padded copy of the input
// (a zero times a finite weight adds exactly nothing, whatever the input holds); otherwise each
// row loops over the positions where it reads valid input only, so no product with padding is
// ever formed.
//
// Determinism: every output element is computed by one work item in one fixed order, whatever
// the number of threads: no atomics, identical bits with 1 or many threads.
//
// Output memory: a large output comes from OutputCache (below), which keeps the memory of freed
// outputs for the next output of the same size: fresh memory's page zeroing costs as much as
// the arithmetic on few-channel shapes. Every element is written, so stale values never show.

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/EmptyTensor.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <mutex>
#include <new>
#include <numeric>
#include <optional>
#include <type_traits>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#if !defined(__GNUC__)
#error "convtranspose's native kernel needs GCC or Clang (their vector extensions)"
#endif

namespace {

// The widest vector the target has: AVX-512 (16 floats), AVX/AVX2 (8 floats), else SSE/NEON (4).
#if defined(__AVX512F__)
constexpr int kVectorBytes = 64;
#elif defined(__AVX__)
constexpr int kVectorBytes = 32;
#else
constexpr int kVectorBytes = 16;
#endif

template <typename T>
struct VectorOf;
template <>
struct VectorOf<float> {
  typedef float type __attribute__((vector_size(kVectorBytes)));
};
template <>
struct VectorOf<double> {
  typedef double type __attribute__((vector_size(kVectorBytes)));
};

// A register tile: kChannels output channels x kVectors vectors of positions (kLanes each).
template <typename T, int kChannels_, int kVectors_>
struct TileShape {
  static constexpr int kLanes = kVectorBytes / static_cast<int>(sizeof(T));
  static constexpr int kChannels = kChannels_;
  static constexpr int kVectors = kVectors_;
  static constexpr int kPositions = kLanes * kVectors;
};
// Rows long enough: with 16 vector registers (AVX2) 4 channels x 3 vectors uses 12
// accumulators, 3 input vectors and a broadcast weight; with 32 (AVX-512) 8 x 3 uses 24.
template <typename T>
using LongTile = TileShape<T, kVectorBytes == 64 ? 8 : 4, 3>;
// Rows shorter than a long tile (few positions per phase): one vector of positions, more
// channels (12 x 1, or 24 x 1 with AVX-512), so fewer lanes compute past the row's end.
template <typename T>
using ShortTile = TileShape<T, kVectorBytes == 64 ? 24 : 12, 1>;

// The phases' taps: for phase rho, its rows (ci, tap) in order, each with where it reads the
// input (i = q - m of channel ci) and where its C weights are.
struct Phase {
  std::vector<int64_t> m;         // per tap of the phase: the input lag m
  std::vector<int64_t> taps;      // per tap of the phase: its index k in the kernel
  std::vector<int64_t> x_direct;  // per row (ci, tap): ci*L - m, in the input itself
  std::vector<int64_t> x_window;  // per row: ci*window - m, in a zero-padded copy (see below)
  std::vector<int64_t> w_rows;    // per row: the offset of its weights (channel 0 of the tile)
  int64_t m_min = 0, m_max = 0;
};

// The phases: phase rho holds the taps k with k*dilation = m*stride + rho, each with its lag m
// (rows not filled in).
std::vector<Phase> phase_taps(int64_t kernel, int64_t stride, int64_t dilation) {
  std::vector<Phase> phases(stride);
  for (int64_t k = 0; k < kernel; ++k) {
    Phase& phase = phases[(k * dilation) % stride];
    phase.taps.push_back(k);
    phase.m.push_back((k * dilation) / stride);
  }
  for (Phase& phase : phases)
    if (!phase.m.empty()) {
      phase.m_min = *std::min_element(phase.m.begin(), phase.m.end());
      phase.m_max = *std::max_element(phase.m.begin(), phase.m.end());
    }
  return phases;
}

// How many rows ahead dense_tile fetches the unpacked weight (channel-heavy, 1024 channels over
// 64 positions, on a 2-core Xeon: 0.61x of torch without, 0.97x at 8 rows, 0.90x at 32 and 96).
constexpr int64_t kWeightAhead = 8;

// Dense tile: every row reads valid input for every one of the Q positions. x points at
// position q_a of the block's first input channel, x_rows[r] is row r's offset from it; row r's
// weights for channel c are w[w_rows[r] + c*w_step] (w_step is 1 for the packed weight).
template <typename T, int C, int NV, bool kPacked>
inline void dense_tile(const T* __restrict x, const int64_t* __restrict x_rows, int64_t rows,
                       const T* __restrict w, const int64_t* __restrict w_rows, int64_t w_step,
                       T* __restrict out, int64_t out_stride) {
  using V = typename VectorOf<T>::type;
  constexpr int W = kVectorBytes / static_cast<int>(sizeof(T));
  V acc[C][NV];
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[c][v] = V{};
  for (int64_t r = 0; r < rows; ++r) {
    const T* xp = x + x_rows[r];
    V xv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) std::memcpy(&xv[v], xp + v * W, sizeof(V));
    const T* wr = w + w_rows[r];
    if constexpr (!kPacked) {
      // The unpacked weight's rows lie C_out/g*K values apart, too far apart for the hardware's
      // prefetchers: each row's first read would wait for memory. Fetch rows kWeightAhead ahead.
      if (r + kWeightAhead < rows) {
        const T* ahead = w + w_rows[r + kWeightAhead];
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + (C - 1) * w_step);
      }
    }
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      const T wc = wr[kPacked ? c : c * w_step];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[c][v] += xv[v] * wc;
    }
  }
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) std::memcpy(out + c * out_stride + v * W, &acc[c][v], sizeof(V));
}

// Edge tile: nq <= Q positions q_a .. q_a + nq - 1; each row contributes only where it reads
// input inside [0, L): no product with padding. x points at the block's first input channel.
template <typename T, int kMaxChannels, int Q>
inline void edge_tile(const T* __restrict x, int64_t length, int64_t cin, const Phase& phase,
                      const T* __restrict w, int64_t w_step, int channels, int64_t q_a,
                      int64_t nq, T* __restrict out, int64_t out_stride) {
  T acc[kMaxChannels][Q];
  for (int c = 0; c < channels; ++c)
    for (int j = 0; j < Q; ++j) acc[c][j] = T(0);
  const int64_t taps = static_cast<int64_t>(phase.m.size());
  for (int64_t ci = 0; ci < cin; ++ci) {
    for (int64_t j = 0; j < taps; ++j) {
      const int64_t m = phase.m[j];
      // positions jj with 0 <= q_a + jj - m < length
      const int64_t lo = std::max<int64_t>(0, m - q_a);
      const int64_t hi = std::min<int64_t>(nq, length + m - q_a);
      if (lo >= hi) continue;
      const T* xr = x + ci * length;
      const int64_t shift = q_a - m;
      const T* wr = w + phase.w_rows[ci * taps + j];
      for (int c = 0; c < channels; ++c) {
        const T wc = wr[c * w_step];
        for (int64_t jj = lo; jj < hi; ++jj) acc[c][jj] += xr[shift + jj] * wc;
      }
    }
  }
  for (int c = 0; c < channels; ++c)
    for (int64_t jj = 0; jj < nq; ++jj) out[c * out_stride + jj] = acc[c][jj];
}

template <typename T, int NV, bool kPacked, int C>
inline void dense_tile_for(int channels, const T* x, const int64_t* x_rows, int64_t rows,
                           const T* w, const int64_t* w_rows, int64_t w_step, T* out,
                           int64_t out_stride) {
  if constexpr (C >= 1) {
    if (channels == C)
      return dense_tile<T, C, NV, kPacked>(x, x_rows, rows, w, w_rows, w_step, out, out_stride);
    return dense_tile_for<T, NV, kPacked, C - 1>(channels, x, x_rows, rows, w, w_rows, w_step,
                                                 out, out_stride);
  }
}

// One output row's block: positions t = t_first + l for l in [0, S*nq) hold
// buffer[rho*QB + l / S] with rho = l % S; write those inside [0, L_out), bias added.
template <typename T, bool kBias, int S>
inline void interleave(const T* __restrict buffer, int64_t qb, int64_t nq, int64_t stride,
                       int64_t t_first, int64_t out_length, T bias, T* __restrict y) {
  const int64_t s = S > 0 ? S : stride;
  const int64_t begin = std::max<int64_t>(0, t_first);
  const int64_t end = std::min<int64_t>(out_length, t_first + s * nq);
  // whole groups of s positions inside the row: [q_lo, q_hi)
  const int64_t q_lo = (begin - t_first + s - 1) / s;
  const int64_t q_hi = std::max(q_lo, (end - t_first) / s);
  auto one = [&](int64_t t) {
    const int64_t l = t - t_first;
    const T v = buffer[(l % s) * qb + l / s];
    y[t] = kBias ? v + bias : v;
  };
  for (int64_t t = begin; t < std::min(end, t_first + q_lo * s); ++t) one(t);
  T* yq = y + t_first;
  for (int64_t q = q_lo; q < q_hi; ++q)  // stores in order: one stream, not s
#pragma GCC unroll 8
    for (int64_t r = 0; r < s; ++r) {  // s is the constant S where S > 0
      const T v = buffer[r * qb + q];
      yq[q * s + r] = kBias ? v + bias : v;
    }
  for (int64_t t = std::max(begin, t_first + q_hi * s); t < end; ++t) one(t);
}

template <typename T, bool kBias>
inline void write_row(const T* buffer, int64_t qb, int64_t nq, int64_t stride, int64_t t_first,
                      int64_t out_length, T bias, T* y) {
  switch (stride) {
    case 1: return interleave<T, kBias, 1>(buffer, qb, nq, stride, t_first, out_length, bias, y);
    case 2: return interleave<T, kBias, 2>(buffer, qb, nq, stride, t_first, out_length, bias, y);
    case 3: return interleave<T, kBias, 3>(buffer, qb, nq, stride, t_first, out_length, bias, y);
    case 4: return interleave<T, kBias, 4>(buffer, qb, nq, stride, t_first, out_length, bias, y);
    case 5: return interleave<T, kBias, 5>(buffer, qb, nq, stride, t_first, out_length, bias, y);
    case 6: return interleave<T, kBias, 6>(buffer, qb, nq, stride, t_first, out_length, bias, y);
    case 7: return interleave<T, kBias, 7>(buffer, qb, nq, stride, t_first, out_length, bias, y);
    case 8: return interleave<T, kBias, 8>(buffer, qb, nq, stride, t_first, out_length, bias, y);
    default: return interleave<T, kBias, 0>(buffer, qb, nq, stride, t_first, out_length, bias, y);
  }
}

// Fetches the cache line at p for writing. (An asm statement: GCC drops a __builtin_prefetch
// whose loop does nothing else.)
inline void prefetch_for_write(const void* p) {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 1, 3);
#endif
}

// Fetches, for writing, positions [first, last) of `rows` output rows, out_length apart.
template <typename T>
inline void prefetch_rows(const T* y, int64_t rows, int64_t out_length, int64_t first,
                          int64_t last) {
  constexpr int64_t kLine = 64 / static_cast<int64_t>(sizeof(T));
  for (int64_t c = 0; c < rows; ++c)
    for (int64_t t = first; t < last; t += kLine) prefetch_for_write(y + c * out_length + t);
}

// Whether every value is finite: exponent bits not all ones, tested on the bits so that the
// loop vectorises (a float comparison with nan would not).
template <typename T>
bool all_finite(const T* values, int64_t count) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  constexpr Bits kExponent =
      static_cast<Bits>(sizeof(T) == 4 ? 0x7f800000ull : 0x7ff0000000000000ull);
  Bits any = 0;
  for (int64_t e = 0; e < count; ++e) {
    Bits bits;
    std::memcpy(&bits, values + e, sizeof(T));
    any |= static_cast<Bits>((bits & kExponent) == kExponent);
  }
  return any == 0;
}

template <typename T, typename Shape>
void forward(const at::Tensor& input, const at::Tensor& weight, const T* bias, at::Tensor& output,
             int64_t stride, int64_t padding, int64_t groups, int64_t dilation) {
  constexpr int C = Shape::kChannels;
  constexpr int NV = Shape::kVectors;
  constexpr int Q = Shape::kPositions;
  const int64_t batch = input.size(0), c_in = input.size(1), length = input.size(2);
  const int64_t cin_g = c_in / groups, cout_g = weight.size(1), kernel = weight.size(2);
  const int64_t c_out = cout_g * groups, out_length = output.size(2);
  const int64_t s = stride;
  const T* w_all = weight.data_ptr<T>();  // (C_in, C_out/g, K), contiguous

  // The q range: u = t + padding runs over [padding, L_out - 1 + padding].
  const int64_t q_min = padding / s;
  const int64_t q_count = (out_length - 1 + padding) / s - q_min + 1;
  // Blocks of q: a multiple of Q, the buffer (C x s x QB values) about 8 KiB or less (a quarter
  // of a typical L1, beside the input rows the tiles read), and at least a few work items per
  // thread.
  const int64_t tiles = (cout_g + C - 1) / C;
  const int64_t threads = at::get_num_threads();
  int64_t qb = std::max<int64_t>(1, (8192 / static_cast<int64_t>(sizeof(T))) / (C * s) / Q) * Q;
  // ... and the block's input (C_in/g rows of QB + lag values), which every channel tile of the
  // block reads again, within about 32 KiB (a typical L1) where the weight is small enough to
  // stay in the caches (each q block reads all of it again: 4 MiB or less), else within about
  // 256 KiB (half a typical L2), fewer q blocks re-reading a large weight.
  const int64_t lag = (dilation * (kernel - 1)) / s;
  const int64_t weight_bytes = c_in * cout_g * kernel * static_cast<int64_t>(sizeof(T));
  const int64_t input_bytes = weight_bytes <= (int64_t{4} << 20) ? 32768 : 262144;
  const int64_t fit = (input_bytes / static_cast<int64_t>(sizeof(T))) / cin_g - lag;
  qb = std::min(qb, std::max<int64_t>(1, fit / Q) * Q);
  qb = std::min(qb, ((q_count + Q - 1) / Q) * Q);
  while (qb > Q && batch * groups * tiles * ((q_count + qb - 1) / qb) < 4 * threads)
    qb = std::max<int64_t>(Q, ((qb / 2 + Q - 1) / Q) * Q);
  const int64_t q_blocks = (q_count + qb - 1) / qb;
  const int64_t items = batch * groups * q_blocks * tiles;

  // Packing the weight (per group and channel tile, C contiguous values per row) costs a pass
  // over it; it pays when each weight is used often (many positions), else the kernel reads
  // the weight where it is, C values K apart.
  // (cpu/workspace.py models this copy: keep the two in step.)
  const bool packed = batch * q_count >= 512;
  const int64_t w_step = packed ? 1 : kernel;
  // The largest lag: a zero-padded window of the input holds positions q_start - m_lag ...
  const int64_t m_lag = (dilation * (kernel - 1)) / s;
  const int64_t window = qb + m_lag;
  // ... used for the ends of rows only where every weight is finite: a padded zero times a
  // finite weight is a zero, which changes no sum, but 0 * inf is nan.
  const bool finite = all_finite(w_all, weight.numel());

  // The phases' taps, then their rows.
  std::vector<Phase> phases = phase_taps(kernel, s, dilation);
  int64_t first = 0;  // rows before this phase's, in the packed weight
  std::vector<int64_t> phase_first(s);
  for (int64_t rho = 0; rho < s; ++rho) {
    Phase& phase = phases[rho];
    const int64_t taps = static_cast<int64_t>(phase.m.size());
    phase_first[rho] = first;
    for (int64_t ci = 0; ci < cin_g; ++ci)
      for (int64_t j = 0; j < taps; ++j) {
        phase.x_direct.push_back(ci * length - phase.m[j]);
        phase.x_window.push_back(ci * window - phase.m[j]);
        phase.w_rows.push_back(packed ? (first + ci * taps + j) * C
                                      : ci * cout_g * kernel + phase.taps[j]);
      }
    first += cin_g * taps;
  }

  // The packed weight: per (group, channel tile) cin_g*K rows of C values, phase by phase, each
  // phase's rows (ci, tap) in order; channels past C_out/g are zeros, computed, never stored.
  const int64_t block = cin_g * kernel * C;
  std::vector<T> packed_weight;
  if (packed) {
    packed_weight.assign(static_cast<size_t>(groups * tiles * block), T(0));
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t tile = 0; tile < tiles; ++tile) {
        T* dst = packed_weight.data() + (g * tiles + tile) * block;
        for (int64_t rho = 0; rho < s; ++rho) {
          const Phase& phase = phases[rho];
          const int64_t taps = static_cast<int64_t>(phase.m.size());
          for (int64_t ci = 0; ci < cin_g; ++ci)
            for (int64_t j = 0; j < taps; ++j) {
              const T* src = w_all + ((g * cin_g + ci) * cout_g + tile * C) * kernel + phase.taps[j];
              T* row = dst + (phase_first[rho] + ci * taps + j) * C;
              for (int64_t c = 0; c < C && tile * C + c < cout_g; ++c) row[c] = src[c * kernel];
            }
        }
      }
  }

  const T* x_all = input.data_ptr<T>();
  T* y_all = output.data_ptr<T>();
  // At least 2^20 multiply-adds (tens of microseconds) per thread's share: below, waking a
  // second thread costs more than it saves, and on a busy machine it may wait a scheduler's
  // time slice (milliseconds).
  const int64_t work = std::max<int64_t>(1, batch * c_in * cout_g * kernel * length / items);
  const int64_t grain = std::max<int64_t>(1, ((int64_t{1} << 20) + work - 1) / work);
  at::parallel_for(0, items, grain, [&](int64_t begin, int64_t end) {
    std::vector<T> buffer(static_cast<size_t>(C * s * qb));
    std::vector<T> padded;  // the zero-padded window of the current (n, g, q block)
    int64_t padded_for = -1;
    for (int64_t item = begin; item < end; ++item) {
      // item = ((n * groups + g) * q_blocks + qblock) * tiles + tile: tiles innermost, so
      // consecutive items reuse the same input block (and window) from the cache.
      const int64_t tile = item % tiles;
      const int64_t block_index = item / tiles;
      const int64_t qblock = block_index % q_blocks;
      const int64_t g = (block_index / q_blocks) % groups;
      const int64_t n = block_index / (q_blocks * groups);
      const int64_t channels = std::min<int64_t>(C, cout_g - tile * C);
      const int64_t q_start = q_min + qblock * qb;
      const int64_t nq = std::min(qb, q_min + q_count - q_start);
      const int64_t nq_tiles = ((nq + Q - 1) / Q) * Q;
      const T* x = x_all + (n * c_in + g * cin_g) * length;
      const T* w = packed ? packed_weight.data() + (g * tiles + tile) * block
                          : w_all + (g * cin_g * cout_g + tile * C) * kernel;
      // Ends of rows in this block: tiles some row reads outside [0, L) for.
      const bool ends = q_start < m_lag || q_start + nq_tiles > length || nq != nq_tiles;
      const bool use_window = ends && finite;
      if (use_window && padded_for != block_index) {
        padded.assign(static_cast<size_t>(cin_g * window), T(0));
        const int64_t from = q_start - m_lag;  // the window's first position
        const int64_t lo = std::max<int64_t>(0, -from);
        const int64_t hi = std::min<int64_t>(window, length - from);
        for (int64_t ci = 0; ci < cin_g && lo < hi; ++ci)
          std::memcpy(padded.data() + ci * window + lo, x + ci * length + from + lo,
                      static_cast<size_t>(hi - lo) * sizeof(T));
        padded_for = block_index;
      }
      const int64_t row_stride = s * qb;  // buffer: [channel][phase][q]
      // Ask for the output lines this item writes, for writing, before its tiles compute: each
      // line must be read before a store can change it, and a tile of channels writes as many
      // rows at once, more streams than the hardware's prefetchers follow. Fetched while the
      // tiles compute, the lines are in the cache when the rows are written (on a 2-core Xeon
      // 1.2-1.6x on a third of the training shapes; fetching the next item's too gained nothing).
      const int64_t t_first = q_start * s - padding;  // the block's first output position
      prefetch_rows(y_all + (n * c_out + g * cout_g + tile * C) * out_length, channels, out_length,
                    std::max<int64_t>(0, t_first), std::min<int64_t>(out_length, t_first + s * nq));
      for (int64_t rho = 0; rho < s; ++rho) {
        const Phase& phase = phases[rho];
        T* out = buffer.data() + rho * qb;
        const int64_t taps = static_cast<int64_t>(phase.m.size());
        if (taps == 0) {  // a phase no tap reaches: only the bias
          for (int64_t c = 0; c < channels; ++c)
            std::fill(out + c * row_stride, out + c * row_stride + nq, T(0));
          continue;
        }
        const int64_t rows = cin_g * taps;
        for (int64_t j0 = 0; j0 < nq; j0 += Q) {
          const int64_t q_a = q_start + j0;
          const int64_t count = std::min<int64_t>(Q, nq - j0);
          const bool inside =
              count == Q && q_a - phase.m_max >= 0 && q_a + Q - 1 - phase.m_min < length;
          const int ch = static_cast<int>(channels);
          if (inside || use_window) {
            const T* xs = inside ? x + q_a : padded.data() + j0 + m_lag;
            const int64_t* x_rows = inside ? phase.x_direct.data() : phase.x_window.data();
            if (packed)
              dense_tile_for<T, NV, true, C>(ch, xs, x_rows, rows, w, phase.w_rows.data(), w_step,
                                         out + j0, row_stride);
            else
              dense_tile_for<T, NV, false, C>(ch, xs, x_rows, rows, w, phase.w_rows.data(), w_step,
                                          out + j0, row_stride);
          } else {
            edge_tile<T, C, Q>(x, length, cin_g, phase, w, w_step, ch, q_a, count, out + j0,
                            row_stride);
          }
        }
      }
      // Write each output row of the block once: positions t = q*s + rho - padding.
      for (int64_t c = 0; c < channels; ++c) {
        const int64_t co = g * cout_g + tile * C + c;
        T* y = y_all + (n * c_out + co) * out_length;
        const T* row = buffer.data() + c * row_stride;
        if (bias != nullptr)
          write_row<T, true>(row, qb, nq, s, t_first, out_length, bias[co], y);
        else
          write_row<T, false>(row, qb, nq, s, t_first, out_length, T(0), y);
      }
    }
  });
}

// The lanes path: for shapes with many input channels and few positions, where a tile of
// positions would leave most of its lanes idle and read each weight row for only a few channels.
// A weight row w[ci, :, :] is C_out/g * K contiguous values, one per (output channel, tap): the
// lanes of the vectors here. First a product over the input channels,
//   Z[i, co*K + k] = sum over ci of x[n, ci, i] * w[ci, co, k]          (a GEMM, C_in/g deep),
// in register tiles of kLanesVectors vectors of lanes x P positions: per row ci, kLanesVectors
// contiguous weight loads and P broadcast inputs feed kLanesVectors * P fused multiply-adds. Then
// the overlap-add, each output written once:
//   y[n, co, t] = bias[co] + sum over the taps k of t's phase of Z[q - m, co*K + k],
// with t + padding = q*stride + rho, over the positions i = q - m inside [0, L) only, so that no
// product with padding is ever formed (the non-finite values of the definition, exactly). The
// products Z holds for outputs cropped by the padding are never read.
//
// One work item is (group, block of output channels, batch n, block of output positions): its
// weight panel (C_in/g rows of the block's lanes) stays in the L2 while the item's position
// tiles and the next items of the same block (other n, other positions) read it again.
//
// The tile: 3 vectors of lanes x 8 positions, 24 of the 32 AVX-512 registers accumulating (on a
// 2-core Zen 4, channel-heavy: 170-180 GFLOP/s, where 2 x 12 gave 130-145 and 4 x 6 150); 3 x 4
// on AVX2's 16 registers (not measured).
constexpr int kLanesVectors = 3;
constexpr int kLanesPositions = kVectorBytes == 64 ? 8 : 4;

// Z tile: rows ci = 0 .. rows-1; row r's lanes at w + r*w_stride, its inputs at x + r*x_stride
// (P consecutive positions). Stores Z[p][lane] at z + p*z_stride.
template <typename T, int JV, int P>
inline void lanes_tile(const T* __restrict w, int64_t w_stride, const T* __restrict x,
                       int64_t x_stride, int64_t rows, T* __restrict z, int64_t z_stride) {
  using V = typename VectorOf<T>::type;
  constexpr int W = kVectorBytes / static_cast<int>(sizeof(T));
  V acc[JV][P];
#pragma GCC unroll 4
  for (int v = 0; v < JV; ++v)
#pragma GCC unroll 24
    for (int p = 0; p < P; ++p) acc[v][p] = V{};
  for (int64_t r = 0; r < rows; ++r) {
    const T* wr = w + r * w_stride;
    // Weight rows lie C_out/g * K values apart: fetch a few rows ahead (see kWeightAhead).
    __builtin_prefetch(wr + kWeightAhead * w_stride);
    __builtin_prefetch(wr + kWeightAhead * w_stride + JV * W - 1);
    V wv[JV];
#pragma GCC unroll 4
    for (int v = 0; v < JV; ++v) std::memcpy(&wv[v], wr + v * W, sizeof(V));
    const T* xr = x + r * x_stride;
#pragma GCC unroll 24
    for (int p = 0; p < P; ++p) {
      const T xp = xr[p];
#pragma GCC unroll 4
      for (int v = 0; v < JV; ++v) acc[v][p] += wv[v] * xp;
    }
  }
#pragma GCC unroll 24
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < JV; ++v) std::memcpy(z + p * z_stride + v * W, &acc[v][p], sizeof(V));
}

template <typename T>
void forward_lanes(const at::Tensor& input, const at::Tensor& weight, const T* bias,
                   at::Tensor& output, int64_t stride, int64_t padding, int64_t groups,
                   int64_t dilation) {
  constexpr int W = kVectorBytes / static_cast<int>(sizeof(T));
  constexpr int JV = kLanesVectors, P = kLanesPositions;
  constexpr int TL = JV * W;  // lanes per tile
  const int64_t batch = input.size(0), c_in = input.size(1), length = input.size(2);
  const int64_t cin_g = c_in / groups, cout_g = weight.size(1), kernel = weight.size(2);
  const int64_t c_out = cout_g * groups, out_length = output.size(2);
  const int64_t s = stride, lanes_g = cout_g * kernel;
  const std::vector<Phase> phases = phase_taps(kernel, s, dilation);
  const int64_t lag = (dilation * (kernel - 1)) / s;

  // Channels per block: whole channels, a weight panel (C_in/g rows of the block's lanes) of
  // about 128 KiB, in steps that keep the lanes a multiple of the vector where that is cheap.
  const int64_t panel = (int64_t{131072} / static_cast<int64_t>(sizeof(T))) / cin_g;
  const int64_t unit = W / std::gcd<int64_t>(W, kernel);
  int64_t cb = std::max<int64_t>(1, std::max<int64_t>(TL, panel / TL * TL) / kernel);
  if (cb >= unit) cb = cb / unit * unit;
  cb = std::min(cb, cout_g);
  const int64_t c_blocks = (cout_g + cb - 1) / cb;
  const int64_t z_stride = ((cb * kernel + TL - 1) / TL) * TL;
  // Output positions per block: Z (its positions x the block's lanes) within about 64 KiB, and
  // enough items for every thread.
  const int64_t threads = at::get_num_threads();
  const int64_t z_rows = std::max<int64_t>(P, (int64_t{65536} / static_cast<int64_t>(sizeof(T))) / z_stride);
  int64_t tb = std::max<int64_t>(s, (z_rows - lag - 1) * s);
  tb = std::min(tb, out_length);
  while (tb > s * P && groups * c_blocks * batch * ((out_length + tb - 1) / tb) < 4 * threads)
    tb = std::max<int64_t>(s * P, tb / 2);
  const int64_t t_blocks = (out_length + tb - 1) / tb;
  const int64_t items = groups * c_blocks * batch * t_blocks;

  const T* x_all = input.data_ptr<T>();
  const T* w_all = weight.data_ptr<T>();
  T* y_all = output.data_ptr<T>();
  const int64_t work = std::max<int64_t>(1, batch * c_in * cout_g * kernel * length / items);
  const int64_t grain = std::max<int64_t>(1, ((int64_t{1} << 20) + work - 1) / work);
  at::parallel_for(0, items, grain, [&](int64_t begin, int64_t end) {
    std::vector<T> z, w_panel, x_panel;
    int64_t w_panel_for = -1;  // the channel block whose last lanes w_panel holds
    for (int64_t item = begin; item < end; ++item) {
      // item = ((g * c_blocks + cblock) * batch + n) * t_blocks + tblock: consecutive items
      // share the channel block, so its weight panel stays in the cache.
      const int64_t tblock = item % t_blocks;
      const int64_t n = (item / t_blocks) % batch;
      const int64_t cblock = (item / (t_blocks * batch)) % c_blocks;
      const int64_t g = item / (t_blocks * batch * c_blocks);
      const int64_t c0 = cblock * cb, channels = std::min(cb, cout_g - c0);
      const int64_t lanes = channels * kernel;
      const int64_t t0 = tblock * tb, t1 = std::min(out_length, t0 + tb);
      // The inputs the block's outputs read: i*s + k*dilation - padding in [t0, t1).
      const int64_t reach = t0 + padding - dilation * (kernel - 1);
      const int64_t i_lo = reach <= 0 ? 0 : (reach + s - 1) / s;
      const int64_t i_hi = std::min(length, (t1 - 1 + padding) / s + 1);
      const int64_t positions = std::max<int64_t>(0, i_hi - i_lo);
      const int64_t whole = positions / P * P;  // positions in whole tiles
      if (positions > 0) {
        z.resize(static_cast<size_t>(((positions + P - 1) / P) * P * z_stride));
        const T* x = x_all + (n * c_in + g * cin_g) * length + i_lo;
        const T* w = w_all + g * cin_g * lanes_g + c0 * kernel;
        if (whole < positions) {  // the last, partial tile of positions: a zero-padded copy
          x_panel.assign(static_cast<size_t>(cin_g * P), T(0));
          for (int64_t ci = 0; ci < cin_g; ++ci)
            std::memcpy(x_panel.data() + ci * P, x + ci * length + whole,
                        static_cast<size_t>(positions - whole) * sizeof(T));
        }
        for (int64_t j = 0; j < lanes; j += TL) {
          const T* wt = w + j;
          int64_t wt_stride = lanes_g;
          if (j + TL > lanes) {  // the block's last lanes: a zero-padded copy (no read past),
                                 // made once for the consecutive items of the block
            if (w_panel_for != g * c_blocks + cblock) {
              w_panel.assign(static_cast<size_t>(cin_g * TL), T(0));
              for (int64_t ci = 0; ci < cin_g; ++ci)
                std::memcpy(w_panel.data() + ci * TL, wt + ci * lanes_g,
                            static_cast<size_t>(lanes - j) * sizeof(T));
              w_panel_for = g * c_blocks + cblock;
            }
            wt = w_panel.data();
            wt_stride = TL;
          }
          for (int64_t p = 0; p < whole; p += P)
            lanes_tile<T, JV, P>(wt, wt_stride, x + p, length, cin_g, z.data() + p * z_stride + j,
                             z_stride);
          if (whole < positions)
            lanes_tile<T, JV, P>(wt, wt_stride, x_panel.data(), P, cin_g,
                             z.data() + whole * z_stride + j, z_stride);
        }
      }
      // The overlap-add: each output of the block once, its phase's taps in order.
      for (int64_t c = 0; c < channels; ++c) {
        const int64_t co = g * cout_g + c0 + c;
        T* y = y_all + (n * c_out + co) * out_length;
        const T* zc = z.data() + c * kernel;
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t u = t + padding;
          const Phase& phase = phases[u % s];
          const int64_t q = u / s;
          T sum = T(0);
          for (size_t j = 0; j < phase.m.size(); ++j) {
            const int64_t i = q - phase.m[j];
            if (i >= i_lo && i < i_hi) sum += zc[(i - i_lo) * z_stride + phase.taps[j]];
          }
          y[t] = bias != nullptr ? sum + bias[co] : sum;
        }
      }
    }
  });
}

// Large outputs: fresh memory costs as much as the arithmetic on few-channel shapes. Every
// page faults on its first write and the kernel zeroes it first, and a 32 MiB output's zeroing
// takes about as long as computing it. So outputs of kCachedMin bytes or more come from
// OutputCache: memory aligned to 2 MiB and advised for 2 MiB pages (a hint, honoured where
// transparent huge pages are "madvise" or "always": 512 times fewer faults), and, when such an
// output is freed, its block is kept for the next output of exactly that size (a training loop
// asks for the same sizes every step), as PyTorch's CUDA allocator does. It keeps blocks of at
// most kCachedMax bytes and at most limit() bytes in all (256 MiB unless the environment's
// CONVTRANSPOSE_OUTPUT_CACHE_MIB says otherwise, or set_limit changes it; 0 keeps nothing),
// the oldest given back first; empty() gives them all back.
// The tensor's storage names this allocator, so it stays resizable like any CPU tensor.
constexpr size_t kHugePage = size_t{1} << 21;
constexpr size_t kCachedMin = size_t{4} << 20;
constexpr size_t kCachedMax = size_t{128} << 20;

class OutputCache final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t bytes) override {
    void* data = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = kept_.rbegin(); it != kept_.rend(); ++it)  // the newest: still cached
        if (it->bytes == bytes) {
          data = it->data;
          held_ -= bytes;
          kept_.erase(std::next(it).base());
          break;
        }
    }
    if (data == nullptr) {
      const size_t rounded = std::max<size_t>(kHugePage, (bytes + kHugePage - 1) & ~(kHugePage - 1));
      data = std::aligned_alloc(kHugePage, rounded);
      if (data == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
      madvise(data, rounded, MADV_HUGEPAGE);
#endif
    }
    return {data, new Block{data, bytes}, &release, c10::Device(c10::DeviceType::CPU)};
  }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
  static OutputCache& instance() {
    static OutputCache* cache = new OutputCache;  // never destroyed: outputs may outlive exit
    return *cache;
  }
  // The bytes kept now, and the most it keeps.
  std::vector<int64_t> info() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {static_cast<int64_t>(held_), static_cast<int64_t>(limit_)};
  }
  // A new limit (0: keep nothing), blocks over it given back; returns the old one.
  int64_t set_limit(int64_t bytes) {
    TORCH_CHECK(bytes >= 0, "set_output_cache_limit: bytes must be >= 0, got ", bytes);
    std::vector<void*> dropped;
    size_t old;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      old = limit_;
      limit_ = static_cast<size_t>(bytes);
      dropped = trim();
    }
    for (void* data : dropped) std::free(data);
    return static_cast<int64_t>(old);
  }
  // Gives every kept block back to the system; returns the bytes freed.
  int64_t empty() {
    std::vector<void*> dropped;
    size_t freed;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      freed = held_;
      for (const Block& block : kept_) dropped.push_back(block.data);
      kept_.clear();
      held_ = 0;
    }
    for (void* data : dropped) std::free(data);
    return static_cast<int64_t>(freed);
  }

 private:
  struct Block {
    void* data;
    size_t bytes;
  };
  OutputCache() {
    const char* mib = std::getenv("CONVTRANSPOSE_OUTPUT_CACHE_MIB");
    if (mib != nullptr && *mib != '\0') {
      char* end = nullptr;
      const long long value = std::strtoll(mib, &end, 10);
      if (end != mib && *end == '\0' && value >= 0) limit_ = static_cast<size_t>(value) << 20;
    }
  }
  // The oldest blocks while over the limit, taken out of kept_ (the caller holds the lock).
  std::vector<void*> trim() {
    std::vector<void*> dropped;
    while (held_ > limit_) {
      dropped.push_back(kept_.front().data);
      held_ -= kept_.front().bytes;
      kept_.erase(kept_.begin());
    }
    return dropped;
  }
  // The deleter of every output it gave: keep the block (the oldest go while over the limit)
  // or free it.
  static void release(void* context) {
    const Block block = *static_cast<Block*>(context);
    delete static_cast<Block*>(context);
    std::vector<void*> dropped{block.data};
    if (block.bytes <= kCachedMax) {
      OutputCache& cache = instance();
      std::lock_guard<std::mutex> lock(cache.mutex_);
      if (block.bytes <= cache.limit_) {
        cache.kept_.push_back(block);
        cache.held_ += block.bytes;
        dropped = cache.trim();
      }
    }
    for (void* data : dropped) std::free(data);
  }
  std::mutex mutex_;
  std::vector<Block> kept_;            // oldest first
  size_t held_ = 0;                    // bytes in kept_
  size_t limit_ = size_t{256} << 20;   // the most bytes kept_ holds
};

// An uninitialised (N, C_out, L_out) output: from OutputCache when large, else torch's allocator.
at::Tensor empty_output(int64_t batch, int64_t c_out, int64_t out_length,
                        const at::TensorOptions& options) {
  const size_t bytes = static_cast<size_t>(batch * c_out * out_length) * options.dtype().itemsize();
  if (bytes < kCachedMin) return at::empty({batch, c_out, out_length}, options);
  return at::detail::empty_generic({batch, c_out, out_length}, &OutputCache::instance(),
                                   c10::DispatchKeySet(c10::DispatchKey::CPU),
                                   c10::typeMetaToScalarType(options.dtype()), std::nullopt);
}

at::Tensor conv_transpose1d(const at::Tensor& input_, const at::Tensor& weight_,
                            const std::optional<at::Tensor>& bias_, int64_t stride,
                            int64_t padding, int64_t output_padding, int64_t groups,
                            int64_t dilation, int64_t path) {
  // The arguments were checked by the package (convtranspose.arguments); these guard the
  // kernel's own assumptions only.
  TORCH_CHECK(input_.dim() == 3 && weight_.dim() == 3, "conv_transpose1d: expected 3-d input and weight");
  TORCH_CHECK(path == 1 || path == 2, "conv_transpose1d: path must be 1 (tiles of positions) "
              "or 2 (lanes: convtranspose.cpu.rule.native_lanes chooses), got ", path);
  TORCH_CHECK(stride >= 1 && dilation >= 1 && groups >= 1 && padding >= 0 && output_padding >= 0,
              "conv_transpose1d: invalid stride, dilation, groups, padding or output_padding");
  TORCH_CHECK(input_.size(1) == weight_.size(0) && input_.size(1) % groups == 0,
              "conv_transpose1d: input channels must match the weight and divide by groups");
  const at::Tensor input = input_.contiguous();
  const at::Tensor weight = weight_.contiguous();
  const int64_t batch = input.size(0), length = input.size(2), kernel = weight.size(2);
  const int64_t c_out = weight.size(1) * groups;
  const int64_t out_length =
      (length - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1;
  TORCH_CHECK(out_length > 0, "conv_transpose1d: the output length must be positive");
  at::Tensor output = empty_output(batch, c_out, out_length, input.options());
  at::Tensor bias;
  if (bias_.has_value() && bias_->defined()) {
    bias = bias_->contiguous();
    TORCH_CHECK(bias.numel() == c_out, "conv_transpose1d: bias must have C_out elements");
  }
  if (output.numel() == 0) return output;
  if (input.numel() == 0) {  // nothing to sum: the bias alone
    if (bias.defined()) output.copy_(bias.view({1, c_out, 1}).expand_as(output));
    else output.zero_();
    return output;
  }
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "convtranspose_native::conv_transpose1d", [&] {
    const scalar_t* b = bias.defined() ? bias.data_ptr<scalar_t>() : nullptr;
    if (path == 2)
      return forward_lanes<scalar_t>(input, weight, b, output, stride, padding, groups, dilation);
    // Positions per phase (q values): fewer than a long tile holds take the short tiles.
    const int64_t q_count = (out_length - 1 + padding) / stride - padding / stride + 1;
    if (q_count < LongTile<scalar_t>::kPositions)
      forward<scalar_t, ShortTile<scalar_t>>(input, weight, b, output, stride, padding, groups,
                                             dilation);
    else
      forward<scalar_t, LongTile<scalar_t>>(input, weight, b, output, stride, padding, groups,
                                            dilation);
  });
  return output;
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(convtranspose_native, m) {
  m.def(
      "conv_transpose1d(Tensor input, Tensor weight, Tensor? bias, int stride, int padding, "
      "int output_padding, int groups, int dilation, int path) -> Tensor");
}

TORCH_LIBRARY_IMPL(convtranspose_native, CPU, m) {
  m.impl("conv_transpose1d", &conv_transpose1d);
}

// The output cache's controls, and the kernel's vector width in bytes (64 with AVX-512, 32 with
// AVX2: the rule reads it): no tensor arguments, so one kernel for every dispatch key.
TORCH_LIBRARY_FRAGMENT(convtranspose_native, m) {
  m.def("vector_bytes() -> int", [] { return static_cast<int64_t>(kVectorBytes); });
  m.def("output_cache_info() -> int[]", [] { return OutputCache::instance().info(); });
  m.def("set_output_cache_limit(int bytes) -> int",
        [](int64_t bytes) { return OutputCache::instance().set_limit(bytes); });
  m.def("empty_output_cache() -> int", [] { return OutputCache::instance().empty(); });
}
