#include <featvis/microscope/work_plan.h>

#include <algorithm>
#include <numeric>
#include <set>

namespace featvis::microscope {
namespace {

double numel(const std::vector<int64_t>& shape) {
  double n = 1;
  for (int64_t d : shape) n *= static_cast<double>(d);
  return n;
}

}  // namespace

double forward_cost(const graph::Graph& graph, const std::map<std::string, std::vector<int64_t>>& shapes,
                    const std::string& tensor) {
  auto shape_of = [&](const std::string& name) -> std::vector<int64_t> {
    auto it = shapes.find(name);
    if (it != shapes.end()) return it->second;
    if (graph.has_weight(name)) return graph.weight(name).sizes().vec();
    return {};
  };
  double cost = 0;
  std::set<const graph::Node*> seen;
  std::vector<std::string> todo{tensor};
  while (!todo.empty()) {
    const std::string name = todo.back();
    todo.pop_back();
    const graph::Node* node = graph.producer(name);
    if (node == nullptr || !seen.insert(node).second) continue;
    for (const auto& in : node->inputs)
      if (!in.empty()) todo.push_back(in);
    const std::vector<int64_t> out = node->outputs.empty() ? std::vector<int64_t>{} : shape_of(node->outputs.front());
    if (out.empty()) continue;  // shape arithmetic, scalars
    const bool conv = node->op_type == "Conv" || node->op_type == "ConvTranspose";
    const bool dense = node->op_type == "Gemm" || node->op_type == "MatMul";
    const std::vector<int64_t> w = (conv || dense) && node->inputs.size() > 1 ? shape_of(node->inputs[1]) : std::vector<int64_t>{};
    const int64_t per = conv ? (out.size() > 1 ? out[1] : 0) : out.back();
    if (!w.empty() && per > 0) cost += numel(out) * numel(w) / static_cast<double>(per);
    else cost += numel(out);
  }
  return std::max(cost, 1.0);
}

std::vector<WorkItem> plan_work(const std::vector<LayerPlan>& layers, int64_t batch, const std::vector<double>& layer_cost,
                                double layer_steps, double unit_steps) {
  std::vector<WorkItem> items;
  for (size_t l = 0; l < layers.size(); ++l) {
    // The layer's own item costs at least a little, so an all-unit lens set still spreads layer.json writes.
    items.push_back(WorkItem{l, {}, layer_cost[l] * std::max(layer_steps, 1.0)});
    const std::vector<int64_t>& units = layers[l].units;
    for (size_t g = 0; g < units.size(); g += static_cast<size_t>(batch)) {
      WorkItem item{l, {}, 0};
      for (size_t i = g; i < std::min(units.size(), g + static_cast<size_t>(batch)); ++i) item.units.push_back(units[i]);
      item.cost = layer_cost[l] * std::max(unit_steps, 1.0) * static_cast<double>(item.units.size());
      items.push_back(std::move(item));
    }
  }
  return items;
}

std::vector<int64_t> assign_shards(const std::vector<WorkItem>& items, int64_t count) {
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return items[a].cost > items[b].cost; });
  std::vector<double> load(static_cast<size_t>(std::max<int64_t>(count, 1)), 0.0);
  std::vector<int64_t> shard(items.size(), 0);
  for (size_t i : order) {
    const size_t least = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    shard[i] = static_cast<int64_t>(least);
    load[least] += items[i].cost;
  }
  return shard;
}

}  // namespace featvis::microscope
