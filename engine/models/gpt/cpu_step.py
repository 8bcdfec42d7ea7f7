"""One whole decoding step (all 24 layers, one new position) in one C++ call, on every core.

Why: a decoding step is 96 one-row matrix products plus attention, layer norms and ~300
small torch ops. Through torch, each op is dispatched from Python (~2-5 us each) and every
op big enough to go parallel wakes the thread pool again, so a second core bought nothing
(bench/results/gpt.md). Here one OpenMP parallel region covers the whole step: each matrix
is split by output rows across the threads (a row is summed by one thread, in the same order
whatever the thread count, so the result does not depend on it), attention by heads, and
the threads meet at 4 barriers per layer. Layer norms are cheap (512 values) and every
thread computes them itself, so nothing waits on them.

Weights: fp32 (the exact path, the model's own tensors, no copy) or bf16 (the bf16 path;
``vdpbf16ps`` where the CPU has AVX512-BF16, else bf16 widened to fp32). Accumulation is
always fp32; the KV cache is fp32 or bf16 as decoding allocated it. The bf16 path keeps the
torch bf16 path's rounding points (products and their biases rounded to bf16, as its GEMV;
attention as torch's CPU flash attention: probabilities rounded to bf16 per 512-position
block), so its tokens stay as close to exact as that path's (bench/results/gpt.md); only
summation order and the softmax's exp differ. The prompt (prefill) and batches keep the
torch path.

Compiled on first use with ``torch.utils.cpp_extension.load_inline`` for this CPU
(``-march=native``, cached per CPU-flag set); where it cannot be had (no compiler, a failed
build, ``GSV_GPT_FUSED_STEP=0``) :func:`kernel` returns None and decoding keeps torch's ops.
"""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import platform

log = logging.getLogger(__name__)

SRC = r"""
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <omp.h>
#include <immintrin.h>
#include <cmath>
#include <cstring>
#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

typedef uint16_t bf16;
static inline float bf2f(bf16 h) { uint32_t u = (uint32_t)h << 16; float f; std::memcpy(&f, &u, 4); return f; }
static inline bf16 f2bf(float v) {  // round to nearest even (values are finite)
  uint32_t u; std::memcpy(&u, &v, 4); u += 0x7FFF + ((u >> 16) & 1); return (bf16)(u >> 16); }
static inline float bfr(float v) { return bf2f(f2bf(v)); }  // v rounded to bf16, as fp32

#ifdef __AVX512F__
static inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
static inline __m512 load16(const bf16* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)p)), 16)); }
#endif

// y[n] = W[n,:] . x + b[n] for rows n0..n1 (n1 - n0 % 4 == 0; K % 32 == 0).
// fp32 weights: 16-lane fp32 partial sums per row, reduced at the end.
static void rows(const float* W, const float* b, const float* x, const bf16*, float* y,
                 int64_t K, int64_t n0, int64_t n1) {
  for (int64_t n = n0; n < n1; n += 4) {
    const float* r = W + n * K;
#ifdef __AVX512F__
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t k = 0; k < K; k += 16) {
      for (int j = 0; j < 4; ++j) _mm_prefetch((const char*)(r + (8 + j) * K + k), _MM_HINT_T0);
      __m512 xv = _mm512_loadu_ps(x + k);
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(r + k), xv, a0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(r + K + k), xv, a1);
      a2 = _mm512_fmadd_ps(_mm512_loadu_ps(r + 2 * K + k), xv, a2);
      a3 = _mm512_fmadd_ps(_mm512_loadu_ps(r + 3 * K + k), xv, a3);
    }
    y[n] = _mm512_reduce_add_ps(a0) + b[n]; y[n + 1] = _mm512_reduce_add_ps(a1) + b[n + 1];
    y[n + 2] = _mm512_reduce_add_ps(a2) + b[n + 2]; y[n + 3] = _mm512_reduce_add_ps(a3) + b[n + 3];
#else
    for (int j = 0; j < 4; ++j) {
      const float* rj = r + j * K; float acc[16] = {0};
      for (int64_t k = 0; k < K; k += 16)
        for (int l = 0; l < 16; ++l) acc[l] += rj[k + l] * x[k + l];
      float s = 0; for (int l = 0; l < 16; ++l) s += acc[l];
      y[n + j] = s + b[n + j];
    }
#endif
  }
}

// bf16 weights: the torch bf16 path's arithmetic (bf16_gemv.py: the input rounded to bf16,
// fp32 sums in the same lane order, bias (bf16-valued, precision.py) added, the output
// rounded to bf16), kept as fp32 values. With AVX512-BF16 through vdpbf16ps.
static void rows(const bf16* W, const float* b, const float*, const bf16* xb, float* y,
                 int64_t K, int64_t n0, int64_t n1) {
  for (int64_t n = n0; n < n1; n += 4) {
    const bf16* r = W + n * K;
#if defined(__AVX512BF16__)
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t k = 0; k < K; k += 32) {
      __m512bh xv = (__m512bh)_mm512_loadu_si512((const void*)(xb + k));
      for (int j = 0; j < 4; ++j) _mm_prefetch((const char*)(r + (8 + j) * K + k), _MM_HINT_T0);
      a0 = _mm512_dpbf16_ps(a0, (__m512bh)_mm512_loadu_si512(r + k), xv);
      a1 = _mm512_dpbf16_ps(a1, (__m512bh)_mm512_loadu_si512(r + K + k), xv);
      a2 = _mm512_dpbf16_ps(a2, (__m512bh)_mm512_loadu_si512(r + 2 * K + k), xv);
      a3 = _mm512_dpbf16_ps(a3, (__m512bh)_mm512_loadu_si512(r + 3 * K + k), xv);
    }
    y[n] = bfr(_mm512_reduce_add_ps(a0) + b[n]); y[n + 1] = bfr(_mm512_reduce_add_ps(a1) + b[n + 1]);
    y[n + 2] = bfr(_mm512_reduce_add_ps(a2) + b[n + 2]); y[n + 3] = bfr(_mm512_reduce_add_ps(a3) + b[n + 3]);
#else
    for (int j = 0; j < 4; ++j) {
      const bf16* rj = r + j * K; float acc[16] = {0};
      for (int64_t k = 0; k < K; k += 16)
        for (int l = 0; l < 16; ++l) acc[l] += bf2f(rj[k + l]) * bf2f(xb[k + l]);
      float s = 0; for (int l = 0; l < 16; ++l) s += acc[l];
      y[n + j] = bfr(s + b[n + j]);
    }
#endif
  }
}

// Rows of an N-row matrix for thread t of T, in blocks of 16 (no shared cache line in y).
static inline void split(int64_t N, int t, int T, int64_t& n0, int64_t& n1) {
  int64_t blocks = N / 16; n0 = blocks * t / T * 16; n1 = blocks * (t + 1) / T * 16; }

static inline float dot(const float* q, const float* k, int64_t d) {
  float s = 0;
  #pragma omp simd reduction(+:s)
  for (int64_t i = 0; i < d; ++i) s += q[i] * k[i];
  return s; }
static inline float dot(const float* q, const bf16* k, int64_t d) {
  float s = 0;
  #pragma omp simd reduction(+:s)
  for (int64_t i = 0; i < d; ++i) s += q[i] * bf2f(k[i]);
  return s; }
static inline float val(float v) { return v; }
static inline float val(bf16 v) { return bf2f(v); }
static inline void store(float* p, float v) { *p = v; }
static inline void store(bf16* p, float v) { *p = f2bf(v); }

#ifdef __AVX512F__
// e^x for x <= 0 (softmax after subtracting the max): 2^n e^r, |r| <= ln2/2, Taylor to r^7.
static inline __m512 exp16(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-87.0f));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.0f / 5040);
  const float c[] = {1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f};
  for (float ci : c) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(ci));
  return _mm512_scalef_ps(p, n);
}
#endif

// One head's attention for the newest position: softmax(q.K / sqrt(d)) . V over 0..L-1.
template <typename C>
static void attend(const float* q, const C* K, const C* V, int64_t L, int64_t d, float* s,
                   float* out) {
  const float scale = 1.0f / std::sqrt((float)d);
  float m = -INFINITY;
#ifdef __AVX512F__
  if (d % 16 == 0 && d <= 256) {
    __m512 qv[16], acc[16];
    for (int64_t c = 0; c < d / 16; ++c) qv[c] = _mm512_mul_ps(_mm512_loadu_ps(q + 16 * c), _mm512_set1_ps(scale));
    for (int64_t t = 0; t < L; ++t) {
      __m512 a = _mm512_mul_ps(qv[0], load16(K + t * d));
      for (int64_t c = 1; c < d / 16; ++c) a = _mm512_fmadd_ps(qv[c], load16(K + t * d + 16 * c), a);
      s[t] = _mm512_reduce_add_ps(a); m = s[t] > m ? s[t] : m;
    }
    __m512 mv = _mm512_set1_ps(m), zv = _mm512_setzero_ps();
    int64_t t = 0;
    for (; t + 16 <= L; t += 16) {
      __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(s + t), mv));
      _mm512_storeu_ps(s + t, e); zv = _mm512_add_ps(zv, e);
    }
    if (t < L) {
      __mmask16 k = (__mmask16)((1u << (L - t)) - 1);
      __m512 e = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + t), mv));
      _mm512_mask_storeu_ps(s + t, k, e); zv = _mm512_add_ps(zv, _mm512_maskz_mov_ps(k, e));
    }
    const float z = _mm512_reduce_add_ps(zv);
    for (int64_t c = 0; c < d / 16; ++c) acc[c] = _mm512_setzero_ps();
    for (int64_t u = 0; u < L; ++u) {
      __m512 p = _mm512_set1_ps(s[u]);
      for (int64_t c = 0; c < d / 16; ++c) acc[c] = _mm512_fmadd_ps(p, load16(V + u * d + 16 * c), acc[c]);
    }
    __m512 inv = _mm512_set1_ps(1.0f / z);
    for (int64_t c = 0; c < d / 16; ++c) _mm512_storeu_ps(out + 16 * c, _mm512_mul_ps(acc[c], inv));
    return;
  }
#endif
  for (int64_t t = 0; t < L; ++t) { s[t] = dot(q, K + t * d, d) * scale; m = s[t] > m ? s[t] : m; }
  float z = 0;
  for (int64_t t = 0; t < L; ++t) { s[t] = std::exp(s[t] - m); z += s[t]; }
  for (int64_t i = 0; i < d; ++i) out[i] = 0;
  for (int64_t t = 0; t < L; ++t) {
    const C* v = V + t * d; const float p = s[t];
    for (int64_t i = 0; i < d; ++i) out[i] += p * val(v[i]);
  }
  const float inv = 1.0f / z;
  for (int64_t i = 0; i < d; ++i) out[i] *= inv;
}

// The bf16 path's attention, in the arithmetic of torch's CPU flash attention for bf16
// (what its decoding steps ran before this kernel): scores q.k summed in fp32 then scaled,
// softmax over blocks of 512 positions (online: a later block's larger max rescales what came
// before), each block's probabilities rounded to bf16 for the product with V while the sum
// keeps the fp32 ones, the output multiplied by 1/sum. q, K, V hold bf16 values.
static constexpr int64_t KV_BLOCK = 512;
static void attend_bf16(const float* q, const bf16* K, const bf16* V, int64_t L, int64_t d,
                        float* s, float* out) {
  const float scale = (float)(1.0 / std::sqrt((double)d));  // as torch's default scale
#ifdef __AVX512F__
  if (d % 16 == 0 && d <= 256) {
    __m512 qv[16], acc[16];
    for (int64_t c = 0; c < d / 16; ++c) { qv[c] = _mm512_loadu_ps(q + 16 * c); acc[c] = _mm512_setzero_ps(); }
    float m = -INFINITY, z = 0;
    for (int64_t n0 = 0; n0 < L; n0 += KV_BLOCK) {
      const int64_t n1 = std::min(L, n0 + KV_BLOCK);
      float bm = -INFINITY;
      for (int64_t t = n0; t < n1; ++t) {
        __m512 a = _mm512_mul_ps(qv[0], load16(K + t * d));
        for (int64_t c = 1; c < d / 16; ++c) a = _mm512_fmadd_ps(qv[c], load16(K + t * d + 16 * c), a);
        s[t] = _mm512_reduce_add_ps(a) * scale; bm = s[t] > bm ? s[t] : bm;
      }
      const float mn = bm > m ? bm : m;
      __m512 mv = _mm512_set1_ps(mn), zv = _mm512_setzero_ps();
      int64_t t = n0;
      for (; t + 16 <= n1; t += 16) {
        __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(s + t), mv));
        zv = _mm512_add_ps(zv, e);
        _mm512_storeu_ps(s + t, e);
      }
      float zb = _mm512_reduce_add_ps(zv);
      for (; t < n1; ++t) { s[t] = std::exp(s[t] - mn); zb += s[t]; }
      const float c0 = std::exp(m - mn);  // 0 for the first block (m = -inf)
      z = zb + c0 * z;
      if (n0) for (int64_t c = 0; c < d / 16; ++c) acc[c] = _mm512_mul_ps(acc[c], _mm512_set1_ps(c0));
      for (int64_t u = n0; u < n1; ++u) {
        __m512 p = _mm512_set1_ps(bfr(s[u]));
        for (int64_t c = 0; c < d / 16; ++c) acc[c] = _mm512_fmadd_ps(p, load16(V + u * d + 16 * c), acc[c]);
      }
      m = mn;
    }
    __m512 inv = _mm512_set1_ps(1.0f / z);
    for (int64_t c = 0; c < d / 16; ++c) _mm512_storeu_ps(out + 16 * c, _mm512_mul_ps(acc[c], inv));
    return;
  }
#endif
  float m = -INFINITY, z = 0;
  for (int64_t i = 0; i < d; ++i) out[i] = 0;
  for (int64_t n0 = 0; n0 < L; n0 += KV_BLOCK) {
    const int64_t n1 = std::min(L, n0 + KV_BLOCK);
    float bm = -INFINITY;
    for (int64_t t = n0; t < n1; ++t) { s[t] = dot(q, K + t * d, d) * scale; bm = s[t] > bm ? s[t] : bm; }
    const float mn = bm > m ? bm : m;
    float zb = 0;
    for (int64_t t = n0; t < n1; ++t) { s[t] = std::exp(s[t] - mn); zb += s[t]; }
    const float c0 = std::exp(m - mn);
    z = zb + c0 * z;
    if (n0) for (int64_t i = 0; i < d; ++i) out[i] *= c0;
    for (int64_t t = n0; t < n1; ++t) {
      const bf16* v = V + t * d; const float p = bfr(s[t]);
      for (int64_t i = 0; i < d; ++i) out[i] += p * bf2f(v[i]);
    }
    m = mn;
  }
  const float inv = 1.0f / z;
  for (int64_t i = 0; i < d; ++i) out[i] *= inv;
}
template <typename W, typename C>
static inline void attend_as(const float* q, const C* K, const C* V, int64_t L, int64_t d,
                             float* s, float* out) {
  if constexpr (std::is_same<W, bf16>::value && std::is_same<C, bf16>::value)
    attend_bf16(q, K, V, L, d, s, out);
  else
    attend(q, K, V, L, d, s, out);
}

// x = LayerNorm(x + y) with weight g, bias b (biased variance, two passes).
static void add_norm(float* x, const float* y, const float* g, const float* b, int64_t D, float eps) {
  float mean = 0;
  for (int64_t i = 0; i < D; ++i) { x[i] += y[i]; mean += x[i]; }
  mean /= D;
  float var = 0;
  for (int64_t i = 0; i < D; ++i) { float c = x[i] - mean; var += c * c; }
  const float r = 1.0f / std::sqrt(var / D + eps);
  for (int64_t i = 0; i < D; ++i) x[i] = (x[i] - mean) * r * g[i] + b[i];
}

static inline void to_bf16(const float* x, bf16* xb, int64_t K) {
  for (int64_t k = 0; k < K; ++k) xb[k] = f2bf(x[k]); }
template <typename W> static inline void round_in(const float* x, bf16* xb, int64_t K) {
  if constexpr (std::is_same<W, bf16>::value) to_bf16(x, xb, K); }  // fp32 weights: unused

// The step is a chain of phases (per layer: qkv, attention, out, norm1, ffn1, ffn2, norm2),
// each cut into chunks (blocks of rows, one head, one norm) that any thread takes from an
// atomic counter. A phase starts once every chunk of the one before is done. No thread waits
// for another thread to *arrive* (a barrier would): on a loaded machine a descheduled thread
// only delays the chunk it holds, and the others take the rest.
struct alignas(64) Phase { std::atomic<int64_t> taken{0}, done{0}; };

static inline void wait_done(const std::atomic<int64_t>& a, int64_t want) {
  for (int spins = 0; a.load(std::memory_order_acquire) < want; ++spins) {
#if defined(__x86_64__)
    if (spins < 4096) { _mm_pause(); continue; }
#endif
    std::this_thread::yield();  // the thread we wait on may need this core
  }
}

template <typename W> static inline int64_t rows_per_chunk(int64_t K) {
  int64_t r = (65536 / (K * (int64_t)sizeof(W))) / 16 * 16; return r < 16 ? 16 : r; }

// Per layer, 12 tensors: Wqkv, bqkv, Wo, bo, W1, b1, W2, b2, g1, b1n, g2, b2n (biases and
// norms fp32, weights W or bf16). Caches [1, H, Tmax, dh] of C.
template <typename W, typename C>
static void run(float* x_io, const std::vector<torch::Tensor>& P, const std::vector<torch::Tensor>& KC,
                const std::vector<torch::Tensor>& VC, int64_t pos, int64_t H, float eps, int T) {
  const int64_t layers = KC.size(), D = P[0].size(1), F = P[4].size(0), dh = D / H;
  const int64_t Tmax = KC[0].size(2), L = pos + 1;
  // shared buffers; *b: the same values rounded to bf16 (inputs of bf16 products)
  std::vector<float> x(x_io, x_io + D), qkv(3 * D), att(D), o(D), f(F), y(D);
  std::vector<bf16> xb(D), attb(D), fb(F);
  round_in<W>(x.data(), xb.data(), D);
  const int64_t rD = rows_per_chunk<W>(D), rF = rows_per_chunk<W>(F);
  auto chunks = [&](int64_t N, int64_t r) { return (N + r - 1) / r; };
  const int64_t count[7] = {chunks(3 * D, rD), H, chunks(D, rD), 1, chunks(F, rD), chunks(D, rF), 1};
  const int64_t G = 7 * layers;
  std::unique_ptr<Phase[]> ph(new Phase[G]);
  auto work = [&](int64_t l, int kind, int64_t i, float* s) {
    const torch::Tensor* p = &P[12 * l];
    auto wp = [&](int j) { return (const W*)p[j].data_ptr(); };
    auto fp = [&](int j) { return (const float*)p[j].data_ptr(); };
    switch (kind) {
      case 0: rows(wp(0), fp(1), x.data(), xb.data(), qkv.data(), D, i * rD, std::min(3 * D, (i + 1) * rD)); break;
      case 1: {
        C* kh = (C*)KC[l].data_ptr() + i * Tmax * dh; C* vh = (C*)VC[l].data_ptr() + i * Tmax * dh;
        for (int64_t j = 0; j < dh; ++j) {
          store(kh + pos * dh + j, qkv[D + i * dh + j]);
          store(vh + pos * dh + j, qkv[2 * D + i * dh + j]);
        }
        attend_as<W, C>(qkv.data() + i * dh, kh, vh, L, dh, s, att.data() + i * dh);
        round_in<W>(att.data() + i * dh, attb.data() + i * dh, dh);
        break;
      }
      case 2: rows(wp(2), fp(3), att.data(), attb.data(), o.data(), D, i * rD, std::min(D, (i + 1) * rD)); break;
      case 3: add_norm(x.data(), o.data(), fp(8), fp(9), D, eps); round_in<W>(x.data(), xb.data(), D); break;
      case 4: {
        const int64_t n0 = i * rD, n1 = std::min(F, (i + 1) * rD);
        rows(wp(4), fp(5), x.data(), xb.data(), f.data(), D, n0, n1);
        for (int64_t n = n0; n < n1; ++n) f[n] = f[n] > 0 ? f[n] : 0;
        round_in<W>(f.data() + n0, fb.data() + n0, n1 - n0);
        break;
      }
      case 5: rows(wp(6), fp(7), f.data(), fb.data(), y.data(), F, i * rF, std::min(D, (i + 1) * rF)); break;
      case 6: add_norm(x.data(), y.data(), fp(10), fp(11), D, eps); round_in<W>(x.data(), xb.data(), D); break;
    }
  };
  #pragma omp parallel num_threads(T)
  {
    std::vector<float> s(L);  // this thread's attention scores
    for (int64_t g = 0; g < G; ++g) {
      const int kind = g % 7; const int64_t total = count[kind];
      if (ph[g].taken.load(std::memory_order_relaxed) >= total) continue;  // all taken already
      if (g) wait_done(ph[g - 1].done, count[(g - 1) % 7]);
      for (int64_t i; (i = ph[g].taken.fetch_add(1, std::memory_order_relaxed)) < total;) {
        work(g / 7, kind, i, s.data());
        ph[g].done.fetch_add(1, std::memory_order_release);
      }
    }
  }
  wait_done(ph[G - 1].done, 1);
  std::memcpy(x_io, x.data(), D * sizeof(float));
}

// x [.., D] fp32 -> the new position's hidden state [1, D] fp32; writes position pos of
// every cache. threads <= 0: torch's thread count.
torch::Tensor step(torch::Tensor x, std::vector<torch::Tensor> P, std::vector<torch::Tensor> KC,
                   std::vector<torch::Tensor> VC, int64_t pos, int64_t heads, double eps,
                   int64_t threads) {
  auto out = x.reshape({1, -1}).to(torch::kFloat32).clone();
  int T = threads > 0 ? (int)threads : at::get_num_threads();
  if (at::in_parallel_region()) T = 1;
  pybind11::gil_scoped_release no_gil;  // other Python threads (a server's) run meanwhile
  bool wb = P[0].scalar_type() == at::kBFloat16, cb = KC[0].scalar_type() == at::kBFloat16;
  float* xp = out.data_ptr<float>();
  if (wb && cb) run<bf16, bf16>(xp, P, KC, VC, pos, heads, (float)eps, T);
  else if (wb) run<bf16, float>(xp, P, KC, VC, pos, heads, (float)eps, T);
  else if (cb) run<float, bf16>(xp, P, KC, VC, pos, heads, (float)eps, T);
  else run<float, float>(xp, P, KC, VC, pos, heads, (float)eps, T);
  return out;
}

// One matrix, rows split across threads (bench/gpt_gemv.py): y [1, N] fp32.
torch::Tensor gemv(torch::Tensor x, torch::Tensor w, torch::Tensor b, int64_t threads) {
  const int64_t N = w.size(0), K = w.size(1);
  auto xf = x.reshape({K}).to(torch::kFloat32).contiguous();
  auto y = torch::empty({1, N}, xf.options());
  int T = threads > 0 ? (int)threads : at::get_num_threads();
  std::vector<bf16> xb(K);
  to_bf16(xf.data_ptr<float>(), xb.data(), K);
  const float* xp = xf.data_ptr<float>(); const float* bp = b.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  bool wb = w.scalar_type() == at::kBFloat16;
  #pragma omp parallel num_threads(T)
  {
    int64_t n0, n1;
    split(N, omp_get_thread_num(), omp_get_num_threads(), n0, n1);
    if (wb) rows((const bf16*)w.data_ptr(), bp, xp, xb.data(), yp, K, n0, n1);
    else rows(w.data_ptr<float>(), bp, xp, xb.data(), yp, K, n0, n1);
  }
  return y;
}
"""


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return line
    except OSError:
        pass
    return platform.processor()


@functools.cache
def kernel():
    """The compiled module (``step``, ``gemv``), or None where it cannot be had."""
    if os.environ.get("GSV_GPT_FUSED_STEP", "1") == "0" or platform.machine() not in (
            "x86_64", "AMD64"):
        return None
    # -march=native: the build is for this CPU; the name carries its flags and the source.
    tag = hashlib.sha256((SRC + _cpu_flags()).encode()).hexdigest()[:12]
    try:
        from torch.utils.cpp_extension import load_inline
        return load_inline(f"gsv_gpt_step_{tag}", cpp_sources=SRC, functions=["step", "gemv"],
                           extra_cflags=["-O3", "-march=native", "-fopenmp"],
                           extra_ldflags=["-fopenmp"])
    except Exception as e:  # noqa: BLE001 - no compiler / ninja / headers: keep torch's ops
        log.warning("fused GPT step kernel unavailable (%s); using torch's ops", e)
        return None


def fits(dim: int, ffn: int, heads: int) -> bool:
    return dim % 32 == 0 and ffn % 32 == 0 and dim % heads == 0 and dim >= 32
