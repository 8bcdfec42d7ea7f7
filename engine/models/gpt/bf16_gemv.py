"""A one-row bf16 matrix-vector product for the bf16 decode path (CPU with AVX512-BF16).

Decoding one token multiplies one row through each of the 96 layer matrices. oneDNN's
prepacked bf16 kernel streams those weights at ~10 GB/s with ~18 us of fixed cost per call;
this kernel (``vdpbf16ps`` over 4 weight rows at a time, software prefetch 8 rows ahead, the
fp32 input rounded to bf16 once, fp32 accumulation, bf16 output like oneDNN's) reaches
~16-24 GB/s with ~1 us, which makes bf16 decoding ~1.4x faster (bench/results/gpt.md).

It is compiled on first use with ``torch.utils.cpp_extension.load_inline`` (g++ and ninja;
~45 s once, then cached in torch's extension folder). Where it cannot be had (no AVX512-BF16,
no compiler, a failed build, ``GSV_GPT_BF16_GEMV=0``), :func:`kernel` returns None and the
callers keep oneDNN.
"""
from __future__ import annotations

import functools
import logging
import os
import platform

log = logging.getLogger(__name__)

MAX_K = 8192  # input width the kernel's stack buffer holds

SRC = r"""
#include <torch/extension.h>
#include <immintrin.h>
#include <cstring>
static inline uint16_t to_bf16(float v) {  // round to nearest even (inputs are finite)
  uint32_t u; std::memcpy(&u, &v, 4); u += 0x7FFF + ((u >> 16) & 1); return (uint16_t)(u >> 16); }
static inline float from_bf16(uint16_t h) {
  uint32_t u = (uint32_t)h << 16; float f; std::memcpy(&f, &u, 4); return f; }
// y = W x + b for one row x [..., K] (fp32 or bf16); W bf16 [N, K] row-major contiguous,
// b bf16 [N]; N % 4 == 0, K % 32 == 0, K <= 8192 (checked by the caller). y: bf16 [..., N].
torch::Tensor gemv(torch::Tensor x, torch::Tensor w, torch::Tensor b) {
  const int64_t N = w.size(0), K = w.size(1);
  auto xf = x.reshape({K}).contiguous();
  alignas(64) uint16_t xb[8192];
  if (xf.scalar_type() == at::kFloat) {
    const float* xp = xf.data_ptr<float>();
    for (int64_t k = 0; k < K; k += 32) {
      __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(xp + k + 16), _mm512_loadu_ps(xp + k));
      _mm512_store_si512((void*)(xb + k), (__m512i)v);
    }
  } else {
    std::memcpy(xb, xf.data_ptr(), K * 2);
  }
  auto shape = x.sizes().vec(); shape.back() = N;
  auto y = torch::empty(shape, w.options());
  auto wp = (const uint16_t*)w.data_ptr();
  auto bp = (const uint16_t*)b.data_ptr();
  auto yp = (uint16_t*)y.data_ptr();
  for (int64_t n = 0; n < N; n += 4) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    const uint16_t* r = wp + n * K;
    for (int64_t k = 0; k < K; k += 32) {
      __m512bh xv = (__m512bh)_mm512_load_si512((const void*)(xb + k));
      for (int j = 0; j < 4; ++j) _mm_prefetch((const char*)(r + (8 + j) * K + k), _MM_HINT_T0);
      a0 = _mm512_dpbf16_ps(a0, (__m512bh)_mm512_loadu_si512(r + k), xv);
      a1 = _mm512_dpbf16_ps(a1, (__m512bh)_mm512_loadu_si512(r + K + k), xv);
      a2 = _mm512_dpbf16_ps(a2, (__m512bh)_mm512_loadu_si512(r + 2 * K + k), xv);
      a3 = _mm512_dpbf16_ps(a3, (__m512bh)_mm512_loadu_si512(r + 3 * K + k), xv);
    }
    yp[n] = to_bf16(_mm512_reduce_add_ps(a0) + from_bf16(bp[n]));
    yp[n + 1] = to_bf16(_mm512_reduce_add_ps(a1) + from_bf16(bp[n + 1]));
    yp[n + 2] = to_bf16(_mm512_reduce_add_ps(a2) + from_bf16(bp[n + 2]));
    yp[n + 3] = to_bf16(_mm512_reduce_add_ps(a3) + from_bf16(bp[n + 3]));
  }
  return y;
}
"""


def _cpu_has_avx512_bf16() -> bool:
    if platform.system() != "Linux":
        return False
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return "avx512_bf16" in line.split()
    except OSError:
        pass
    return False


@functools.cache
def kernel():
    """The compiled ``gemv(x, w, b)`` function, or None where it cannot be had."""
    if os.environ.get("GSV_GPT_BF16_GEMV", "1") == "0" or not _cpu_has_avx512_bf16():
        return None
    try:
        from torch.utils.cpp_extension import load_inline
        mod = load_inline("gsv_gpt_bf16_gemv_v1", cpp_sources=SRC, functions=["gemv"],
                          extra_cflags=["-O3", "-mavx512f", "-mavx512bw", "-mavx512bf16"])
        return mod.gemv
    except Exception as e:  # noqa: BLE001 - no compiler / ninja / headers: keep oneDNN
        log.warning("bf16 GEMV kernel unavailable (%s); using oneDNN", e)
        return None


def fits(n: int, k: int) -> bool:
    return n % 4 == 0 and k % 32 == 0 and 0 < k <= MAX_K
