// Objectives that relate the items of a batch (Lucid's diversity, alignment and
// channel_interpolate). Each returns per-item values that sum to Lucid's batch value.
#include <featvis/objective/kinds.h>

#include "objective_util.h"
#include "text_form.h"

#include <cmath>

namespace featvis::objective {

Objective diversity(const std::string& layer) {
  return Objective("diversity(" + text::quote(layer) + ")", {layer}, [layer](const ObjectiveInput& in) {
    const at::Tensor map = detail::feature_map(in, layer);
    const int64_t n = map.size(0), c = map.size(1);
    const at::Tensor features = map.reshape({n, c, -1});
    const at::Tensor grams = at::bmm(features, features.transpose(1, 2)).reshape({n, -1});
    // tf.nn.l2_normalize: x / sqrt(max(sum x^2, 1e-10)).
    const at::Tensor unit = grams / grams.pow(2).sum(1, true).clamp_min(1e-10).sqrt();
    const at::Tensor similarity = at::mm(unit, unit.t());
    return -(similarity.sum(1) - similarity.diagonal()) / static_cast<double>(n);
  });
}

Objective alignment(const std::string& layer, double decay_ratio) {
  const std::string decay = decay_ratio == 2.0 ? "" : ", " + text::number(decay_ratio);
  return Objective("alignment(" + text::quote(layer) + decay + ")", {layer},
                   [layer, decay_ratio](const ObjectiveInput& in) {
                     const at::Tensor map = detail::feature_map(in, layer);
                     const int64_t n = map.size(0);
                     at::Tensor value = at::zeros({n}, map.options());
                     for (int64_t d = 1; d <= 4 && d < n; ++d) {
                       // Pairs (i, i + d): half of each pair's penalty to each of its items.
                       const at::Tensor diff = map.narrow(0, d, n - d) - map.narrow(0, 0, n - d);
                       const at::Tensor half = detail::mean_per_item(diff.pow(2)) / (2.0 * std::pow(decay_ratio, d));
                       value = value - at::constant_pad_nd(half, {0, d}) - at::constant_pad_nd(half, {d, 0});
                     }
                     return value;
                   });
}

Objective channel_interpolate(const std::string& layer1, int64_t c1, const std::string& layer2, int64_t c2) {
  return Objective("channel_interpolate(" + text::quote(layer1) + ":" + std::to_string(c1) + ", " +
                       text::quote(layer2) + ":" + std::to_string(c2) + ")",
                   {layer1, layer2}, [layer1, c1, layer2, c2](const ObjectiveInput& in) {
                     const at::Tensor plane1 = detail::channel_plane(in, layer1, c1);
                     const at::Tensor plane2 = detail::channel_plane(in, layer2, c2);
                     const int64_t n = plane1.size(0);
                     const at::Tensor w = n > 1 ? at::arange(n, plane1.options()) / static_cast<double>(n - 1)
                                                : at::zeros({n}, plane1.options());
                     return (1 - w) * detail::mean_per_item(plane1) + w * detail::mean_per_item(plane2);
                   })
      .reading_channels(layer1, {c1})
      .reading_channels(layer2, layer1 == layer2 ? std::set<int64_t>{c1, c2} : std::set<int64_t>{c2});
}

}  // namespace featvis::objective
