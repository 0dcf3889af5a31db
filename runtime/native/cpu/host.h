// Shared pieces of the host kernels (matmul.cc, conv.cc, conv_integer.cc): argument checking for their
// N-API entry points, the canonical-NaN store rule, and splitting outputs over threads.
#pragma once
#include <node_api.h>
#include <cstdint>
#include <thread>
#include <vector>

#define OPML_AVX2 __attribute__((target("avx2")))

namespace opml {

// 2-D convolution geometry, NCHW: batch, channels, input size, output channels, group, kernel, output
// size, strides, pads (begin), dilations.
struct ConvGeo {
  int64_t N, C, H, W, M, group, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw;
};

inline napi_value Throw(napi_env env, const char* msg) {
  napi_throw_error(env, nullptr, msg);
  return nullptr;
}

// The call's arguments (exactly n), or false after throwing.
inline bool Args(napi_env env, napi_callback_info info, size_t n, napi_value* argv, const char* msg) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) == napi_ok && argc == n) return true;
  napi_throw_error(env, nullptr, msg);
  return false;
}

// The bytes a Uint8Array views (a wasm arena memory), or false after throwing.
inline bool Memory(napi_env env, napi_value v, uint8_t** data, int64_t* length, const char* msg) {
  napi_typedarray_type type;
  size_t len, off;
  void* p;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &len, &p, &ab, &off) == napi_ok && type == napi_uint8_array) {
    *data = static_cast<uint8_t*>(p);
    *length = static_cast<int64_t>(len);
    return true;
  }
  napi_throw_error(env, nullptr, msg);
  return false;
}

// A Float64Array of exactly n integers, each at least `lo` (and at most 2^53 − 1), or false after throwing.
inline bool IntParams(napi_env env, napi_value v, size_t n, int64_t lo, int64_t* out, const char* msg) {
  napi_typedarray_type type;
  size_t len, off;
  void* p;
  napi_value ab;
  bool ok = napi_get_typedarray_info(env, v, &type, &len, &p, &ab, &off) == napi_ok && type == napi_float64_array && len == n;
  for (size_t i = 0; ok && i < n; i++) {
    const double d = static_cast<const double*>(p)[i];
    ok = d >= static_cast<double>(lo) && d <= 9007199254740991.0 && d == static_cast<double>(static_cast<int64_t>(d));
    if (ok) out[i] = static_cast<int64_t>(d);
  }
  if (!ok) napi_throw_error(env, nullptr, msg);
  return ok;
}

// An integer argument, or false after throwing.
inline bool Int(napi_env env, napi_value v, int64_t* out, const char* msg) {
  if (napi_get_value_int64(env, v, out) == napi_ok) return true;
  napi_throw_error(env, nullptr, msg);
  return false;
}

// run(lo, hi) over [0, total) in `threads` contiguous ranges, the first on this thread. Each range holds
// whole outputs of its own, so the results do not depend on the number of threads.
template <class Run>
void Split(int64_t total, int64_t threads, Run run) {
  if (threads > total) threads = total;
  if (threads <= 1) {
    if (total > 0) run(int64_t{0}, total);
    return;
  }
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; t++) pool.emplace_back(run, total * t / threads, total * (t + 1) / threads);
  run(int64_t{0}, total / threads);
  for (auto& th : pool) th.join();
}

}  // namespace opml
