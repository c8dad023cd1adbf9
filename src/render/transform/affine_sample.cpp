// The transform chain's one resampling, on the CPU in plain loops: affine_grid +
// grid_sampler cost a grid of 2 floats per output pixel made by a batched matrix product,
// and grid_sampler's backward also computes the gradient of that grid, which nothing
// needs (docs/PERFORMANCE.md, "Where a render step goes"). Here each output pixel's four
// taps are computed from the map where they are used, once for all channels; the fill
// enters as a value instead of two more passes (source - fill, then + fill). The weights
// are grid_sampler's; the coordinates are computed in double instead of from a float
// grid, so results agree with it to float rounding. Other devices use affine_grid +
// grid_sampler.
#include <featvis/render/transform/affine_sample.h>
#include <featvis/util/check.h>
#include <featvis/util/cpu_features.h>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#if FEATVIS_X86_TARGETS
#include <immintrin.h>
#endif

namespace featvis::render::transform {
namespace {

using Affine = std::array<double, 6>;

// Which of an output pixel's four taps lie inside the source (TapTable::in).
constexpr uint8_t kIn00 = 1, kIn01 = 2, kIn10 = 4, kIn11 = 8, kAllIn = 15;

// Every output pixel's four bilinear taps, as columns (row-major over the output): the
// top-left corner y0 * in_w + x0, the weights of (y0, x0), (y0, x0 + 1), (y0 + 1, x0),
// (y0 + 1, x0 + 1), and which of them lie inside. Computed once per resampling, shared
// by every plane, and kept for the backward: computing them had been half of each pass.
template <typename T>
struct TapTable : torch::CustomClassHolder {
  int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  std::vector<int64_t> corner;
  std::vector<T> w00, w01, w10, w11;
  std::vector<uint8_t> in;
};

// floor(v) after clamping v into [-2, size + 1] (beyond that no tap is inside on this axis,
// and every tap reads the fill), by a cast and a correction: no libm call.
inline int64_t floor_in(double v, int64_t size) {
  v = std::min(std::max(v, -2.0), static_cast<double>(size + 1));
  const auto i = static_cast<int64_t>(v);
  return static_cast<double>(i) > v ? i - 1 : i;
}

// The taps of output pixels [x_begin, out_w) of row y into the table, one at a time.
template <typename T>
void fill_row(const Affine& m, int64_t y, int64_t x_begin, TapTable<T>& t) {
  const double yy = static_cast<double>(y);
  const int64_t in_h = t.in_h, in_w = t.in_w;
  for (int64_t x = x_begin; x < t.out_w; ++x) {
    const size_t k = static_cast<size_t>(y * t.out_w + x);
    const double ix = m[0] * static_cast<double>(x) + m[1] * yy + m[2];
    const double iy = m[3] * static_cast<double>(x) + m[4] * yy + m[5];
    const int64_t x0 = floor_in(ix, in_w), y0 = floor_in(iy, in_h);
    const auto tx = static_cast<T>(ix - static_cast<double>(x0)), ty = static_cast<T>(iy - static_cast<double>(y0));
    t.w00[k] = (1 - tx) * (1 - ty);
    t.w01[k] = tx * (1 - ty);
    t.w10[k] = (1 - tx) * ty;
    t.w11[k] = tx * ty;
    t.corner[k] = y0 * in_w + x0;
    const bool x_in = x0 >= 0 && x0 < in_w, x1_in = x0 + 1 >= 0 && x0 + 1 < in_w;
    const bool y_in = y0 >= 0 && y0 < in_h, y1_in = y0 + 1 >= 0 && y0 + 1 < in_h;
    t.in[k] = static_cast<uint8_t>((y_in && x_in ? kIn00 : 0) | (y_in && x1_in ? kIn01 : 0) |
                                   (y1_in && x_in ? kIn10 : 0) | (y1_in && x1_in ? kIn11 : 0));
  }
}

#if FEATVIS_X86_TARGETS
// The four weights of a vector of pixels from their fractions dx, dy (double lanes), by
// GCC's vector operators: fill_row's conversion to T and products, lane by lane (no fused
// multiply-adds: -ffp-contract=off). Inlined into the loops below, which give it their
// instruction sets.
template <typename D, typename T>
inline __attribute__((always_inline)) void store_weights(const D& dx, const D& dy, size_t k, TapTable<T>& t) {
  typedef T V __attribute__((vector_size(sizeof(D) / sizeof(double) * sizeof(T))));
  const V tx = __builtin_convertvector(dx, V), ty = __builtin_convertvector(dy, V);
  const V ux = 1 - tx, uy = 1 - ty;
  const V w00 = ux * uy, w01 = tx * uy, w10 = ux * ty, w11 = tx * ty;
  std::memcpy(&t.w00[k], &w00, sizeof(V));
  std::memcpy(&t.w01[k], &w01, sizeof(V));
  std::memcpy(&t.w10[k], &w10, sizeof(V));
  std::memcpy(&t.w11[k], &w11, sizeof(V));
}

// The same four pixels at a time in AVX2, without fused multiply-adds: every product, sum
// and conversion is the one fill_row makes, so the bits are equal. Returns where it stopped.
template <typename T>
__attribute__((target("avx2"))) int64_t fill_row_avx2(const Affine& m, int64_t y, TapTable<T>& t) {
  const double yy = static_cast<double>(y);
  const __m256d m0 = _mm256_set1_pd(m[0]), m1y = _mm256_set1_pd(m[1] * yy), m2 = _mm256_set1_pd(m[2]);
  const __m256d m3 = _mm256_set1_pd(m[3]), m4y = _mm256_set1_pd(m[4] * yy), m5 = _mm256_set1_pd(m[5]);
  const __m256d low = _mm256_set1_pd(-2.0), one = _mm256_set1_pd(1.0);
  const __m256d x_top = _mm256_set1_pd(static_cast<double>(t.in_w + 1)), y_top = _mm256_set1_pd(static_cast<double>(t.in_h + 1));
  const __m128i in_w = _mm_set1_epi32(static_cast<int32_t>(t.in_w)), in_h = _mm_set1_epi32(static_cast<int32_t>(t.in_h));
  const __m128i minus_one = _mm_set1_epi32(-1), zero = _mm_setzero_si128();
  // floor_in of four values: clamped, truncated, one less where that rounded up.
  const auto floor4 = [&](__m256d v, __m256d top) __attribute__((target("avx2"))) {
    v = _mm256_min_pd(_mm256_max_pd(v, low), top);
    const __m256d i = _mm256_cvtepi32_pd(_mm256_cvttpd_epi32(v));
    return _mm256_sub_pd(i, _mm256_and_pd(_mm256_cmp_pd(i, v, _CMP_GT_OQ), one));
  };
  // lo <= v < hi for four int32 lanes, as all-ones lanes.
  const auto within = [](__m128i v, __m128i lo, __m128i hi) __attribute__((target("avx2"))) {
    return _mm_andnot_si128(_mm_cmpgt_epi32(lo, v), _mm_cmpgt_epi32(hi, v));
  };
  int64_t x = 0;
  for (; x + 4 <= t.out_w; x += 4) {
    const size_t k = static_cast<size_t>(y * t.out_w + x);
    const __m256d xs = _mm256_set_pd(static_cast<double>(x + 3), static_cast<double>(x + 2), static_cast<double>(x + 1),
                                     static_cast<double>(x));
    const __m256d ix = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(m0, xs), m1y), m2);
    const __m256d iy = _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(m3, xs), m4y), m5);
    const __m256d x0 = floor4(ix, x_top), y0 = floor4(iy, y_top);
    store_weights(ix - x0, iy - y0, k, t);
    const __m128i xi = _mm256_cvttpd_epi32(x0), yi = _mm256_cvttpd_epi32(y0);
    const __m128i corner = _mm_add_epi32(_mm_mullo_epi32(yi, in_w), xi);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(&t.corner[k]), _mm256_cvtepi32_epi64(corner));
    const __m128i x_in = within(xi, zero, in_w), x1_in = within(xi, minus_one, _mm_add_epi32(in_w, minus_one));
    const __m128i y_in = within(yi, zero, in_h), y1_in = within(yi, minus_one, _mm_add_epi32(in_h, minus_one));
    const __m128i bits = _mm_or_si128(
        _mm_or_si128(_mm_and_si128(_mm_and_si128(y_in, x_in), _mm_set1_epi32(kIn00)),
                     _mm_and_si128(_mm_and_si128(y_in, x1_in), _mm_set1_epi32(kIn01))),
        _mm_or_si128(_mm_and_si128(_mm_and_si128(y1_in, x_in), _mm_set1_epi32(kIn10)),
                     _mm_and_si128(_mm_and_si128(y1_in, x1_in), _mm_set1_epi32(kIn11))));
    const int32_t packed = _mm_cvtsi128_si32(_mm_shuffle_epi8(bits, _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)));
    std::memcpy(&t.in[k], &packed, 4);
  }
  return x;
}

// The same eight pixels at a time in AVX-512F. GCC's avx512f target includes FMA, so this
// file is built with -ffp-contract=off (src/CMakeLists.txt): no product and sum are fused,
// and the bits are fill_row's. Returns where it stopped.
template <typename T>
__attribute__((target("avx512f"))) int64_t fill_row_avx512(const Affine& m, int64_t y, TapTable<T>& t) {
  const double yy = static_cast<double>(y);
  const __m512d m0 = _mm512_set1_pd(m[0]), m1y = _mm512_set1_pd(m[1] * yy), m2 = _mm512_set1_pd(m[2]);
  const __m512d m3 = _mm512_set1_pd(m[3]), m4y = _mm512_set1_pd(m[4] * yy), m5 = _mm512_set1_pd(m[5]);
  const __m512d low = _mm512_set1_pd(-2.0), one = _mm512_set1_pd(1.0), zero = _mm512_setzero_pd();
  const auto in_w = static_cast<double>(t.in_w), in_h = static_cast<double>(t.in_h);
  const __m512d x_top = _mm512_set1_pd(in_w + 1), y_top = _mm512_set1_pd(in_h + 1);
  const __m512d width = _mm512_set1_pd(in_w), height = _mm512_set1_pd(in_h);
  const __m512d width_less_one = _mm512_set1_pd(in_w - 1), height_less_one = _mm512_set1_pd(in_h - 1);
  const __m256i in_w32 = _mm256_set1_epi32(static_cast<int32_t>(t.in_w));
  const __m512d lane = _mm512_set_pd(7, 6, 5, 4, 3, 2, 1, 0);
  // floor_in of eight values: clamped, truncated, one less where that rounded up.
  const auto floor8 = [&](__m512d v, __m512d top) __attribute__((target("avx512f"))) {
    v = _mm512_min_pd(_mm512_max_pd(v, low), top);
    const __m512d i = _mm512_cvtepi32_pd(_mm512_cvttpd_epi32(v));
    return _mm512_mask_sub_pd(i, _mm512_cmp_pd_mask(i, v, _CMP_GT_OQ), i, one);
  };
  // lo <= v < hi for eight whole numbers (exact in double), as a lane mask.
  const auto within = [&](__m512d v, __m512d lo, __m512d hi) __attribute__((target("avx512f"))) {
    return static_cast<__mmask8>(_mm512_cmp_pd_mask(v, lo, _CMP_GE_OQ) & _mm512_cmp_pd_mask(v, hi, _CMP_LT_OQ));
  };
  const auto flag = [&](__mmask8 a, __mmask8 b, uint8_t bit) __attribute__((target("avx512f"))) {
    return _mm512_maskz_set1_epi64(static_cast<__mmask8>(a & b), bit);
  };
  int64_t x = 0;
  for (; x + 8 <= t.out_w; x += 8) {
    const size_t k = static_cast<size_t>(y * t.out_w + x);
    const __m512d xs = _mm512_add_pd(_mm512_set1_pd(static_cast<double>(x)), lane);  // whole numbers: exact
    const __m512d ix = _mm512_add_pd(_mm512_add_pd(_mm512_mul_pd(m0, xs), m1y), m2);
    const __m512d iy = _mm512_add_pd(_mm512_add_pd(_mm512_mul_pd(m3, xs), m4y), m5);
    const __m512d x0 = floor8(ix, x_top), y0 = floor8(iy, y_top);
    store_weights(ix - x0, iy - y0, k, t);
    const __m256i xi = _mm512_cvttpd_epi32(x0), yi = _mm512_cvttpd_epi32(y0);
    _mm512_storeu_si512(&t.corner[k], _mm512_cvtepi32_epi64(_mm256_add_epi32(_mm256_mullo_epi32(yi, in_w32), xi)));
    const __mmask8 x_in = within(x0, zero, width), x1_in = within(x0, -one, width_less_one);
    const __mmask8 y_in = within(y0, zero, height), y1_in = within(y0, -one, height_less_one);
    const __m512i bits = _mm512_or_epi64(_mm512_or_epi64(flag(y_in, x_in, kIn00), flag(y_in, x1_in, kIn01)),
                                         _mm512_or_epi64(flag(y1_in, x_in, kIn10), flag(y1_in, x1_in, kIn11)));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(&t.in[k]), _mm512_cvtepi64_epi8(bits));
  }
  return x;
}
#endif

// Whether this CPU can fill a table for an in_h x in_w source `lanes` pixels at a time.
bool runs_lanes(int lanes, int64_t in_h, int64_t in_w) {
  if (lanes == 1) return true;
  // The vector loops compute corners in 32 bits: taps reach 3 rows and columns past the image.
  if ((in_h + 4) * (in_w + 4) >= (int64_t{1} << 31)) return false;
#if FEATVIS_X86_TARGETS
  if (lanes == 4) return cpu_has_avx2();
  if (lanes == 8) return cpu_has_avx512f();
#endif
  return false;
}

int widest_lanes(int64_t in_h, int64_t in_w) {
  for (int lanes : {8, 4})
    if (runs_lanes(lanes, in_h, in_w)) return lanes;
  return 1;
}

// The table filled `lanes` pixels at a time (runs_lanes must allow it); the rest of each row,
// past the last whole vector, one at a time.
template <typename T>
c10::intrusive_ptr<TapTable<T>> tap_table(const Affine& m, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                                          int lanes) {
  auto t = c10::make_intrusive<TapTable<T>>();
  t->in_h = in_h, t->in_w = in_w, t->out_h = out_h, t->out_w = out_w;
  const auto n = static_cast<size_t>(out_h * out_w);
  t->corner.resize(n);
  t->w00.resize(n), t->w01.resize(n), t->w10.resize(n), t->w11.resize(n);
  t->in.resize(n);
  at::parallel_for(0, out_h, 16, [&](int64_t y_begin, int64_t y_end) {
    for (int64_t y = y_begin; y < y_end; ++y) {
      int64_t done = 0;
#if FEATVIS_X86_TARGETS
      if (lanes == 8) done = fill_row_avx512(m, y, *t);
      else if (lanes == 4) done = fill_row_avx2(m, y, *t);
#endif
      fill_row(m, y, done, *t);
    }
  });
  return t;
}

template <typename T>
c10::intrusive_ptr<TapTable<T>> tap_table(const Affine& m, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w) {
  return tap_table<T>(m, in_h, in_w, out_h, out_w, widest_lanes(in_h, in_w));
}

// Output pixels [begin, end) of one row of one plane (`corner`, the weights, `in` and `d`
// start at the row), one at a time.
template <typename T>
inline void sample_row(const T* plane, const TapTable<T>& t, int64_t at, T v, T* d, int64_t begin, int64_t end) {
  const int64_t in_w = t.in_w;
  const int64_t* corner = t.corner.data() + at;
  const T *w00 = t.w00.data() + at, *w01 = t.w01.data() + at, *w10 = t.w10.data() + at, *w11 = t.w11.data() + at;
  const uint8_t* in = t.in.data() + at;
  for (int64_t xo = begin; xo < end; ++xo) {
    const T* s = plane + corner[xo];
    const uint8_t i = in[xo];
    d[xo] = i == kAllIn ? w00[xo] * s[0] + w01[xo] * s[1] + w10[xo] * s[in_w] + w11[xo] * s[in_w + 1]
                        : w00[xo] * (i & kIn00 ? s[0] : v) + w01[xo] * (i & kIn01 ? s[1] : v) +
                              w10[xo] * (i & kIn10 ? s[in_w] : v) + w11[xo] * (i & kIn11 ? s[in_w + 1] : v);
  }
}

#if FEATVIS_X86_TARGETS
// The same for float, eight pixels at a time in AVX-512F where all their taps lie inside:
// each pixel's taps gathered as two pairs (s[0], s[1]) and (s[in_w], s[in_w + 1]), the
// products added in sample_row's order without fused multiply-adds (-ffp-contract=off), so
// the bits are sample_row's. Groups with a tap outside take sample_row.
__attribute__((target("avx512f"))) void sample_row_avx512(const float* plane, const TapTable<float>& t, int64_t at,
                                                          float v, float* d) {
  const int64_t* corner = t.corner.data() + at;
  const float *w00 = t.w00.data() + at, *w01 = t.w01.data() + at, *w10 = t.w10.data() + at, *w11 = t.w11.data() + at;
  const uint8_t* in = t.in.data() + at;
  const auto* top = reinterpret_cast<const double*>(plane);
  const auto* bottom = reinterpret_cast<const double*>(plane + t.in_w);
  // Lanes 0, 2, .., 14 (left taps) to the low half, 1, 3, .., 15 (right taps) to the high.
  const __m512i apart = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  const auto halves = [&](__m512d pairs, __m256& left, __m256& right) __attribute__((target("avx512f"))) {
    const __m512 split = _mm512_permutexvar_ps(apart, _mm512_castpd_ps(pairs));
    left = _mm512_castps512_ps256(split);
    right = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(split), 1));
  };
  constexpr uint64_t kAllInEight = 0x0F0F0F0F0F0F0F0Full;
  int64_t xo = 0;
  for (; xo + 8 <= t.out_w; xo += 8) {
    uint64_t flags;
    std::memcpy(&flags, in + xo, 8);
    if (flags != kAllInEight) {
      sample_row(plane, t, at, v, d, xo, xo + 8);
      continue;
    }
    const __m512i c = _mm512_loadu_si512(corner + xo);
    __m256 s00, s01, s10, s11;
    halves(_mm512_i64gather_pd(c, top, 4), s00, s01);
    halves(_mm512_i64gather_pd(c, bottom, 4), s10, s11);
    const __m256 sum = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(w00 + xo), s00),
                                                                 _mm256_mul_ps(_mm256_loadu_ps(w01 + xo), s01)),
                                                   _mm256_mul_ps(_mm256_loadu_ps(w10 + xo), s10)),
                                     _mm256_mul_ps(_mm256_loadu_ps(w11 + xo), s11));
    _mm256_storeu_ps(d + xo, sum);
  }
  sample_row(plane, t, at, v, d, xo, t.out_w);
}
#endif

template <typename T>
at::Tensor sample_cpu(const at::Tensor& source, const TapTable<T>& t, double fill) {
  const at::Tensor x = source.contiguous();
  const int64_t planes = x.size(0) * x.size(1), in_w = t.in_w, out_w = t.out_w;
  at::Tensor out = at::empty({x.size(0), x.size(1), t.out_h, out_w}, x.options());
  const T* src = x.data_ptr<T>();
  T* dst = out.data_ptr<T>();
  const auto v = static_cast<T>(fill);
  const int64_t in_plane = t.in_h * in_w, out_plane = t.out_h * out_w;
  // Rows apart: each output value is computed alone, whatever the thread count. Each
  // plane's row is read and written in order: with the planes innermost, a batch of 8
  // renders (24 planes 200 KB apart) touched 24 pages per pixel and ran 5x slower per plane.
  bool avx512 = false;
#if FEATVIS_X86_TARGETS
  avx512 = std::is_same_v<T, float> && cpu_has_avx512f();
#endif
  at::parallel_for(0, t.out_h, 16, [&](int64_t y_begin, int64_t y_end) {
    for (int64_t y = y_begin; y < y_end; ++y) {
      const int64_t at = y * out_w;
      for (int64_t p = 0; p < planes; ++p) {
        const T* plane = src + p * in_plane;
        T* d = dst + p * out_plane + at;
#if FEATVIS_X86_TARGETS
        if constexpr (std::is_same_v<T, float>) {
          if (avx512) {
            sample_row_avx512(plane, t, at, v, d);
            continue;
          }
        }
#endif
        sample_row(plane, t, at, v, d, 0, out_w);
      }
    }
  });
  return out;
}

// The adjoint of sample_cpu: each output pixel's gradient spread back onto its taps.
template <typename T>
at::Tensor adjoint_cpu(const at::Tensor& grad_out, const TapTable<T>& t) {
  const at::Tensor g = grad_out.to(c10::CppTypeToScalarType<T>::value).contiguous();
  const int64_t planes = g.size(0) * g.size(1), in_w = t.in_w, out_w = t.out_w;
  at::Tensor grad_in = at::zeros({g.size(0), g.size(1), t.in_h, in_w}, g.options());
  const T* go = g.data_ptr<T>();
  T* gi = grad_in.data_ptr<T>();
  const int64_t in_plane = t.in_h * in_w, out_plane = t.out_h * out_w;
  // Planes apart: taps of neighbouring outputs overlap, so each thread owns whole planes
  // and adds in the same order whatever the thread count (per plane: output rows, then
  // pixels, in order).
  at::parallel_for(0, planes, 1, [&](int64_t p_begin, int64_t p_end) {
    for (int64_t y = 0; y < t.out_h; ++y) {
      const int64_t at = y * out_w;
      const int64_t* corner = t.corner.data() + at;
      const T *w00 = t.w00.data() + at, *w01 = t.w01.data() + at, *w10 = t.w10.data() + at, *w11 = t.w11.data() + at;
      const uint8_t* in = t.in.data() + at;
      for (int64_t p = p_begin; p < p_end; ++p) {
        const T* d = go + p * out_plane + at;
        T* plane = gi + p * in_plane;
        for (int64_t xo = 0; xo < out_w; ++xo) {
          T* s = plane + corner[xo];
          const T gv = d[xo];
          const uint8_t i = in[xo];
          if (i == kAllIn) {
            s[0] += w00[xo] * gv;
            s[1] += w01[xo] * gv;
            s[in_w] += w10[xo] * gv;
            s[in_w + 1] += w11[xo] * gv;
            continue;
          }
          if (i & kIn00) s[0] += w00[xo] * gv;
          if (i & kIn01) s[1] += w01[xo] * gv;
          if (i & kIn10) s[in_w] += w10[xo] * gv;
          if (i & kIn11) s[in_w + 1] += w11[xo] * gv;
        }
      }
    }
  });
  return grad_in;
}

// affine_sample of an all-ones [1,1,in_h,in_w] frame: the weights of the taps inside,
// with no frame to allocate and read.
template <typename T>
at::Tensor coverage_cpu(const TapTable<T>& t, const at::TensorOptions& options) {
  at::Tensor out = at::empty({1, 1, t.out_h, t.out_w}, options);
  T* dst = out.data_ptr<T>();
  at::parallel_for(0, t.out_h * t.out_w, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      const uint8_t i = t.in[static_cast<size_t>(k)];
      dst[k] = i == kAllIn ? T(1)
                           : (i & kIn00 ? t.w00[k] : 0) + (i & kIn01 ? t.w01[k] : 0) + (i & kIn10 ? t.w10[k] : 0) +
                                 (i & kIn11 ? t.w11[k] : 0);
    }
  });
  return out;
}

class AffineSample : public torch::autograd::Function<AffineSample> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& source, const Affine& m,
                            int64_t out_h, int64_t out_w, double fill) {
    at::Tensor out;
    AT_DISPATCH_FLOATING_TYPES(source.scalar_type(), "affine_sample", [&] {
      auto taps = tap_table<scalar_t>(m, source.size(2), source.size(3), out_h, out_w);
      out = sample_cpu(source, *taps, fill);
      ctx->saved_data["taps"] = c10::IValue::make_capsule(taps);
    });
    ctx->saved_data["dtype"] = static_cast<int64_t>(source.scalar_type());
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    at::Tensor grad;
    const auto dtype = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
    AT_DISPATCH_FLOATING_TYPES(dtype, "affine_sample_backward", [&] {
      const auto taps = c10::static_intrusive_pointer_cast<TapTable<scalar_t>>(ctx->saved_data["taps"].toCapsule());
      grad = adjoint_cpu(grads[0], *taps);
    });
    return {grad, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// `to_input` as affine_grid's theta, which maps output coordinates in [-1,1] to input
// coordinates in [-1,1] (align_corners = false).
at::Tensor theta(const Affine& m, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                 const at::TensorOptions& options) {
  const auto ow = static_cast<double>(out_w), oh = static_cast<double>(out_h);
  const auto iw = static_cast<double>(in_w), ih = static_cast<double>(in_h);
  // to_unit_in * m * from_unit_out, with from_unit_out: u -> u * o/2 + (o-1)/2 and
  // to_unit_in: x -> 2x/i + 1/i - 1 (per axis).
  const double a = 2 / iw, b = 1 / iw - 1, c = 2 / ih, d = 1 / ih - 1;
  const double t[6] = {a * m[0] * ow / 2,
                       a * m[1] * oh / 2,
                       a * (m[0] * (ow - 1) / 2 + m[1] * (oh - 1) / 2 + m[2]) + b,
                       c * m[3] * ow / 2,
                       c * m[4] * oh / 2,
                       c * (m[3] * (ow - 1) / 2 + m[4] * (oh - 1) / 2 + m[5]) + d};
  return at::tensor(std::vector<double>(t, t + 6), at::TensorOptions().dtype(at::kDouble)).view({1, 2, 3}).to(options);
}

at::Tensor sample_by_grid(const at::Tensor& source, const Affine& m, int64_t out_h, int64_t out_w) {
  const at::Tensor t = theta(m, source.size(2), source.size(3), out_h, out_w, source.options())
                           .expand({source.size(0), 2, 3});
  const at::Tensor grid =
      at::affine_grid_generator(t, {source.size(0), source.size(1), out_h, out_w}, /*align_corners=*/false);
  return at::grid_sampler(source, grid, /*bilinear*/ 0, /*zeros*/ 0, /*align_corners=*/false);
}

}  // namespace

at::Tensor affine_sample(const at::Tensor& source, const std::array<double, 6>& to_input, int64_t out_h,
                         int64_t out_w, double fill) {
  FEATVIS_CHECK(source.dim() == 4, "affine_sample expects an [N,C,H,W] tensor, got ", source.sizes());
  FEATVIS_CHECK(out_h > 0 && out_w > 0, "affine_sample: output size ", out_h, "x", out_w, " is empty");
  if (source.device().is_cpu()) return AffineSample::apply(source, to_input, out_h, out_w, fill);
  return affine_sample_by_grid_sampler(source, to_input, out_h, out_w, fill);
}

at::Tensor affine_coverage(int64_t in_h, int64_t in_w, const std::array<double, 6>& to_input, int64_t out_h,
                           int64_t out_w, const at::TensorOptions& options) {
  FEATVIS_CHECK(out_h > 0 && out_w > 0, "affine_coverage: output size ", out_h, "x", out_w, " is empty");
  if (options.device().is_cpu()) {
    at::Tensor out;
    AT_DISPATCH_FLOATING_TYPES(c10::typeMetaToScalarType(options.dtype()), "affine_coverage", [&] {
      out = coverage_cpu(*tap_table<scalar_t>(to_input, in_h, in_w, out_h, out_w), options);
    });
    return out;
  }
  return affine_sample(at::ones({1, 1, in_h, in_w}, options), to_input, out_h, out_w);
}

at::Tensor affine_sample_by_grid_sampler(const at::Tensor& source, const std::array<double, 6>& to_input,
                                         int64_t out_h, int64_t out_w, double fill) {
  FEATVIS_CHECK(source.dim() == 4, "affine_sample expects an [N,C,H,W] tensor, got ", source.sizes());
  if (fill == 0.0) return sample_by_grid(source, to_input, out_h, out_w);
  return sample_by_grid(source - fill, to_input, out_h, out_w) + fill;
}

std::vector<at::Tensor> affine_taps_in_lanes(int lanes, const std::array<double, 6>& to_input, int64_t in_h,
                                             int64_t in_w, int64_t out_h, int64_t out_w, at::ScalarType dtype) {
  if (!runs_lanes(lanes, in_h, in_w) || (lanes != 1 && lanes != 4 && lanes != 8)) return {};
  std::vector<at::Tensor> columns;
  AT_DISPATCH_FLOATING_TYPES(dtype, "affine_taps", [&] {
    const auto t = tap_table<scalar_t>(to_input, in_h, in_w, out_h, out_w, lanes);
    const auto column = [&](auto& v, at::ScalarType type) {
      return at::from_blob(v.data(), {out_h, out_w}, at::TensorOptions().dtype(type)).clone();
    };
    columns = {column(t->corner, at::kLong), column(t->w00, dtype), column(t->w01, dtype),
               column(t->w10, dtype),        column(t->w11, dtype), column(t->in, at::kByte)};
  });
  return columns;
}

}  // namespace featvis::render::transform
