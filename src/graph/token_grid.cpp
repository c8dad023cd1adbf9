// Token tensors of vision transformers read as patch grids: see token_grid.h.
#include <featvis/graph/graph.h>
#include <featvis/graph/token_grid.h>

#include <cmath>
#include <unordered_map>

namespace featvis::graph {

std::optional<TokenGrid> token_grid(at::IntArrayRef sizes, int64_t batch) {
  if (sizes.size() != 3 || sizes[1] == sizes[2] || (batch > 0 && sizes[0] != batch)) return std::nullopt;
  for (int64_t class_tokens : {1, 0}) {
    const int64_t patches = sizes[1] - class_tokens;
    const auto g = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(std::max<int64_t>(patches, 0)))));
    if (g >= 2 && g * g == patches) return TokenGrid{class_tokens, g, g};
  }
  return std::nullopt;
}

at::Tensor token_map(const at::Tensor& tokens, const TokenGrid& grid) {
  return tokens.slice(1, grid.class_tokens)
      .transpose(1, 2)
      .reshape({tokens.size(0), tokens.size(2), grid.height, grid.width});
}

std::unordered_set<std::string> channels_last_tensors(const Graph& graph) {
  const auto& nodes = graph.nodes();
  // Tensors computed from the input's values (not from weights or its shape alone).
  std::unordered_set<std::string> variable;
  for (const auto& in : graph.inputs()) variable.insert(in.name);
  for (const Node& n : nodes) {
    if (n.op_type == "Shape" || n.op_type == "Size") continue;
    for (const auto& in : n.inputs) {
      if (!variable.count(in)) continue;
      for (const auto& out : n.outputs)
        if (!out.empty()) variable.insert(out);
      break;
    }
  }
  static const std::unordered_set<std::string> unary = {
      "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Erf", "Clip", "Dropout", "Identity",
      "Cast", "Neg", "Abs", "Exp", "Sqrt", "Softplus", "Elu", "Gelu"};
  static const std::unordered_set<std::string> binary = {"Add", "Sub", "Mul", "Div", "Pow"};
  std::unordered_map<std::string, std::vector<std::string>> linked;
  auto link = [&](const std::string& a, const std::string& b) {
    if (a.empty() || b.empty() || !variable.count(a) || !variable.count(b)) return;
    linked[a].push_back(b);
    linked[b].push_back(a);
  };
  std::vector<std::string> seeds;
  auto last_axis_only = [](const std::vector<int64_t>& axes) { return axes.size() == 1 && axes[0] == -1; };
  std::unordered_map<std::string, const Node*> last_axis_mean;  // ReduceMean output -> node
  for (const Node& n : nodes) {
    if (n.outputs.empty() || n.inputs.empty()) continue;
    const std::string& out = n.outputs[0];
    if (unary.count(n.op_type)) link(n.inputs[0], out);
    if (binary.count(n.op_type))
      for (const auto& in : n.inputs) link(in, out);
    if (n.op_type == "MatMul" && n.inputs.size() == 2 && !variable.count(n.inputs[1])) link(n.inputs[0], out);
    if (n.op_type == "LayerNormalization" && n.attributes.get_int("axis", -1) == -1) {
      seeds.push_back(n.inputs[0]);
      seeds.push_back(out);
    }
    if (n.op_type == "ReduceMean" && n.attributes.get_int("keepdims", 1) != 0 &&
        last_axis_only(n.attributes.get_ints("axes")))
      last_axis_mean[out] = &n;
    if (n.op_type == "Sub" && n.inputs.size() == 2) {
      auto m = last_axis_mean.find(n.inputs[1]);
      if (m != last_axis_mean.end() && m->second->inputs[0] == n.inputs[0]) {
        seeds.push_back(n.inputs[0]);
        seeds.push_back(out);
      }
    }
  }
  std::unordered_set<std::string> found;
  while (!seeds.empty()) {
    const std::string t = seeds.back();
    seeds.pop_back();
    if (!variable.count(t) || !found.insert(t).second) continue;
    auto l = linked.find(t);
    if (l != linked.end()) seeds.insert(seeds.end(), l->second.begin(), l->second.end());
  }
  return found;
}

at::Tensor unit_map(const Graph& graph, const std::string& name, const at::Tensor& t) {
  if (t.dim() == 4 && graph.channels_last(name)) return t.permute({0, 3, 1, 2});
  if (const auto grid = token_grid(t.sizes())) return token_map(t, *grid);
  return t;
}

std::vector<int64_t> unit_map_shape(const Graph& graph, const std::string& name, const std::vector<int64_t>& sizes) {
  if (sizes.size() == 4 && graph.channels_last(name)) return {sizes[0], sizes[3], sizes[1], sizes[2]};
  if (const auto grid = token_grid(sizes, 1)) return {sizes[0], sizes[2], grid->height, grid->width};
  return sizes;
}

}  // namespace featvis::graph
