#include <featvis/image/resize_rgb8.h>
#include <featvis/util/check.h>
#include <featvis/util/cpu_features.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#if FEATVIS_X86_TARGETS
#include <immintrin.h>
#endif

namespace featvis::image {
namespace {

using Axis = Rgb8Resizer::Axis;

float triangle(float x) {
  x = std::abs(x);
  return x < 1.0f ? 1.0f - x : 0.0f;
}

// ATen's _compute_indices_weights_aa, then padded to a fixed tap count: the first tap of
// an output moved back at the far edge, the missing weights zero.
Axis make_axis(int64_t input_size, int64_t output_size) {
  const float scale = static_cast<float>(input_size) / static_cast<float>(output_size);
  const float support = scale >= 1.0f ? static_cast<float>(1.0 * scale) : 1.0f;
  const float invscale = scale >= 1.0f ? static_cast<float>(1.0 / scale) : 1.0f;
  std::vector<int64_t> lo(static_cast<size_t>(output_size));
  std::vector<std::vector<float>> w(static_cast<size_t>(output_size));
  Axis a;
  for (int64_t i = 0; i < output_size; ++i) {
    const float center = static_cast<float>(scale * (i + 0.5));
    lo[i] = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t size = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), input_size) - lo[i];
    w[i].resize(static_cast<size_t>(size));
    float total = 0.0f;
    for (int64_t j = 0; j < size; ++j) {
      w[i][j] = triangle(static_cast<float>((j + lo[i] - center + 0.5) * invscale));
      total += w[i][j];
    }
    if (total != 0.0f)
      for (float& v : w[i]) v /= total;
    a.taps = std::max(a.taps, size);
  }
  for (int64_t i = 0; i < output_size; ++i) {
    const int64_t first = std::min(lo[i], input_size - a.taps), shift = lo[i] - first;
    a.first.push_back(first);
    for (int64_t j = 0; j < a.taps; ++j) {
      const int64_t k = j - shift;
      a.weights.push_back(k >= 0 && k < static_cast<int64_t>(w[i].size()) ? w[i][k] : 0.0f);
    }
  }
  for (int64_t i = 0; i + 1 < output_size; i += 2)
    for (int64_t j = 0; j < a.taps; ++j) {
      a.pairs.insert(a.pairs.end(), 4, a.weights[static_cast<size_t>(i * a.taps + j)]);
      a.pairs.insert(a.pairs.end(), 4, a.weights[static_cast<size_t>((i + 1) * a.taps + j)]);
    }
  return a;
}

// ---- Portable loops: one pixel's red, green and blue (and a fourth lane that is
// ignored) as one vector, GCC/Clang vector extensions, so any target gets its own
// instructions.
using Float4 = float __attribute__((vector_size(16)));
using Int4 = int32_t __attribute__((vector_size(16)));

void height_row(const uint8_t* first, int64_t stride, const float* wt, int64_t taps, int64_t n, float* acc) {
  for (int64_t i = 0; i < n; ++i) acc[i] = static_cast<float>(first[i]) * wt[0];
  for (int64_t j = 1; j < taps; ++j) {
    const uint8_t* r = first + j * stride;
    const float wj = wt[j];
    for (int64_t i = 0; i < n; ++i) acc[i] += static_cast<float>(r[i]) * wj;
  }
}

// One output row of the width pass: per pixel, its taps' 4-lane loads times their weights,
// then clamped to [0, 255] and rounded half to even (adding and subtracting 1.5 * 2^23
// rounds in the current mode, as nearbyint does) in the same vector.
template <int kTaps>
void width_row(const float* line, const Axis& across, int64_t width, uint8_t* out) {
  const int64_t taps = kTaps > 0 ? kTaps : across.taps;
  const Float4 zero = {0.f, 0.f, 0.f, 0.f}, top = {255.f, 255.f, 255.f, 255.f};
  const Float4 magic = {12582912.f, 12582912.f, 12582912.f, 12582912.f};
  for (int64_t x = 0; x < width; ++x) {
    const float* p = line + across.first[x] * 3;
    const float* w = across.weights.data() + x * taps;
    Float4 v;
    std::memcpy(&v, p, sizeof v);
    Float4 acc = v * w[0];
    for (int64_t j = 1; j < taps; ++j) {
      std::memcpy(&v, p + 3 * j, sizeof v);
      acc += v * w[j];
    }
    acc = acc < zero ? zero : acc;
    acc = acc > top ? top : acc;
    acc = (acc + magic) - magic;
    const Int4 level = __builtin_convertvector(acc, Int4);
    out[3 * x] = static_cast<uint8_t>(level[0]);
    out[3 * x + 1] = static_cast<uint8_t>(level[1]);
    out[3 * x + 2] = static_cast<uint8_t>(level[2]);
  }
}

void width_row(const float* line, const Axis& across, int64_t width, uint8_t* out) {
  switch (across.taps) {  // the common tap counts unrolled
    case 2: return width_row<2>(line, across, width, out);
    case 3: return width_row<3>(line, across, width, out);
    case 4: return width_row<4>(line, across, width, out);
    case 5: return width_row<5>(line, across, width, out);
    default: return width_row<0>(line, across, width, out);
  }
}

#if FEATVIS_X86_TARGETS
// ---- AVX2 + FMA loops, picked at run time.

// Eight levels as eight floats.
__attribute__((target("avx2,fma"))) inline __m256 levels8(const uint8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

__attribute__((target("avx2,fma"))) void height_row_avx2(const uint8_t* first, int64_t stride, const float* wt,
                                                         int64_t taps, int64_t n, float* acc) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 a = _mm256_mul_ps(levels8(first + i), _mm256_set1_ps(wt[0]));
    __m256 b = _mm256_mul_ps(levels8(first + i + 8), _mm256_set1_ps(wt[0]));
    for (int64_t j = 1; j < taps; ++j) {
      const uint8_t* r = first + j * stride + i;
      const __m256 w = _mm256_set1_ps(wt[j]);
      a = _mm256_fmadd_ps(levels8(r), w, a);
      b = _mm256_fmadd_ps(levels8(r + 8), w, b);
    }
    _mm256_storeu_ps(acc + i, a);
    _mm256_storeu_ps(acc + i + 8, b);
  }
  for (; i < n; ++i) {
    float s = static_cast<float>(first[i]) * wt[0];
    for (int64_t j = 1; j < taps; ++j) s = std::fma(static_cast<float>(first[j * stride + i]), wt[j], s);
    acc[i] = s;
  }
}

// Two output pixels per vector: pixel 2k in the low half, 2k + 1 in the high half, their
// taps' weights side by side in Axis::pairs. Written to `line` as floats (each pixel's
// 4th lane overwritten by the next pixel), rounded to levels afterwards in one pass.
template <int kTaps>
__attribute__((target("avx2,fma"))) void width_row_avx2(const float* rows, const Axis& across, int64_t width,
                                                        float* line) {
  const int64_t taps = kTaps > 0 ? kTaps : across.taps;
  int64_t x = 0;
  for (; x + 2 <= width; x += 2) {
    const float* p0 = rows + across.first[x] * 3;
    const float* p1 = rows + across.first[x + 1] * 3;
    const float* w = across.pairs.data() + (x / 2) * taps * 8;
    __m256 acc = _mm256_mul_ps(_mm256_loadu2_m128(p1, p0), _mm256_loadu_ps(w));
    for (int64_t j = 1; j < taps; ++j)
      acc = _mm256_fmadd_ps(_mm256_loadu2_m128(p1 + 3 * j, p0 + 3 * j), _mm256_loadu_ps(w + 8 * j), acc);
    _mm_storeu_ps(line + 3 * x, _mm256_castps256_ps128(acc));
    _mm_storeu_ps(line + 3 * x + 3, _mm256_extractf128_ps(acc, 1));
  }
  if (x < width) {  // an odd last pixel
    const float* p = rows + across.first[x] * 3;
    const float* w = across.weights.data() + x * taps;
    __m128 acc = _mm_mul_ps(_mm_loadu_ps(p), _mm_set1_ps(w[0]));
    for (int64_t j = 1; j < taps; ++j) acc = _mm_fmadd_ps(_mm_loadu_ps(p + 3 * j), _mm_set1_ps(w[j]), acc);
    _mm_storeu_ps(line + 3 * x, acc);
  }
}

__attribute__((target("avx2,fma"))) void width_row_avx2(const float* rows, const Axis& across, int64_t width,
                                                        float* line) {
  switch (across.taps) {
    case 2: return width_row_avx2<2>(rows, across, width, line);
    case 3: return width_row_avx2<3>(rows, across, width, line);
    case 4: return width_row_avx2<4>(rows, across, width, line);
    case 5: return width_row_avx2<5>(rows, across, width, line);
    default: return width_row_avx2<0>(rows, across, width, line);
  }
}

// Floats to levels: rounded half to even (the default rounding mode), then saturated to
// [0, 255] by the packs, which is the same as clamping first.
__attribute__((target("avx2,fma"))) void round_to_levels_avx2(const float* in, int64_t n, uint8_t* out) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256i a = _mm256_cvtps_epi32(_mm256_loadu_ps(in + i));
    const __m256i b = _mm256_cvtps_epi32(_mm256_loadu_ps(in + i + 8));
    const __m256i words = _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8);  // 16 int16 in order
    const __m128i bytes = _mm_packus_epi16(_mm256_castsi256_si128(words), _mm256_extracti128_si256(words, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), bytes);
  }
  for (; i < n; ++i) out[i] = static_cast<uint8_t>(std::clamp(std::nearbyint(in[i]), 0.0f, 255.0f));
}
#endif

}  // namespace

Rgb8Resizer::Rgb8Resizer(bool wide_vectors) : wide_(wide_vectors && cpu_has_avx2() && cpu_has_fma()) {}

const Axis& Rgb8Resizer::axis(int64_t input_size, int64_t output_size) {
  if (axes_.size() > 512) axes_.clear();  // bounded: crop sizes repeat, but never mind if not
  auto [it, inserted] = axes_.try_emplace({input_size, output_size});
  if (inserted) it->second = make_axis(input_size, output_size);
  return it->second;
}

void Rgb8Resizer::resize(const uint8_t* src, int64_t h, int64_t w, int64_t src_stride, uint8_t* dst, int64_t height,
                         int64_t width) {
  FEATVIS_CHECK(h >= 1 && w >= 1 && src_stride >= w * 3, "cannot resize a ", w, "x", h, " image with rows ",
                src_stride, " bytes apart");
  FEATVIS_CHECK(height >= 1 && width >= 1, "cannot resize to ", width, "x", height);
  const Axis& down = axis(h, height);
  const Axis& across = axis(w, width);
  const int64_t in_row = w * 3, row = width * 3;
  if (rows_.size() < static_cast<size_t>(height * in_row + 8)) rows_.assign(static_cast<size_t>(height * in_row + 8), 0.0f);
#if FEATVIS_X86_TARGETS
  if (wide_) {
    if (line_.size() < static_cast<size_t>(row + 8)) line_.assign(static_cast<size_t>(row + 8), 0.0f);
    for (int64_t y = 0; y < height; ++y)
      height_row_avx2(src + down.first[y] * src_stride, src_stride, down.weights.data() + y * down.taps, down.taps,
                      in_row, rows_.data() + y * in_row);
    for (int64_t y = 0; y < height; ++y) {
      width_row_avx2(rows_.data() + y * in_row, across, width, line_.data());
      round_to_levels_avx2(line_.data(), row, dst + y * row);
    }
    return;
  }
#endif
  // Height first, whole rows at a time (contiguous, so vectorized): the costlier
  // per-pixel width pass then runs on `height` rows instead of h.
  for (int64_t y = 0; y < height; ++y)
    height_row(src + down.first[y] * src_stride, src_stride, down.weights.data() + y * down.taps, down.taps, in_row,
               rows_.data() + y * in_row);
  for (int64_t y = 0; y < height; ++y) width_row(rows_.data() + y * in_row, across, width, dst + y * row);
}

}  // namespace featvis::image
