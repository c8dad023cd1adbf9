#include <featvis/inference/layer_info.h>

namespace featvis {

std::vector<LayerInfo> describe_layers(const Model& model) {
  const Graph& graph = model.graph;
  std::vector<std::string> names;
  for (const auto& node : graph.nodes())
    for (const auto& out : node.outputs)
      if (!out.empty()) names.push_back(out);
  c10::InferenceMode guard;
  const auto& pre = model.card.preprocessing;
  at::Tensor probe = at::zeros({1, 3, pre.height, pre.width}, at::TensorOptions().device(graph.device()));
  const TensorMap values = graph.run(probe, names);
  std::vector<LayerInfo> layers;
  for (const auto& name : names) {
    const at::Tensor& t = values.at(name);
    if (!at::isFloatingType(t.scalar_type()) || t.dim() < 2) continue;  // shape arithmetic
    LayerInfo info;
    info.name = name;
    info.op = graph.producer(name)->op_type;
    info.shape.assign(t.sizes().begin(), t.sizes().end());
    info.units = t.size(1);
    layers.push_back(std::move(info));
  }
  return layers;
}

}  // namespace featvis
