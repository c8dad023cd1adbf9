// Single units of a layer: a channel, a neuron, or all of it at once (DeepDream).
#include <featvis/objective/kinds.h>

#include "objective_util.h"
#include "text_form.h"

namespace featvis::objective {

Objective channel(const std::string& layer, int64_t c) {
  return Objective(text::quote(layer) + ":" + std::to_string(c), {layer},
                   [layer, c](const ObjectiveInput& in) { return detail::mean_per_item(detail::channel_plane(in, layer, c)); })
      .reading_channels(layer, {c});
}

Objective neuron(const std::string& layer, int64_t c, std::optional<std::pair<int64_t, int64_t>> xy) {
  const std::string where =
      xy ? std::to_string(xy->first) + "," + std::to_string(xy->second) : std::string("center");
  return Objective(text::quote(layer) + ":" + std::to_string(c) + "@" + where, {layer},
                   [layer, c, xy](const ObjectiveInput& in) {
                     const at::Tensor plane = detail::channel_plane(in, layer, c);
                     const auto [x, y] = detail::position(plane.unsqueeze(1), layer, xy);
                     return plane.select(1, y).select(1, x);
                   })
      .reading_channels(layer, {c});
}

Objective deepdream(const std::string& layer) {
  return Objective(text::quote(layer), {layer}, [layer](const ObjectiveInput& in) {
    return detail::mean_per_item(detail::feature_map(in, layer).pow(2));
  });
}

}  // namespace featvis::objective
