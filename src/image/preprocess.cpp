// Photo -> network input, following the model card. The resize is Pillow's bilinear
// (image/pil_resize.h), because that is how the published accuracies were measured; a
// plain bilinear resize loses about a point of top-1.
#include <featvis/image/image.h>
#include <featvis/image/pil_resize.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <cmath>

namespace featvis::image {
namespace {

// [h, w, 3] uint8 levels -> [3, h, w] (level - mean) / std, in one pass.
at::Tensor normalized_chw(const at::Tensor& levels, const model::Preprocessing& pre) {
  const int64_t h = levels.size(0), w = levels.size(1);
  at::Tensor out = at::empty({3, h, w}, at::kFloat);
  const uint8_t* src = levels.data_ptr<uint8_t>();
  float* dst = out.data_ptr<float>();
  const int64_t plane = h * w;
  float* to0 = dst + (pre.bgr ? 2 : 0) * plane;
  float* to1 = dst + plane;
  float* to2 = dst + (pre.bgr ? 0 : 2) * plane;
  const float m0 = pre.mean[0], m1 = pre.mean[1], m2 = pre.mean[2];
  const float s0 = pre.std[0], s1 = pre.std[1], s2 = pre.std[2];
  for (int64_t i = 0; i < plane; ++i) {
    to0[i] = (static_cast<float>(src[3 * i]) - m0) / s0;
    to1[i] = (static_cast<float>(src[3 * i + 1]) - m1) / s1;
    to2[i] = (static_cast<float>(src[3 * i + 2]) - m2) / s2;
  }
  return out;
}

// d / 2 rounded half to even, as Python's round(d / 2) (torchvision's centre crop).
int64_t half_rounded_to_even(int64_t d) {
  const int64_t q = d / 2;
  return (d % 2 != 0 && q % 2 != 0) ? q + 1 : q;
}

}  // namespace

at::Tensor preprocess_image(const at::Tensor& rgb8, const model::Preprocessing& pre) {
  if (rgb8.dim() != 3 || rgb8.size(2) != 3 || rgb8.scalar_type() != at::kByte) {
    throw Error("preprocess_image expects an [H,W,3] uint8 photo");
  }
  const int64_t h = rgb8.size(0), w = rgb8.size(1);
  at::Tensor levels;  // [H, W, 3] at the card's size
  switch (pre.crop) {
    case model::Preprocessing::Crop::kResizeCrop: {
      // torchvision's Resize(int) + CenterCrop on a PIL image: the shorter side to
      // pre.resize (the longer one truncated), then the centre, its offset rounded as
      // Python's round() does, half to even.
      const int64_t nh = std::max<int64_t>(
          h <= w ? pre.resize : static_cast<int64_t>(pre.resize * h / static_cast<double>(w)), pre.height);
      const int64_t nw = std::max<int64_t>(
          w <= h ? pre.resize : static_cast<int64_t>(pre.resize * w / static_cast<double>(h)), pre.width);
      PilResizeOptions options;
      options.crop_top = half_rounded_to_even(nh - pre.height);
      options.crop_left = half_rounded_to_even(nw - pre.width);
      options.crop_height = pre.height;
      options.crop_width = pre.width;
      levels = pil_resize(rgb8, nh, nw, options);
      break;
    }
    case model::Preprocessing::Crop::kCentralFraction: {
      // TF-slim eval: the centred square of central_fraction x the shorter side, resized;
      // as Pillow's box, in floats, not cut to whole pixels first.
      const double side = static_cast<double>(std::min(h, w)) * pre.central_fraction;
      const double top = (static_cast<double>(h) - side) / 2, left = (static_cast<double>(w) - side) / 2;
      PilResizeOptions options;
      options.box = {static_cast<float>(left), static_cast<float>(top), static_cast<float>(left + side),
                     static_cast<float>(top + side)};
      levels = pil_resize(rgb8, pre.height, pre.width, options);
      break;
    }
    case model::Preprocessing::Crop::kStretch:
      levels = pil_resize(rgb8, pre.height, pre.width);
      break;
  }
  return normalized_chw(levels, pre);
}

at::Tensor load_network_input(const std::string& path, const model::Preprocessing& pre) {
  return preprocess_image(load_image_rgb8(path), pre);
}

at::Tensor load_image01(const std::string& path, const model::Preprocessing& card, int64_t height, int64_t width) {
  return preprocess_image01(load_image_rgb8(path), card, height, width);
}

at::Tensor preprocess_image01(const at::Tensor& rgb8, const model::Preprocessing& card, int64_t height, int64_t width) {
  model::Preprocessing pre = card;
  if (height > 0 && width > 0) {
    pre.resize = static_cast<int>(std::lround(card.resize * static_cast<double>(width) / card.width));
    pre.width = static_cast<int>(width);
    pre.height = static_cast<int>(height);
  }
  pre.mean = {0.f, 0.f, 0.f};
  pre.std = {255.f, 255.f, 255.f};
  pre.bgr = false;
  return preprocess_image(rgb8, pre);
}

}  // namespace featvis::image
