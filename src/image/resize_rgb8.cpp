#include <featvis/image/resize_rgb8.h>
#include <featvis/util/check.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace featvis::image {
namespace {

// For each output index: the first input index and its weights, computed with the types of
// ATen's _compute_indices_weights_aa (float, with its double intermediates). Every output
// gets the same number of taps (the most any needs), zero-weighted where it needs fewer and
// its first tap moved back at the far edge, so the loops have a fixed length.
struct Axis {
  int64_t taps = 0;
  std::vector<int64_t> first;
  std::vector<float> weights;  // output-major, `taps` per output
};

float triangle(float x) {
  x = std::abs(x);
  return x < 1.0f ? 1.0f - x : 0.0f;
}

Axis axis(int64_t input_size, int64_t output_size) {
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
  return a;
}

// One pixel's red, green and blue (and a fourth lane that is ignored) as one SIMD value:
// GCC/Clang vector extensions, so any target gets its own instructions.
using Float4 = float __attribute__((vector_size(16)));
using Int4 = int32_t __attribute__((vector_size(16)));

// One output row of the width pass: per pixel, its taps' 4-lane loads times their weights,
// then clamped to [0, 255] and rounded half to even (adding and subtracting 1.5 * 2^23
// rounds in the current mode, as nearbyint does) in the same vector. `line` needs one
// float of padding past its last pixel, read by the last pixel's fourth lane.
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

}  // namespace

at::Tensor resize_rgb8_aa(const at::Tensor& images, int64_t height, int64_t width) {
  const bool batch = images.dim() == 4;
  FEATVIS_CHECK((images.dim() == 3 || batch) && images.size(-1) == 3 && images.scalar_type() == at::kByte &&
                    images.device().is_cpu(),
                "resize_rgb8_aa expects [H, W, 3] or [N, H, W, 3] uint8 images on the CPU");
  FEATVIS_CHECK(height >= 1 && width >= 1, "cannot resize to ", width, "x", height);
  const at::Tensor in = batch ? images.contiguous() : images.unsqueeze(0).contiguous();
  const int64_t n = in.size(0), h = in.size(1), w = in.size(2), in_row = w * 3, row = width * 3;
  const Axis across = axis(w, width), down = axis(h, height);  // once for the whole batch
  at::Tensor result = at::empty({n, height, width, 3}, at::kByte);
  std::vector<float> rows(static_cast<size_t>(height * in_row + 1), 0.0f);  // + the last pixel's fourth lane
  for (int64_t item = 0; item < n; ++item) {
    const uint8_t* src = in.data_ptr<uint8_t>() + item * h * in_row;
    uint8_t* dst = result.data_ptr<uint8_t>() + item * height * row;
    // Height first, whole rows at a time (contiguous, so vectorized): the costlier
    // per-pixel width pass then runs on `height` rows instead of h.
    for (int64_t y = 0; y < height; ++y) {
      const float* wt = down.weights.data() + y * down.taps;
      const uint8_t* first = src + down.first[y] * in_row;
      float* acc = rows.data() + y * in_row;
      for (int64_t i = 0; i < in_row; ++i) acc[i] = static_cast<float>(first[i]) * wt[0];
      for (int64_t j = 1; j < down.taps; ++j) {
        const uint8_t* r = first + j * in_row;
        const float wj = wt[j];
        for (int64_t i = 0; i < in_row; ++i) acc[i] += static_cast<float>(r[i]) * wj;
      }
    }
    for (int64_t y = 0; y < height; ++y) width_row(rows.data() + y * in_row, across, width, dst + y * row);
  }
  return batch ? result : result.squeeze(0);
}

}  // namespace featvis::image
