// attribute(): checks the options, runs the method, adds the target value and timing.
#include "methods.h"

#include <featvis/image/network_input.h>
#include <featvis/inference/classify.h>
#include <featvis/objective/evaluate.h>
#include <featvis/objective/kinds.h>
#include <featvis/util/check.h>

#include <chrono>
#include <cmath>

namespace featvis::attribution {
namespace {

void check_options(const objective::Objective& target, const at::Tensor& image, const AttributionOptions& o) {
  FEATVIS_CHECK(target.defined(), "attribution needs a target");
  FEATVIS_CHECK(target.batch_size() <= 1, "target '", target.description(), "' needs a batch of ", target.batch_size(),
                " images; attribution explains one value");
  FEATVIS_CHECK(image.dim() == 3 && image.size(0) == 3, "attribution expects a [3,H,W] image, got ", image.sizes());
  FEATVIS_CHECK_SETTING(o.batch >= 1, "batch", "batch must be at least 1, got ", o.batch);
  const Method m = o.method;
  const SmoothGradOptions& sg = o.smoothgrad;
  if (m == Method::kIntegratedGradients || (m == Method::kSmoothGrad && sg.on == Method::kIntegratedGradients)) {
    const IntegratedGradientsOptions& ig = o.integrated_gradients;
    FEATVIS_CHECK_SETTING(ig.steps >= 1, "steps", "integrated gradients needs at least 1 step, got ", ig.steps);
    FEATVIS_CHECK(ig.baseline != Baseline::kBlur || (ig.blur_sigma > 0 && std::isfinite(ig.blur_sigma)),
                  "blur baseline sigma must be positive");
  }
  if (m == Method::kSmoothGrad) {
    FEATVIS_CHECK_SETTING(sg.on == Method::kSaliency || sg.on == Method::kGradientXInput ||
                              sg.on == Method::kIntegratedGradients || sg.on == Method::kGuidedBackprop,
                          "smooth_on",
                          "SmoothGrad averages a gradient method (saliency, gradxinput, ig, guided), not '",
                          to_string(sg.on), "'");
    FEATVIS_CHECK_SETTING(sg.samples >= 1, "smooth_samples", "SmoothGrad needs at least 1 sample, got ", sg.samples);
    FEATVIS_CHECK_SETTING(sg.sigma >= 0 && std::isfinite(sg.sigma), "smooth_sigma",
                          "SmoothGrad noise sigma must be >= 0");
  }
  if (m == Method::kLrp) {
    parse_lrp_composite(o.lrp.composite);  // SettingError naming the composites
    FEATVIS_CHECK_SETTING(o.lrp.epsilon > 0 && std::isfinite(o.lrp.epsilon), "lrp_epsilon",
                          "LRP epsilon must be positive, got ", o.lrp.epsilon);
    FEATVIS_CHECK_SETTING(o.lrp.gamma >= 0 && std::isfinite(o.lrp.gamma), "lrp_gamma",
                          "LRP gamma must be >= 0, got ", o.lrp.gamma);
  }
  if (m == Method::kOcclusion) {
    const OcclusionOptions& oc = o.occlusion;
    FEATVIS_CHECK_SETTING(oc.window >= 1, "window", "occlusion window must be at least 1 pixel, got ", oc.window);
    FEATVIS_CHECK_SETTING(oc.stride >= 1, "stride", "occlusion stride must be at least 1 pixel, got ", oc.stride);
    FEATVIS_CHECK_SETTING(oc.window <= image.size(1) && oc.window <= image.size(2), "window", "occlusion window ",
                          oc.window, " is larger than the ", image.size(2), "x", image.size(1), " image");
  }
}

}  // namespace

Attribution attribute(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                      const AttributionOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  check_options(target, image, options);
  const at::Tensor x = image.detach();
  const int64_t chunk = detail::chunk_size(target, options.batch);
  detail::Passes passes(options);
  passes.poll();  // the one-pass methods' only poll
  detail::MethodResult r;
  switch (options.method) {
    case Method::kSaliency:
    case Method::kGradientXInput:
    case Method::kGuidedBackprop:
      r = detail::gradient_method(options.method, model, target, x, passes);
      break;
    case Method::kIntegratedGradients:
      r = detail::integrated_gradients(model, target, x, options.integrated_gradients, chunk, passes);
      break;
    case Method::kSmoothGrad:
      r = detail::smoothgrad(model, target, x, options.smoothgrad, options.integrated_gradients, chunk, passes);
      break;
    case Method::kGradCam:
    case Method::kGuidedGradCam:
      r = detail::grad_cam(model, target, x, options.grad_cam, options.method == Method::kGuidedGradCam, passes);
      break;
    case Method::kOcclusion:
      r = detail::occlusion(model, target, x, options.occlusion, chunk, passes);
      break;
    case Method::kLrp:
      r = detail::lrp(model, target, x, options.lrp);
      break;
  }
  passes.finish();
  if (!r.map.defined()) {
    r.map = detail::channel_map(options.method == Method::kSmoothGrad ? options.smoothgrad.on : options.method, r.raw);
  }

  Attribution result;
  result.raw = r.raw.detach().to(at::kCPU, at::kFloat).contiguous();
  result.map = r.map.detach().to(at::kCPU, at::kFloat).contiguous();
  result.target_value = objective::values(model, target, x.unsqueeze(0))[0];
  result.completeness = r.completeness;
  result.conservation = r.conservation;
  result.layer = r.layer;
  result.forward_passes = r.forward_passes + 1;
  result.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return result;
}

objective::Objective top1_target(const model::Model& model, const at::Tensor& image) {
  at::NoGradGuard no_grad;
  const at::Tensor scores =
      inference::class_scores(model, image::network_input(image.unsqueeze(0), model.card.preprocessing));
  return objective::logit(model.card.output, scores[0].argmax().item<int64_t>());
}

}  // namespace featvis::attribution
