// The two gradients of conv_transpose1d, computed in torch's (N, C, L) layout.
//
// Forward: out[n, co, j] += x[n, ci, i] * w[ci, co - g*C_out/groups, k] where j = i*s + k*d - p.
// Both gradients read grad_output at j = i*s + t_k (t_k = k*d - p) for consecutive i: a stride-s
// read. Written j = (i + q_k)*s + r_k (r_k = t_k mod s, q_k = floor(t_k / s)), tap k reads
// phase r_k of grad_output, go_r[m] = go[m*s + r], at m = i + q_k: consecutive memory once the
// phases are de-interleaved. Each kernel therefore works on chunks of the length: it copies the
// chunk's grad_output into its phases (a buffer that stays in the core's cache), then runs
// register tiles whose loads are contiguous vectors.
//
//   input grad:  gi[n, ci, i]    = sum_{col, k} w[ci, col, k] * go_{r_k}[n, co, i + q_k]
//                a tile of MR input channels x NR vectors of positions, accumulated over the
//                group's C_out/groups x K (weight, broadcast) x (phase, loaded) products;
//   weight grad: gw[ci, col, k]  = sum_{n, i} x[n, ci, i] * go_{r_k}[n, co, i + q_k]
//                for wide groups, a tile of MR input channels x NR vectors of output channels
//                accumulating (broadcast input sample) x (vector of the phases, transposed);
//                for narrow ones, a tile of MR input x NR output channels, each a vector of
//                partial sums over i.
//
// Only real terms are summed: a position whose tap falls outside grad_output never adds a
// product with a padding zero (0 * inf is nan, and the definition has no such term). Input
// gradient tiles run where every tap is in range; at the ends of a row, one vector at a time,
// each product masked (bitwise, so even a nan is dropped) to the lanes whose tap is in range.
// The weight gradient sums each tap over exactly the positions where it is in range.
//
// Deterministic: every output element is reduced by one thread in an order fixed by the shape
// alone (chunks, tiles, lanes, the lanes' sum), never by the thread count. The weight gradient
// sums per-unit partials (units of batch rows and length pieces, fixed by the shape) in order.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>  // sysconf: the L2 cache's size, where glibc reports it
#endif

#if defined(__AVX__)
#include <immintrin.h>
#endif

#ifndef CT_NS  // the operators' namespace (another one lets variants load side by side)
#define CT_NS convtranspose_native
#endif

namespace {

// Vectors of one AVX-512 register (64 bytes) where the compiler targets it, else of one AVX
// register (32 bytes), through GCC/Clang's vector extension: the compiler maps them to the
// machine's registers (two SSE or NEON registers for 32 bytes elsewhere). The tiles below are
// written for any width W.
#if defined(__AVX512F__)
constexpr int kVectorBytes = 64;
#else
constexpr int kVectorBytes = 32;
#endif
typedef float vfloat __attribute__((vector_size(kVectorBytes)));
typedef double vdouble __attribute__((vector_size(kVectorBytes)));

template <typename T>
struct Vec;
typedef int32_t vint32 __attribute__((vector_size(kVectorBytes)));
typedef int64_t vint64 __attribute__((vector_size(kVectorBytes)));

template <>
struct Vec<float> {
  using type = vfloat;
  using mask = vint32;  // lanes of all ones or all zeros
  static constexpr int W = kVectorBytes / 4;
};
template <>
struct Vec<double> {
  using type = vdouble;
  using mask = vint64;
  static constexpr int W = kVectorBytes / 8;
};

template <typename V, typename T>
inline V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof v);  // an unaligned vector load
  return v;
}

template <typename V, typename T>
inline void store(T* p, V v) {
  std::memcpy(p, &v, sizeof v);
}

// The scalar at p in every lane: one broadcast load (not 0 + *p, which costs an addition and
// turns -0.0 into +0.0).
#if defined(__AVX512F__)
inline vfloat broadcast(const float* p) { return (vfloat)_mm512_set1_ps(*p); }
inline vdouble broadcast(const double* p) { return (vdouble)_mm512_set1_pd(*p); }
#elif defined(__AVX__)
inline vfloat broadcast(const float* p) { return (vfloat)_mm256_broadcast_ss(p); }
inline vdouble broadcast(const double* p) { return (vdouble)_mm256_broadcast_sd(p); }
#else
template <typename V, typename T>
inline V splat(T value) {
  V v;
  for (int l = 0; l < Vec<T>::W; ++l) v[l] = value;
  return v;
}
inline vfloat broadcast(const float* p) { return splat<vfloat>(*p); }
inline vdouble broadcast(const double* p) { return splat<vdouble>(*p); }
#endif

// a*b + c, fused where the machine has FMA (GCC does not contract a*b + c under -std=c++17).
#if defined(__AVX512F__)
inline vfloat fma(vfloat a, vfloat b, vfloat c) {
  return (vfloat)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
}
inline vdouble fma(vdouble a, vdouble b, vdouble c) {
  return (vdouble)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
}
#elif defined(__AVX__) && defined(__FMA__)
inline vfloat fma(vfloat a, vfloat b, vfloat c) {
  return (vfloat)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
}
inline vdouble fma(vdouble a, vdouble b, vdouble c) {
  return (vdouble)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
}
#else
inline vfloat fma(vfloat a, vfloat b, vfloat c) { return a * b + c; }
inline vdouble fma(vdouble a, vdouble b, vdouble c) { return a * b + c; }
#endif

// The lanes' sum, lane 0 first: a fixed order.
template <typename T, typename V>
inline T lanes_sum(V v) {
  T s = v[0];
#pragma GCC unroll 8
  for (int l = 1; l < Vec<T>::W; ++l) s += v[l];
  return s;
}

inline int64_t floor_div(int64_t a, int64_t b) {  // b > 0
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

#if !defined(__clang__)
// The even elements of the 2*W values at p: p[0], p[2], ..., p[2*W - 2], in one vector.
template <typename T>
inline typename Vec<T>::type evens(const T* p) {
  using V = typename Vec<T>::type;
  using M = typename Vec<T>::mask;
  constexpr int W = Vec<T>::W;
  M even;
  for (int l = 0; l < W; ++l) even[l] = 2 * l;  // constant-folded
  return __builtin_shuffle(load<V>(p), load<V>(p + W), even);
}
#endif

// Where each tap reads grad_output, for one shape.
struct Taps {
  int64_t K, s, L, L_out;
  std::vector<int64_t> r, q;        // tap k reads phase r[k] at m = i + q[k]
  std::vector<int64_t> lo, hi;      // ... which is in range for i in [lo[k], hi[k])
  std::vector<int64_t> phase_len;   // go_r has phase_len[r] elements
  int64_t q_min = 0, q_max = 0;     // the spread of the taps' phase offsets
  int64_t inner_lo = 0, inner_hi = 0;  // i in [inner_lo, inner_hi): every tap in range

  Taps(int64_t K, int64_t s, int64_t p, int64_t d, int64_t L, int64_t L_out)
      : K(K), s(s), L(L), L_out(L_out), r(K), q(K), lo(K), hi(K), phase_len(s) {
    for (int64_t ph = 0; ph < s; ++ph) phase_len[ph] = ph < L_out ? (L_out - ph + s - 1) / s : 0;
    inner_lo = 0;
    inner_hi = L;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t t = k * d - p;
      q[k] = floor_div(t, s);
      r[k] = t - q[k] * s;
      lo[k] = std::max<int64_t>(0, -q[k]);
      hi[k] = std::min<int64_t>(L, phase_len[r[k]] - q[k]);
      inner_lo = std::max(inner_lo, lo[k]);
      inner_hi = std::min(inner_hi, hi[k]);
    }
    q_min = *std::min_element(q.begin(), q.end());
    q_max = *std::max_element(q.begin(), q.end());
  }

  // Copies positions [i0, i1) of channels [c0, c0 + rows) of one batch row of grad_output into
  // buf, phase by phase: buf[(c*s + r)*sp + m - (i0 + q_min)] = go[c0 + c][m*s + r], for the
  // m in range that the taps of positions i0..i1 read. The rest of buf is never read.
  int64_t span(int64_t chunk) const { return chunk + q_max - q_min; }

  template <typename T>
  void deinterleave(const T* go, int64_t rows, int64_t i0, int64_t i1, int64_t sp, T* buf) const {
    const int64_t m_base = i0 + q_min;
    for (int64_t c = 0; c < rows; ++c) {
      const T* src = go + c * L_out;
      for (int64_t ph = 0; ph < s; ++ph) {
        T* dst = buf + (c * s + ph) * sp;  // dst[m - m_base] holds phase ph at m
        const int64_t m0 = std::max<int64_t>(0, m_base);
        const int64_t m1 = std::min<int64_t>(phase_len[ph], i1 + q_max);
        const T* from = src + ph;
        if (s == 1) {
          if (m1 > m0) std::memcpy(dst + (m0 - m_base), from + m0, (m1 - m0) * sizeof(T));
        } else {
          int64_t m = m0;
#if !defined(__clang__)  // (GCC's __builtin_shuffle; Clang copies one value at a time)
          if (s == 2)  // whole vectors while two of them stay inside the row
            for (; m + Vec<T>::W <= m1 && 2 * (m + Vec<T>::W) + ph <= L_out; m += Vec<T>::W)
              store(dst + (m - m_base), evens<T>(from + 2 * m));
#endif
          for (; m < m1; ++m) dst[m - m_base] = from[m * s];
        }
      }
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Input gradient
// ---------------------------------------------------------------------------------------------

constexpr int IG_MR = 6;  // input channels per tile (12 ran at 0.6x: 8 no faster than 6)
// vectors of positions per tile: 12 accumulators, 2 loads, 1 broadcast (AVX2's 16 registers);
// 24 accumulators, 4 loads, 1 broadcast with AVX-512's 32
constexpr int IG_NR = kVectorBytes == 64 ? 4 : 2;
// The chunk of a row whose phases of grad_output (all the group's channels) fill about a
// sixteenth of the core's L2 cache (32 KiB of AMD Zen's 512 KiB, 128 KiB of a 2 MiB Xeon L2):
// every block of input channels reads them again, and every chunk reads the whole weight again,
// so a larger L2 takes longer chunks (on a 2 MiB L2, 128 KiB chunks ran 1.15x faster than
// 24 KiB ones at 128 channels).
int64_t input_grad_chunk_bytes() {
  static const int64_t bytes = [] {
    int64_t l2 = 512 * 1024;
#if defined(_SC_LEVEL2_CACHE_SIZE)
    const long reported = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (reported > 0) l2 = reported;
#endif
    return std::clamp<int64_t>(l2 / 16, 16 * 1024, 256 * 1024);
  }();
  return bytes;
}

// One tile: rows a < MR of gi (at out + a*L), positions u .. u + NR*W of the chunk, all taps
// in range. wp: the tile's weights packed [col][k][IG_MR]; g: the chunk's phases; off[k]: where
// tap k's values for position u = 0 sit in a channel's phases.
template <typename T, int MR, int NR>
inline void input_grad_tile(const T* wp, const T* g, const int64_t* off, int64_t cols, int64_t K,
                            int64_t col_stride, int64_t u, T* out, int64_t L) {
  using V = typename Vec<T>::type;
  constexpr int W = Vec<T>::W;
  V acc[MR][NR];
#pragma GCC unroll 8
  for (int a = 0; a < MR; ++a)
#pragma GCC unroll 8
    for (int b = 0; b < NR; ++b) acc[a][b] = V{};
  for (int64_t col = 0; col < cols; ++col) {
    const T* gc = g + col * col_stride + u;
    const T* wc = wp + col * K * IG_MR;
    for (int64_t k = 0; k < K; ++k) {
      const T* gk = gc + off[k];
      V gv[NR];
#pragma GCC unroll 8
      for (int b = 0; b < NR; ++b) gv[b] = load<V>(gk + b * W);
#pragma GCC unroll 8
      for (int a = 0; a < MR; ++a) {
        const V wv = broadcast(wc + k * IG_MR + a);
#pragma GCC unroll 8
        for (int b = 0; b < NR; ++b) acc[a][b] = fma(wv, gv[b], acc[a][b]);
      }
    }
  }
#pragma GCC unroll 8
  for (int a = 0; a < MR; ++a)
#pragma GCC unroll 8
    for (int b = 0; b < NR; ++b) store(out + a * L + u + b * W, acc[a][b]);
}

// One vector of positions u .. u + W of the chunk where some tap is out of range (the ends of
// a row) or the chunk ends: each product masked to the lanes whose tap is in range, so that a
// value read outside the row (whatever it is) never reaches a sum; only lanes < len are stored.
template <typename T, int MR>
void input_grad_masked(const T* wp, const T* g, const int64_t* off, int64_t cols, int64_t col_stride,
                       const Taps& taps, int64_t i0, int64_t u, int64_t len, T* out) {
  using V = typename Vec<T>::type;
  using M = typename Vec<T>::mask;
  constexpr int W = Vec<T>::W;
  const int64_t K = taps.K, i = i0 + u;
  M lane;
  for (int l = 0; l < W; ++l) lane[l] = l;
  V acc[MR];
#pragma GCC unroll 8
  for (int a = 0; a < MR; ++a) acc[a] = V{};
  for (int64_t k = 0; k < K; ++k) {
    // lanes l with lo[k] <= i + l < hi[k]
    using E = std::remove_reference_t<decltype(lane[0])>;  // a lane's integer type
    const E first = E(std::clamp<int64_t>(taps.lo[k] - i, -1, W));
    const E last = E(std::clamp<int64_t>(taps.hi[k] - i, -1, W));
    const M mask = (lane >= M{} + first) & (lane < M{} + last);
    for (int64_t col = 0; col < cols; ++col) {
      const V gv = load<V>(g + col * col_stride + off[k] + u);
      const T* wc = wp + (col * K + k) * IG_MR;
#pragma GCC unroll 8
      for (int a = 0; a < MR; ++a) acc[a] += (V)((M)(broadcast(wc + a) * gv) & mask);
    }
  }
  const int64_t n = std::min<int64_t>(W, len - u);
  for (int a = 0; a < MR; ++a) std::memcpy(out + a * taps.L + u, &acc[a], n * sizeof(T));
}

template <typename T, int MR>
void input_grad_rows(const T* wp, const T* g, const int64_t* off, int64_t cols,
                     int64_t col_stride, const Taps& taps, int64_t i0, int64_t len, T* out) {
  constexpr int W = Vec<T>::W, TW = IG_NR * W;
  const int64_t L = taps.L, K = taps.K;
  for (int64_t u = 0; u < len;) {
    // full tiles where every tap is in range; a masked vector elsewhere
    const int64_t i = i0 + u;
    const bool inner = i >= taps.inner_lo;
    if (inner && i + TW <= taps.inner_hi && u + TW <= len) {
      input_grad_tile<T, MR, IG_NR>(wp, g, off, cols, K, col_stride, u, out, L);
      u += TW;
    } else if (inner && i + W <= taps.inner_hi && u + W <= len) {
      input_grad_tile<T, MR, 1>(wp, g, off, cols, K, col_stride, u, out, L);
      u += W;
    } else {
      input_grad_masked<T, MR>(wp, g, off, cols, col_stride, taps, i0, u, len, out);
      u += W;
    }
  }
}

// input_grad_rows for a block of mr <= MR input channels (the last block may be partial).
template <typename T, int MR>
void input_grad_rows_for(int mr, const T* wp, const T* g, const int64_t* off, int64_t cols,
                         int64_t col_stride, const Taps& taps, int64_t i0, int64_t len, T* out) {
  if (mr == MR) return input_grad_rows<T, MR>(wp, g, off, cols, col_stride, taps, i0, len, out);
  if constexpr (MR > 1)
    input_grad_rows_for<T, MR - 1>(mr, wp, g, off, cols, col_stride, taps, i0, len, out);
}

template <typename T>
at::Tensor input_grad(const at::Tensor& grad_output, const at::Tensor& weight, int64_t L,
                      int64_t s, int64_t p, int64_t d, int64_t groups) {
  const at::Tensor go = grad_output.contiguous(), w = weight.contiguous();
  const int64_t N = go.size(0), C_out = go.size(1), L_out = go.size(2);
  const int64_t C_in = w.size(0), cols = w.size(1), K = w.size(2), rows = C_in / groups;
  at::Tensor gi = at::empty({N, C_in, L}, go.options());
  if (gi.numel() == 0) return gi;
  if (cols == 0 || L_out == 0) return gi.zero_();
  const Taps taps(K, s, p, d, L, L_out);
  constexpr int W = Vec<T>::W;
  int64_t chunk = (input_grad_chunk_bytes() / int64_t(sizeof(T))) / (cols * s);
  chunk = std::clamp<int64_t>(chunk / (IG_NR * W) * (IG_NR * W), IG_NR * W, 4096);
  chunk = std::min(chunk, L);
  const int64_t chunks = (L + chunk - 1) / chunk, sp = taps.span(chunk);
  const int64_t col_stride = s * sp;
  std::vector<int64_t> off(K);
  for (int64_t k = 0; k < K; ++k) off[k] = taps.r[k] * sp + taps.q[k] - taps.q_min;
  // the weight packed [ci block][col][k][IG_MR], so a tile's broadcasts read consecutively
  const int64_t blocks = (rows + IG_MR - 1) / IG_MR;
  std::vector<T> wp(groups * blocks * cols * K * IG_MR, T(0));
  const T* wd = w.data_ptr<T>();
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t ci = 0; ci < rows; ++ci)
      for (int64_t col = 0; col < cols; ++col)
        for (int64_t k = 0; k < K; ++k)
          wp[(((g * blocks + ci / IG_MR) * cols + col) * K + k) * IG_MR + ci % IG_MR] =
              wd[((g * rows + ci) * cols + col) * K + k];
  const T* god = go.data_ptr<T>();
  T* gid = gi.data_ptr<T>();
  at::parallel_for(0, N * groups * chunks, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> buf(cols * s * sp + W);  // + W: a masked vector may read past the last row
    for (int64_t unit = begin; unit < end; ++unit) {
      const int64_t c = unit % chunks, g = (unit / chunks) % groups, n = unit / (chunks * groups);
      const int64_t i0 = c * chunk, len = std::min(chunk, L - i0);
      taps.deinterleave<T>(god + (n * C_out + g * cols) * L_out, cols, i0, i0 + len, sp, buf.data());
      for (int64_t blk = 0; blk < blocks; ++blk) {
        const T* wb = wp.data() + (g * blocks + blk) * cols * K * IG_MR;
        T* out = gid + (n * C_in + g * rows + blk * IG_MR) * L + i0;
        const int mr = int(std::min<int64_t>(IG_MR, rows - blk * IG_MR));
        const T* gb = buf.data();
        input_grad_rows_for<T, IG_MR>(mr, wb, gb, off.data(), cols, col_stride, taps, i0, len, out);
      }
    }
  });
  return gi;
}

// The weight gradient's units of work, fixed by the shape alone (never by the thread count, so
// that the sum of their partials is the same on any number of threads): batch rows, each cut
// into pieces when there are few rows (so that several cores share the work), several to a
// unit so that a unit covers at least 1024 positions (its partial, as large as the gradient, is
// then small next to its work) and the partials take at most 32 MiB.
struct Units {
  int64_t pieces, piece, items, per_unit, count;
  Units(int64_t N, int64_t L, int64_t partial_bytes) {
    pieces = std::clamp<int64_t>((8 + N - 1) / N, 1, std::max<int64_t>(1, L / 1024));
    piece = (L + pieces - 1) / pieces;
    items = N * pieces;
    const int64_t most = std::max<int64_t>(1, (int64_t(32) << 20) / partial_bytes);
    per_unit = std::min(items, std::max((items + most - 1) / most, (1024 + piece - 1) / piece));
    count = (items + per_unit - 1) / per_unit;
  }
};

// ---------------------------------------------------------------------------------------------
// Weight gradient, dot products: a tile of MR input x NR output channels, each accumulator a
// vector of partial sums over the positions (lanes summed once per chunk and tap)
// ---------------------------------------------------------------------------------------------

// The chunk of a row whose input rows and phases of grad_output (the group's channels) fill
// about 256 KiB: the core's L2 cache.
constexpr int64_t WG_CHUNK_BYTES = 256 * 1024;
// Groups with this many output channels run the outer-product kernel (below, the dot products).
constexpr int64_t WG_OUTER_COLS = 32;

constexpr int WG_MR = 3;  // input channels per tile
constexpr int WG_NR = 3;  // output channels per tile: 9 accumulators, 3 + 3 loads

// One tile: out[a*out_a + b*out_b] += sum_{u in [u0, u1)} x[a*x_stride + u] * g[b*g_stride + u].
template <typename T, int MR, int NR>
inline void weight_grad_tile(const T* x, int64_t x_stride, const T* g, int64_t g_stride,
                             int64_t u0, int64_t u1, T* out, int64_t out_a, int64_t out_b) {
  using V = typename Vec<T>::type;
  constexpr int W = Vec<T>::W;
  V acc[MR][NR];
#pragma GCC unroll 8
  for (int a = 0; a < MR; ++a)
#pragma GCC unroll 8
    for (int b = 0; b < NR; ++b) acc[a][b] = V{};
  int64_t u = u0;
  for (; u + W <= u1; u += W) {
    V xv[MR], gv[NR];
#pragma GCC unroll 8
    for (int a = 0; a < MR; ++a) xv[a] = load<V>(x + a * x_stride + u);
#pragma GCC unroll 8
    for (int b = 0; b < NR; ++b) gv[b] = load<V>(g + b * g_stride + u);
#pragma GCC unroll 8
    for (int a = 0; a < MR; ++a)
#pragma GCC unroll 8
      for (int b = 0; b < NR; ++b) acc[a][b] = fma(xv[a], gv[b], acc[a][b]);
  }
  // (acc indexed by constants only, so that it lives in registers)
  T sums[MR][NR];
#pragma GCC unroll 8
  for (int a = 0; a < MR; ++a)
#pragma GCC unroll 8
    for (int b = 0; b < NR; ++b) sums[a][b] = lanes_sum<T>(acc[a][b]);
  for (int a = 0; a < MR; ++a)
    for (int b = 0; b < NR; ++b) {
      T sum = sums[a][b];
      for (int64_t v = u; v < u1; ++v) sum += x[a * x_stride + v] * g[b * g_stride + v];
      out[a * out_a + b * out_b] += sum;
    }
}

template <typename T, int MR>
void weight_grad_rows(const T* x, int64_t x_stride, const T* g, int64_t cols, int64_t col_stride,
                      const int64_t* off, const Taps& taps, int64_t i0, int64_t len, T* out) {
  const int64_t K = taps.K;
  for (int64_t col = 0; col < cols; col += WG_NR) {
    const int nr = int(std::min<int64_t>(WG_NR, cols - col));
    for (int64_t k = 0; k < K; ++k) {
      // positions of the chunk where tap k is in range
      const int64_t u0 = std::clamp<int64_t>(taps.lo[k] - i0, 0, len);
      const int64_t u1 = std::max<int64_t>(u0, std::clamp<int64_t>(taps.hi[k] - i0, 0, len));
      if (u1 == u0) continue;
      const T* gk = g + col * col_stride + off[k];
      T* o = out + col * K + k;
      const int64_t oa = cols * K;
      switch (nr) {
        case 3: weight_grad_tile<T, MR, 3>(x, x_stride, gk, col_stride, u0, u1, o, oa, K); break;
        case 2: weight_grad_tile<T, MR, 2>(x, x_stride, gk, col_stride, u0, u1, o, oa, K); break;
        default: weight_grad_tile<T, MR, 1>(x, x_stride, gk, col_stride, u0, u1, o, oa, K);
      }
    }
  }
}

template <typename T>
at::Tensor weight_grad(const at::Tensor& input, const at::Tensor& grad_output, int64_t K,
                       int64_t s, int64_t p, int64_t d, int64_t groups) {
  const at::Tensor x = input.contiguous(), go = grad_output.contiguous();
  const int64_t N = x.size(0), C_in = x.size(1), L = x.size(2);
  const int64_t C_out = go.size(1), L_out = go.size(2);
  const int64_t rows = C_in / groups, cols = C_out / groups;
  const int64_t size = C_in * cols * K;  // elements of the gradient
  at::Tensor gw = at::zeros({C_in, cols, K}, x.options());
  if (size == 0 || N == 0 || L == 0 || L_out == 0) return gw;
  const Taps taps(K, s, p, d, L, L_out);
  constexpr int W = Vec<T>::W;
  // chunk: the group's input rows and phases of grad_output for it fill about 256 KiB
  int64_t chunk = (WG_CHUNK_BYTES / int64_t(sizeof(T))) / (rows + cols * s);
  chunk = std::min(std::clamp<int64_t>(chunk / W * W, 16 * W, 8192), L);
  const int64_t sp = taps.span(chunk), col_stride = s * sp;
  std::vector<int64_t> off(K);
  for (int64_t k = 0; k < K; ++k) off[k] = taps.r[k] * sp + taps.q[k] - taps.q_min;
  const Units units(N, L, size * int64_t(sizeof(T)));
  std::vector<T> partial(units.count * size, T(0));
  const T* xd = x.data_ptr<T>();
  const T* god = go.data_ptr<T>();
  at::parallel_for(0, units.count, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> buf(cols * s * sp);
    for (int64_t unit = begin; unit < end; ++unit) {
      T* out = partial.data() + unit * size;
      for (int64_t item = unit * units.per_unit;
           item < std::min(units.items, (unit + 1) * units.per_unit); ++item) {
        const int64_t n = item / units.pieces, a = (item % units.pieces) * units.piece;
        const int64_t b = std::min(L, a + units.piece);
        for (int64_t i0 = a; i0 < b; i0 += chunk) {
          const int64_t len = std::min(chunk, b - i0);
          for (int64_t g = 0; g < groups; ++g) {
            taps.deinterleave<T>(god + (n * C_out + g * cols) * L_out, cols, i0, i0 + len,
                                 sp, buf.data());
            for (int64_t ci = 0; ci < rows; ci += WG_MR) {
              const T* xr = xd + (n * C_in + g * rows + ci) * L + i0;
              T* o = out + (g * rows + ci) * cols * K;
              const int mr = int(std::min<int64_t>(WG_MR, rows - ci));
              const T* gb = buf.data();
              switch (mr) {
                case 3: weight_grad_rows<T, 3>(xr, L, gb, cols, col_stride, off.data(), taps, i0, len, o); break;
                case 2: weight_grad_rows<T, 2>(xr, L, gb, cols, col_stride, off.data(), taps, i0, len, o); break;
                default: weight_grad_rows<T, 1>(xr, L, gb, cols, col_stride, off.data(), taps, i0, len, o);
              }
            }
          }
        }
      }
    }
  });
  // the units' partials, summed in unit order
  T* gwd = gw.data_ptr<T>();
  at::parallel_for(0, size, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t e = begin; e < end; ++e) {
      T sum = partial[e];
      for (int64_t unit = 1; unit < units.count; ++unit) sum += partial[unit * size + e];
      gwd[e] = sum;
    }
  });
  return gw;
}

// Weight gradient, outer products: the phases transposed to [phase][m][col] (col contiguous),
// a tile of MR input channels x NR vectors of output channels accumulating, position by position,
// the broadcast input sample times the vector of grad_output values. No lane sums; the partials
// are kept [ci][k][col], padded to whole vectors.
// ---------------------------------------------------------------------------------------------

constexpr int WG_OUTER_MR = 6;  // input channels per tile
// vectors of output channels per tile: 6 x 2 accumulators with AVX2's 16 registers, 6 x 4
// with AVX-512's 32
constexpr int WG_OUTER_NR = kVectorBytes == 64 ? 4 : 2;

template <typename T, int MR, int NR>
inline void weight_grad_outer_tile(const T* x, int64_t x_stride, const T* g, int64_t g_stride,
                                   int64_t u0, int64_t u1, T* out, int64_t out_a) {
  using V = typename Vec<T>::type;
  constexpr int W = Vec<T>::W;
  V acc[MR][NR];
#pragma GCC unroll 8
  for (int a = 0; a < MR; ++a)
#pragma GCC unroll 8
    for (int b = 0; b < NR; ++b) acc[a][b] = V{};
  for (int64_t u = u0; u < u1; ++u) {
    V gv[NR];
#pragma GCC unroll 8
    for (int b = 0; b < NR; ++b) gv[b] = load<V>(g + u * g_stride + b * W);
#pragma GCC unroll 8
    for (int a = 0; a < MR; ++a) {
      const V xv = broadcast(x + a * x_stride + u);
#pragma GCC unroll 8
      for (int b = 0; b < NR; ++b) acc[a][b] = fma(xv, gv[b], acc[a][b]);
    }
  }
#pragma GCC unroll 8
  for (int a = 0; a < MR; ++a)
#pragma GCC unroll 8
    for (int b = 0; b < NR; ++b) {
      T* o = out + a * out_a + b * W;
      store(o, load<V>(o) + acc[a][b]);
    }
}

template <typename T, int MR>
void weight_grad_outer_rows(const T* x, int64_t x_stride, const T* g, int64_t cols_p, int64_t sp,
                            const Taps& taps, int64_t i0, int64_t len, T* out) {
  constexpr int W = Vec<T>::W;
  const int64_t K = taps.K;
  for (int64_t c = 0; c < cols_p; c += WG_OUTER_NR * W) {
    const int nr = int(std::min<int64_t>(WG_OUTER_NR, (cols_p - c) / W));  // cols_p: whole vectors
    for (int64_t k = 0; k < K; ++k) {
      const int64_t u0 = std::clamp<int64_t>(taps.lo[k] - i0, 0, len);
      const int64_t u1 = std::max<int64_t>(u0, std::clamp<int64_t>(taps.hi[k] - i0, 0, len));
      if (u1 == u0) continue;
      const T* gk = g + (taps.r[k] * sp + taps.q[k] - taps.q_min) * cols_p + c;
      T* o = out + k * cols_p + c;
      switch (nr) {
        case 4: weight_grad_outer_tile<T, MR, 4>(x, x_stride, gk, cols_p, u0, u1, o, K * cols_p); break;
        case 3: weight_grad_outer_tile<T, MR, 3>(x, x_stride, gk, cols_p, u0, u1, o, K * cols_p); break;
        case 2: weight_grad_outer_tile<T, MR, 2>(x, x_stride, gk, cols_p, u0, u1, o, K * cols_p); break;
        default: weight_grad_outer_tile<T, MR, 1>(x, x_stride, gk, cols_p, u0, u1, o, K * cols_p);
      }
    }
  }
}

template <typename T>
at::Tensor weight_grad_outer(const at::Tensor& input, const at::Tensor& grad_output, int64_t K,
                             int64_t s, int64_t p, int64_t d, int64_t groups) {
  const at::Tensor x = input.contiguous(), go = grad_output.contiguous();
  const int64_t N = x.size(0), C_in = x.size(1), L = x.size(2);
  const int64_t C_out = go.size(1), L_out = go.size(2);
  const int64_t rows = C_in / groups, cols = C_out / groups;
  constexpr int W = Vec<T>::W;
  const int64_t cols_p = (cols + W - 1) / W * W;  // a row of the transposed phases, whole vectors
  const int64_t size = C_in * K * cols_p;          // elements of a unit's partial
  at::Tensor gw = at::zeros({C_in, cols, K}, x.options());
  if (cols == 0 || N == 0 || L == 0 || L_out == 0 || C_in == 0) return gw;
  const Taps taps(K, s, p, d, L, L_out);
  int64_t chunk = (WG_CHUNK_BYTES / int64_t(sizeof(T))) / (rows + cols_p * s);
  chunk = std::min(std::clamp<int64_t>(chunk, 64, 8192), L);
  const int64_t sp = taps.span(chunk);
  const Units units(N, L, size * int64_t(sizeof(T)));
  std::vector<T> partial(units.count * size, T(0));
  const T* xd = x.data_ptr<T>();
  const T* god = go.data_ptr<T>();
  at::parallel_for(0, units.count, 1, [&](int64_t begin, int64_t end) {
    std::vector<T> buf(s * sp * cols_p, T(0));  // [phase][m][col], the padding columns zero
    for (int64_t unit = begin; unit < end; ++unit) {
      T* out = partial.data() + unit * size;
      for (int64_t item = unit * units.per_unit;
           item < std::min(units.items, (unit + 1) * units.per_unit); ++item) {
        const int64_t n = item / units.pieces, a = (item % units.pieces) * units.piece;
        const int64_t b = std::min(L, a + units.piece);
        for (int64_t i0 = a; i0 < b; i0 += chunk) {
          const int64_t len = std::min(chunk, b - i0), m_base = i0 + taps.q_min;
          for (int64_t g = 0; g < groups; ++g) {
            // the chunk's phases of the group's grad_output, transposed 16 channels at a time,
            // so that each position's stores fill whole cache lines
            const T* src = god + (n * C_out + g * cols) * L_out;
            for (int64_t c0 = 0; c0 < cols; c0 += 16) {
              const int64_t c1 = std::min<int64_t>(cols, c0 + 16);
              for (int64_t ph = 0; ph < s; ++ph) {
                const int64_t m0 = std::max<int64_t>(0, m_base);
                const int64_t m1 = std::min<int64_t>(taps.phase_len[ph], i0 + len + taps.q_max);
                for (int64_t m = m0; m < m1; ++m) {
                  T* dst = buf.data() + (ph * sp + m - m_base) * cols_p;
                  const T* from = src + m * s + ph;
                  for (int64_t col = c0; col < c1; ++col) dst[col] = from[col * L_out];
                }
              }
            }
            for (int64_t ci = 0; ci < rows; ci += WG_OUTER_MR) {
              const T* xr = xd + (n * C_in + g * rows + ci) * L + i0;
              T* o = out + (g * rows + ci) * K * cols_p;
              const int mr = int(std::min<int64_t>(WG_OUTER_MR, rows - ci));
              const T* gb = buf.data();
              switch (mr) {
                case 6: weight_grad_outer_rows<T, 6>(xr, L, gb, cols_p, sp, taps, i0, len, o); break;
                case 5: weight_grad_outer_rows<T, 5>(xr, L, gb, cols_p, sp, taps, i0, len, o); break;
                case 4: weight_grad_outer_rows<T, 4>(xr, L, gb, cols_p, sp, taps, i0, len, o); break;
                case 3: weight_grad_outer_rows<T, 3>(xr, L, gb, cols_p, sp, taps, i0, len, o); break;
                case 2: weight_grad_outer_rows<T, 2>(xr, L, gb, cols_p, sp, taps, i0, len, o); break;
                default: weight_grad_outer_rows<T, 1>(xr, L, gb, cols_p, sp, taps, i0, len, o);
              }
            }
          }
        }
      }
    }
  });
  // the units' partials, summed in unit order, into gw[ci][col][k]
  T* gwd = gw.data_ptr<T>();
  at::parallel_for(0, C_in, 16, [&](int64_t begin, int64_t end) {
    for (int64_t ci = begin; ci < end; ++ci)
      for (int64_t k = 0; k < K; ++k)
        for (int64_t col = 0; col < cols; ++col) {
          const int64_t e = (ci * K + k) * cols_p + col;
          T sum = partial[e];
          for (int64_t unit = 1; unit < units.count; ++unit) sum += partial[unit * size + e];
          gwd[(ci * cols + col) * K + k] = sum;
        }
  });
  return gw;
}

// ---------------------------------------------------------------------------------------------
// The operators
// ---------------------------------------------------------------------------------------------

void check_common(const at::Tensor& a, const char* a_name, const at::Tensor& b, const char* b_name,
                  int64_t stride, int64_t padding, int64_t dilation, int64_t groups) {
  TORCH_CHECK(a.device().is_cpu() && b.device().is_cpu(), "convtranspose_native: ", a_name,
              " and ", b_name, " must be CPU tensors");
  TORCH_CHECK(a.scalar_type() == b.scalar_type(), "convtranspose_native: ", a_name, " and ",
              b_name, " must have the same dtype");
  TORCH_CHECK(a.scalar_type() == at::kFloat || a.scalar_type() == at::kDouble,
              "convtranspose_native: only float32 and float64, got ", a.scalar_type());
  TORCH_CHECK(a.dim() == 3 && b.dim() == 3, "convtranspose_native: ", a_name, " and ", b_name,
              " must be 3-d");
  TORCH_CHECK(stride >= 1 && dilation >= 1 && padding >= 0 && groups >= 1,
              "convtranspose_native: stride, dilation and groups must be positive, padding "
              "non-negative");
}

at::Tensor conv_transpose1d_input_grad(const at::Tensor& grad_output, const at::Tensor& weight,
                                       int64_t input_length, int64_t stride, int64_t padding,
                                       int64_t dilation, int64_t groups) {
  check_common(grad_output, "grad_output", weight, "weight", stride, padding, dilation, groups);
  TORCH_CHECK(input_length >= 0, "convtranspose_native: input_length must be non-negative");
  TORCH_CHECK(weight.size(0) % groups == 0 && weight.size(1) * groups == grad_output.size(1),
              "convtranspose_native: weight (C_in, C_out/groups, K) does not match grad_output "
              "and groups");
  TORCH_CHECK(weight.size(2) >= 1, "convtranspose_native: kernel_size must be positive");
  return AT_DISPATCH_FLOATING_TYPES(grad_output.scalar_type(), "conv_transpose1d_input_grad", [&] {
    return input_grad<scalar_t>(grad_output, weight, input_length, stride, padding, dilation,
                                groups);
  });
}

at::Tensor conv_transpose1d_weight_grad(const at::Tensor& input, const at::Tensor& grad_output,
                                        int64_t kernel_size, int64_t stride, int64_t padding,
                                        int64_t dilation, int64_t groups) {
  check_common(input, "input", grad_output, "grad_output", stride, padding, dilation, groups);
  TORCH_CHECK(kernel_size >= 1, "convtranspose_native: kernel_size must be positive");
  TORCH_CHECK(input.size(0) == grad_output.size(0) && input.size(1) % groups == 0 &&
                  grad_output.size(1) % groups == 0,
              "convtranspose_native: input and grad_output do not match (batch, groups)");
  return AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "conv_transpose1d_weight_grad", [&] {
    // outer products for wide groups; lane-parallel dot products when a group has too few
    // output channels to fill two vectors
    const bool wide = grad_output.size(1) / groups >= WG_OUTER_COLS;
    return wide ? weight_grad_outer<scalar_t>(input, grad_output, kernel_size, stride, padding,
                                              dilation, groups)
                : weight_grad<scalar_t>(input, grad_output, kernel_size, stride, padding,
                                        dilation, groups);
  });
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(CT_NS, m) {
  m.def(
      "conv_transpose1d_input_grad(Tensor grad_output, Tensor weight, int input_length, "
      "int stride, int padding, int dilation, int groups) -> Tensor");
  m.def(
      "conv_transpose1d_weight_grad(Tensor input, Tensor grad_output, int kernel_size, "
      "int stride, int padding, int dilation, int groups) -> Tensor");
}

TORCH_LIBRARY_IMPL(CT_NS, CPU, m) {
  m.impl("conv_transpose1d_input_grad", &conv_transpose1d_input_grad);
  m.impl("conv_transpose1d_weight_grad", &conv_transpose1d_weight_grad);
}
