#pragma once
// The model-randomization sanity check (Adebayo et al., NeurIPS 2018): an attribution
// method that explains the model must change when the model's learned weights do.
#include <featvis/graph/graph.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace featvis::attribution {

// Cascading randomization from the top: replaces the weights and biases of the last
// `layers` Conv/Gemm/MatMul nodes (in graph order) with seeded normal values of the same
// standard deviation as each original tensor. Returns the node names, top first.
std::vector<std::string> randomize_top_layers(graph::Graph& graph, int64_t layers, uint64_t seed);

// Spearman's rank correlation of two equally sized tensors (ties get their mean rank).
// NaN when either is constant.
double spearman(const at::Tensor& a, const at::Tensor& b);

}  // namespace featvis::attribution
