#include <featvis/attribution/heatmap.h>
#include <featvis/util/error.h>

namespace featvis::attribution {
namespace {

// Piecewise-linear colour scale: t in [0,1] [H,W] -> [3,H,W] through `stops` (RGB rows).
at::Tensor colour_scale(const at::Tensor& t, const std::vector<std::array<float, 3>>& stops) {
  const int64_t segments = static_cast<int64_t>(stops.size()) - 1;
  std::vector<float> flat;
  for (const auto& s : stops) flat.insert(flat.end(), s.begin(), s.end());
  const at::Tensor table = at::tensor(flat, t.options()).view({-1, 3});
  const at::Tensor pos = t.clamp(0, 1) * static_cast<double>(segments);
  const at::Tensor lower = pos.floor().clamp(0, segments - 1).to(at::kLong);
  const at::Tensor frac = (pos - lower.to(pos.scalar_type())).unsqueeze(-1);
  const at::Tensor rgb = table.index({lower}) * (1 - frac) + table.index({lower + 1}) * frac;
  return rgb.permute({2, 0, 1}).contiguous();
}

at::Tensor checked(const at::Tensor& map) {
  if (map.dim() != 2) throw Error("an attribution map must be [H,W], got " + c10::str(map.sizes()));
  return map.detach().to(at::kFloat);
}

}  // namespace

at::Tensor heatmap(const at::Tensor& map_in) {
  const at::Tensor map = checked(map_in);
  const double peak = std::max(map.abs().max().item<double>(), 1e-30);
  if (map.min().item<double>() < 0) {
    // Diverging: -peak blue, 0 white, +peak red.
    return colour_scale(map / (2 * peak) + 0.5, {{0.02f, 0.19f, 0.58f}, {1.f, 1.f, 1.f}, {0.70f, 0.02f, 0.09f}});
  }
  return colour_scale(map / peak, {{0.f, 0.f, 0.f}, {0.75f, 0.05f, 0.05f}, {1.f, 0.8f, 0.1f}, {1.f, 1.f, 1.f}});
}

at::Tensor overlay(const at::Tensor& image, const at::Tensor& map_in) {
  const at::Tensor map = checked(map_in);
  if (image.dim() != 3 || image.size(1) != map.size(0) || image.size(2) != map.size(1)) {
    throw Error("overlay: image " + c10::str(image.sizes()) + " does not match map " + c10::str(map.sizes()));
  }
  const double peak = std::max(map.abs().max().item<double>(), 1e-30);
  const at::Tensor alpha = (map.abs() / peak).unsqueeze(0) * 0.8;
  const at::Tensor photo = image.detach().to(map.device(), at::kFloat);
  return photo * (1 - alpha) + heatmap(map) * alpha;
}

}  // namespace featvis::attribution
