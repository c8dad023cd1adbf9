#include <featvis/graph/rectifier.h>

#include <limits>

namespace featvis::graph {
namespace {

// The value of a scalar tensor fixed in the graph: an initializer or a Constant node.
std::optional<double> constant_value(const Graph& graph, const std::string& tensor) {
  at::Tensor value;
  if (graph.has_weight(tensor)) {
    value = graph.weight(tensor);
  } else if (const Node* node = graph.producer(tensor);
             node != nullptr && node->op_type == "Constant" && node->attributes.has("value")) {
    value = node->attributes.get_tensor("value");
  }
  if (!value.defined() || value.numel() != 1) return std::nullopt;
  return value.to(at::kCPU).item().toDouble();
}

}  // namespace

std::optional<Rectifier> rectifier_producing(const Graph& graph, const std::string& tensor) {
  const Node* node = graph.producer(tensor);
  if (node == nullptr || node->inputs.empty() || node->inputs[0].empty()) return std::nullopt;
  if (node->op_type == "Relu") return Rectifier{"Relu", node->inputs[0], false, std::nullopt};
  if (node->op_type != "Clip") return std::nullopt;
  Rectifier r{"Clip", node->inputs[0], false, std::nullopt};
  if (node->opset < 11) {  // bounds were attributes before opset 11
    r.capped = node->attributes.has("max");
    if (r.capped) r.cap = node->attributes.get_float("max", std::numeric_limits<float>::max());
  } else if (node->inputs.size() > 2 && !node->inputs[2].empty()) {
    r.capped = true;
    r.cap = constant_value(graph, node->inputs[2]);
  }
  return r;
}

}  // namespace featvis::graph
