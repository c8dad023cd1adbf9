// Colour mixing runs every render step, forward and backward. As an einsum it was a
// batched matrix product with an inner dimension of 3 through BLAS plus layout copies,
// several ms per step at 224 (docs/PERFORMANCE.md); here it is one pass over the pixels
// each way on the CPU. Other devices keep the einsum. The sigmoid that follows it in a
// render is fused into its backward: ATen's sigmoid_backward was one more pass.
#include "channel_mix.h"

#include <featvis/util/check.h>
#include <featvis/util/cpu_features.h>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

namespace featvis::render::param::detail {
namespace {

Matrix3 transposed(const Matrix3& m) { return {m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]}; }

// Pixels [begin, end) of one item: out_i = k_i0 a_0 + k_i1 a_1 + k_i2 a_2, added left to
// right, with a_j = (r, g, b)_j, or with kThroughSigmoid a_j = (r, g, b)_j * (1 - s_j) * s_j
// (ATen's sigmoid_backward of the gradient r, g, b at the sigmoid's output s): the
// sigmoid's backward and the transposed mix in one pass.
// The pointers as parameters, so that the compiler may take them as not aliased and
// vectorize (as locals inside the parallel lambda it did not: one pixel at a time).
template <typename T, bool kThroughSigmoid>
inline __attribute__((always_inline)) void mix_range(const T* __restrict__ r, const T* __restrict__ g,
                                                     const T* __restrict__ b, const T* __restrict__ s0,
                                                     const T* __restrict__ s1, const T* __restrict__ s2,
                                                     T* __restrict__ o0, T* __restrict__ o1, T* __restrict__ o2,
                                                     const T* k, int64_t begin, int64_t end) {
  const T k0 = k[0], k1 = k[1], k2 = k[2], k3 = k[3], k4 = k[4], k5 = k[5], k6 = k[6], k7 = k[7], k8 = k[8];
  for (int64_t p = begin; p < end; ++p) {
    T a0 = r[p], a1 = g[p], a2 = b[p];
    if constexpr (kThroughSigmoid) {
      a0 = a0 * (1 - s0[p]) * s0[p];
      a1 = a1 * (1 - s1[p]) * s1[p];
      a2 = a2 * (1 - s2[p]) * s2[p];
    }
    o0[p] = k0 * a0 + k1 * a1 + k2 * a2;
    o1[p] = k3 * a0 + k4 * a1 + k5 * a2;
    o2[p] = k6 * a0 + k7 * a1 + k8 * a2;
  }
}

#if FEATVIS_X86_TARGETS
// Twice the width of baseline x86-64; AVX2 alone, no fused multiply-adds, so the same bits.
template <typename T, bool kThroughSigmoid>
__attribute__((target("avx2"))) void mix_range_avx2(const T* r, const T* g, const T* b, const T* s0, const T* s1,
                                                    const T* s2, T* o0, T* o1, T* o2, const T* k, int64_t begin,
                                                    int64_t end) {
  mix_range<T, kThroughSigmoid>(r, g, b, s0, s1, s2, o0, o1, o2, k, begin, end);
}
#endif

// The mix of `t` by `m` on the CPU; with `sigmoid_out` (the sigmoid's output, `t` its
// gradient) the mix of the gradient behind the sigmoid.
template <bool kThroughSigmoid>
at::Tensor mix_cpu(const at::Tensor& t, const Matrix3& m, const at::Tensor& sigmoid_out = {}) {
  const at::Tensor x = t.contiguous();
  const at::Tensor s = kThroughSigmoid ? sigmoid_out.to(x.scalar_type()).contiguous() : x;
  at::Tensor out = at::empty_like(x, at::MemoryFormat::Contiguous);
  const int64_t items = x.size(0), pixels = x.size(2) * x.size(3);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "mix_channels", [&] {
    scalar_t k[9];
    for (int i = 0; i < 9; ++i) k[i] = static_cast<scalar_t>(m[static_cast<size_t>(i)]);
    for (int64_t n = 0; n < items; ++n) {
      const scalar_t* a = x.data_ptr<scalar_t>() + n * 3 * pixels;
      const scalar_t* q = s.data_ptr<scalar_t>() + n * 3 * pixels;
      scalar_t* o = out.data_ptr<scalar_t>() + n * 3 * pixels;
      // Each pixel is computed alone, so the result does not depend on the thread count.
      at::parallel_for(0, pixels, 16384, [&](int64_t begin, int64_t end) {
#if FEATVIS_X86_TARGETS
        if (cpu_has_avx2())
          return mix_range_avx2<scalar_t, kThroughSigmoid>(a, a + pixels, a + 2 * pixels, q, q + pixels, q + 2 * pixels,
                                                           o, o + pixels, o + 2 * pixels, k, begin, end);
#endif
        mix_range<scalar_t, kThroughSigmoid>(a, a + pixels, a + 2 * pixels, q, q + pixels, q + 2 * pixels, o,
                                             o + pixels, o + 2 * pixels, k, begin, end);
      });
    }
  });
  return out;
}

std::vector<double> saved(const Matrix3& m) { return std::vector<double>(m.begin(), m.end()); }

Matrix3 saved_matrix(torch::autograd::AutogradContext* ctx) {
  const std::vector<double> v = ctx->saved_data["m"].toDoubleVector();
  Matrix3 m;
  std::copy(v.begin(), v.end(), m.begin());
  return m;
}

class MixChannels : public torch::autograd::Function<MixChannels> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& t, const Matrix3& m) {
    ctx->saved_data["m"] = saved(m);
    if (t.device().is_cpu()) return mix_cpu<false>(t, m);
    const at::Tensor matrix = at::tensor(saved(m), at::kDouble).view({3, 3});
    return at::einsum("ij,njhw->nihw", {matrix.to(t.options()), t});
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor()};
    return {MixChannels::apply(grads[0], transposed(saved_matrix(ctx))), at::Tensor()};
  }
};

// sigmoid(mix) on the CPU: the mix, then ATen's sigmoid in place on its output (its bits);
// the backward reads the output once for the sigmoid's derivative and the transposed mix.
// Its backward is not differentiable again.
class MixChannelsSigmoid : public torch::autograd::Function<MixChannelsSigmoid> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& t, const Matrix3& m) {
    ctx->saved_data["m"] = saved(m);
    at::Tensor out = mix_cpu<false>(t, m);
    at::sigmoid_(out);
    ctx->save_for_backward({out});
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor()};
    return {mix_cpu<true>(grads[0], transposed(saved_matrix(ctx)), ctx->get_saved_variables()[0]), at::Tensor()};
  }
};

}  // namespace

at::Tensor mix_channels(const at::Tensor& t, const Matrix3& m) {
  FEATVIS_CHECK(t.dim() == 4 && t.size(1) == 3, "colour transforms expect an [N,3,H,W] tensor, got ", t.sizes());
  return MixChannels::apply(t, m);
}

at::Tensor mix_channels_sigmoid(const at::Tensor& t, const Matrix3& m) {
  FEATVIS_CHECK(t.dim() == 4 && t.size(1) == 3, "colour transforms expect an [N,3,H,W] tensor, got ", t.sizes());
  if (t.device().is_cpu()) return MixChannelsSigmoid::apply(t, m);
  return at::sigmoid(MixChannels::apply(t, m));
}

}  // namespace featvis::render::param::detail
