#pragma once
// Which tensor stands in for a layer when it is optimized or ranked: the pre-activation
// of a rectified layer (see CardLayer::visualize).
#include <featvis/model/model.h>

#include <string>

namespace featvis::model {

// The input of the Relu or Clip that produces `layer`, or "" when another op does: what a
// card's "visualize" field should hold (`featvis layers MODEL --derive-visualize`).
std::string derive_visualization_tensor(const graph::Graph& graph, const std::string& layer);

// For a card layer produced by a capped Clip (ReLU6): one line saying that its renders
// saturate and naming the tensor to render instead; "" for any other layer.
std::string capped_layer_note(const Model& model, const std::string& layer);

}  // namespace featvis::model
