// Colour mixing runs every render step, forward and backward. As an einsum it was a
// batched matrix product with an inner dimension of 3 through BLAS plus layout copies,
// several ms per step at 224 (docs/PERFORMANCE.md); here it is one pass over the pixels
// each way on the CPU. Other devices keep the einsum.
#include "channel_mix.h"

#include <featvis/util/check.h>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

namespace featvis::render::param::detail {
namespace {

Matrix3 transposed(const Matrix3& m) { return {m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]}; }

at::Tensor mix_cpu(const at::Tensor& t, const Matrix3& m) {
  const at::Tensor x = t.contiguous();
  at::Tensor out = at::empty_like(x, at::MemoryFormat::Contiguous);
  const int64_t items = x.size(0), pixels = x.size(2) * x.size(3);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "mix_channels", [&] {
    const auto k0 = static_cast<scalar_t>(m[0]), k1 = static_cast<scalar_t>(m[1]), k2 = static_cast<scalar_t>(m[2]);
    const auto k3 = static_cast<scalar_t>(m[3]), k4 = static_cast<scalar_t>(m[4]), k5 = static_cast<scalar_t>(m[5]);
    const auto k6 = static_cast<scalar_t>(m[6]), k7 = static_cast<scalar_t>(m[7]), k8 = static_cast<scalar_t>(m[8]);
    for (int64_t n = 0; n < items; ++n) {
      const scalar_t* a = x.data_ptr<scalar_t>() + n * 3 * pixels;
      scalar_t* o = out.data_ptr<scalar_t>() + n * 3 * pixels;
      // Each pixel is computed alone, so the result does not depend on the thread count.
      at::parallel_for(0, pixels, 16384, [&](int64_t begin, int64_t end) {
        const scalar_t* __restrict__ r = a;
        const scalar_t* __restrict__ g = a + pixels;
        const scalar_t* __restrict__ b = a + 2 * pixels;
        scalar_t* __restrict__ o0 = o;
        scalar_t* __restrict__ o1 = o + pixels;
        scalar_t* __restrict__ o2 = o + 2 * pixels;
        for (int64_t p = begin; p < end; ++p) {
          o0[p] = k0 * r[p] + k1 * g[p] + k2 * b[p];
          o1[p] = k3 * r[p] + k4 * g[p] + k5 * b[p];
          o2[p] = k6 * r[p] + k7 * g[p] + k8 * b[p];
        }
      });
    }
  });
  return out;
}

class MixChannels : public torch::autograd::Function<MixChannels> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& t, const Matrix3& m) {
    ctx->saved_data["m"] = std::vector<double>(m.begin(), m.end());
    if (t.device().is_cpu()) return mix_cpu(t, m);
    const at::Tensor matrix = at::tensor(std::vector<double>(m.begin(), m.end()), at::kDouble).view({3, 3});
    return at::einsum("ij,njhw->nihw", {matrix.to(t.options()), t});
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor()};
    const std::vector<double> saved = ctx->saved_data["m"].toDoubleVector();
    Matrix3 m;
    std::copy(saved.begin(), saved.end(), m.begin());
    return {MixChannels::apply(grads[0], transposed(m)), at::Tensor()};
  }
};

}  // namespace

at::Tensor mix_channels(const at::Tensor& t, const Matrix3& m) {
  FEATVIS_CHECK(t.dim() == 4 && t.size(1) == 3, "colour transforms expect an [N,3,H,W] tensor, got ", t.sizes());
  return MixChannels::apply(t, m);
}

}  // namespace featvis::render::param::detail
