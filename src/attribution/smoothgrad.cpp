// SmoothGrad (Smilkov et al. 2017): the mean of a gradient method's raw values over
// copies of the photo with Gaussian pixel noise (not clipped, as in the paper).
#include "methods.h"

#include <ATen/CPUGeneratorImpl.h>

namespace featvis::attribution::detail {

MethodResult smoothgrad(const Model& model, const objective::Objective& target, const at::Tensor& image,
                        const AttributionOptions& options) {
  // Noise is drawn on the CPU so that a seed gives the same copies on every device.
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  AttributionOptions inner = options;
  inner.method = options.smooth_on;
  MethodResult result;
  at::Tensor sum;
  for (int64_t i = 0; i < options.smooth_samples; ++i) {
    const at::Tensor noise = at::randn(image.sizes(), generator, at::TensorOptions().dtype(image.scalar_type()));
    const at::Tensor noisy = image + noise.to(image.device()) * options.smooth_sigma;
    const MethodResult one = options.smooth_on == Method::kIntegratedGradients
                                 ? integrated_gradients(model, target, noisy, inner)
                                 : gradient_method(options.smooth_on, model, target, noisy);
    sum = sum.defined() ? sum + one.raw : one.raw;
    result.forward_passes += one.forward_passes;
  }
  result.raw = sum / static_cast<double>(options.smooth_samples);
  return result;
}

}  // namespace featvis::attribution::detail
