// attribute(): checks the options, runs the method, adds the target value and timing.
#include "methods.h"

#include <featvis/image/network_input.h>
#include <featvis/inference/classify.h>
#include <featvis/objective/evaluate.h>
#include <featvis/objective/kinds.h>
#include <featvis/util/error.h>

#include <chrono>
#include <cmath>

namespace featvis::attribution {
namespace {

void check_options(const objective::Objective& target, const at::Tensor& image, const AttributionOptions& o) {
  if (!target.defined()) throw Error("attribution needs a target");
  if (target.batch_size() > 1) {
    throw Error("target '" + target.description() + "' needs a batch of " + std::to_string(target.batch_size()) +
                " images; attribution explains one value");
  }
  if (image.dim() != 3 || image.size(0) != 3) {
    throw Error("attribution expects a [3,H,W] image, got " + c10::str(image.sizes()));
  }
  if (o.batch < 1) throw Error("batch must be at least 1, got " + std::to_string(o.batch));
  const Method m = o.method;
  const bool ig = m == Method::kIntegratedGradients || (m == Method::kSmoothGrad && o.smooth_on == Method::kIntegratedGradients);
  if (ig && o.steps < 1) throw Error("integrated gradients needs at least 1 step, got " + std::to_string(o.steps));
  if (ig && o.baseline == Baseline::kBlur && !(o.blur_sigma > 0 && std::isfinite(o.blur_sigma)))
    throw Error("blur baseline sigma must be positive");
  if (m == Method::kSmoothGrad) {
    const Method inner = o.smooth_on;
    if (inner != Method::kSaliency && inner != Method::kGradientXInput && inner != Method::kIntegratedGradients &&
        inner != Method::kGuidedBackprop) {
      throw Error("SmoothGrad averages a gradient method (saliency, gradxinput, ig, guided), not '" +
                  to_string(inner) + "'");
    }
    if (o.smooth_samples < 1) throw Error("SmoothGrad needs at least 1 sample, got " + std::to_string(o.smooth_samples));
    if (!(o.smooth_sigma >= 0) || !std::isfinite(o.smooth_sigma))
      throw Error("SmoothGrad noise sigma must be >= 0");
  }
  if (m == Method::kOcclusion) {
    if (o.window < 1) throw Error("occlusion window must be at least 1 pixel, got " + std::to_string(o.window));
    if (o.stride < 1) throw Error("occlusion stride must be at least 1 pixel, got " + std::to_string(o.stride));
    if (o.window > image.size(1) || o.window > image.size(2)) {
      throw Error("occlusion window " + std::to_string(o.window) + " is larger than the " +
                  std::to_string(image.size(2)) + "x" + std::to_string(image.size(1)) + " image");
    }
  }
}

}  // namespace

Attribution attribute(const Model& model, const objective::Objective& target, const at::Tensor& image,
                      const AttributionOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  check_options(target, image, options);
  const at::Tensor x = image.detach();
  detail::MethodResult r;
  switch (options.method) {
    case Method::kSaliency:
    case Method::kGradientXInput:
    case Method::kGuidedBackprop:
      r = detail::gradient_method(options.method, model, target, x);
      break;
    case Method::kIntegratedGradients:
      r = detail::integrated_gradients(model, target, x, options);
      break;
    case Method::kSmoothGrad:
      r = detail::smoothgrad(model, target, x, options);
      break;
    case Method::kGradCam:
    case Method::kGuidedGradCam:
      r = detail::grad_cam(model, target, x, options, options.method == Method::kGuidedGradCam);
      break;
    case Method::kOcclusion:
      r = detail::occlusion(model, target, x, options);
      break;
  }
  if (!r.map.defined()) r.map = detail::channel_map(options.method, options, r.raw);

  Attribution result;
  result.raw = r.raw.detach().to(at::kCPU, at::kFloat).contiguous();
  result.map = r.map.detach().to(at::kCPU, at::kFloat).contiguous();
  result.target_value = objective::values(model, target, x.unsqueeze(0))[0];
  result.completeness = r.completeness;
  result.layer = r.layer;
  result.forward_passes = r.forward_passes + 1;
  result.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

objective::Objective top1_target(const Model& model, const at::Tensor& image) {
  at::NoGradGuard no_grad;
  const at::Tensor scores =
      class_scores(model, network_input(image.unsqueeze(0), model.card.preprocessing));
  return objective::logit(model.card.output, scores[0].argmax().item<int64_t>());
}

}  // namespace featvis::attribution
