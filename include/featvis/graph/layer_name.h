#pragma once
// The one place where a layer name typed by a user becomes a tensor of the graph.
#include <featvis/graph/graph.h>

#include <string>
#include <vector>

namespace featvis::graph {

// `name` itself if the graph has that tensor, else the one layer whose name ends with it
// in whole '/'-separated segments ("expanded_conv_8/expand" for
// "MobileNetV2/expanded_conv_8/expand"). Throws featvis::Error listing the candidates
// when several layers end with it, and Graph::require_tensor's error when none does.
std::string resolve_layer(const Graph& graph, const std::string& name);

// resolve_layer of each name, in order.
std::vector<std::string> resolve_layers(const Graph& graph, const std::vector<std::string>& names);

}  // namespace featvis::graph
