#pragma once
// What `featvis layers` shows: every addressable tensor with its shape at the card's
// input size and its number of units (channels); and the one way the library learns
// layer shapes.
#include <featvis/model/model.h>

#include <ATen/ATen.h>

#include <string>
#include <unordered_map>
#include <vector>

namespace featvis::inference {

struct LayerInfo {
  std::string name;
  std::string op;              // producing op type
  std::vector<int64_t> shape;  // for a batch of one
  int64_t units = 0;           // channels (dim 1; the last dim of [N,T,C] transformer tokens and of
                               // channels-last [N,H,W,C] maps), or the size of a 1-D output
  // Transformers (graph/token_grid.h): "tokens 1+14x14" for the residual stream and
  // attention output, "MLP hidden 1+14x14" for tokens wider than the stream, "class
  // token" for an [N,C] token picked out of them by Gather, "channels last 56x56" for an
  // [N,H,W,C] map (Swin's stages; Graph::channels_last); "" otherwise.
  std::string role;
};

std::vector<LayerInfo> describe_layers(const model::Model& model);

struct LayerShape {
  std::vector<int64_t> sizes;  // for a batch of one at the card's input size
  at::ScalarType dtype = at::kFloat;
};
// Shapes of `names` from one forward pass of a zero image at the card's input size
// (only the nodes they need run). Throws featvis::Error for an unknown name, or what
// Graph::run throws.
std::unordered_map<std::string, LayerShape> layer_shapes(const model::Model& model, const std::vector<std::string>& names);

}  // namespace featvis::inference
