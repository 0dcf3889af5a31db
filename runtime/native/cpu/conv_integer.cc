// OPML host ConvInteger kernel (docs/kernels.md "Host Conv"): a 2-D ConvInteger, NCHW, 8-bit x and w
// (uint8 or int8 each), x's zero point a scalar, w's a scalar or one per output channel, int32 y; any
// strides, dilations, pads and groups.
//
// The kernel language's ConvInteger (compiler/kernels/quant.ts) computes acc = Σ (x − zx)·(w − zw) in
// wrapping 32-bit integer arithmetic, skipping the padded positions. Integer addition and multiplication
// modulo 2^32 are associative and commutative, so every order of the same terms gives the same bits; and a
// padded position contributes exactly nothing, so here the input is first copied, as x − zx in int32, into
// a zero-padded plane, and the sums run without any bounds checks. Lanes: eight consecutive output columns,
// four output channels at a time. AVX2 target only, explicit intrinsics (wrapping _mm256_mullo_epi32 and
// _mm256_add_epi32; no signed overflow in C++).
#include <node_api.h>
#include <immintrin.h>
#include <algorithm>
#include <cstdint>
#include <vector>
#include "host.h"

namespace {

#define AVX2 OPML_AVX2

constexpr int64_t LANES = 8;
// The most int32 elements of the padded input copy (256 MiB).
constexpr int64_t PLANE_MAX = int64_t{1} << 26;

struct Geo : opml::ConvGeo {
  // the padded plane: rows −ph … Hp−ph−1, columns −pw … Wp−pw−1
  int64_t Hp, Wp;
};

struct Args {
  Geo g;
  const int32_t* xp;  // [N][C][Hp][Wp], x − zx, zero in the padding
  const int32_t* wd;  // [M][Cg][KH][KW], w − zw
  int32_t* y;
};

// Channels m0 … m0+MB-1 (one group) × NT tiles (first columns o0[j]) of output row (n, oh).
template <int MB, int NT>
AVX2 void block(const Args& a, int64_t n, int64_t m0, int64_t oh, const int64_t* o0) {
  const Geo& g = a.g;
  const int64_t Cg = g.C / g.group, Mg = g.M / g.group, K = g.KH * g.KW;
  const int64_t cBase = (m0 / Mg) * Cg;
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i step = _mm256_mullo_epi32(lane, _mm256_set1_epi32(static_cast<int32_t>(g.sw)));
  __m256i acc[MB][NT];
#pragma GCC unroll 8
  for (int i = 0; i < MB; i++)
#pragma GCC unroll 4
    for (int j = 0; j < NT; j++) acc[i][j] = _mm256_setzero_si256();
  for (int64_t c = 0; c < Cg; c++) {
    const int32_t* plane = a.xp + (n * g.C + cBase + c) * g.Hp * g.Wp;
    const int32_t* wc = a.wd + (m0 * Cg + c) * K;
    for (int64_t kh = 0; kh < g.KH; kh++) {
      // padded row of ih = oh·sh − ph + kh·dh
      const int32_t* row = plane + (oh * g.sh + kh * g.dh) * g.Wp;
      const int32_t* wr = wc + kh * g.KW;
      for (int64_t kw = 0; kw < g.KW; kw++) {
        __m256i xv[NT];
#pragma GCC unroll 4
        for (int j = 0; j < NT; j++) {
          const int32_t* p = row + o0[j] * g.sw + kw * g.dw;
          xv[j] = g.sw == 1 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)) : _mm256_i32gather_epi32(reinterpret_cast<const int*>(p), step, 4);
        }
#pragma GCC unroll 8
        for (int i = 0; i < MB; i++) {
          const __m256i wv = _mm256_set1_epi32(wr[kw + i * Cg * K]);
#pragma GCC unroll 4
          for (int j = 0; j < NT; j++) acc[i][j] = _mm256_add_epi32(acc[i][j], _mm256_mullo_epi32(xv[j], wv));
        }
      }
    }
  }
  const __m256i ow = _mm256_set1_epi32(static_cast<int32_t>(g.OW));
#pragma GCC unroll 8
  for (int i = 0; i < MB; i++) {
    int32_t* yrow = a.y + ((n * g.M + m0 + i) * g.OH + oh) * g.OW;
#pragma GCC unroll 4
    for (int j = 0; j < NT; j++) {
      if (o0[j] + LANES <= g.OW) _mm256_storeu_si256(reinterpret_cast<__m256i*>(yrow + o0[j]), acc[i][j]);
      else _mm256_maskstore_epi32(reinterpret_cast<int*>(yrow + o0[j]), _mm256_cmpgt_epi32(ow, _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(o0[j])), lane)), acc[i][j]);
    }
  }
}

AVX2 void rows(const Args& a, int64_t r0, int64_t r1) {
  const Geo& g = a.g;
  // tiles of eight columns; the last ends at the row's end when the row is at least eight wide (overlapping
  // columns are computed twice, to the same values, by this thread)
  std::vector<int64_t> tiles;
  for (int64_t o = 0; o < g.OW; o += LANES) tiles.push_back(o + LANES > g.OW && g.OW >= LANES ? g.OW - LANES : o);
  const int64_t nt = static_cast<int64_t>(tiles.size());
  const int64_t Mg = g.M / g.group;
  for (int64_t r = r0; r < r1; r++) {
    const int64_t n = r / g.OH, oh = r % g.OH;
    for (int64_t grp = 0; grp < g.group; grp++) {
      const int64_t mEnd = (grp + 1) * Mg;
      int64_t m = grp * Mg;
      for (; m + 4 <= mEnd; m += 4) {
        int64_t i = 0;
        for (; i + 2 <= nt; i += 2) block<4, 2>(a, n, m, oh, &tiles[static_cast<size_t>(i)]);
        if (i < nt) block<4, 1>(a, n, m, oh, &tiles[static_cast<size_t>(i)]);
      }
      for (; m < mEnd; m++) {
        int64_t i = 0;
        for (; i + 2 <= nt; i += 2) block<1, 2>(a, n, m, oh, &tiles[static_cast<size_t>(i)]);
        if (i < nt) block<1, 1>(a, n, m, oh, &tiles[static_cast<size_t>(i)]);
      }
    }
  }
}

}  // namespace

// convInteger(memory: Uint8Array, params: Float64Array, threads): params = [xOffset, wOffset, xzOffset,
// wzOffset, yOffset, N, C, H, W, M, group, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, xSigned, wSigned,
// wzPerChannel], offsets in bytes into the memory the view covers (a wasm arena memory).
napi_value OpmlConvInteger(napi_env env, napi_callback_info info) {
  using opml::Throw;
  constexpr int NP = 24;
  napi_value argv[3];
  uint8_t* data;
  int64_t len, threads, v[NP];
  if (!opml::Args(env, info, 3, argv, "convInteger: expected 3 arguments") || !opml::Memory(env, argv[0], &data, &len, "convInteger: memory must be a Uint8Array") ||
      !opml::IntParams(env, argv[1], NP, 0, v, "convInteger: params must be a Float64Array of 24 non-negative integers") ||
      !opml::Int(env, argv[2], &threads, "convInteger: threads must be a number")) {
    return nullptr;
  }
  const int64_t lim = int64_t{1} << 30;
  for (int i = 5; i < NP; i++) {
    if (v[i] > lim) return Throw(env, "convInteger: bad geometry");
  }
  const int64_t xOff = v[0], wOff = v[1], xzOff = v[2], wzOff = v[3], yOff = v[4];
  Geo g{{v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16], v[17], v[18], v[19], v[20]}, 0, 0};
  const bool xSigned = v[21] != 0, wSigned = v[22] != 0, wzPer = v[23] != 0;
  if (g.group < 1 || g.C % g.group != 0 || g.M % g.group != 0 || g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1) return Throw(env, "convInteger: bad geometry");
  const int64_t Cg = g.C / g.group;
  if (yOff % 4 != 0 || xOff + g.N * g.C * g.H * g.W > len || wOff + g.M * Cg * g.KH * g.KW > len || xzOff + 1 > len ||
      wzOff + (wzPer ? g.M : 1) > len || yOff + g.N * g.M * g.OH * g.OW * 4 > len) {
    return Throw(env, "convInteger: operands out of the memory's bounds");
  }
  const int64_t R = g.N * g.OH;
  if (R == 0 || g.OW == 0 || g.M == 0) return nullptr;
  // the padded plane covers every position a lane reads: rows up to (OH−1)·sh + (KH−1)·dh and columns up
  // to (8·tiles − 1)·sw + (KW−1)·dw, counted from −ph and −pw
  const int64_t lastCol = ((g.OW + LANES - 1) / LANES * LANES - 1) * g.sw + (g.KW - 1) * g.dw;
  g.Hp = std::max(g.H + g.ph, (g.OH - 1) * g.sh + (g.KH - 1) * g.dh + 1);
  g.Wp = std::max(g.W + g.pw, lastCol + 1);
  // (the executor sends only inputs whose padded copy stays within this: runtime/native/executor.ts)
  if (g.N * g.C * g.Hp * g.Wp > PLANE_MAX || g.Wp * g.sw > lim) return Throw(env, "convInteger: the padded input would be too large");
  const uint8_t* base = data;
  auto ld = [](const uint8_t* q, bool s) -> int32_t { return s ? static_cast<int32_t>(static_cast<int8_t>(*q)) : static_cast<int32_t>(*q); };
  const int32_t zx = ld(base + xzOff, xSigned);
  std::vector<int32_t> xp(static_cast<size_t>(g.N * g.C * g.Hp * g.Wp), 0);
  for (int64_t nc = 0; nc < g.N * g.C; nc++) {
    for (int64_t h = 0; h < g.H; h++) {
      const uint8_t* src = base + xOff + (nc * g.H + h) * g.W;
      int32_t* dst = xp.data() + (nc * g.Hp + h + g.ph) * g.Wp + g.pw;
      // wrapping subtraction (two 8-bit values: never overflows)
      for (int64_t w = 0; w < g.W; w++) dst[w] = ld(src + w, xSigned) - zx;
    }
  }
  const int64_t K = g.KH * g.KW;
  std::vector<int32_t> wd(static_cast<size_t>(g.M * Cg * K));
  for (int64_t m = 0; m < g.M; m++) {
    const int32_t zw = ld(base + wzOff + (wzPer ? m : 0), wSigned);
    for (int64_t i = 0; i < Cg * K; i++) wd[static_cast<size_t>(m * Cg * K + i)] = ld(base + wOff + m * Cg * K + i, wSigned) - zw;
  }
  const Args a{g, xp.data(), wd.data(), reinterpret_cast<int32_t*>(const_cast<uint8_t*>(base) + yOff)};
  // each thread computes whole output rows (its own outputs)
  opml::Split(R, threads, [&](int64_t r0, int64_t r1) { rows(a, r0, r1); });
  return nullptr;
}
