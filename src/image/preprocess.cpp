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
at::Tensor resize_rgb8(const at::Tensor& hwc, int64_t height, int64_t width) {
  at::Tensor x = hwc.permute({2, 0, 1}).unsqueeze(0).to(at::kFloat);
  if (x.size(2) == height && x.size(3) == width) return x;
  at::Tensor y = at::_upsample_bilinear2d_aa(x, {height, width}, /*align_corners=*/false);
  return y.round().clamp(0, 255);
}

at::Tensor crop(const at::Tensor& nchw, int64_t top, int64_t left, int64_t h, int64_t w) {
  return nchw.slice(2, top, top + h).slice(3, left, left + w);
}

}  // namespace

at::Tensor preprocess_image(const at::Tensor& rgb8, const model::Preprocessing& pre) {
  if (rgb8.dim() != 3 || rgb8.size(2) != 3 || rgb8.scalar_type() != at::kByte) {
    throw Error("preprocess_image expects an [H,W,3] uint8 photo");
  }
  const int64_t h = rgb8.size(0), w = rgb8.size(1);
  at::Tensor x;
  switch (pre.crop) {
    case model::Preprocessing::Crop::kResizeCrop: {
      // torchvision Resize(int) + CenterCrop: shorter side -> resize, then centre crop.
      const int64_t nh = h <= w ? pre.resize : static_cast<int64_t>(pre.resize * h / static_cast<double>(w));
      const int64_t nw = w <= h ? pre.resize : static_cast<int64_t>(pre.resize * w / static_cast<double>(h));
      x = resize_rgb8(rgb8, std::max<int64_t>(nh, pre.height), std::max<int64_t>(nw, pre.width));
      const int64_t top = static_cast<int64_t>(std::lround((x.size(2) - pre.height) / 2.0));
      const int64_t left = static_cast<int64_t>(std::lround((x.size(3) - pre.width) / 2.0));
      x = crop(x, top, left, pre.height, pre.width);
      break;
    }
    case model::Preprocessing::Crop::kCentralFraction: {
      // TF-slim eval: the centred square of central_fraction x shorter side, resized.
      const int64_t side = std::max<int64_t>(1, static_cast<int64_t>(std::min(h, w) * pre.central_fraction));
      const int64_t top = (h - side) / 2, left = (w - side) / 2;
      at::Tensor square = rgb8.slice(0, top, top + side).slice(1, left, left + side);
      x = resize_rgb8(square, pre.height, pre.width);
      break;
    }
    case model::Preprocessing::Crop::kStretch:
      x = resize_rgb8(rgb8, pre.height, pre.width);
      break;
  }
  at::Tensor mean = at::tensor({pre.mean[0], pre.mean[1], pre.mean[2]}).view({1, 3, 1, 1});
  at::Tensor std = at::tensor({pre.std[0], pre.std[1], pre.std[2]}).view({1, 3, 1, 1});
  x = (x - mean) / std;
  if (pre.bgr) x = x.flip({1});
  return x.squeeze(0).contiguous();
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
