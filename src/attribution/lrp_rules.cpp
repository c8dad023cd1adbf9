// The LRP rules for weighted layers. Each is the "gradient x input" form of its formula
// (Zennit's): a modified forward pass z, s = R / z, and the contributions x * (W^T s)
// read off a vector-Jacobian product of the layer itself, so one entry serves Conv
// (grouped, depthwise, strided), Gemm and MatMul alike.
#include "lrp_rules.h"

#include <featvis/util/check.h>

#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

namespace featvis::attribution::detail {
namespace {

// W^T s for the layer with weight `w`: the layer is linear in x, so the product does not
// depend on the x it is taken at.
at::Tensor transposed(const LinearLayer& layer, const at::Tensor& w, const at::Tensor& x, const at::Tensor& s) {
  at::AutoGradMode grad_mode(true);
  const at::Tensor xr = x.detach().requires_grad_(true);
  const at::Tensor y = layer.f(xr, w, at::Tensor());
  return torch::autograd::grad({y}, {xr}, {s})[0];
}

at::Tensor positive_part(const at::Tensor& t) { return t.defined() ? t.clamp_min(0) : t; }
at::Tensor negative_part(const at::Tensor& t) { return t.defined() ? t.clamp_max(0) : t; }

// Epsilon rule on the parameters (w, b): R_i = x_i sum_j w_ij R_j / (z_j + eps sign z_j).
at::Tensor epsilon_rule(const LinearLayer& layer, const at::Tensor& x, const at::Tensor& r, double epsilon) {
  const at::Tensor z = layer.f(x, layer.weight, layer.bias);
  return x * transposed(layer, layer.weight, x, r / stabilize(z, epsilon));
}

// Gamma as Zennit generalizes it to inputs of both signs: a unit whose output is
// positive favours its positive contributions, x_i w_ij + gamma (x_i w_ij)^+ (the weights
// w + gamma w+ on x+, w + gamma w- on x-, bias b + gamma b+), a negative one its negative
// contributions. For x >= 0 and z > 0 it is Montavon et al.'s x_i (w_ij + gamma w_ij^+).
at::Tensor gamma_rule(const LinearLayer& layer, const at::Tensor& x, const at::Tensor& r, double gamma,
                      double epsilon) {
  const at::Tensor xp = x.clamp_min(0), xn = x.clamp_max(0);
  const at::Tensor& w = layer.weight;
  const at::Tensor wp = w + gamma * w.clamp_min(0), wn = w + gamma * w.clamp_max(0);
  const at::Tensor& b = layer.bias;
  const at::Tensor bp = b.defined() ? b + gamma * b.clamp_min(0) : b, bn = b.defined() ? b + gamma * b.clamp_max(0) : b;
  const at::Tensor up = layer.f(x, w, b).gt(0).to(x.scalar_type());
  // Positive units: x+ on w + gamma w+, x- on w + gamma w-; negative units the other way.
  const at::Tensor sp = up * r / stabilize(layer.f(xp, wp, bp) + layer.f(xn, wn, at::Tensor()), epsilon);
  const at::Tensor sn = (1 - up) * r / stabilize(layer.f(xp, wn, bn) + layer.f(xn, wp, at::Tensor()), epsilon);
  return xp * (transposed(layer, wp, x, sp) + transposed(layer, wn, x, sn)) +
         xn * (transposed(layer, wn, x, sp) + transposed(layer, wp, x, sn));
}

// Alpha-beta: positive contributions (x+ w+, x- w-, b+) get alpha of the relevance,
// negative ones (x+ w-, x- w+, b-) beta, each normalized by its own sum.
at::Tensor alpha_beta(const LinearLayer& layer, const at::Tensor& x, const at::Tensor& r, double alpha, double beta,
                      double epsilon) {
  const at::Tensor xp = x.clamp_min(0), xn = x.clamp_max(0);
  const at::Tensor wp = positive_part(layer.weight), wn = negative_part(layer.weight);
  auto part = [&](const at::Tensor& w_on_pos, const at::Tensor& w_on_neg, const at::Tensor& b) {
    const at::Tensor z = layer.f(xp, w_on_pos, b) + layer.f(xn, w_on_neg, at::Tensor());
    const at::Tensor s = r / stabilize(z, epsilon);
    return xp * transposed(layer, w_on_pos, x, s) + xn * transposed(layer, w_on_neg, x, s);
  };
  at::Tensor result = part(wp, wn, positive_part(layer.bias));
  if (alpha != 1.0) result = alpha * result;
  if (beta != 0.0) result = result - beta * part(wn, wp, negative_part(layer.bias));
  return result;
}

// z^B (Montavon et al. 2017): x_i w_ij - l_i w_ij^+ - h_i w_ij^-, which is positive for
// any x in [l, h]; the bias drops out (b - b^+ - b^- = 0, as in Zennit's ZBox).
at::Tensor z_box(const LinearLayer& layer, const at::Tensor& x, const at::Tensor& r, const RuleContext& c) {
  FEATVIS_CHECK(c.low.defined() && c.high.defined(), "the z^B rule needs the input's value range");
  const at::Tensor low = c.low.expand_as(x), high = c.high.expand_as(x);
  const at::Tensor& w = layer.weight;
  const at::Tensor wp = w.clamp_min(0), wn = w.clamp_max(0);
  const at::Tensor none;
  const at::Tensor z = layer.f(x, w, none) - layer.f(low, wp, none) - layer.f(high, wn, none);
  const at::Tensor s = r / stabilize(z, c.epsilon);
  return x * transposed(layer, w, x, s) - low * transposed(layer, wp, x, s) - high * transposed(layer, wn, x, s);
}

}  // namespace

at::Tensor stabilize(const at::Tensor& z, double epsilon) {
  return z + epsilon * (z.ge(0).to(z.scalar_type()) * 2 - 1);
}

at::Tensor apply_rule(LrpRule rule, const LinearLayer& layer, const at::Tensor& x, const at::Tensor& r,
                      const RuleContext& c) {
  at::NoGradGuard no_grad;  // the rules' own forward passes need no graph; transposed() opens one
  if (c.ignore_bias && layer.bias.defined()) {
    LinearLayer without = layer;
    without.bias = at::Tensor();
    RuleContext context = c;
    context.ignore_bias = false;
    return apply_rule(rule, without, x, r, context);
  }
  switch (rule) {
    case LrpRule::kEpsilon:
      return epsilon_rule(layer, x, r, c.epsilon);
    case LrpRule::kGamma:
      return gamma_rule(layer, x, r, c.gamma, c.epsilon);
    case LrpRule::kAlpha1Beta0:
      return alpha_beta(layer, x, r, 1.0, 0.0, c.epsilon);
    case LrpRule::kAlpha2Beta1:
      return alpha_beta(layer, x, r, 2.0, 1.0, c.epsilon);
    case LrpRule::kZBox:
      return z_box(layer, x, r, c);
  }
  throw Error("unknown LRP rule");
}

}  // namespace featvis::attribution::detail
