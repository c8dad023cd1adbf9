// torch::optim::Adam runs eight tensor ops per parameter and step (LibTorch 1.13 has no
// fused Adam), each a pass over the FFT spectrum: on the CPU this does the same update in
// one pass. Each element is updated alone, so the result does not depend on the thread
// count. Other devices and layouts run torch's ops in torch's order.
#include <featvis/render/adam.h>
#include <featvis/util/cpu_features.h>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <type_traits>

namespace featvis::render {
namespace {

constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;  // torch::optim::AdamOptions' defaults

template <typename T>
struct Update {
  T decay, b1, one_minus_b1, b2, one_minus_b2, root_bc2, eps, minus_step;
};

// Elements [begin, end): simple enough to vectorize. No fused multiply-adds anywhere (the
// file is built without them, and the AVX2 copy below asks for AVX2 alone), so both copies
// round as ATen's ops do.
template <typename T, bool kDecays>
inline __attribute__((always_inline)) void update_range(T* __restrict__ p, const T* __restrict__ g,
                                                        T* __restrict__ m, T* __restrict__ v, int64_t begin,
                                                        int64_t end, const Update<T>& u) {
  for (int64_t k = begin; k < end; ++k) {
    const T gk = kDecays ? g[k] + u.decay * p[k] : g[k];
    m[k] = m[k] * u.b1 + u.one_minus_b1 * gk;
    v[k] = v[k] * u.b2 + u.one_minus_b2 * gk * gk;
    p[k] = p[k] + u.minus_step * m[k] / (std::sqrt(v[k]) / u.root_bc2 + u.eps);
  }
}

#if FEATVIS_X86_TARGETS
// 8 floats per instruction instead of baseline x86-64's 4: the square root and the two
// divisions were 11 % of a render step's fixed cost (docs/PERFORMANCE.md).
template <typename T, bool kDecays>
__attribute__((target("avx2"))) void update_range_avx2(T* p, const T* g, T* m, T* v, int64_t begin, int64_t end,
                                                       const Update<T>& u) {
  update_range<T, kDecays>(p, g, m, v, begin, end, u);
}
#endif

template <typename T, bool kDecays>
void update(T* p, const T* g, T* m, T* v, int64_t n, const Update<T>& u) {
  at::parallel_for(0, n, 16384, [&](int64_t begin, int64_t end) {
#if FEATVIS_X86_TARGETS
    if (cpu_has_avx2()) return update_range_avx2<T, kDecays>(p, g, m, v, begin, end, u);
#endif
    update_range<T, kDecays>(p, g, m, v, begin, end, u);
  });
}

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
      Update<scalar_t> u;
      u.decay = static_cast<scalar_t>(weight_decay_);
      u.b1 = static_cast<scalar_t>(kBeta1);
      u.one_minus_b1 = static_cast<scalar_t>(1 - kBeta1);
      u.b2 = static_cast<scalar_t>(kBeta2);
      u.one_minus_b2 = static_cast<scalar_t>(1 - kBeta2);
      u.root_bc2 = static_cast<scalar_t>(std::sqrt(bias_correction2));
      u.eps = static_cast<scalar_t>(kEps);
      u.minus_step = static_cast<scalar_t>(-step_size);
      scalar_t* const pp = p.data_ptr<scalar_t>();
      const scalar_t* const gp = grad_in.data_ptr<scalar_t>();
      if (weight_decay_ != 0) {
        update<scalar_t, true>(pp, gp, m.data_ptr<scalar_t>(), v.data_ptr<scalar_t>(), p.numel(), u);
      } else {
        update<scalar_t, false>(pp, gp, m.data_ptr<scalar_t>(), v.data_ptr<scalar_t>(), p.numel(), u);
      }
    });
    p.unsafeGetTensorImpl()->bump_version();  // as an in-place op would: p changed
  }
}

}  // namespace featvis::render
