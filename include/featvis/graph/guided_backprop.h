#pragma once
// Guided backpropagation (Springenberg et al. 2015) changes the backward pass of the
// rectifiers only: besides the usual mask of where the input was active, a rectifier
// passes back only positive gradients. While a GuidedBackprop object lives on a thread,
// the Relu, Clip (ReLU6) and LeakyRelu ops run on that thread record this rule for the
// outputs they produce; forward values are unchanged.
#include <ATen/ATen.h>

namespace featvis {

class GuidedBackprop {
 public:
  GuidedBackprop();
  ~GuidedBackprop();
  GuidedBackprop(const GuidedBackprop&) = delete;
  GuidedBackprop& operator=(const GuidedBackprop&) = delete;

  static bool active();
};

// Used by the rectifier ops: returns `output` unchanged; in guided mode (and when it is
// part of an autograd graph) its incoming gradient is first clamped at zero, so the op's
// own backward then applies its mask to positive gradients only.
at::Tensor guided_rectifier_output(const at::Tensor& output);

}  // namespace featvis
