// Pointwise nonlinearities and softmax.
#include "op_util.h"
#include "rectifier_gradient.h"

#include <featvis/graph/relu_gradient.h>

#include <cmath>
#include <limits>

namespace featvis::graph {
namespace {

using ops::arg;
using ops::one;

// Softmax-like ops changed in opset 13: before, the input was flattened to 2-D at
// `axis` (default 1); since, the op runs along one axis (default -1).
at::Tensor softmax_like(const Node& node, const at::Tensor& x, bool log) {
  if (node.opset >= 13) {
    const int64_t axis = ops::normalize_axis(node.attributes.get_int("axis", -1), x.dim(), node);
    return log ? at::log_softmax(x, axis) : at::softmax(x, axis);
  }
  const int64_t axis = ops::normalize_axis(node.attributes.get_int("axis", 1), x.dim(), node);
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= x.size(i);
  at::Tensor flat = x.reshape({outer, -1});
  at::Tensor y = log ? at::log_softmax(flat, 1) : at::softmax(flat, 1);
  return y.reshape(x.sizes());
}

// Whether this clamp should get the redirected gradient (featvis/graph/relu_gradient.h).
bool redirect(const at::Tensor& x) {
  return current_relu_gradient() == ReluGradient::kRedirected && x.requires_grad() &&
         at::isFloatingType(x.scalar_type());
}

// A rectifier's output, with the guided-backprop gradient rule in kGuided mode.
at::Tensor guided(const at::Tensor& output) {
  return current_relu_gradient() == ReluGradient::kGuided ? ops::guided_output(output) : output;
}

}  // namespace

void register_activation_ops() {
  register_op("Relu", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    return one(redirect(x) ? ops::redirected_clamp(x, 0.0, c10::nullopt) : guided(at::relu(x)));
  });
  register_op("Sigmoid", [](const Node& n, const OpInputs& in) { return one(at::sigmoid(arg(n, in, 0))); });
  register_op("Tanh", [](const Node& n, const OpInputs& in) { return one(at::tanh(arg(n, in, 0))); });
  register_op("Exp", [](const Node& n, const OpInputs& in) { return one(at::exp(arg(n, in, 0))); });
  register_op("Log", [](const Node& n, const OpInputs& in) { return one(at::log(arg(n, in, 0))); });
  register_op("Sqrt", [](const Node& n, const OpInputs& in) { return one(at::sqrt(arg(n, in, 0))); });
  register_op("Neg", [](const Node& n, const OpInputs& in) { return one(at::neg(arg(n, in, 0))); });
  register_op("Abs", [](const Node& n, const OpInputs& in) { return one(at::abs(arg(n, in, 0))); });
  register_op("Erf", [](const Node& n, const OpInputs& in) { return one(at::erf(arg(n, in, 0))); });
  register_op("Reciprocal", [](const Node& n, const OpInputs& in) { return one(at::reciprocal(arg(n, in, 0))); });
  register_op("Softplus", [](const Node& n, const OpInputs& in) { return one(at::softplus(arg(n, in, 0))); });
  register_op("HardSwish", [](const Node& n, const OpInputs& in) { return one(at::hardswish(arg(n, in, 0))); });
  register_op("LeakyRelu", [](const Node& n, const OpInputs& in) {
    return one(guided(at::leaky_relu(arg(n, in, 0), n.attributes.get_float("alpha", 0.01f))));
  });
  register_op("Elu", [](const Node& n, const OpInputs& in) {
    return one(at::elu(arg(n, in, 0), n.attributes.get_float("alpha", 1.0f)));
  });
  register_op("PRelu", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    const at::Tensor& slope = arg(n, in, 1);
    return one(at::where(x >= 0, x, x * slope));
  });
  register_op("HardSigmoid", [](const Node& n, const OpInputs& in) {
    const float alpha = n.attributes.get_float("alpha", 0.2f);
    const float beta = n.attributes.get_float("beta", 0.5f);
    // PyTorch exports hardsigmoid as alpha=1/6, beta=0.5: use its own kernel, which
    // rounds as (x+3)/6 does, so near-ties at +-3 fall the same way as in PyTorch.
    if (std::abs(alpha - 1.0f / 6.0f) < 1e-7f && beta == 0.5f) return one(at::hardsigmoid(arg(n, in, 0)));
    return one(at::clamp(arg(n, in, 0) * alpha + beta, 0.0, 1.0));
  });
  register_op("Clip", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    c10::optional<at::Scalar> lo, hi;
    if (n.opset < 11) {
      lo = n.attributes.get_float("min", std::numeric_limits<float>::lowest());
      hi = n.attributes.get_float("max", std::numeric_limits<float>::max());
    } else {
      if (ops::opt(in, 1).defined()) lo = ops::opt(in, 1).item();
      if (ops::opt(in, 2).defined()) hi = ops::opt(in, 2).item();
    }
    if (!lo && !hi) return one(x);
    if (redirect(x)) {
      auto bound = [](const c10::optional<at::Scalar>& b) {
        return b ? c10::optional<double>(b->toDouble()) : c10::nullopt;
      };
      return one(ops::redirected_clamp(x, bound(lo), bound(hi)));
    }
    // Both bounds on a float tensor (ReLU6 = Clip(0, 6)): hardtanh computes the same
    // forward (it is clamp) but its backward is one fused kernel, where clamp's builds two
    // comparison masks and a where(): MobileNetV2 forward+gradient is ~1.5x faster. The
    // gradient exactly at a bound is 0, as for PyTorch's nn.ReLU6/Hardtanh.
    if (lo && hi && at::isFloatingType(x.scalar_type()) && lo->toDouble() <= hi->toDouble())
      return one(guided(at::hardtanh(x, *lo, *hi)));
    return one(guided(at::clamp(x, lo, hi)));
  });
  register_op("Softmax", [](const Node& n, const OpInputs& in) {
    return one(softmax_like(n, arg(n, in, 0), false));
  });
  register_op("LogSoftmax", [](const Node& n, const OpInputs& in) {
    return one(softmax_like(n, arg(n, in, 0), true));
  });
}

}  // namespace featvis::graph
