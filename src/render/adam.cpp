// torch::optim::Adam runs eight tensor ops per parameter and step (LibTorch 1.13 has no
// fused Adam), each a pass over the FFT spectrum: on the CPU this does the same update in
// one pass. Each element is updated alone, so the result does not depend on the thread
// count. Other devices and layouts run torch's ops in torch's order.
#include <featvis/render/adam.h>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <type_traits>

namespace featvis::render {
namespace {

constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;  // torch::optim::AdamOptions' defaults

}  // namespace

Adam::Adam(std::vector<at::Tensor> parameters, double lr, double weight_decay)
    : parameters_(std::move(parameters)), lr_(lr), weight_decay_(weight_decay) {
  for (const at::Tensor& p : parameters_) {
    moments_.push_back({at::zeros_like(p, at::MemoryFormat::Preserve), at::zeros_like(p, at::MemoryFormat::Preserve)});
  }
}

void Adam::zero_grad() {
  for (at::Tensor& p : parameters_) p.mutable_grad().reset();
}

void Adam::step() {
  at::NoGradGuard no_grad;
  ++steps_;
  const double bias_correction1 = 1 - std::pow(kBeta1, static_cast<double>(steps_));
  const double bias_correction2 = 1 - std::pow(kBeta2, static_cast<double>(steps_));
  const double step_size = lr_ / bias_correction1;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    at::Tensor& p = parameters_[i];
    const at::Tensor& grad_in = p.grad();
    if (!grad_in.defined()) continue;
    at::Tensor& m = moments_[i].exp_avg;
    at::Tensor& v = moments_[i].exp_avg_sq;
    const bool one_pass = p.device().is_cpu() && p.is_contiguous() && grad_in.is_contiguous() &&
                          grad_in.scalar_type() == p.scalar_type() && m.is_contiguous() && v.is_contiguous() &&
                          (p.scalar_type() == at::kFloat || p.scalar_type() == at::kDouble);
    if (!one_pass) {  // torch::optim::Adam::step, op for op
      const at::Tensor grad = weight_decay_ != 0 ? grad_in.add(p, weight_decay_) : grad_in;
      m.mul_(kBeta1).add_(grad, 1 - kBeta1);
      v.mul_(kBeta2).addcmul_(grad, grad, 1 - kBeta2);
      const at::Tensor denom = (v.sqrt() / std::sqrt(bias_correction2)).add_(kEps);
      p.addcdiv_(m, denom, -step_size);
      continue;
    }
    AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "render_adam", [&] {
      // The scalars as ATen's kernels see them: cast to the tensor's type.
      const auto decay = static_cast<scalar_t>(weight_decay_);
      const auto b1 = static_cast<scalar_t>(kBeta1), one_minus_b1 = static_cast<scalar_t>(1 - kBeta1);
      const auto b2 = static_cast<scalar_t>(kBeta2), one_minus_b2 = static_cast<scalar_t>(1 - kBeta2);
      const auto root_bc2 = static_cast<scalar_t>(std::sqrt(bias_correction2));
      const auto eps = static_cast<scalar_t>(kEps), minus_step = static_cast<scalar_t>(-step_size);
      scalar_t* const pp = p.data_ptr<scalar_t>();
      const scalar_t* const gp = grad_in.data_ptr<scalar_t>();
      scalar_t* const mp = m.data_ptr<scalar_t>();
      scalar_t* const vp = v.data_ptr<scalar_t>();
      // The same loop with and without weight decay, each simple enough to vectorize.
      auto update = [&](auto decays) {
        at::parallel_for(0, p.numel(), 16384, [&](int64_t begin, int64_t end) {
          scalar_t* __restrict__ pr = pp;
          const scalar_t* __restrict__ gr = gp;
          scalar_t* __restrict__ mr = mp;
          scalar_t* __restrict__ vr = vp;
          for (int64_t k = begin; k < end; ++k) {
            const scalar_t g = decltype(decays)::value ? gr[k] + decay * pr[k] : gr[k];
            mr[k] = mr[k] * b1 + one_minus_b1 * g;
            vr[k] = vr[k] * b2 + one_minus_b2 * g * g;
            pr[k] = pr[k] + minus_step * mr[k] / (std::sqrt(vr[k]) / root_bc2 + eps);
          }
        });
      };
      if (weight_decay_ != 0) {
        update(std::true_type{});
      } else {
        update(std::false_type{});
      }
    });
    p.unsafeGetTensorImpl()->bump_version();  // as an in-place op would: p changed
  }
}

}  // namespace featvis::render
