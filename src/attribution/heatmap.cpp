#include <featvis/attribution/heatmap.h>
#include <featvis/util/error.h>

#include <array>
#include <vector>

namespace featvis::attribution {
namespace {

// Piecewise-linear colour scale: t in [0,1] [...] -> [3, ...] through `stops` (RGB rows).
at::Tensor colour_scale(const at::Tensor& t, const std::vector<std::array<float, 3>>& stops) {
  const int64_t segments = static_cast<int64_t>(stops.size()) - 1;
  std::vector<float> flat;
  for (const auto& s : stops) flat.insert(flat.end(), s.begin(), s.end());
  const at::Tensor table = at::tensor(flat, t.options()).view({-1, 3});
  const at::Tensor pos = t.clamp(0, 1) * static_cast<double>(segments);
  const at::Tensor lower = pos.floor().clamp(0, segments - 1).to(at::kLong);
  const at::Tensor frac = (pos - lower.to(pos.scalar_type())).unsqueeze(-1);
  const at::Tensor rgb = table.index({lower}) * (1 - frac) + table.index({lower + 1}) * frac;
  return rgb.movedim(-1, 0).contiguous();
}

at::Tensor checked(const at::Tensor& map) {
  if (map.dim() != 2) throw Error("an attribution map must be [H,W], got " + c10::str(map.sizes()));
  return map.detach().to(at::kFloat);
}

}  // namespace

double clip_value(const at::Tensor& map_in, double clip_percentile) {
  if (!(clip_percentile > 0 && clip_percentile <= 100)) {
    throw Error("clip percentile must be in (0, 100], got " + std::to_string(clip_percentile));
  }
  const at::Tensor magnitude = checked(map_in).abs().flatten();
  const double at_percentile = at::quantile(magnitude, clip_percentile / 100).item<double>();
  return at_percentile > 0 ? at_percentile : magnitude.max().item<double>();
}

at::Tensor display_normalize(const at::Tensor& map_in, double clip_percentile) {
  const at::Tensor map = checked(map_in);
  const double clip = clip_value(map, clip_percentile);
  if (clip <= 0) return at::zeros_like(map);
  return (map / clip).clamp(-1, 1);
}

at::Tensor heat_colours(const at::Tensor& t, bool signed_scale) {
  if (signed_scale) {
    // -1 blue, 0 white, +1 red.
    return colour_scale(t / 2 + 0.5, {{0.02f, 0.19f, 0.58f}, {1.f, 1.f, 1.f}, {0.70f, 0.02f, 0.09f}});
  }
  return colour_scale(t, {{0.f, 0.f, 0.f}, {0.75f, 0.05f, 0.05f}, {1.f, 0.8f, 0.1f}, {1.f, 1.f, 1.f}});
}

at::Tensor heatmap(const at::Tensor& map_in, double clip_percentile) {
  const at::Tensor map = checked(map_in);
  return heat_colours(display_normalize(map, clip_percentile), map.min().item<double>() < 0);
}

}  // namespace featvis::attribution
