// Photo -> network input, following the model card. The resize is antialiased
// bilinear on 8-bit values, like PIL's, because that is how the published accuracies
// were measured; a plain bilinear resize loses about a point of top-1.
#include <featvis/image/image.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <cmath>

namespace featvis::image {
namespace {

// [H,W,3] uint8 -> [1,3,h,w] float, antialiased bilinear, rounded back to 8-bit levels.
// ATen's own kernel, not image/resize_rgb8.h's loops: those agree with it only to a level at
// rounding ties, and that moved a published accuracy (tests/accuracy) by an image.
at::Tensor resize_rgb8(const at::Tensor& hwc, int64_t height, int64_t width) {
  at::Tensor x = hwc.permute({2, 0, 1}).unsqueeze(0).to(at::kFloat);
  if (x.size(2) == height && x.size(3) == width) return x;
  at::Tensor y = at::_upsample_bilinear2d_aa(x, {height, width}, /*align_corners=*/false);
  return y.round().clamp(0, 255);
}

// [1,3,h,w] float levels (any strides: a crop) -> [3,h,w] (level - mean) / std in one pass:
// the same float operations, so the same bits, as subtracting and dividing whole tensors,
// without their temporaries.
at::Tensor normalized_chw(const at::Tensor& levels, const model::Preprocessing& pre) {
  const int64_t h = levels.size(2), w = levels.size(3);
  at::Tensor out = at::empty({3, h, w}, at::kFloat);
  const float* src = levels.data_ptr<float>();
  const int64_t sc = levels.stride(1), sy = levels.stride(2), sx = levels.stride(3);
  float* dst = out.data_ptr<float>();
  for (int c = 0; c < 3; ++c) {
    const float mean = pre.mean[c], std = pre.std[c];
    float* to = dst + (pre.bgr ? 2 - c : c) * h * w;
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) to[y * w + x] = (src[c * sc + y * sy + x * sx] - mean) / std;
  }
  return out;
}

}  // namespace

at::Tensor preprocess_image(const at::Tensor& rgb8, const model::Preprocessing& pre) {
  if (rgb8.dim() != 3 || rgb8.size(2) != 3 || rgb8.scalar_type() != at::kByte) {
    throw Error("preprocess_image expects an [H,W,3] uint8 photo");
  }
  const int64_t h = rgb8.size(0), w = rgb8.size(1);
  at::Tensor x;  // [1, 3, h, w] levels at the card's size
  switch (pre.crop) {
    case model::Preprocessing::Crop::kResizeCrop: {
      // torchvision Resize(int) + CenterCrop: shorter side -> resize, then centre crop.
      const int64_t nh = h <= w ? pre.resize : static_cast<int64_t>(pre.resize * h / static_cast<double>(w));
      const int64_t nw = w <= h ? pre.resize : static_cast<int64_t>(pre.resize * w / static_cast<double>(h));
      x = resize_rgb8(rgb8, std::max<int64_t>(nh, pre.height), std::max<int64_t>(nw, pre.width));
      const int64_t top = static_cast<int64_t>(std::lround((x.size(2) - pre.height) / 2.0));
      const int64_t left = static_cast<int64_t>(std::lround((x.size(3) - pre.width) / 2.0));
      x = x.slice(2, top, top + pre.height).slice(3, left, left + pre.width);
      break;
    }
    case model::Preprocessing::Crop::kCentralFraction: {
      // TF-slim eval: the centred square of central_fraction x shorter side, resized.
      const int64_t side = std::max<int64_t>(1, static_cast<int64_t>(std::min(h, w) * pre.central_fraction));
      const int64_t top = (h - side) / 2, left = (w - side) / 2;
      x = resize_rgb8(rgb8.slice(0, top, top + side).slice(1, left, left + side), pre.height, pre.width);
      break;
    }
    case model::Preprocessing::Crop::kStretch:
      x = resize_rgb8(rgb8, pre.height, pre.width);
      break;
  }
  return normalized_chw(x, pre);
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
