#include <featvis/graph/token_grid.h>
#include <featvis/inference/layer_info.h>

namespace featvis::inference {

std::vector<LayerInfo> describe_layers(const model::Model& model) {
  const graph::Graph& graph = model.graph;
  std::vector<std::string> names;
  for (const auto& node : graph.nodes())
    for (const auto& out : node.outputs)
      if (!out.empty()) names.push_back(out);
  const auto shapes = layer_shapes(model, names);
  std::vector<LayerInfo> layers;
  for (const auto& name : names) {
    const LayerShape& s = shapes.at(name);
    if (!at::isFloatingType(s.dtype) || s.sizes.size() < 2) continue;  // shape arithmetic
    LayerInfo info;
    info.name = name;
    info.op = graph.producer(name)->op_type;
    info.shape = s.sizes;
    // A transformer's [N,T,C] tokens: its units are the C channels (graph/token_grid.h).
    info.units = graph::token_grid(s.sizes) ? s.sizes[2] : s.sizes[1];
    layers.push_back(std::move(info));
  }
  return layers;
}

std::unordered_map<std::string, LayerShape> layer_shapes(const model::Model& model, const std::vector<std::string>& names) {
  c10::InferenceMode guard;
  const auto& pre = model.card.preprocessing;
  const at::Tensor zeros =
      at::zeros({1, 3, pre.height, pre.width}, at::TensorOptions().device(model.graph.device()));
  const graph::TensorMap values = model.graph.run(zeros, names);
  std::unordered_map<std::string, LayerShape> shapes;
  for (const auto& name : names) {
    const at::Tensor& t = values.at(name);
    shapes[name] = LayerShape{t.sizes().vec(), t.scalar_type()};
  }
  return shapes;
}

}  // namespace featvis::inference
