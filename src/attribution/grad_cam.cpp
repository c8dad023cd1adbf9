// Grad-CAM (Selvaraju et al. 2017): the channels of a conv layer weighted by the mean
// gradient of the target over each channel, summed, ReLU'd and upsampled bilinearly to
// the photo. A transformer's [N,T,C] token layer is read as its patch grid [N,C,h,w]. Guided Grad-CAM multiplies guided backpropagation by that map.
#include "methods.h"

#include <featvis/graph/token_grid.h>
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

// A transformer's default: the last token tensor made by an Add (the residual sums, and
// LayerNorm's last step at opset 13) whose patch tokens the target depends on. After the last block's attention
// the class token no longer reads the patches, so later tensors would give an empty map;
// this is the last block's input, the layer pytorch-grad-cam recommends for ViTs.
// "" when the model has no token tensors on the way to the target.
std::string token_cam_layer(const model::Model& model, const objective::Objective& target, const at::Tensor& image) {
  const auto upstream = upstream_tensors(model.graph, target);
  std::vector<std::string> candidates;
  for (const inference::LayerInfo& info : inference::describe_layers(model)) {
    const bool tokens = graph::token_grid(info.shape, 1) ||
                        (info.shape.size() == 4 && model.graph.channels_last(info.name));  // Swin's [N,H,W,C]
    if (info.op == "Add" && upstream.count(info.name) && tokens) candidates.push_back(info.name);
  }
  if (candidates.empty()) return "";
  at::AutoGradMode grad_mode(true);
  const at::Tensor x = image.unsqueeze(0).detach().requires_grad_(true);
  const objective::Evaluation run = objective::evaluate(model, target, x, candidates);
  std::vector<at::Tensor> activations;
  for (const auto& name : candidates) activations.push_back(run.activations.at(name));
  const auto grads = torch::autograd::grad({run.values.sum()}, activations, {}, c10::nullopt, false, true);
  for (size_t i = candidates.size(); i-- > 0;) {
    if (!grads[i].defined()) continue;
    if (graph::unit_map(model.graph, candidates[i], grads[i]).abs().sum().item<double>() > 0) return candidates[i];
  }
  return "";
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
                      const GradCamOptions& options, bool guided, Passes& passes) {
  std::string layer = options.layer;
  if (layer.empty()) layer = token_cam_layer(model, target, image);
  if (layer.empty()) layer = default_cam_layer(model, target);
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
    const at::Tensor& output = run.activations.at(layer);
    const auto grid = graph::token_grid(output.sizes());
    if (output.dim() != 4 && !grid) {
      throw Error("Grad-CAM layer '" + layer + "' has shape " + c10::str(output.sizes()) +
                  ", not a spatial [N,C,H,W] map or [N,T,C] transformer tokens on a patch grid");
    }
    if (!output.requires_grad()) throw Error("Grad-CAM layer '" + layer + "' does not depend on the image");
    at::Tensor grad = torch::autograd::grad({run.values.sum()}, {output}, {}, c10::nullopt, false,
                                            /*allow_unused=*/true)[0];
    if (!grad.defined()) {
      throw Error("Grad-CAM layer '" + layer + "' does not lead to target '" + target.description() + "'");
    }
    // Transformer tokens: the patch tokens on their grid, the class token left out; a
    // channels-last [N,H,W,C] map (Swin) as NCHW.
    const at::Tensor activation = graph::unit_map(model.graph, layer, output);
    grad = graph::unit_map(model.graph, layer, grad);
    const at::Tensor weights = grad.mean({2, 3}, /*keepdim=*/true);
    cam = (weights * activation).sum(1, /*keepdim=*/true).detach();
  }
  passes.count(1);
  MethodResult result;
  result.layer = layer;
  result.forward_passes = 1;
  // Signed map upsampled; the ReLU (the map) keeps the parts that raise the target.
  result.raw = at::upsample_bilinear2d(cam, {image.size(1), image.size(2)}, /*align_corners=*/false)[0][0];
  result.map = result.raw.clamp_min(0);
  if (guided) {
    const MethodResult gb = gradient_method(Method::kGuidedBackprop, model, target, image, passes);  // polled
    result.raw = gb.raw * result.map.unsqueeze(0);
    result.map = at::Tensor();  // from the raw values, like the other gradient methods
    result.forward_passes += gb.forward_passes;
  }
  return result;
}

}  // namespace detail
}  // namespace featvis::attribution
