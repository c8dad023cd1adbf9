// Pillow's Resample.c (ImagingResample with the BILINEAR filter, 8 bits per channel),
// written from its description: precompute_coeffs, normalize_coeffs_8bpc and the two
// passes. Every rounding step follows it, so the output is Pillow's, byte for byte
// (tests/image/pil_resize_test.cpp compares with Pillow itself).
#include <featvis/image/pil_resize.h>
#include <featvis/util/check.h>
#include <featvis/util/cpu_features.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#if FEATVIS_X86_TARGETS
#include <immintrin.h>
#endif

namespace featvis::image {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // fixed-point weights: 22 fractional bits

// The taps of output indices [begin, end) along one axis: first input index, count and
// fixed-point weights, `size` slots per output index (Pillow's ksize).
struct Taps {
  int64_t size = 0;
  std::vector<int64_t> first, count;
  std::vector<int32_t> weights;
};

double triangle(double x) {
  x = std::abs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// in0/in1: the box's edges on this axis, as Pillow receives them (floats).
Taps taps_for(int64_t in_size, float in0, float in1, int64_t out_size, int64_t begin, int64_t end) {
  const double scale = static_cast<double>(in1 - in0) / static_cast<double>(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = 1.0 * filter_scale;  // the triangle's support is 1
  const double ss = 1.0 / filter_scale;
  Taps t;
  t.size = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  t.weights.assign(static_cast<size_t>((end - begin) * t.size), 0);
  std::vector<double> w(static_cast<size_t>(t.size));
  for (int64_t o = begin; o < end; ++o) {
    const double center = in0 + (static_cast<double>(o) + 0.5) * scale;
    // Pillow rounds by truncating x + 0.5 toward zero, then clamps to the image.
    const int64_t lo = std::max<int64_t>(0, static_cast<int>(center - support + 0.5));
    const int64_t hi = std::min<int64_t>(in_size, static_cast<int>(center + support + 0.5));
    const int64_t n = std::max<int64_t>(0, hi - lo);
    double total = 0.0;
    for (int64_t x = 0; x < n; ++x) {
      w[static_cast<size_t>(x)] = triangle((static_cast<double>(x + lo) - center + 0.5) * ss);
      total += w[static_cast<size_t>(x)];
    }
    int32_t* k = &t.weights[static_cast<size_t>((o - begin) * t.size)];
    for (int64_t x = 0; x < n; ++x) {
      const double v = total != 0.0 ? w[static_cast<size_t>(x)] / total : w[static_cast<size_t>(x)];
      k[x] = static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    t.first.push_back(lo);
    t.count.push_back(n);
  }
  return t;
}

inline uint8_t clip8(int32_t v) {
  if (v >= (255 << kPrecisionBits)) return 255;
  if (v <= 0) return 0;
  return static_cast<uint8_t>(v >> kPrecisionBits);
}

// The width pass of one row for output pixels [begin, end), pixel by pixel.
void width_pass(const uint8_t* row, const Taps& t, int64_t begin, int64_t end, uint8_t* to) {
  const int32_t half = 1 << (kPrecisionBits - 1);
  for (int64_t o = begin; o < end; ++o) {
    const int32_t* k = &t.weights[static_cast<size_t>(o * t.size)];
    const uint8_t* p = row + t.first[static_cast<size_t>(o)] * 3;
    int32_t r = half, g = half, b = half;
    for (int64_t x = 0, n = t.count[static_cast<size_t>(o)]; x < n; ++x, p += 3) {
      r += p[0] * k[x];
      g += p[1] * k[x];
      b += p[2] * k[x];
    }
    to[3 * o] = clip8(r), to[3 * o + 1] = clip8(g), to[3 * o + 2] = clip8(b);
  }
}

#if FEATVIS_X86_TARGETS
// The same two output pixels at a time in AVX2: a pixel's RGB (and one byte more) as four
// 32-bit lanes, every tap slot read (the weights past a pixel's count are 0). Integer sums,
// so the bytes are the scalar loop's on every CPU. Stops at the first pixel whose slots
// would read past `readable` bytes and returns where it stopped.
__attribute__((target("avx2"))) int64_t width_pass_avx2(const uint8_t* row, int64_t readable, const Taps& t,
                                                        int64_t width, uint8_t* to) {
  const __m256i half = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
  int64_t o = 0;
  for (; o + 2 <= width; o += 2) {
    const int64_t f0 = t.first[static_cast<size_t>(o)], f1 = t.first[static_cast<size_t>(o + 1)];
    if ((f1 + t.size - 1) * 3 + 4 > readable) break;  // first[] only grows
    const int32_t* k0 = &t.weights[static_cast<size_t>(o * t.size)];
    const int32_t* k1 = k0 + t.size;
    __m256i acc = half;
    for (int64_t x = 0; x < t.size; ++x) {
      int32_t a, b;
      std::memcpy(&a, row + (f0 + x) * 3, 4);
      std::memcpy(&b, row + (f1 + x) * 3, 4);
      const __m256i pixels = _mm256_cvtepu8_epi32(_mm_set_epi32(0, 0, b, a));
      const __m256i weights = _mm256_set_m128i(_mm_set1_epi32(k1[x]), _mm_set1_epi32(k0[x]));
      acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(pixels, weights));
    }
    // clip8: >> 22, then saturation to 0..255 by the packs.
    const __m256i levels = _mm256_srai_epi32(acc, kPrecisionBits);
    const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(levels), _mm256_extracti128_si256(levels, 1));
    const __m128i bytes = _mm_packus_epi16(words, words);
    alignas(16) uint8_t lanes[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(lanes), bytes);
    uint8_t* out = to + 3 * o;
    out[0] = lanes[0], out[1] = lanes[1], out[2] = lanes[2];
    out[3] = lanes[4], out[4] = lanes[5], out[5] = lanes[6];
  }
  return o;
}
#endif

// The output pixels from 0 the vector loop did; the rest are left to width_pass.
int64_t width_pass_vector(const uint8_t* row, int64_t readable, const Taps& t, int64_t width, uint8_t* to) {
#if FEATVIS_X86_TARGETS
  if (cpu_has_avx2()) return width_pass_avx2(row, readable, t, width, to);
#endif
  (void)row, (void)readable, (void)t, (void)width, (void)to;
  return 0;
}

}  // namespace

at::Tensor pil_resize(const at::Tensor& hwc, int64_t out_height, int64_t out_width, const PilResizeOptions& options) {
  FEATVIS_CHECK(hwc.dim() == 3 && hwc.size(2) == 3 && hwc.scalar_type() == at::kByte && hwc.device().is_cpu(),
                "pil_resize expects an [H, W, 3] uint8 CPU image");
  const int64_t in_h = hwc.size(0), in_w = hwc.size(1);
  FEATVIS_CHECK(out_height >= 1 && out_width >= 1 && in_h >= 1 && in_w >= 1, "pil_resize: empty image or size");
  const int64_t top = options.crop_top, left = options.crop_left;
  const int64_t height = options.crop_height >= 1 ? options.crop_height : out_height;
  const int64_t width = options.crop_width >= 1 ? options.crop_width : out_width;
  FEATVIS_CHECK(top >= 0 && left >= 0 && top + height <= out_height && left + width <= out_width,
                "pil_resize: the crop lies outside the resized image");
  const float x0 = options.box[0], y0 = options.box[1];
  const float x1 = options.box[2] < 0 ? static_cast<float>(in_w) : options.box[2];
  const float y1 = options.box[3] < 0 ? static_cast<float>(in_h) : options.box[3];
  FEATVIS_CHECK(x0 >= 0 && y0 >= 0 && x1 <= in_w && y1 <= in_h && x1 > x0 && y1 > y0,
                "pil_resize: the box lies outside the image or is empty");

  // Pixels of 3 bytes side by side (any row stride): the loops below are written for them.
  const at::Tensor in = hwc.stride(2) == 1 && hwc.stride(1) == 3 ? hwc : hwc.contiguous();
  const uint8_t* src = in.data_ptr<uint8_t>();
  const int64_t sy = in.stride(0);
  at::Tensor out = at::empty({height, width, 3}, at::kByte);
  uint8_t* dst = out.data_ptr<uint8_t>();
  const int32_t half = 1 << (kPrecisionBits - 1);

  // Pillow skips a pass whose size and box edges do not change (its weights would be the
  // identity anyway).
  const bool horizontal = out_width != in_w || x0 != 0.f || x1 != static_cast<float>(in_w);
  const bool vertical = out_height != in_h || y0 != 0.f || y1 != static_cast<float>(in_h);
  const Taps vt = vertical ? taps_for(in_h, y0, y1, out_height, top, top + height) : Taps{};
  // The input rows the height pass reads: the width pass runs on those only.
  const int64_t row_lo = vertical ? vt.first.front() : top;
  const int64_t row_hi = vertical ? vt.first.back() + vt.count.back() : top + height;
  const int64_t rows = std::max<int64_t>(0, row_hi - row_lo);

  // Width pass: rows [row_lo, row_hi) -> [rows, width, 3] bytes; when skipped, the input's
  // columns [left, left + width) of those rows.
  std::vector<uint8_t> mid;
  const uint8_t* m = nullptr;
  int64_t my = 0;  // row stride of the width pass's result
  if (horizontal) {
    const Taps ht = taps_for(in_w, x0, x1, out_width, left, left + width);
    mid.resize(static_cast<size_t>(rows * width * 3));
    for (int64_t y = 0; y < rows; ++y) {
      const uint8_t* row = src + (row_lo + y) * sy;
      uint8_t* to = &mid[static_cast<size_t>(y * width * 3)];
      // Bytes readable from `row`: its own, and the next row's first while there is one.
      const int64_t readable = in_w * 3 + (row_lo + y + 1 < in_h ? 1 : 0);
      const int64_t done = width_pass_vector(row, readable, ht, width, to);
      width_pass(row, ht, done, width, to);
    }
    m = mid.data(), my = width * 3;
  } else {
    m = src + row_lo * sy + left * 3, my = sy;
  }

  // Height pass, a whole output row at a time: each tap row's bytes times one weight,
  // summed in integers (so in any order), which the compiler turns into vector code.
  const int64_t row_bytes = width * 3;
  std::vector<int32_t> sums(static_cast<size_t>(row_bytes));
  for (int64_t o = 0; o < height; ++o) {
    uint8_t* to = dst + o * row_bytes;
    if (!vertical) {
      std::copy(m + o * my, m + o * my + row_bytes, to);
      continue;
    }
    const int32_t* k = &vt.weights[static_cast<size_t>(o * vt.size)];
    const int64_t first = vt.first[static_cast<size_t>(o)] - row_lo, n = vt.count[static_cast<size_t>(o)];
    std::fill(sums.begin(), sums.end(), half);
    for (int64_t y = 0; y < n; ++y) {
      const uint8_t* row = m + (first + y) * my;
      const int32_t weight = k[y];
      int32_t* acc = sums.data();
      for (int64_t i = 0; i < row_bytes; ++i) acc[i] += row[i] * weight;
    }
    for (int64_t i = 0; i < row_bytes; ++i) to[i] = clip8(sums[static_cast<size_t>(i)]);
  }
  return out;
}

}  // namespace featvis::image
