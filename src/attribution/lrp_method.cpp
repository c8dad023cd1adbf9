// `--method lrp`: the target's relevance at its layer, propagated to the [0,1] pixels by
// lrp_relevance() with the composite's rules (lrp.h).
#include "methods.h"

#include <featvis/image/network_input.h>
#include <featvis/util/check.h>

#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

#include <cmath>

namespace featvis::attribution::detail {

MethodResult lrp(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                 const LrpOptions& options) {
  FEATVIS_CHECK(target.layers().size() == 1, "LRP explains a target on one layer; '", target.description(),
                "' reads ", target.layers().size());
  const std::string layer = *target.layers().begin();
  const model::Preprocessing& pre = model.card.preprocessing;
  const at::Tensor images = image.unsqueeze(0);
  const at::Tensor x = image::network_input(images, pre).detach();

  // Relevance at the target's layer: activation * d target / d activation, which for a
  // logit is the logit on its own class and zero elsewhere.
  at::Tensor activation;
  {
    at::NoGradGuard no_grad;
    activation = model.graph.run(x, {layer}).at(layer);
  }
  at::Tensor start;
  {
    at::AutoGradMode grad_mode(true);
    const at::Tensor a = activation.detach().requires_grad_(true);
    const graph::TensorMap activations{{layer, a}};
    const at::Tensor v = target(objective::ObjectiveInput{activations, images, nullptr, &model.graph}).sum();
    FEATVIS_CHECK(v.requires_grad(), "target '", target.description(), "' does not depend on the image");
    start = a.detach() * torch::autograd::grad({v}, {a})[0];
  }

  LrpSettings settings;
  settings.composite = parse_lrp_composite(options.composite);
  settings.epsilon = options.epsilon;
  settings.gamma = options.gamma;
  settings.ignore_bias = options.ignore_bias;
  // z^B's range: what black and white pixels become in the card's scaling.
  settings.low = image::network_input(at::zeros_like(images), pre);
  settings.high = image::network_input(at::ones_like(images), pre);
  at::Tensor r = lrp_relevance(model.graph, x, layer, start, settings)[0];
  // The card's scaling is elementwise, so a pixel keeps its input value's relevance; only
  // a BGR channel order is undone.
  if (pre.bgr) r = r.flip(0);
  FEATVIS_CHECK(at::isfinite(r).all().item<bool>(), "LRP relevance is not finite with composite '",
                options.composite, "' (a rule divided by a near-zero sum; raise --lrp-epsilon)");

  MethodResult result;
  result.raw = r;
  result.map = r.sum(0);
  Conservation c;
  c.relevance_sum = r.sum().item<double>();
  c.target_value = start.sum().item<double>();
  c.relative_error = std::abs(c.relevance_sum - c.target_value) / std::max(std::abs(c.target_value), 1e-12);
  result.conservation = c;
  result.forward_passes = 1;
  return result;
}

}  // namespace featvis::attribution::detail
