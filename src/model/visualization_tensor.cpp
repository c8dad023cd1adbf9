#include <featvis/graph/rectifier.h>
#include <featvis/model/visualization_tensor.h>

#include <algorithm>
#include <sstream>

namespace featvis::model {

std::string derive_visualization_tensor(const graph::Graph& graph, const std::string& layer) {
  const std::optional<graph::Rectifier> r = graph::rectifier_producing(graph, layer);
  return r ? r->input : std::string();
}

std::string capped_layer_note(const Model& model, const std::string& layer) {
  const auto& layers = model.card.layers;
  const bool on_card = std::any_of(layers.begin(), layers.end(), [&](const CardLayer& l) { return l.name == layer; });
  if (!on_card) return "";
  const std::optional<graph::Rectifier> r = graph::rectifier_producing(model.graph, layer);
  if (!r || !r->capped) return "";
  std::ostringstream cap;
  if (r->cap) cap << " at " << *r->cap;
  std::string instead = model.card.visualization_tensor(layer);
  if (instead == layer) instead = r->input;
  return "layer '" + layer + "' is capped (Clip" + cap.str() + "): its values stop there, so a render of it saturates; render its pre-activation '" +
         instead + "' instead";
}

}  // namespace featvis::model
