#pragma once
// Reading activations for objectives: lookup with a clear error, the [N,C,H,W] view of
// 2-D and 3-D layers, and the range checks every unit objective repeats.
#include <featvis/graph/graph.h>
#include <featvis/graph/token_grid.h>
#include <featvis/objective/objective.h>
#include <featvis/util/error.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace featvis::objective::detail {

// `layer` from the input, viewed as [N,C,H,W] ([N,C] -> [N,C,1,1], [N,C,L] -> [N,C,1,L],
// a transformer's [N,T,C] tokens -> its patch grid [N,C,h,w], a channels-last [N,H,W,C]
// map (Swin) -> permuted, graph/token_grid.h).
inline at::Tensor feature_map(const ObjectiveInput& input, const std::string& layer) {
  auto it = input.activations.find(layer);
  if (it == input.activations.end() || !it->second.defined()) {
    throw Error("objective needs layer '" + layer + "', which was not computed");
  }
  const at::Tensor& t = it->second;
  switch (t.dim()) {
    case 2: return t.reshape({t.size(0), t.size(1), 1, 1});
    case 3: {
      const auto grid = graph::token_grid(t.sizes());
      return grid ? graph::token_map(t, *grid) : t.unsqueeze(2);
    }
    case 4: return input.graph && input.graph->channels_last(layer) ? t.permute({0, 3, 1, 2}) : t;
    default:
      throw Error("layer '" + layer + "' has " + std::to_string(t.dim()) +
                  " dimensions; objectives read [N,C], [N,C,L] or [N,C,H,W] layers");
  }
}

inline void check_channel(const at::Tensor& map, const std::string& layer, int64_t c) {
  if (c < 0 || c >= map.size(1)) {
    throw Error("channel " + std::to_string(c) + " out of range: layer '" + layer + "' has " +
                std::to_string(map.size(1)) + " channels");
  }
}

// Channel c of `layer`'s feature_map, [N,H,W], checked against the whole layer's channels:
// where evaluate() computed the layer in part (ObjectiveInput::subsets), at c's place among
// the computed ones. Kinds that declare Objective::channels_read read through this.
inline at::Tensor channel_plane(const ObjectiveInput& input, const std::string& layer, int64_t c) {
  const at::Tensor map = feature_map(input, layer);
  const auto subset = input.subsets ? input.subsets->find(layer) : std::map<std::string, ChannelSubset>::const_iterator{};
  if (!input.subsets || subset == input.subsets->end()) {
    check_channel(map, layer, c);
    return map.select(1, c);
  }
  const std::vector<int64_t>& computed = subset->second.computed;
  if (c < 0 || c >= subset->second.channels) {
    throw Error("channel " + std::to_string(c) + " out of range: layer '" + layer + "' has " +
                std::to_string(subset->second.channels) + " channels");
  }
  const auto at = std::lower_bound(computed.begin(), computed.end(), c);
  if (at == computed.end() || *at != c || map.size(1) != static_cast<int64_t>(computed.size())) {
    throw Error("channel " + std::to_string(c) + " of layer '" + layer +
                "' was not computed: the objective did not declare it (Objective::channels_read)");
  }
  return map.select(1, at - computed.begin());
}

// Column x and row y of a neuron; nullopt = the centre (W/2, H/2).
inline std::pair<int64_t, int64_t> position(const at::Tensor& map, const std::string& layer,
                                            const std::optional<std::pair<int64_t, int64_t>>& xy) {
  const int64_t h = map.size(2), w = map.size(3);
  if (!xy) return {w / 2, h / 2};
  const auto [x, y] = *xy;
  if (x < 0 || x >= w || y < 0 || y >= h) {
    throw Error("position (" + std::to_string(x) + ", " + std::to_string(y) + ") out of range: layer '" +
                layer + "' is " + std::to_string(w) + "x" + std::to_string(h) + " (width x height)");
  }
  return {x, y};
}

// Mean over everything but the batch dimension: [N,...] -> [N].
inline at::Tensor mean_per_item(const at::Tensor& t) { return t.reshape({t.size(0), -1}).mean(1); }

inline const at::Tensor& image_of(const ObjectiveInput& input) {
  if (!input.image.defined() || input.image.dim() != 4) {
    throw Error("image penalties need the image as an [N,C,H,W] tensor");
  }
  return input.image;
}

}  // namespace featvis::objective::detail
