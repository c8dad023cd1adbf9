#include <featvis/render/param/color.h>
#include <featvis/util/error.h>

namespace featvis::render::param {
namespace {

// Lucid's colour mean, used as the clamp mode's origin in the decorrelated basis.
at::Tensor color_mean(const at::TensorOptions& options) {
  return at::tensor({0.48, 0.46, 0.41}, options.dtype(at::kDouble)).to(options.dtype()).view({1, 3, 1, 1});
}

at::Tensor clamp_origin(bool decorrelate, const at::TensorOptions& options) {
  return decorrelate ? color_mean(options) : at::full({1, 3, 1, 1}, 0.5, options);
}

// Channel mixing of an NCHW tensor: out[:, i] = sum_j m[i, j] * t[:, j].
at::Tensor mix_channels(const at::Tensor& t, const at::Tensor& m) {
  if (t.dim() != 4 || t.size(1) != 3) throw Error("colour transforms expect an [N,3,H,W] tensor");
  return at::einsum("ij,njhw->nihw", {m, t});
}

}  // namespace

std::string to_string(Squash squash) { return squash == Squash::kSigmoid ? "sigmoid" : "clamp"; }

Squash parse_squash(const std::string& text) {
  if (text == "sigmoid") return Squash::kSigmoid;
  if (text == "clamp") return Squash::kClamp;
  throw Error("unknown squash '" + text + "' (use sigmoid or clamp)");
}

at::Tensor color_correlation_sqrt(const at::TensorOptions& options) {
  const at::Tensor svd_sqrt =
      at::tensor({0.26, 0.09, 0.02, 0.27, 0.00, -0.05, 0.27, -0.09, 0.03}, at::TensorOptions().dtype(at::kDouble))
          .view({3, 3});
  const double max_norm = svd_sqrt.norm(2, {0}).max().item<double>();
  return (svd_sqrt / max_norm).to(options.dtype()).to(options.device());
}

at::Tensor decorrelate_color(const at::Tensor& t) { return mix_channels(t, color_correlation_sqrt(t.options())); }

at::Tensor correlate_color(const at::Tensor& rgb) {
  // Inverted in double on the CPU (tiny), then moved to the image's device and type.
  const at::Tensor inverse = at::linalg_inv(color_correlation_sqrt(at::kDouble));
  return mix_channels(rgb, inverse.to(rgb.options()));
}

at::Tensor to_valid_rgb(const at::Tensor& t, bool decorrelate, Squash squash) {
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
