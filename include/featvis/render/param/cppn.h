#pragma once
// CPPN parameterization (Lucid's `cppn`, Mordvintsev et al., "Differentiable Image
// Parameterizations", Distill 2018): the image is a small network of 1x1 convolutions
// applied to each pixel's coordinates, so it is smooth at every scale and can be rendered
// at any resolution. Lucid's architecture: (x, y) in [-sqrt(3), sqrt(3)] -> 8 layers of 24
// units with the composite activation [atan(z)/0.67, atan(z)^2/0.6] -> 3 logits ->
// sigmoid. Each batch item has its own network (Lucid shares one across the batch, which
// would make every item the same picture).
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace featvis::render::param {

struct CppnShape {
  int64_t hidden_layers = 8;
  int64_t hidden_units = 24;
};

// Leaf tensors (weight [batch*out, in, 1, 1] and bias [batch*out] per layer, the items' networks stacked),
// initialized as Lucid does: variance-scaling truncated normal weights, N(0, 0.1) biases,
// a zero last layer (so the start is a flat colour per item).
std::vector<at::Tensor> cppn_parameters(int64_t batch, const CppnShape& shape, at::Generator& generator,
                                        const at::TensorOptions& options);

// The (x, y) planes every network reads, [2, height*width] in [-sqrt(3), sqrt(3)]: made
// once per image, not once per step.
at::Tensor cppn_coordinates(int64_t height, int64_t width, const at::TensorOptions& options);

// The networks evaluated on `coordinates` (from cppn_coordinates): [batch, 3, height, width] logits.
at::Tensor cppn_logits(const std::vector<at::Tensor>& parameters, const at::Tensor& coordinates, int64_t batch,
                       int64_t height, int64_t width);

}  // namespace featvis::render::param
