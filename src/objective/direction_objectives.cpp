// Directions in channel space (Lucid's direction / direction_neuron, dot and cosine forms).
#include <featvis/objective/kinds.h>

#include "objective_util.h"
#include "text_form.h"

namespace featvis::objective {
namespace {

// v as [1,C,1,1] on the activations' device and dtype, checked against the channels.
at::Tensor channel_vector(const at::Tensor& vector, const at::Tensor& map, const std::string& layer) {
  if (vector.numel() != map.size(1)) {
    throw Error("direction has " + std::to_string(vector.numel()) + " values but layer '" + layer + "' has " +
                std::to_string(map.size(1)) + " channels");
  }
  return vector.reshape({1, -1, 1, 1}).to(map.options());
}

// Per position [N,H,W]: <act, v>, or <act, v/|v|> * max(cos, 0.1).
at::Tensor direction_score(const at::Tensor& map, const at::Tensor& v, bool cosine) {
  const at::Tensor dot = (map * v).sum(1);
  if (!cosine) return dot;
  constexpr double kEps = 1e-4;  // Lucid's, keeps cos finite for all-zero activations
  // The tiny addend keeps sqrt's gradient finite where a position is all zeros.
  const at::Tensor act_norm = (map.pow(2).sum(1) + 1e-12).sqrt();
  const at::Tensor v_norm = v.pow(2).sum().sqrt();
  const at::Tensor cos = dot / (act_norm + kEps) / (v_norm + kEps);
  return dot / (v_norm + kEps) * cos.clamp_min(0.1);
}

std::string vector_text(const at::Tensor& vector) { return "vector[" + std::to_string(vector.numel()) + "]"; }

}  // namespace

Objective direction(const std::string& layer, const at::Tensor& vector, bool cosine) {
  const at::Tensor v = vector.detach().reshape({-1});
  return Objective(std::string(cosine ? "direction(" : "dot(") + text::quote(layer) + ", " + vector_text(v) + ")",
                   {layer}, [layer, v, cosine](const ObjectiveInput& in) {
                     const at::Tensor map = detail::feature_map(in, layer);
                     return detail::mean_per_item(direction_score(map, channel_vector(v, map, layer), cosine));
                   });
}

Objective direction_neuron(const std::string& layer, const at::Tensor& vector,
                           std::optional<std::pair<int64_t, int64_t>> xy, bool cosine) {
  const at::Tensor v = vector.detach().reshape({-1});
  const std::string where = xy ? ", " + std::to_string(xy->first) + ", " + std::to_string(xy->second) : "";
  return Objective(std::string(cosine ? "direction_neuron(" : "dot_neuron(") + text::quote(layer) + ", " +
                       vector_text(v) + where + ")",
                   {layer}, [layer, v, xy, cosine](const ObjectiveInput& in) {
                     const at::Tensor map = detail::feature_map(in, layer);
                     const auto [x, y] = detail::position(map, layer, xy);
                     const at::Tensor at_xy = map.narrow(2, y, 1).narrow(3, x, 1);
                     return direction_score(at_xy, channel_vector(v, map, layer), cosine).reshape({-1});
                   });
}

}  // namespace featvis::objective
