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

// The AVX-512 width pass's groups: the widest (16, else 8 outputs) whose every group's taps
// lie within the 32 inputs of two vectors from its first one.
void add_groups(Axis& a, int64_t output_size) {
  for (const int64_t group : {16, 8}) {
    bool fits = true;
    for (int64_t x0 = 0; x0 < output_size && fits; x0 += group) {
      const int64_t last = std::min(x0 + group, output_size) - 1;
      fits = a.first[static_cast<size_t>(last)] + a.taps - a.first[static_cast<size_t>(x0)] <= 32;
    }
    if (!fits) continue;
    a.group = group;
    for (int64_t x0 = 0; x0 < output_size; x0 += group) {
      const int64_t base = a.first[static_cast<size_t>(x0)];
      a.group_base.push_back(static_cast<int32_t>(base));
      for (int64_t j = 0; j < a.taps; ++j)
        for (int64_t lane = 0; lane < 16; ++lane) {
          const int64_t x = x0 + lane;
          const bool used = lane < group && x < output_size;
          a.group_index.push_back(used ? static_cast<int32_t>(a.first[static_cast<size_t>(x)] + j - base) : 0);
          a.group_weights.push_back(used ? a.weights[static_cast<size_t>(x * a.taps + j)] : 0.0f);
        }
    }
    return;
  }
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

// ---- AVX-512 loops, picked at run time. The same products and sums as the AVX2 ones,
// in the same order; only the lanes differ.

// `taps` rows of 48 zero bytes, for the last pixels of a row (one per thread: the loops
// are free functions).
std::vector<uint8_t>& tail_rows(int64_t taps) {
  thread_local std::vector<uint8_t> rows;
  rows.assign(static_cast<size_t>(taps * 48), 0);
  return rows;
}

__attribute__((target("avx512f,avx512bw,fma"))) inline __m512 levels16(const uint8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}

// One output row of the height pass, as three planes `plane` floats apart (red, green,
// blue): 16 pixels (48 levels, three vectors) at a time, then the three vectors' lanes
// sorted by colour with two permutes a plane.
__attribute__((target("avx512f,avx512bw,fma"))) void height_planes_avx512(const uint8_t* first, int64_t stride,
                                                                 const float* wt, int64_t taps, int64_t w,
                                                                 float* out, int64_t plane) {
  // Lane k of a plane is level 3k + c of the 48: first from vectors 0 and 1, then from 2.
  alignas(64) static const int32_t kFromFirstTwo[3][16] = {
      {0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 0, 0, 0, 0, 0},
      {1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 0, 0, 0, 0, 0},
      {2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0, 0, 0, 0, 0, 0}};
  alignas(64) static const int32_t kThenThird[3][16] = {
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17, 20, 23, 26, 29},
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 18, 21, 24, 27, 30},
      {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 19, 22, 25, 28, 31}};
  // 16 pixels from `p` (rows `step` bytes apart) into the three planes at x.
  const auto sixteen = [&](const uint8_t* p, int64_t step, int64_t x) __attribute__((target("avx512f,avx512bw,fma"))) {
    const __m512 w0 = _mm512_set1_ps(wt[0]);
    __m512 a0 = _mm512_mul_ps(levels16(p), w0);
    __m512 a1 = _mm512_mul_ps(levels16(p + 16), w0);
    __m512 a2 = _mm512_mul_ps(levels16(p + 32), w0);
    for (int64_t j = 1; j < taps; ++j) {
      const uint8_t* r = p + j * step;
      const __m512 wj = _mm512_set1_ps(wt[j]);
      a0 = _mm512_fmadd_ps(levels16(r), wj, a0);
      a1 = _mm512_fmadd_ps(levels16(r + 16), wj, a1);
      a2 = _mm512_fmadd_ps(levels16(r + 32), wj, a2);
    }
    for (int c = 0; c < 3; ++c) {
      const __m512 two = _mm512_permutex2var_ps(a0, _mm512_load_si512(kFromFirstTwo[c]), a1);
      _mm512_storeu_ps(out + c * plane + x, _mm512_permutex2var_ps(two, _mm512_load_si512(kThenThird[c]), a2));
    }
  };
  int64_t x = 0;
  for (; x + 16 <= w; x += 16) sixteen(first + 3 * x, stride, x);
  if (x < w) {  // the last pixels, copied into 16 pixels of zeros (they land in the planes' padding)
    std::vector<uint8_t>& tail = tail_rows(taps);
    for (int64_t j = 0; j < taps; ++j) std::memcpy(tail.data() + j * 48, first + j * stride + 3 * x, static_cast<size_t>(3 * (w - x)));
    sixteen(tail.data(), 48, x);
  }
}

// The width pass of one row's three planes (`plane` floats apart, into `out_plane` apart):
// per group of outputs, the 32 inputs from its first one in two vectors, and each tap's
// 16 inputs picked from them by one permute. The three colours' sums are independent
// chains, interleaved so that one's multiply-add waits for its previous while the others run.
__attribute__((target("avx512f,avx512bw,fma"))) void width_planes_avx512(const float* in, int64_t plane, const Axis& across,
                                                                float* out, int64_t out_plane) {
  const int64_t taps = across.taps;
  for (size_t g = 0; g < across.group_base.size(); ++g) {
    const float* r = in + across.group_base[g];
    const float* gr = r + plane;
    const float* b = gr + plane;
    const __m512 r_lo = _mm512_loadu_ps(r), r_hi = _mm512_loadu_ps(r + 16);
    const __m512 g_lo = _mm512_loadu_ps(gr), g_hi = _mm512_loadu_ps(gr + 16);
    const __m512 b_lo = _mm512_loadu_ps(b), b_hi = _mm512_loadu_ps(b + 16);
    const int32_t* index = across.group_index.data() + g * taps * 16;
    const float* weight = across.group_weights.data() + g * taps * 16;
    __m512i i = _mm512_loadu_si512(index);
    __m512 w = _mm512_loadu_ps(weight);
    __m512 red = _mm512_mul_ps(_mm512_permutex2var_ps(r_lo, i, r_hi), w);
    __m512 green = _mm512_mul_ps(_mm512_permutex2var_ps(g_lo, i, g_hi), w);
    __m512 blue = _mm512_mul_ps(_mm512_permutex2var_ps(b_lo, i, b_hi), w);
    for (int64_t j = 1; j < taps; ++j) {
      i = _mm512_loadu_si512(index + 16 * j);
      w = _mm512_loadu_ps(weight + 16 * j);
      red = _mm512_fmadd_ps(_mm512_permutex2var_ps(r_lo, i, r_hi), w, red);
      green = _mm512_fmadd_ps(_mm512_permutex2var_ps(g_lo, i, g_hi), w, green);
      blue = _mm512_fmadd_ps(_mm512_permutex2var_ps(b_lo, i, b_hi), w, blue);
    }
    // A group of 8's upper lanes land where the next group's will be stored.
    float* to = out + static_cast<int64_t>(g) * across.group;
    _mm512_storeu_ps(to, red);
    _mm512_storeu_ps(to + out_plane, green);
    _mm512_storeu_ps(to + 2 * out_plane, blue);
  }
}

// Three planes of floats `plane` apart -> `width` RGB pixels: rounded half to even and
// clamped to [0, 255] (as the AVX2 loop's packs), 16 pixels at a time as one vector of
// 0x00BBGGRR words, whose three low bytes each lane-wise byte shuffle moves together
// (12 bytes of every 16) and a word permute then packs into 48 bytes.
__attribute__((target("avx512f,avx512bw,fma"))) void interleave_levels_avx512(const float* in, int64_t plane,
                                                                               int64_t width, uint8_t* out) {
  const __m512i zero = _mm512_setzero_si512(), top = _mm512_set1_epi32(255);
  const __m512i three_of_four = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1));
  const __m512i packed = _mm512_setr_epi32(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 0, 0, 0, 0);
  const auto level = [&](const float* p) __attribute__((target("avx512f,avx512bw,fma"))) {
    return _mm512_min_epi32(_mm512_max_epi32(_mm512_cvtps_epi32(_mm512_loadu_ps(p)), zero), top);
  };
  for (int64_t x = 0; x < width; x += 16) {
    const __m512i words = _mm512_or_si512(
        level(in + x), _mm512_or_si512(_mm512_slli_epi32(level(in + plane + x), 8), _mm512_slli_epi32(level(in + 2 * plane + x), 16)));
    const __m512i bytes = _mm512_permutexvar_epi32(packed, _mm512_shuffle_epi8(words, three_of_four));
    const int64_t pixels = std::min<int64_t>(16, width - x);
    _mm512_mask_storeu_epi32(out + 3 * x, static_cast<__mmask16>((1u << (3 * pixels / 4)) - 1), bytes);
    if (pixels % 4 != 0) {  // the last pixels' bytes past the last whole word
      alignas(64) uint8_t last[64];
      _mm512_store_si512(last, bytes);
      const int64_t done = 3 * pixels / 4 * 4;
      std::memcpy(out + 3 * x + done, last + done, static_cast<size_t>(3 * pixels - done));
    }
  }
}
#endif

}  // namespace

namespace {

Rgb8Resizer::Loops widest_loops(Rgb8Resizer::Loops widest) {
  using Loops = Rgb8Resizer::Loops;
  if (widest == Loops::kAvx512 && cpu_has_avx512f() && cpu_has_avx512bw() && cpu_has_fma()) return Loops::kAvx512;
  if (widest != Loops::kPortable && cpu_has_avx2() && cpu_has_fma()) return Loops::kAvx2;
  return Loops::kPortable;
}

}  // namespace

Rgb8Resizer::Rgb8Resizer(Loops widest) : loops_(widest_loops(widest)) {}

const Axis& Rgb8Resizer::axis(int64_t input_size, int64_t output_size) {
  auto [it, inserted] = axes_.try_emplace({input_size, output_size});
  if (inserted) {
    it->second = make_axis(input_size, output_size);
    if (loops_ == Loops::kAvx512) add_groups(it->second, output_size);  // only its loops read them
  }
  return it->second;
}

void Rgb8Resizer::resize(const uint8_t* src, int64_t h, int64_t w, int64_t src_stride, uint8_t* dst, int64_t height,
                         int64_t width) {
  FEATVIS_CHECK(h >= 1 && w >= 1 && src_stride >= w * 3, "cannot resize a ", w, "x", h, " image with rows ",
                src_stride, " bytes apart");
  FEATVIS_CHECK(height >= 1 && width >= 1, "cannot resize to ", width, "x", height);
  if (axes_.size() > 512) axes_.clear();  // bounded: crop sizes repeat, but never mind if not
  const Axis& down = axis(h, height);
  const Axis& across = axis(w, width);
#if FEATVIS_X86_TARGETS
  if (loops_ == Loops::kAvx512 && across.group > 0) return resize_avx512(src, src_stride, down, across, w, dst, height, width);
#endif
  const int64_t in_row = w * 3, row = width * 3;
  if (rows_.size() < static_cast<size_t>(height * in_row + 8)) rows_.assign(static_cast<size_t>(height * in_row + 8), 0.0f);
#if FEATVIS_X86_TARGETS
  if (loops_ != Loops::kPortable) {
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

void Rgb8Resizer::resize_avx512(const uint8_t* src, int64_t src_stride, const Axis& down, const Axis& across,
                                int64_t w, uint8_t* dst, int64_t height, int64_t width) {
#if FEATVIS_X86_TARGETS
  // A plane holds w floats and is read up to 32 past a group's first input; the padding
  // keeps finite values (zeros, or an earlier image's), which only zero weights meet.
  const int64_t plane = (w + 32 + 15) / 16 * 16;
  const int64_t out_plane = (width + 16 + 15) / 16 * 16;  // + the upper lanes of a last group of 8
  // Both buffers start at a cache line: 64-byte stores that straddle two lines cost twice.
  const auto at_line = [](std::vector<float>& v, int64_t floats) {
    if (v.size() < static_cast<size_t>(floats + 16)) v.assign(static_cast<size_t>(floats + 16), 0.0f);
    return v.data() + (16 - reinterpret_cast<uintptr_t>(v.data()) / sizeof(float) % 16) % 16;
  };
  float* rows = at_line(rows_, height * 3 * plane);
  float* line = at_line(line_, 3 * out_plane);
  for (int64_t y = 0; y < height; ++y)
    height_planes_avx512(src + down.first[y] * src_stride, src_stride, down.weights.data() + y * down.taps, down.taps,
                         w, rows + y * 3 * plane, plane);
  for (int64_t y = 0; y < height; ++y) {
    width_planes_avx512(rows + y * 3 * plane, plane, across, line, out_plane);
    interleave_levels_avx512(line, out_plane, width, dst + y * width * 3);
  }
#else
  (void)src, (void)src_stride, (void)down, (void)across, (void)w, (void)dst, (void)height, (void)width;
#endif
}

}  // namespace featvis::image
