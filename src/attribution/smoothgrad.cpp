// SmoothGrad (Smilkov et al. 2017): the mean of a gradient method's raw values over
// copies of the photo with Gaussian pixel noise (not clipped, as in the paper).
#include "methods.h"

#include <ATen/CPUGeneratorImpl.h>

namespace featvis::attribution::detail {

MethodResult smoothgrad(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                        const SmoothGradOptions& options, const IntegratedGradientsOptions& ig, int64_t chunk,
                        Passes& passes) {
  // Noise is drawn on the CPU so that a seed gives the same copies on every device.
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  const bool on_ig = options.on == Method::kIntegratedGradients;
  passes.plan(options.samples * (on_ig ? ig.steps + 1 : 1));
  MethodResult result;
  at::Tensor sum;
  for (int64_t i = 0; i < options.samples; ++i) {
    const at::Tensor noise = at::randn(image.sizes(), generator, at::TensorOptions().dtype(image.scalar_type()));
    const at::Tensor noisy = image + noise.to(image.device()) * options.sigma;
    const MethodResult one = on_ig ? integrated_gradients(model, target, noisy, ig, chunk, passes)
                                   : gradient_method(options.on, model, target, noisy, passes);
    sum = sum.defined() ? sum + one.raw : one.raw;
    result.forward_passes += one.forward_passes;
  }
  result.raw = sum / static_cast<double>(options.samples);
  return result;
}

}  // namespace featvis::attribution::detail
