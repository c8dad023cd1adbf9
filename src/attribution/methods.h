#pragma once
// The methods behind attribution::attribute(), one file each; shared pieces here.
#include <featvis/attribution/attribution.h>

#include <ATen/ATen.h>

#include <optional>
#include <string>

namespace featvis::attribution::detail {

// What one method returns; attribute() adds the target value and timing.
struct MethodResult {
  at::Tensor raw;  // on the image's device
  at::Tensor map;  // [H,W]
  std::optional<Completeness> completeness;
  std::optional<Conservation> conservation;
  std::string layer;
  int64_t forward_passes = 0;
};

struct Gradients {
  at::Tensor values;  // [N], detached
  at::Tensor grads;   // [N,3,H,W]: d value_i / d images_i
};

// The target and its gradient for each of `images` ([N,3,H,W] in [0,1]), `chunk` images
// per forward/backward pass.
Gradients gradients(const model::Model& model, const objective::Objective& target, const at::Tensor& images, int64_t chunk);

// Images per pass: `batch`, or 1 for a target fixed to a batch of one.
int64_t chunk_size(const objective::Objective& target, int64_t batch);

// [3,H,W] raw values -> [H,W] map, each gradient method's custom: max |.| over channels
// for gradients (saliency, guided, guided Grad-CAM), the signed sum for products.
at::Tensor channel_map(Method method, const at::Tensor& raw);

// saliency, gradxinput, guided
MethodResult gradient_method(Method method, const model::Model& model, const objective::Objective& target, const at::Tensor& image);
MethodResult integrated_gradients(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                                  const IntegratedGradientsOptions& options, int64_t chunk);
// `ig`: the options of integrated gradients when SmoothGrad averages it.
MethodResult smoothgrad(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                        const SmoothGradOptions& options, const IntegratedGradientsOptions& ig, int64_t chunk);
MethodResult grad_cam(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                      const GradCamOptions& options, bool guided);
MethodResult occlusion(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                       const OcclusionOptions& options, int64_t chunk);

MethodResult lrp(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                 const LrpOptions& options);

// The photo blurred with a Gaussian of `sigma` pixels (edges replicated): IG's blur baseline.
at::Tensor gaussian_blur(const at::Tensor& image, double sigma);

}  // namespace featvis::attribution::detail
