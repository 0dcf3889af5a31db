// OPML host MatMul kernel (docs/kernels.md "Host MatMul"): y[r][j] = sum over p of A[r][p] * B[p][j] for a
// float32 A [rows][K] and a B held panel-major, [n/16][K][16] (compiler/native-layout.ts), the way the
// native arena stores MatMul's constant B.
//
// Every output is computed exactly as the kernel language's MatMul and the OPVM compute it: acc = +0, then
// for p = 0 … K-1 in order acc = acc + (A[r][p] * B[p][j]), each product and each sum rounded to binary32
// (round to nearest even, subnormals kept), and the canonical NaN 0x7FC00000 stored for any NaN. The
// vector lanes only hold independent outputs. Built with -mavx2 -mno-fma -ffp-contract=off and without
// -ffast-math, so the compiler can neither fuse a multiply into an add nor reorder the sums nor flush
// subnormals; the arithmetic is written with explicit AVX intrinsics.
#include <node_api.h>
#include <immintrin.h>
#include <cstdint>
#include "host.h"

namespace {

constexpr int64_t PANEL = 16;

#define AVX2 OPML_AVX2

AVX2 inline void store_canonical(float* y, __m256 v) {
  const __m256 nan = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FC00000));
  _mm256_storeu_ps(y, _mm256_blendv_ps(v, nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
}

// Rows r0 … r0+3 against one panel: a 4 × 16 tile in eight registers (named, so that the compiler keeps
// them in registers rather than in a stack array).
AVX2 inline void tile4(const float* a, const float* bp, float* y, int64_t K, int64_t n, int64_t r0, int64_t col) {
  __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  const float* a0 = a + r0 * K;
  const float* a1 = a0 + K;
  const float* a2 = a1 + K;
  const float* a3 = a2 + K;
  for (int64_t p = 0; p < K; p++) {
    const __m256 b0 = _mm256_loadu_ps(bp + p * PANEL), b1 = _mm256_loadu_ps(bp + p * PANEL + 8);
    __m256 x = _mm256_broadcast_ss(a0 + p);
    c0 = _mm256_add_ps(c0, _mm256_mul_ps(x, b0)); c1 = _mm256_add_ps(c1, _mm256_mul_ps(x, b1));
    x = _mm256_broadcast_ss(a1 + p);
    c2 = _mm256_add_ps(c2, _mm256_mul_ps(x, b0)); c3 = _mm256_add_ps(c3, _mm256_mul_ps(x, b1));
    x = _mm256_broadcast_ss(a2 + p);
    c4 = _mm256_add_ps(c4, _mm256_mul_ps(x, b0)); c5 = _mm256_add_ps(c5, _mm256_mul_ps(x, b1));
    x = _mm256_broadcast_ss(a3 + p);
    c6 = _mm256_add_ps(c6, _mm256_mul_ps(x, b0)); c7 = _mm256_add_ps(c7, _mm256_mul_ps(x, b1));
  }
  float* y0 = y + r0 * n + col;
  store_canonical(y0, c0); store_canonical(y0 + 8, c1); y0 += n;
  store_canonical(y0, c2); store_canonical(y0 + 8, c3); y0 += n;
  store_canonical(y0, c4); store_canonical(y0 + 8, c5); y0 += n;
  store_canonical(y0, c6); store_canonical(y0 + 8, c7);
}

// One row against four consecutive panels: eight independent accumulators hide the add latency of a single
// row (a decode step), and the four panels are four sequential streams.
AVX2 inline void row4(const float* a, const float* b, float* y, int64_t K, int64_t n, int64_t r, int64_t q0) {
  __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  const float* ar = a + r * K;
  const float* p0 = b + q0 * K * PANEL;
  const float* p1 = p0 + K * PANEL;
  const float* p2 = p1 + K * PANEL;
  const float* p3 = p2 + K * PANEL;
  for (int64_t p = 0; p < K; p++) {
    const __m256 x = _mm256_broadcast_ss(ar + p);
    const int64_t o = p * PANEL;
    c0 = _mm256_add_ps(c0, _mm256_mul_ps(x, _mm256_loadu_ps(p0 + o))); c1 = _mm256_add_ps(c1, _mm256_mul_ps(x, _mm256_loadu_ps(p0 + o + 8)));
    c2 = _mm256_add_ps(c2, _mm256_mul_ps(x, _mm256_loadu_ps(p1 + o))); c3 = _mm256_add_ps(c3, _mm256_mul_ps(x, _mm256_loadu_ps(p1 + o + 8)));
    c4 = _mm256_add_ps(c4, _mm256_mul_ps(x, _mm256_loadu_ps(p2 + o))); c5 = _mm256_add_ps(c5, _mm256_mul_ps(x, _mm256_loadu_ps(p2 + o + 8)));
    c6 = _mm256_add_ps(c6, _mm256_mul_ps(x, _mm256_loadu_ps(p3 + o))); c7 = _mm256_add_ps(c7, _mm256_mul_ps(x, _mm256_loadu_ps(p3 + o + 8)));
  }
  float* y0 = y + r * n + q0 * PANEL;
  store_canonical(y0, c0); store_canonical(y0 + 8, c1); store_canonical(y0 + 16, c2); store_canonical(y0 + 24, c3);
  store_canonical(y0 + 32, c4); store_canonical(y0 + 40, c5); store_canonical(y0 + 48, c6); store_canonical(y0 + 56, c7);
}

// One row against one panel (the panels left over after groups of four).
AVX2 inline void row1(const float* a, const float* b, float* y, int64_t K, int64_t n, int64_t r, int64_t q) {
  __m256 c0 = _mm256_setzero_ps(), c1 = c0;
  const float* ar = a + r * K;
  const float* bp = b + q * K * PANEL;
  for (int64_t p = 0; p < K; p++) {
    const __m256 x = _mm256_broadcast_ss(ar + p);
    c0 = _mm256_add_ps(c0, _mm256_mul_ps(x, _mm256_loadu_ps(bp + p * PANEL)));
    c1 = _mm256_add_ps(c1, _mm256_mul_ps(x, _mm256_loadu_ps(bp + p * PANEL + 8)));
  }
  store_canonical(y + r * n + q * PANEL, c0);
  store_canonical(y + r * n + q * PANEL + 8, c1);
}

// Panels q0 … q1-1, every row block of a panel in turn (the panel is read from cache after the first).
AVX2 void panels(const float* a, const float* b, float* y, int64_t rows, int64_t K, int64_t n, int64_t q0, int64_t q1) {
  const int64_t full = rows - rows % 4;
  if (full > 0) {
    for (int64_t q = q0; q < q1; q++) {
      const float* bp = b + q * K * PANEL;
      for (int64_t r = 0; r < full; r += 4) tile4(a, bp, y, K, n, r, q * PANEL);
    }
  }
  for (int64_t r = full; r < rows; r++) {
    int64_t q = q0;
    for (; q + 4 <= q1; q += 4) row4(a, b, y, K, n, r, q);
    for (; q < q1; q++) row1(a, b, y, K, n, r, q);
  }
}

bool has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}

// matmul(memory: Uint8Array, aOffset, bOffset, yOffset, rows, K, n, threads): offsets in bytes into the
// memory the view covers (a wasm arena memory); B at bOffset is panel-major.
napi_value MatMul(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  uint8_t* base;
  int64_t len, v[7];
  if (!opml::Args(env, info, 8, argv, "matmul: expected 8 arguments") || !opml::Memory(env, argv[0], &base, &len, "matmul: memory must be a Uint8Array")) return nullptr;
  for (int i = 0; i < 7; i++) {
    if (!opml::Int(env, argv[i + 1], &v[i], "matmul: offsets and sizes must be numbers")) return nullptr;
  }
  const int64_t aOff = v[0], bOff = v[1], yOff = v[2], rows = v[3], K = v[4], n = v[5], threads = v[6];
  if (rows < 0 || K < 0 || n <= 0 || n % PANEL != 0 || aOff < 0 || bOff < 0 || yOff < 0 || (aOff | bOff | yOff) % 4 != 0 ||
      aOff + rows * K * 4 > len || bOff + K * n * 4 > len || yOff + rows * n * 4 > len) {
    return opml::Throw(env, "matmul: operands out of the memory's bounds");
  }
  const float* a = reinterpret_cast<const float*>(base + aOff);
  const float* b = reinterpret_cast<const float*>(base + bOff);
  float* y = reinterpret_cast<float*>(base + yOff);
  // each thread computes whole panels (its own outputs)
  opml::Split(n / PANEL, threads, [=](int64_t q0, int64_t q1) { panels(a, b, y, rows, K, n, q0, q1); });
  return nullptr;
}

}  // namespace

// conv.cc, conv_integer.cc
napi_value OpmlConv(napi_env env, napi_callback_info info);
napi_value OpmlConvInteger(napi_env env, napi_callback_info info);

NAPI_MODULE_INIT() {
  napi_value avail, fn;
  napi_get_boolean(env, has_avx2(), &avail);
  napi_set_named_property(env, exports, "available", avail);
  napi_create_function(env, "matmul", NAPI_AUTO_LENGTH, MatMul, nullptr, &fn);
  napi_set_named_property(env, exports, "matmul", fn);
  napi_create_function(env, "conv", NAPI_AUTO_LENGTH, OpmlConv, nullptr, &fn);
  napi_set_named_property(env, exports, "conv", fn);
  napi_create_function(env, "convInteger", NAPI_AUTO_LENGTH, OpmlConvInteger, nullptr, &fn);
  napi_set_named_property(env, exports, "convInteger", fn);
  napi_value panel;
  napi_create_int32(env, static_cast<int32_t>(PANEL), &panel);
  napi_set_named_property(env, exports, "panel", panel);
  return exports;
}
