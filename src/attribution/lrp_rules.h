#pragma once
// The LRP rules for weighted layers (lrp.h), each a small entry in lrp_rules.cpp.
#include <featvis/attribution/lrp.h>

#include <ATen/ATen.h>

#include <functional>

namespace featvis::attribution::detail {

// A weighted layer as the function its node computes of (input, weight, bias); an
// undefined bias means none. Rules only swap in modified inputs and parameters.
struct LinearLayer {
  std::function<at::Tensor(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b)> f;
  at::Tensor weight, bias;
};

struct RuleContext {
  double epsilon = 1e-6;
  double gamma = 0.25;
  bool ignore_bias = false;  // rules see the layer without its bias (lrp.h)
  at::Tensor low, high;  // z^B: the input's value range, shaped like the layer's input
};

// z + epsilon * sign(z), with sign(0) = +1 (Zennit's stabilizer): no division by zero.
at::Tensor stabilize(const at::Tensor& z, double epsilon);

// Relevance at the layer's input `x` from relevance at its output.
at::Tensor apply_rule(LrpRule rule, const LinearLayer& layer, const at::Tensor& x, const at::Tensor& relevance,
                      const RuleContext& context);

}  // namespace featvis::attribution::detail
