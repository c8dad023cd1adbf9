#pragma once
// Attribution: which input pixels a target (a featvis objective: logit, probability,
// channel, ...) depends on, for one photo. Images are [3,H,W] RGB in [0,1], the space
// render/ works in; the card's scaling is applied inside (network_input), so
// gradients are with respect to the [0,1] pixels.
#include <featvis/attribution/lrp.h>
#include <featvis/attribution/method.h>
#include <featvis/model/model.h>
#include <featvis/objective/objective.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace featvis::attribution {

// Integrated gradients: reference image and number of intervals (trapezoid rule over
// steps + 1 points from the baseline to the photo). Adaptive: a quarter of the steps on
// an even grid, the rest in rounds of steps/16 halving the intervals with the largest
// trapezoid error estimate (see integrated_gradients.cpp); otherwise all steps evenly spaced.
struct IntegratedGradientsOptions {
  Baseline baseline = Baseline::kBlack;
  int64_t steps = 64;
  bool adaptive = true;
  double blur_sigma = 12.0;  // pixels, for Baseline::kBlur
};

// SmoothGrad: noisy copies, noise std as a fraction of the [0,1] pixel range, and the
// gradient method averaged (saliency, gradxinput, ig or guided).
struct SmoothGradOptions {
  int64_t samples = 16;
  double sigma = 0.15;
  Method on = Method::kSaliency;
  uint64_t seed = 0;
};

// Grad-CAM: the [N,C,H,W] layer; empty = the last spatial layer the target depends on.
struct GradCamOptions {
  std::string layer;
};

// Occlusion: a grey (0.5) square of `window` pixels moved by `stride` pixels.
struct OcclusionOptions {
  int64_t window = 16;
  int64_t stride = 8;
  double fill = 0.5;
};

// The method and its options; each method reads only its own (SmoothGrad over IG reads
// both).
struct AttributionOptions {
  Method method = Method::kSaliency;
  IntegratedGradientsOptions integrated_gradients;
  SmoothGradOptions smoothgrad;
  GradCamOptions grad_cam;
  OcclusionOptions occlusion;
  LrpOptions lrp;
  // Images per forward pass (IG interpolation points, occluded copies).
  int64_t batch = 16;
  // A featvis::ProgressBar over the images sent through the network, for the methods that
  // loop (ig, smoothgrad, occlusion); the one-pass methods have none.
  bool progress = false;
  // Polled before each forward pass; returning true stops attribute() with
  // featvis::Interrupted (util/interrupt.h) and no result: a part-done integral or
  // occlusion sweep means nothing. E.g. a SIGINT flag.
  std::function<bool()> stop_requested;
};

// Integrated gradients' completeness axiom: sum of attributions = f(x) - f(baseline).
struct Completeness {
  double attribution_sum = 0;
  double target_difference = 0;  // f(x) - f(baseline)
  double baseline_value = 0;
  double relative_error = 0;     // |sum - difference| / |difference|
};

// LRP's conservation: relevance at the input sums to the target (exactly without biases;
// biases and epsilon absorb a share).
struct Conservation {
  double relevance_sum = 0;
  double target_value = 0;
  double relative_error = 0;  // |sum - target| / |target|
};

struct Attribution {
  // Per-pixel map [H,W]: saliency and guided take max |.| over colour channels,
  // gradient*input, IG and LRP the signed channel sum, Grad-CAM is ReLU'd, occlusion signed.
  at::Tensor map;
  // The method's raw signed values: [3,H,W] for gradient methods and LRP, [H,W] for Grad-CAM
  // (before its ReLU) and occlusion.
  at::Tensor raw;
  double target_value = 0;               // the objective on the photo
  std::optional<Completeness> completeness;  // integrated gradients (not under SmoothGrad)
  std::optional<Conservation> conservation;  // LRP
  std::string layer;                     // Grad-CAM's layer (also for guided Grad-CAM)
  int64_t forward_passes = 0;            // images sent through the network
  double ms = 0;                         // wall time of attribute()
};

// Runs one method. `image` is [3,H,W] in [0,1] on the model's device; the map and raw
// values come back on the CPU. Throws featvis::SettingError (one line, naming the
// setting: steps, window, ...) for bad options (zero steps or window, a window larger
// than the image, a Grad-CAM layer that is not spatial or does not lead to the target),
// featvis::Error for an objective that needs a batch of several images, and
// featvis::Interrupted when options.stop_requested() says so.
Attribution attribute(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                      const AttributionOptions& options);

// The default target: the logit of the model's top-1 class on `image` ("logit:K").
objective::Objective top1_target(const model::Model& model, const at::Tensor& image);

// The [N,C,H,W] layer (H*W > 1) that Grad-CAM uses by default: the last one in graph
// order that `target` depends on, i.e. the last conv map before global pooling.
std::string default_cam_layer(const model::Model& model, const objective::Objective& target);

}  // namespace featvis::attribution
