#include <featvis/render/param/color.h>
#include <featvis/util/error.h>

#include "channel_mix.h"

#include <algorithm>
#include <cmath>

namespace featvis::render::param {
namespace {

// Lucid's colour mean, used as the clamp mode's origin in the decorrelated basis.
at::Tensor color_mean(const at::TensorOptions& options) {
  return at::tensor({0.48, 0.46, 0.41}, options.dtype(at::kDouble)).to(options.dtype()).view({1, 3, 1, 1});
}

at::Tensor clamp_origin(bool decorrelate, const at::TensorOptions& options) {
  return decorrelate ? color_mean(options) : at::full({1, 3, 1, 1}, 0.5, options);
}

// Lucid's color_correlation_svd_sqrt divided by its largest column norm, in double, made
// once: the render step mixes by it every time.
const detail::Matrix3& correlation_sqrt() {
  static const detail::Matrix3 m = [] {
    detail::Matrix3 svd_sqrt{0.26, 0.09, 0.02, 0.27, 0.00, -0.05, 0.27, -0.09, 0.03};
    double max_norm = 0;
    for (int j = 0; j < 3; ++j) {
      const double a = svd_sqrt[j], b = svd_sqrt[3 + j], c = svd_sqrt[6 + j];
      max_norm = std::max(max_norm, std::sqrt(a * a + b * b + c * c));
    }
    for (double& v : svd_sqrt) v /= max_norm;
    return svd_sqrt;
  }();
  return m;
}

at::Tensor as_tensor(const detail::Matrix3& m) {
  return at::tensor(std::vector<double>(m.begin(), m.end()), at::TensorOptions().dtype(at::kDouble)).view({3, 3});
}

}  // namespace

std::string to_string(Squash squash) { return squash == Squash::kSigmoid ? "sigmoid" : "clamp"; }

Squash parse_squash(const std::string& text) {
  if (text == "sigmoid") return Squash::kSigmoid;
  if (text == "clamp") return Squash::kClamp;
  throw Error("unknown squash '" + text + "' (use sigmoid or clamp)");
}

at::Tensor color_correlation_sqrt(const at::TensorOptions& options) {
  return as_tensor(correlation_sqrt()).to(options.dtype()).to(options.device());
}

at::Tensor decorrelate_color(const at::Tensor& t) { return detail::mix_channels(t, correlation_sqrt()); }

at::Tensor correlate_color(const at::Tensor& rgb) {
  // Inverted in double on the CPU (tiny).
  const at::Tensor inverse = at::linalg_inv(as_tensor(correlation_sqrt())).contiguous();
  detail::Matrix3 m;
  std::copy(inverse.data_ptr<double>(), inverse.data_ptr<double>() + 9, m.begin());
  return detail::mix_channels(rgb, m);
}

at::Tensor to_valid_rgb(const at::Tensor& t, bool decorrelate, Squash squash) {
  if (decorrelate && squash == Squash::kSigmoid) return detail::mix_channels_sigmoid(t, correlation_sqrt());
  at::Tensor x = decorrelate ? decorrelate_color(t) : t;
  if (squash == Squash::kSigmoid) return at::sigmoid(x);
  x = x + clamp_origin(decorrelate, x.options());
  // Straight-through: clipped pixels keep a gradient and can come back into range;
  // (x - x.detach()) is exactly 0, so the value is exactly the clamped one.
  return x.clamp(0.0, 1.0).detach() + (x - x.detach());
}

at::Tensor from_valid_rgb(const at::Tensor& rgb, bool decorrelate, Squash squash) {
  constexpr double kEps = 0.25 / 255.0;
  at::Tensor x = rgb.clamp(kEps, 1.0 - kEps);
  x = squash == Squash::kSigmoid ? at::logit(x) : x - clamp_origin(decorrelate, x.options());
  return decorrelate ? correlate_color(x) : x;
}

}  // namespace featvis::render::param
