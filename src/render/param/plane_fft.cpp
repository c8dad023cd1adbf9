#include <featvis/render/param/plane_fft.h>
#include <featvis/util/check.h>

#include <featvis/render/param/plane_rfft2.h>

#include <ATen/Parallel.h>
#include <torch/autograd.h>

namespace featvis::render::param {
namespace {

constexpr int64_t kByRootN = 1;  // ATen's fft_norm_mode::by_root_n, the "ortho" norm

class GainedIrfft2 : public torch::autograd::Function<GainedIrfft2> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& spectrum, const at::Tensor& gain,
                            int64_t h, int64_t w) {
    ctx->save_for_backward({gain});
    ctx->saved_data["w"] = w;
    const at::Tensor s = spectrum.contiguous();
    const int64_t planes = s.size(0) * s.size(1);
    at::Tensor image = at::empty({s.size(0), s.size(1), h, w}, s.options());
    const at::Tensor in = s.view({planes, h, s.size(3), 2});
    const at::Tensor out = image.view({planes, h, w});
    if (const detail::PlaneRfft2Plan* plan = detail::plane_rfft2_plan(h, w)) {
      const int64_t spectrum_plane = h * s.size(3) * 2;
      at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p)
          detail::plane_irfft2(*plan, s.data_ptr<float>() + p * spectrum_plane, gain.data_ptr<float>(),
                               image.data_ptr<float>() + p * h * w);
      });
      return image;
    }
    at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
      at::NoGradGuard no_grad;  // grad mode is per thread: off on this one, maybe not on ATen's others
      for (int64_t p = begin; p < end; ++p) {
        at::Tensor plane = out[p];
        at::_fft_c2r_out(plane, at::view_as_complex(in[p] * gain), {0, 1}, kByRootN, w);
      }
    });
    return image;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const at::Tensor gain = ctx->get_saved_variables()[0];
    const int64_t w = ctx->saved_data["w"].toInt();
    const at::Tensor g = grads[0].contiguous();
    const int64_t planes = g.size(0) * g.size(1), h = g.size(2), half = w / 2 + 1;
    at::Tensor grad = at::empty({g.size(0), g.size(1), h, half, 2}, g.options());
    const at::Tensor in = g.view({planes, h, w});
    const at::Tensor out = grad.view({planes, h, half, 2});
    if (const detail::PlaneRfft2Plan* plan = detail::plane_rfft2_plan(h, w)) {
      at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
        for (int64_t p = begin; p < end; ++p)
          detail::plane_rfft2_adjoint(*plan, g.data_ptr<float>() + p * h * w, gain.data_ptr<float>(),
                                      grad.data_ptr<float>() + p * h * half * 2);
      });
      return {grad, at::Tensor(), at::Tensor(), at::Tensor()};
    }
    at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
      at::NoGradGuard no_grad;
      for (int64_t p = begin; p < end; ++p) {
        at::Tensor spectrum = at::_fft_r2c(in[p], {0, 1}, kByRootN, /*onesided=*/true);
        // The one-sided bins whose mirror image is not stored stand for two coefficients.
        if (w - half > 0) spectrum.narrow(1, 1, w - half).mul_(2);
        at::Tensor plane = out[p];
        at::mul_out(plane, at::view_as_real(spectrum), gain);
      }
    });
    return {grad, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor irfft2_by_planes(const at::Tensor& spectrum, const at::Tensor& gain, int64_t h, int64_t w) {
  FEATVIS_CHECK(spectrum.dim() == 5 && spectrum.size(2) == h && spectrum.size(3) == w / 2 + 1 && spectrum.size(4) == 2 &&
                    spectrum.scalar_type() == at::kFloat && spectrum.device().is_cpu(),
                "irfft2_by_planes expects a [N, C, ", h, ", ", w / 2 + 1, ", 2] float CPU spectrum");
  FEATVIS_CHECK(gain.sizes() == spectrum.sizes().slice(2) && gain.scalar_type() == at::kFloat,
                "irfft2_by_planes expects a [", h, ", ", w / 2 + 1, ", 2] float gain");
  return GainedIrfft2::apply(spectrum, gain.contiguous(), h, w);
}

}  // namespace featvis::render::param
