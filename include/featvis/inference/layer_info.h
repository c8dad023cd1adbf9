#pragma once
// What `featvis layers` shows: every addressable tensor with its shape at the card's
// input size and its number of units (channels).
#include <featvis/model/model.h>

#include <string>
#include <vector>

namespace featvis {

struct LayerInfo {
  std::string name;
  std::string op;              // producing op type
  std::vector<int64_t> shape;  // for a batch of one
  int64_t units = 0;           // channels (dim 1), or the size of a 1-D output
};

std::vector<LayerInfo> describe_layers(const Model& model);

}  // namespace featvis
