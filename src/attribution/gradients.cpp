// Gradients of a target with respect to the [0,1] pixels, and the saliency-like methods
// that are one gradient: saliency, gradient * input, guided backpropagation.
#include "methods.h"

#include <featvis/graph/relu_gradient.h>
#include <featvis/objective/evaluate.h>
#include <featvis/util/error.h>

#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

namespace featvis::attribution::detail {

Gradients gradients(const model::Model& model, const objective::Objective& target, const at::Tensor& images, int64_t chunk,
                    Passes& passes) {
  at::AutoGradMode grad_mode(true);
  std::vector<at::Tensor> values, grads;
  for (int64_t begin = 0; begin < images.size(0); begin += chunk) {
    passes.poll();
    const at::Tensor x = images.slice(0, begin, begin + chunk).detach().requires_grad_(true);
    const at::Tensor v = objective::evaluate(model, target, x).values;
    if (!v.requires_grad()) throw Error("target '" + target.description() + "' does not depend on the image");
    // Items are independent, so the gradient of the sum is each item's own gradient.
    grads.push_back(torch::autograd::grad({v.sum()}, {x})[0]);
    values.push_back(v.detach());
    passes.count(x.size(0));
  }
  return {at::cat(values), at::cat(grads)};
}

int64_t chunk_size(const objective::Objective& target, int64_t batch) {
  return target.batch_size() == 1 ? 1 : batch;
}

at::Tensor channel_map(Method method, const at::Tensor& raw) {
  const bool product =
      method == Method::kGradientXInput || method == Method::kIntegratedGradients || method == Method::kLrp;
  return product ? raw.sum(0) : raw.abs().amax(0);
}

MethodResult gradient_method(Method method, const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                             Passes& passes) {
  const graph::ReluGradientGuard rectifiers(method == Method::kGuidedBackprop ? graph::ReluGradient::kGuided
                                                                       : graph::current_relu_gradient());
  const at::Tensor grad = gradients(model, target, image.unsqueeze(0), 1, passes).grads[0];
  MethodResult result;
  result.raw = method == Method::kGradientXInput ? grad * image : grad;
  result.forward_passes = 1;
  return result;
}

}  // namespace featvis::attribution::detail
