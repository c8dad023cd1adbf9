#pragma once
// Layer-wise relevance propagation (Bach et al. 2015; Montavon et al. 2019, "Layer-wise
// relevance propagation: an overview"), as the Zennit library does it: a rule per layer,
// picked by a composite. Relevance starts at the target's layer as activation * d target /
// d activation (for a logit: the logit itself, on its class) and is propagated back node
// by node in reverse graph order until it reaches the network input.
//
// Canonization: a BatchNormalization whose input is a Conv or Gemm output used by nothing
// else is folded into that layer (W' = W * s, b' = (b - mean) * s + beta with s = scale /
// sqrt(var + eps)), so the layer's rule sees the affine map it really computes and the
// BatchNormalization node passes relevance through unchanged.
//
// Transformers and gated CNNs (docs/LRP.md): LayerNorm takes the LN-rule (its std held
// constant; fused, or as the ops opset 13 writes it), softmax attention the AH-rule (the
// attention weights held constant, relevance through the values), a product of a signal and
// a Sigmoid/HardSigmoid/Erf/Tanh gate (SiLU, Erf-GELU, squeeze-excite) gives all relevance to
// the signal, and GELU/SiLU/HardSwish/Sigmoid/Tanh activations pass it unchanged.
#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace featvis::graph {
class Graph;
}

namespace featvis::attribution {

// The rules for a weighted layer (Conv, Gemm, MatMul by a constant), each one small
// entry in lrp_rules.cpp. z_j = sum_i x_i w_ij + b_j; R_i = sum_j (contribution_ij /
// z_j) R_j with the rule's contributions:
enum class LrpRule {
  kEpsilon,      // x_i w_ij, z_j stabilized by epsilon * sign(z_j)
  kGamma,        // x_i w_ij + gamma (x_i w_ij)^+, bias b + gamma b^+ (Montavon et al. 2019;
                 // a unit with z_j < 0 favours negative contributions instead, as in Zennit)
  kAlpha1Beta0,  // alpha-beta with alpha 1, beta 0: the z+ rule (positive contributions only)
  kAlpha2Beta1,  // alpha 2 x positive contributions - beta 1 x negative ones
  kZBox,         // z^B: x_i w_ij - l_i w_ij^+ - h_i w_ij^-, l/h the input's value range
};
std::string to_string(LrpRule rule);

// Which rule each weighted layer gets. "first" is the layer the input reaches before any
// other weighted layer; "dense" a Gemm, a MatMul or a Conv on a 1x1 map (a classifier
// written as a 1x1 convolution, as the TF MobileNets do).
struct LrpComposite {
  std::string name;
  LrpRule first = LrpRule::kZBox;
  LrpRule conv = LrpRule::kAlpha1Beta0;
  LrpRule dense = LrpRule::kEpsilon;
};

// The composites by name: "epsilon-plus" (the default: z^B first, z+ convolutions,
// epsilon dense), "epsilon-gamma-box" (z^B first, gamma convolutions, epsilon dense),
// "epsilon-alpha2-beta1" (z^B first, alpha2-beta1 convolutions, epsilon dense) and
// "epsilon" (epsilon everywhere: gradient * input on a ReLU network with small epsilon).
// featvis::SettingError("lrp_composite") listing them if unknown.
LrpComposite parse_lrp_composite(const std::string& name);
std::vector<std::string> lrp_composite_names();
inline constexpr const char* kDefaultLrpComposite = "epsilon-plus";

struct LrpOptions {
  std::string composite = kDefaultLrpComposite;
  double epsilon = 1e-6;  // stabilizer of every division (Zennit's default)
  double gamma = 0.25;    // gamma rule's weight on positive parameters (Zennit's default)
  // Weighted layers' rules leave biases out (Zennit's zero_params="bias"): relevance is
  // then conserved through them, instead of each bias absorbing its share.
  bool ignore_bias = false;
};

// The numbers of one propagation.
struct LrpSettings {
  LrpComposite composite;
  double epsilon = 1e-6;
  double gamma = 0.25;
  bool ignore_bias = false;
  // The value range of the graph input for z^B: [1,C,H,W] (broadcastable) lowest and
  // highest values. Required when the composite uses z^B.
  at::Tensor low, high;
  // Propagation precision; the forward pass stays in the model's. Float64 keeps
  // conservation exact to ~1e-12 (float32 drifts by ~1e-6 of the largest terms).
  at::ScalarType dtype = at::kDouble;
};

// Relevance at the graph input ([N,...] like `input`) given relevance at tensor `layer`
// (same shape as that tensor). Throws featvis::Error "LRP has no rule for op 'X' (node
// 'Y')" for a node on the way that no rule covers, never falling back to the gradient.
at::Tensor lrp_relevance(const graph::Graph& graph, const at::Tensor& input, const std::string& layer,
                         const at::Tensor& layer_relevance, const LrpSettings& settings);

}  // namespace featvis::attribution
