// Grad-CAM (Selvaraju et al. 2017): the channels of a conv layer weighted by the mean
// gradient of the target over each channel, summed, ReLU'd and upsampled bilinearly to
// the photo. Guided Grad-CAM multiplies guided backpropagation by that map.
#include "methods.h"

#include <featvis/inference/layer_info.h>
#include <featvis/objective/evaluate.h>
#include <featvis/util/error.h>

#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

#include <unordered_set>

namespace featvis::attribution {
namespace {

// Every tensor the target's layers are computed from (themselves included).
std::unordered_set<std::string> upstream_tensors(const graph::Graph& graph, const objective::Objective& target) {
  std::unordered_set<std::string> seen;
  std::vector<std::string> stack(target.layers().begin(), target.layers().end());
  while (!stack.empty()) {
    const std::string t = stack.back();
    stack.pop_back();
    if (!seen.insert(t).second) continue;
    if (const graph::Node* node = graph.producer(t))
      for (const auto& in : node->inputs)
        if (!in.empty()) stack.push_back(in);
  }
  return seen;
}

}  // namespace

std::string default_cam_layer(const model::Model& model, const objective::Objective& target) {
  const auto upstream = upstream_tensors(model.graph, target);
  std::string last;
  for (const inference::LayerInfo& info : inference::describe_layers(model)) {
    if (info.shape.size() == 4 && info.shape[2] * info.shape[3] > 1 && upstream.count(info.name)) last = info.name;
  }
  if (last.empty()) {
    throw SettingError("layer", "no spatial [N,C,H,W] layer leads to target '" + target.description() + "'; name one");
  }
  return last;
}

namespace detail {

MethodResult grad_cam(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                      const GradCamOptions& options, bool guided) {
  const std::string layer = options.layer.empty() ? default_cam_layer(model, target) : options.layer;
  model.graph.require_tensor(layer);
  if (!upstream_tensors(model.graph, target).count(layer)) {
    throw Error("Grad-CAM layer '" + layer + "' does not lead to target '" + target.description() + "'");
  }
  at::Tensor cam;
  {
    at::AutoGradMode grad_mode(true);
    // Weights never require grad, so the image must for autograd to record the layer.
    const at::Tensor x = image.unsqueeze(0).detach().requires_grad_(true);
    const objective::Evaluation run = objective::evaluate(model, target, x, {layer});
    const at::Tensor& activation = run.activations.at(layer);
    if (activation.dim() != 4) {
      throw Error("Grad-CAM layer '" + layer + "' has shape " + c10::str(activation.sizes()) +
                  ", not a spatial [N,C,H,W] map");
    }
    if (!activation.requires_grad()) throw Error("Grad-CAM layer '" + layer + "' does not depend on the image");
    const at::Tensor grad = torch::autograd::grad({run.values.sum()}, {activation}, {}, c10::nullopt, false,
                                                  /*allow_unused=*/true)[0];
    if (!grad.defined()) {
      throw Error("Grad-CAM layer '" + layer + "' does not lead to target '" + target.description() + "'");
    }
    const at::Tensor weights = grad.mean({2, 3}, /*keepdim=*/true);
    cam = (weights * activation).sum(1, /*keepdim=*/true).detach();
  }
  MethodResult result;
  result.layer = layer;
  result.forward_passes = 1;
  // Signed map upsampled; the ReLU (the map) keeps the parts that raise the target.
  result.raw = at::upsample_bilinear2d(cam, {image.size(1), image.size(2)}, /*align_corners=*/false)[0][0];
  result.map = result.raw.clamp_min(0);
  if (guided) {
    const MethodResult gb = gradient_method(Method::kGuidedBackprop, model, target, image);
    result.raw = gb.raw * result.map.unsqueeze(0);
    result.map = at::Tensor();  // from the raw values, like the other gradient methods
    result.forward_passes += gb.forward_passes;
  }
  return result;
}

}  // namespace detail
}  // namespace featvis::attribution
