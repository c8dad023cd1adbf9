#include <featvis/image/resize_rgb8.h>
#include <featvis/util/check.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace featvis::image {
namespace {

// For each output index: the first input index and the normalized weights, computed with
// the types of ATen's _compute_indices_weights_aa (float, with its double intermediates).
struct Taps {
  std::vector<int64_t> first;
  std::vector<std::vector<float>> weights;
};

float triangle(float x) {
  x = std::abs(x);
  return x < 1.0f ? 1.0f - x : 0.0f;
}

Taps taps(int64_t input_size, int64_t output_size) {
  const float scale = static_cast<float>(input_size) / static_cast<float>(output_size);
  const float support = scale >= 1.0f ? static_cast<float>(1.0 * scale) : 1.0f;
  const float invscale = scale >= 1.0f ? static_cast<float>(1.0 / scale) : 1.0f;
  Taps t;
  for (int64_t i = 0; i < output_size; ++i) {
    const float center = static_cast<float>(scale * (i + 0.5));
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t size = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), input_size) - lo;
    std::vector<float> w(static_cast<size_t>(size));
    float total = 0.0f;
    for (int64_t j = 0; j < size; ++j) {
      w[j] = triangle(static_cast<float>((j + lo - center + 0.5) * invscale));
      total += w[j];
    }
    if (total != 0.0f)
      for (float& v : w) v /= total;
    t.first.push_back(lo);
    t.weights.push_back(std::move(w));
  }
  return t;
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
  const Taps across = taps(w, width), down = taps(h, height);  // once for the whole batch
  at::Tensor result = at::empty({n, height, width, 3}, at::kByte);
  std::vector<float> rows(static_cast<size_t>(height * in_row));
  for (int64_t item = 0; item < n; ++item) {
    const uint8_t* src = in.data_ptr<uint8_t>() + item * h * in_row;
    uint8_t* dst = result.data_ptr<uint8_t>() + item * height * row;
    // Height first, whole rows at a time (contiguous, so vectorized): the costlier
    // per-pixel width pass then runs on `height` rows instead of h.
    for (int64_t y = 0; y < height; ++y) {
      const std::vector<float>& wt = down.weights[y];
      const uint8_t* first = src + down.first[y] * in_row;
      float* acc = rows.data() + y * in_row;
      for (int64_t i = 0; i < in_row; ++i) acc[i] = static_cast<float>(first[i]) * wt[0];
      for (size_t j = 1; j < wt.size(); ++j) {
        const uint8_t* r = first + j * in_row;
        for (int64_t i = 0; i < in_row; ++i) acc[i] += static_cast<float>(r[i]) * wt[j];
      }
    }
    // Then width, per pixel, rounded to levels.
    for (int64_t y = 0; y < height; ++y) {
      const float* line = rows.data() + y * in_row;
      for (int64_t x = 0; x < width; ++x) {
        const std::vector<float>& wt = across.weights[x];
        const float* p = line + across.first[x] * 3;
        for (int c = 0; c < 3; ++c) {
          float t = p[c] * wt[0];
          for (size_t j = 1; j < wt.size(); ++j) t += p[j * 3 + c] * wt[j];
          dst[y * row + x * 3 + c] = static_cast<uint8_t>(std::clamp(std::nearbyint(t), 0.0f, 255.0f));
        }
      }
    }
  }
  return batch ? result : result.squeeze(0);
}

}  // namespace featvis::image
