#pragma once
// Where a unit of a layer looks in the input: its receptive field, computed from the
// graph (kernel sizes, strides, pads, dilations of every Conv/MaxPool/AveragePool on the
// way from the input), so a dataset example can be shown as the crop the unit saw.
#include <featvis/graph/graph.h>

#include <array>
#include <cstdint>
#include <string>

namespace featvis::dataset_examples {

// Per axis (0 = y, 1 = x), in network-input pixels; pixel i covers [i, i+1).
struct ReceptiveField {
  std::array<int64_t, 2> size{1, 1};    // side of one unit's field
  std::array<int64_t, 2> stride{1, 1};  // input pixels between neighbouring units
  std::array<int64_t, 2> first{0, 0};   // first pixel of unit (0,0)'s field (negative in padding)
  bool whole_input = false;             // global pooling, Flatten, Gemm, ...: every unit sees all

  // Centre of unit (0,0)'s field ("offset" in the examples index).
  std::array<double, 2> offset() const {
    return {first[0] + size[0] / 2.0, first[1] + size[1] / 2.0};
  }
  // [x0, y0, x1, y1] of the unit at (y, x): half-open, clipped to an input of height x width.
  std::array<int64_t, 4> box(int64_t y, int64_t x, int64_t height, int64_t width) const;
};

// The field of `tensor` for an input of height x width. Elementwise ops, activations,
// BatchNormalization, Add and Concat pass fields through (several inputs: their union);
// global pooling, Flatten, Gemm, Reshape, ... see the whole input. Throws featvis::Error
// naming the op and node for an op whose effect on positions is unknown.
ReceptiveField receptive_field(const graph::Graph& graph, const std::string& tensor, int64_t height, int64_t width);

}  // namespace featvis::dataset_examples
