#pragma once
// A Microscope build as a list of work items, and how shards share them. An item is a
// layer's own work (DeepDream, caricatures, layer.json) or one render batch of units:
// batches stay whole, because a unit's picture is seeded per batch and rendered with its
// batch, so a shard must draw exactly the pictures one process would. Items cost their
// image-steps times the layer's multiply-adds (a deep layer's step runs more of the
// network), and are dealt out greedily, largest first, to the least-loaded shard: the
// result depends only on the plan, never on the process, so every shard computes the
// same split without talking to the others.
#include <featvis/graph/graph.h>
#include <featvis/microscope/lens.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace featvis::microscope {

struct WorkItem {
  size_t layer = 0;            // index into the build's layers
  std::vector<int64_t> units;  // one render batch; empty = the layer's own work
  double cost = 0;
};

// Multiply-adds of one forward pass up to `tensor` (Conv, Gemm and MatMul by their weights;
// other ops by their output size) at the sizes in `shapes` (every tensor's shape at the
// card's input size, from inference::describe_layers): the relative cost of a layer.
double forward_cost(const graph::Graph& graph, const std::map<std::string, std::vector<int64_t>>& shapes,
                    const std::string& tensor);

// Layers in order; per layer its own item, then its units in batches of `batch`.
// `layer_steps[l]` and `unit_steps` are image-steps of a layer's own work and of one unit,
// `layer_cost[l]` its forward_cost.
std::vector<WorkItem> plan_work(const std::vector<LayerPlan>& layers, int64_t batch, const std::vector<double>& layer_cost,
                                double layer_steps, double unit_steps);

// The shard (0..count-1) of each item: largest cost first (earlier item on ties) to the
// shard with the least cost so far (lowest index on ties). Every shard's total is at most
// the mean plus the largest item.
std::vector<int64_t> assign_shards(const std::vector<WorkItem>& items, int64_t count);

}  // namespace featvis::microscope
