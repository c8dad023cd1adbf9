#include <featvis/graph/layer_name.h>
#include <featvis/util/error.h>

#include <algorithm>

namespace featvis::graph {

std::string resolve_layer(const Graph& graph, const std::string& name) {
  if (name.empty() || graph.has_tensor(name)) {
    graph.require_tensor(name);
    return name;
  }
  const std::string suffix = name.front() == '/' ? name : "/" + name;
  std::vector<std::string> candidates;
  for (const Node& node : graph.nodes())
    for (const auto& out : node.outputs)
      if (out.size() > suffix.size() && out.compare(out.size() - suffix.size(), suffix.size(), suffix) == 0)
        candidates.push_back(out);
  if (candidates.empty()) graph.require_tensor(name);  // throws, with the closest names
  if (candidates.size() == 1) return candidates.front();
  std::string listed;
  const size_t shown = std::min<size_t>(candidates.size(), 8);
  for (size_t i = 0; i < shown; ++i) listed += (i ? ", '" : "'") + candidates[i] + "'";
  if (shown < candidates.size()) listed += " and " + std::to_string(candidates.size() - shown) + " more";
  throw Error("layer name '" + name + "' is ambiguous in model '" + graph.origin() + "': " +
              std::to_string(candidates.size()) + " layers end with it (" + listed + "); give more of the name");
}

std::vector<std::string> resolve_layers(const Graph& graph, const std::vector<std::string>& names) {
  std::vector<std::string> full;
  for (const auto& name : names) full.push_back(resolve_layer(graph, name));
  return full;
}

}  // namespace featvis::graph
