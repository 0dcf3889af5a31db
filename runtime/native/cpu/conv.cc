// OPML host Conv kernel (docs/kernels.md "Host Conv"): a 2-D float32 convolution, NCHW, weights
// [M][C/group][KH][KW], optional bias [M], any strides, dilations, pads and groups.
//
// Every output is computed exactly as the kernel language's Conv (compiler/kernels/nn.ts) and the OPVM
// compute it: acc = +0; then for c = 0 … C/group-1, for kh = 0 … KH-1 (rows outside the input skipped),
// for kw = 0 … KW-1 (columns outside the input skipped), acc = acc + (x · w), each product and each sum
// rounded to binary32 (round to nearest even, subnormals kept); then y = acc + bias[m] when there is a
// bias, and the canonical NaN 0x7FC00000 is stored for any NaN. A skipped (padded) position leaves acc
// unchanged, as the scalar kernel's select does. The vector lanes hold independent outputs only: eight
// consecutive columns of one output row, for four output channels at a time (sharing each input load).
// Lanes whose column lies in the padding keep their accumulator with a blend; their input is loaded with
// a masked load (no access to the masked positions). Built like matmul.cc: AVX2 target only (no FMA),
// -ffp-contract=off, no -ffast-math, explicit intrinsics.
#include <node_api.h>
#include <immintrin.h>
#include <algorithm>
#include <cstdint>
#include <vector>
#include "host.h"

namespace {

#define AVX2 OPML_AVX2

constexpr int64_t LANES = 8;
// Kernel widths up to this run here (the masks of a tile are kept per kernel column); wider ones are refused.
constexpr int64_t MAX_KW = 16;

using Geo = opml::ConvGeo;

AVX2 inline __m256 canonical(__m256 v) {
  const __m256 nan = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FC00000));
  return _mm256_blendv_ps(v, nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}

// One tile: LANES output columns o0 … o0+7 of a row; `valid` marks the columns inside the row; for each
// kernel column, `mask[kw]` marks the lanes whose input column is in range (and valid), `full[kw]` says all
// eight are, and `idx[kw]` holds the input columns (for a strided gather).
// (Plain int32 arrays, read with unaligned loads: a heap block need not be 32-byte aligned.)
struct Tile {
  int64_t o0;
  int32_t valid[LANES];
  int32_t mask[MAX_KW][LANES];
  int32_t idx[MAX_KW][LANES];
  bool full[MAX_KW];
  bool any[MAX_KW];
};

AVX2 inline __m256i lanes(const int32_t* v) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v)); }
AVX2 inline void put(int32_t* v, __m256i x) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(v), x); }

AVX2 void make_tile(const Geo& g, int64_t o0, Tile& t) {
  t.o0 = o0;
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i o = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(o0)), lane);
  const __m256i valid = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(g.OW)), o);
  put(t.valid, valid);
  for (int64_t kw = 0; kw < g.KW; kw++) {
    // iw = o·sw − pw + kw·dw
    const __m256i iw = _mm256_add_epi32(_mm256_mullo_epi32(o, _mm256_set1_epi32(static_cast<int32_t>(g.sw))), _mm256_set1_epi32(static_cast<int32_t>(kw * g.dw - g.pw)));
    const __m256i ge0 = _mm256_cmpgt_epi32(iw, _mm256_set1_epi32(-1));
    const __m256i ltW = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(g.W)), iw);
    const __m256i m = _mm256_and_si256(_mm256_and_si256(ge0, ltW), valid);
    put(t.mask[kw], m);
    put(t.idx[kw], iw);
    const int bits = _mm256_movemask_ps(_mm256_castsi256_ps(m));
    t.full[kw] = bits == 0xFF;
    t.any[kw] = bits != 0;
  }
}

// Input columns of tap kw for the tile, from one input row (positions outside the mask read as 0 and are
// never accessed).
AVX2 inline __m256 load_x(const Geo& g, const float* row, const Tile& t, int64_t kw) {
  if (g.sw == 1) {
    const int64_t first = t.o0 - g.pw + kw * g.dw;
    if (t.full[kw]) return _mm256_loadu_ps(row + first);
    // masked lanes are not accessed; the address of lane 0 may lie outside the row
    const float* p = reinterpret_cast<const float*>(reinterpret_cast<uintptr_t>(row) + static_cast<uintptr_t>(first * 4));
    return _mm256_maskload_ps(p, lanes(t.mask[kw]));
  }
  return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), row, lanes(t.idx[kw]), _mm256_castsi256_ps(lanes(t.mask[kw])), 4);
}

// acc + x·w, or acc kept in the lanes outside the mask (the scalar kernel's select).
AVX2 inline __m256 step(__m256 acc, __m256 x, __m256 w, __m256 mask) {
  return _mm256_blendv_ps(acc, _mm256_add_ps(acc, _mm256_mul_ps(x, w)), mask);
}

AVX2 inline void store_tile(const Geo& g, float* yrow, const Tile& t, __m256 v) {
  v = canonical(v);
  if (t.o0 + LANES <= g.OW) _mm256_storeu_ps(yrow + t.o0, v);
  else _mm256_maskstore_ps(yrow + t.o0, lanes(t.valid), v);
}

// MB output channels m0 … m0+MB-1 (one group) × NT tiles of output row (n, oh). A kernel column in range
// for every lane of every tile (most of them) runs plain loads, multiplies and adds; the others blend.
template <int MB, int NT>
AVX2 void block(const Geo& g, const float* x, const float* w, const float* b, float* y, int64_t n, int64_t m0, int64_t oh, const Tile* const* tiles) {
  const int64_t Cg = g.C / g.group, Mg = g.M / g.group;
  const int64_t cBase = (m0 / Mg) * Cg;
  const int64_t K = g.KH * g.KW, KW = g.KW;
  bool plain[MAX_KW];
  int64_t first[NT][MAX_KW];
  for (int64_t kw = 0; kw < KW; kw++) {
    plain[kw] = g.sw == 1;
#pragma GCC unroll 4
    for (int j = 0; j < NT; j++) {
      plain[kw] = plain[kw] && tiles[j]->full[kw];
      first[j][kw] = tiles[j]->o0 - g.pw + kw * g.dw;
    }
  }
  __m256 acc[MB][NT];
#pragma GCC unroll 8
  for (int i = 0; i < MB; i++)
#pragma GCC unroll 4
    for (int j = 0; j < NT; j++) acc[i][j] = _mm256_setzero_ps();
  for (int64_t c = 0; c < Cg; c++) {
    const float* xc = x + ((n * g.C + cBase + c) * g.H) * g.W;
    const float* wc = w + (m0 * Cg + c) * K;
    for (int64_t kh = 0; kh < g.KH; kh++) {
      const int64_t ih = oh * g.sh - g.ph + kh * g.dh;
      if (ih < 0 || ih >= g.H) continue;
      const float* row = xc + ih * g.W;
      const float* wr = wc + kh * KW;
      for (int64_t kw = 0; kw < KW; kw++) {
        __m256 xv[NT];
        if (plain[kw]) {
#pragma GCC unroll 4
          for (int j = 0; j < NT; j++) xv[j] = _mm256_loadu_ps(row + first[j][kw]);
#pragma GCC unroll 8
          for (int i = 0; i < MB; i++) {
            const __m256 wv = _mm256_broadcast_ss(wr + kw + i * Cg * K);
#pragma GCC unroll 4
            for (int j = 0; j < NT; j++) acc[i][j] = _mm256_add_ps(acc[i][j], _mm256_mul_ps(xv[j], wv));
          }
        } else {
#pragma GCC unroll 4
          for (int j = 0; j < NT; j++) xv[j] = load_x(g, row, *tiles[j], kw);
#pragma GCC unroll 8
          for (int i = 0; i < MB; i++) {
            const __m256 wv = _mm256_broadcast_ss(wr + kw + i * Cg * K);
#pragma GCC unroll 4
            for (int j = 0; j < NT; j++) acc[i][j] = step(acc[i][j], xv[j], wv, _mm256_castsi256_ps(lanes(tiles[j]->mask[kw])));
          }
        }
      }
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MB; i++) {
    const int64_t m = m0 + i;
    float* yrow = y + ((n * g.M + m) * g.OH + oh) * g.OW;
#pragma GCC unroll 4
    for (int j = 0; j < NT; j++) {
      __m256 v = acc[i][j];
      if (b) v = _mm256_add_ps(v, _mm256_broadcast_ss(b + m));
      store_tile(g, yrow, *tiles[j], v);
    }
  }
}

// Output row (n, oh) of channels m … m+MB-1, two tiles at a time.
template <int MB>
AVX2 void channelRow(const Geo& g, const float* x, const float* w, const float* b, float* y, int64_t n, int64_t m, int64_t oh, const std::vector<Tile>& tiles) {
  const size_t nt = tiles.size();
  size_t i = 0;
  for (; i + 2 <= nt; i += 2) {
    const Tile* ts[2] = {&tiles[i], &tiles[i + 1]};
    block<MB, 2>(g, x, w, b, y, n, m, oh, ts);
  }
  if (i < nt) {
    const Tile* ts[1] = {&tiles[i]};
    block<MB, 1>(g, x, w, b, y, n, m, oh, ts);
  }
}

// Output rows r0 … r1-1 of the flattened (n, oh), every channel of each.
AVX2 void rows(const Geo& g, const float* x, const float* w, const float* b, float* y, int64_t r0, int64_t r1) {
  // Tiles of eight columns; when the row is not a multiple of eight, the last tile ends at the row's end and
  // overlaps the one before (its columns are computed twice, to the same bits, by this thread).
  std::vector<Tile> tiles;
  const int64_t nt = (g.OW + LANES - 1) / LANES;
  tiles.resize(static_cast<size_t>(nt));
  for (int64_t i = 0; i < nt; i++) {
    int64_t o0 = i * LANES;
    if (o0 + LANES > g.OW && g.OW >= LANES) o0 = g.OW - LANES;
    make_tile(g, o0, tiles[static_cast<size_t>(i)]);
  }
  const int64_t Mg = g.M / g.group;
  for (int64_t r = r0; r < r1; r++) {
    const int64_t n = r / g.OH, oh = r % g.OH;
    for (int64_t grp = 0; grp < g.group; grp++) {
      const int64_t mEnd = (grp + 1) * Mg;
      int64_t m = grp * Mg;
      for (; m + 4 <= mEnd; m += 4) channelRow<4>(g, x, w, b, y, n, m, oh, tiles);
      for (; m < mEnd; m++) channelRow<1>(g, x, w, b, y, n, m, oh, tiles);
    }
  }
}

}  // namespace

// conv(memory: Uint8Array, params: Float64Array, threads): params = [xOffset, wOffset, bOffset (−1: no
// bias), yOffset, N, C, H, W, M, group, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw], offsets in bytes into the
// memory the view covers (a wasm arena memory).
napi_value OpmlConv(napi_env env, napi_callback_info info) {
  using opml::Throw;
  napi_value argv[3];
  uint8_t* base;
  int64_t len, threads, v[20];
  if (!opml::Args(env, info, 3, argv, "conv: expected 3 arguments") || !opml::Memory(env, argv[0], &base, &len, "conv: memory must be a Uint8Array") ||
      !opml::IntParams(env, argv[1], 20, -1, v, "conv: params must be a Float64Array of 20 integers") || !opml::Int(env, argv[2], &threads, "conv: threads must be a number")) {
    return nullptr;
  }
  const int64_t xOff = v[0], wOff = v[1], bOff = v[2], yOff = v[3];
  const Geo g{v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16], v[17], v[18], v[19]};
  const int64_t lim = int64_t{1} << 30;
  for (int i = 4; i < 20; i++) {
    if (v[i] < 0 || v[i] > lim) return Throw(env, "conv: bad geometry");
  }
  // (OH and OW only say which outputs to compute: every input read is checked against H and W)
  if (g.group < 1 || g.C % g.group != 0 || g.M % g.group != 0 || g.KW > MAX_KW || g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1) {
    return Throw(env, "conv: bad geometry");
  }
  // every input column a lane can address is within int32 (the gather's indices)
  if (g.OW * g.sw + g.KW * g.dw + g.W > lim) return Throw(env, "conv: bad geometry");
  const int64_t Cg = g.C / g.group;
  if (xOff < 0 || wOff < 0 || yOff < 0 || bOff < -1 || (xOff | wOff | yOff) % 4 != 0 || (bOff >= 0 && bOff % 4 != 0) ||
      xOff + g.N * g.C * g.H * g.W * 4 > len || wOff + g.M * Cg * g.KH * g.KW * 4 > len || yOff + g.N * g.M * g.OH * g.OW * 4 > len ||
      (bOff >= 0 && bOff + g.M * 4 > len)) {
    return Throw(env, "conv: operands out of the memory's bounds");
  }
  const float* x = reinterpret_cast<const float*>(base + xOff);
  const float* w = reinterpret_cast<const float*>(base + wOff);
  const float* b = bOff >= 0 ? reinterpret_cast<const float*>(base + bOff) : nullptr;
  float* y = reinterpret_cast<float*>(base + yOff);
  if (g.OW == 0 || g.M == 0) return nullptr;
  // each thread computes whole output rows (its own outputs)
  opml::Split(g.N * g.OH, threads, [&](int64_t r0, int64_t r1) { rows(g, x, w, b, y, r0, r1); });
  return nullptr;
}
