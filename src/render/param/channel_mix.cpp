// Colour mixing runs every render step, forward and backward. As an einsum it was a
// batched matrix product with an inner dimension of 3 through BLAS plus layout copies,
// several ms per step at 224 (docs/PERFORMANCE.md); here it is one pass over the pixels
// each way on the CPU. Other devices keep the einsum.
#include "channel_mix.h"

#include <featvis/util/check.h>
#include <featvis/util/cpu_features.h>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

namespace featvis::render::param::detail {
namespace {

Matrix3 transposed(const Matrix3& m) { return {m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]}; }

// Pixels [begin, end) of one item: out_i = k_i0 r + k_i1 g + k_i2 b, added left to right.
// The pointers as parameters, so that the compiler may take them as not aliased and
// vectorize (as locals inside the parallel lambda it did not: one pixel at a time).
template <typename T>
inline __attribute__((always_inline)) void mix_range(const T* __restrict__ r, const T* __restrict__ g,
                                                     const T* __restrict__ b, T* __restrict__ o0, T* __restrict__ o1,
                                                     T* __restrict__ o2, const T* k, int64_t begin, int64_t end) {
  const T k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4], k5 = k[5], k6 = k[6], k7 = k[7], k8 = k[8];
  for (int64_t p = begin; p < end; ++p) {
    o0[p] = k0 * r[p] + k1 * g[p] + k2 * b[p];
    o1[p] = k3 * r[p] + k4 * g[p] + k5 * b[p];
    o2[p] = k6 * r[p] + k7 * g[p] + k8 * b[p];
  }
}

#if FEATVIS_X86_TARGETS
// Twice the width of baseline x86-64; AVX2 alone, no fused multiply-adds, so the same bits.
template <typename T>
__attribute__((target("avx2"))) void mix_range_avx2(const T* r, const T* g, const T* b, T* o0, T* o1, T* o2,
                                                    const T* k, int64_t begin, int64_t end) {
  mix_range(r, g, b, o0, o1, o2, k, begin, end);
}
#endif

at::Tensor mix_cpu(const at::Tensor& t, const Matrix3& m) {
  const at::Tensor x = t.contiguous();
  at::Tensor out = at::empty_like(x, at::MemoryFormat::Contiguous);
  const int64_t items = x.size(0), pixels = x.size(2) * x.size(3);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "mix_channels", [&] {
    scalar_t k[9];
    for (int i = 0; i < 9; ++i) k[i] = static_cast<scalar_t>(m[static_cast<size_t>(i)]);
    for (int64_t n = 0; n < items; ++n) {
      const scalar_t* a = x.data_ptr<scalar_t>() + n * 3 * pixels;
      scalar_t* o = out.data_ptr<scalar_t>() + n * 3 * pixels;
      // Each pixel is computed alone, so the result does not depend on the thread count.
      at::parallel_for(0, pixels, 16384, [&](int64_t begin, int64_t end) {
#if FEATVIS_X86_TARGETS
        if (cpu_has_avx2())
          return mix_range_avx2(a, a + pixels, a + 2 * pixels, o, o + pixels, o + 2 * pixels, k, begin, end);
#endif
        mix_range(a, a + pixels, a + 2 * pixels, o, o + pixels, o + 2 * pixels, k, begin, end);
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
