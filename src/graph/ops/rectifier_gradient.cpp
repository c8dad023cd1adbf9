#include "rectifier_gradient.h"

#include <torch/autograd.h>

namespace featvis::graph::ops {
namespace {

class RedirectedClamp : public torch::autograd::Function<RedirectedClamp> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, c10::optional<double> lo,
                            c10::optional<double> hi) {
    ctx->save_for_backward({x});
    ctx->saved_data["lo"] = lo ? c10::IValue(*lo) : c10::IValue();
    ctx->saved_data["hi"] = hi ? c10::IValue(*hi) : c10::IValue();
    return at::clamp(x, lo ? c10::optional<at::Scalar>(*lo) : c10::nullopt,
                     hi ? c10::optional<at::Scalar>(*hi) : c10::nullopt);
  }

  // `grad` is d(loss)/dy of a loss being minimized, so a positive value pushes x down.
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const at::Tensor x = ctx->get_saved_variables()[0];
    const at::Tensor& grad = grads[0];
    at::Tensor inside = at::ones_like(x, at::kBool);
    at::Tensor wrong_way = at::zeros_like(x, at::kBool);  // would move x further out
    if (!ctx->saved_data["lo"].isNone()) {
      const at::Tensor below = x <= ctx->saved_data["lo"].toDouble();
      inside = inside & ~below;
      wrong_way = wrong_way | (below & (grad > 0));
    }
    if (!ctx->saved_data["hi"].isNone()) {
      const at::Tensor above = x >= ctx->saved_data["hi"].toDouble();
      inside = inside & ~above;
      wrong_way = wrong_way | (above & (grad < 0));
    }
    const at::Tensor exact = grad * inside;
    const at::Tensor redirected = grad.masked_fill(wrong_way, 0);
    // Per batch item: the true gradient wherever any of it gets through.
    if (x.dim() == 0) return {exact.ne(0).item<bool>() ? exact : redirected, at::Tensor(), at::Tensor()};
    const at::Tensor alive = exact.reshape({exact.size(0), -1}).ne(0).any(1);
    std::vector<int64_t> shape(x.dim(), 1);
    shape[0] = x.size(0);
    return {at::where(alive.reshape(shape), exact, redirected), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor redirected_clamp(const at::Tensor& x, c10::optional<double> lo, c10::optional<double> hi) {
  return RedirectedClamp::apply(x, lo, hi);
}

at::Tensor guided_output(const at::Tensor& output) {
  // The hook sees the gradient arriving at the op's output, before the op's backward.
  if (output.requires_grad()) output.register_hook([](const at::Tensor& grad) { return grad.clamp_min(0); });
  return output;
}

}  // namespace featvis::graph::ops
