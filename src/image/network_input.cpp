// The card's scaling runs every render step, forward and backward. As rgb01 * gain - offset
// it was two ATen passes and a temporary forward, a multiply backward, and a copy for BGR;
// on the CPU it is one pass each way here, the BGR flip in the planes' order. Other devices
// keep the ATen expression.
#include <featvis/image/network_input.h>
#include <featvis/util/cpu_features.h>
#include <featvis/util/error.h>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/autograd.h>

namespace featvis::image {
namespace {

// out = in * gain - offset over one plane (kOffset false: in * gain, the backward), the
// products and differences ATen's mul and sub make. The pointers as restrict parameters,
// so that the loop vectorizes.
template <typename T, bool kOffset>
inline __attribute__((always_inline)) void scale_range(const T* __restrict__ in, T* __restrict__ out, T gain,
                                                       T offset, int64_t n) {
  for (int64_t p = 0; p < n; ++p) out[p] = kOffset ? in[p] * gain - offset : in[p] * gain;
}

#if FEATVIS_X86_TARGETS
// Twice the width of baseline x86-64; AVX2 alone, no fused multiply-adds, so the same bits.
template <typename T, bool kOffset>
__attribute__((target("avx2"))) void scale_range_avx2(const T* in, T* out, T gain, T offset, int64_t n) {
  scale_range<T, kOffset>(in, out, gain, offset, n);
}
#endif

// The image's channel c is the network's channel `bgr ? 2 - c : c`. Forward: the image
// `t` scaled into the network's planes; backward (kOffset false, `t` the network input's
// gradient): each image plane the gradient of its network plane times its gain.
template <bool kOffset>
at::Tensor scale_cpu(const at::Tensor& t, const at::Tensor& gain, const at::Tensor& offset, bool bgr) {
  const at::Tensor x = t.contiguous();
  at::Tensor out = at::empty_like(x, at::MemoryFormat::Contiguous);
  const int64_t pixels = x.size(2) * x.size(3);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "network_input", [&] {
    const at::Tensor g = gain.to(x.scalar_type()).contiguous();
    const at::Tensor o = kOffset ? offset.to(x.scalar_type()).contiguous() : g;
    const scalar_t *in = x.data_ptr<scalar_t>(), *gains = g.data_ptr<scalar_t>(), *offsets = o.data_ptr<scalar_t>();
    scalar_t* dst = out.data_ptr<scalar_t>();
    // Each value is computed alone, so the result does not depend on the thread count.
    at::parallel_for(0, x.size(0) * 3, 1, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        const int64_t c = plane % 3, item = plane - c, flipped = item + (bgr ? 2 - c : c);
        const scalar_t* from = in + (kOffset ? plane : flipped) * pixels;
        scalar_t* to = dst + (kOffset ? flipped : plane) * pixels;
#if FEATVIS_X86_TARGETS
        if (cpu_has_avx2()) {
          scale_range_avx2<scalar_t, kOffset>(from, to, gains[c], offsets[c], pixels);
          continue;
        }
#endif
        scale_range<scalar_t, kOffset>(from, to, gains[c], offsets[c], pixels);
      }
    });
  });
  return out;
}

class ScaleChannels : public torch::autograd::Function<ScaleChannels> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& rgb01, const at::Tensor& gain,
                            const at::Tensor& offset, bool bgr) {
    ctx->saved_data["gain"] = gain;
    ctx->saved_data["bgr"] = bgr;
    return scale_cpu<true>(rgb01, gain, offset, bgr);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    const at::Tensor grad =
        scale_cpu<false>(grads[0], ctx->saved_data["gain"].toTensor(), at::Tensor(), ctx->saved_data["bgr"].toBool());
    return {grad, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor network_input(const at::Tensor& rgb01, const model::Preprocessing& pre) {
  if (rgb01.dim() != 4 || rgb01.size(1) != 3) throw Error("network_input expects an [N,3,H,W] image");
  const at::TensorOptions cpu = at::TensorOptions().dtype(at::kFloat);
  const at::Tensor mean = at::tensor({pre.mean[0], pre.mean[1], pre.mean[2]}, cpu);
  const at::Tensor std = at::tensor({pre.std[0], pre.std[1], pre.std[2]}, cpu);
  // One multiply-add: x * (255/std) - mean/std.
  const at::Tensor gain = 255.0 / std, offset = mean / std;
  const auto type = rgb01.scalar_type();
  if (rgb01.device().is_cpu() && (type == at::kFloat || type == at::kDouble))
    return ScaleChannels::apply(rgb01, gain, offset, pre.bgr);
  const auto per_channel = [&](const at::Tensor& v) { return v.view({1, 3, 1, 1}).to(rgb01.options()); };
  const at::Tensor x = rgb01 * per_channel(gain) - per_channel(offset);
  return pre.bgr ? x.flip({1}) : x;
}

}  // namespace featvis::image
