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
    // A transformer's [1,T,C] tokens and a channels-last [1,H,W,C] map (Swin): the units
    // are the C channels (graph/token_grid.h).
    info.units = graph::unit_map_shape(graph, name, s.sizes)[1];
    layers.push_back(std::move(info));
  }
  // Transformer roles: the stream's width is the most common token width.
  std::unordered_map<int64_t, int> widths;
  std::unordered_map<std::string, bool> is_tokens;
  for (const LayerInfo& l : layers)
    if (graph::token_grid(l.shape, 1)) ++widths[l.shape[2]], is_tokens[l.name] = true;
  int64_t stream = 0;
  for (const auto& [width, count] : widths)
    if (stream == 0 || count > widths[stream]) stream = width;
  for (LayerInfo& l : layers) {
    if (const auto grid = graph::token_grid(l.shape, 1)) {
      const std::string layout = (grid->class_tokens ? "1+" : "") + std::to_string(grid->height) + "x" +
                                 std::to_string(grid->width);
      l.role = (l.shape[2] > stream ? "MLP hidden " : "tokens ") + layout;
    } else if (l.shape.size() == 2 && l.op == "Gather" && is_tokens.count(graph.producer(l.name)->inputs[0])) {
      l.role = "class token";
    } else if (l.shape.size() == 4 && graph.channels_last(l.name)) {
      l.role = "channels last " + std::to_string(l.shape[1]) + "x" + std::to_string(l.shape[2]);
    }
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
