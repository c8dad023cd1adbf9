// Inference-time normalization: BatchNormalization with running statistics, LRN.
#include "op_util.h"

namespace featvis::graph {

void register_normalization_ops() {
  register_op("BatchNormalization", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = ops::arg(n, in, 0);
    const float eps = n.attributes.get_float("epsilon", 1e-5f);
    return ops::one(at::batch_norm(x, ops::arg(n, in, 1), ops::arg(n, in, 2), ops::arg(n, in, 3),
                                   ops::arg(n, in, 4), /*training=*/false, 0.0, eps,
                                   /*cudnn_enabled=*/true));
  });
  // LayerNormalization (opset 17): normalized over the dims from `axis` on; Scale and B
  // have those dims' shape. Only Y is produced (Mean and InvStdDev are training outputs).
  register_op("LayerNormalization", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = ops::arg(n, in, 0);
    const int64_t axis = ops::normalize_axis(n.attributes.get_int("axis", -1), x.dim(), n);
    const std::vector<int64_t> shape(x.sizes().begin() + axis, x.sizes().end());
    const float eps = n.attributes.get_float("epsilon", 1e-5f);
    const at::Tensor scale = ops::arg(n, in, 1).expand(shape), bias = ops::opt(in, 2);
    return ops::one(at::layer_norm(x, shape, scale, bias.defined() ? bias.expand(shape) : bias, eps));
  });
  // y = x / (bias + alpha/size * sum of x^2 over a window of `size` channels)^beta,
  // window from c - floor((size-1)/2) to c + ceil((size-1)/2).
  register_op("LRN", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = ops::arg(n, in, 0);
    const int64_t size = n.attributes.get_int("size", 0);
    if (size <= 0) ops::fail(n, "size must be positive");
    const float alpha = n.attributes.get_float("alpha", 1e-4f);
    const float beta = n.attributes.get_float("beta", 0.75f);
    const float bias = n.attributes.get_float("bias", 1.0f);
    if (x.dim() < 3) ops::fail(n, "input must have channels and spatial dims");
    const int64_t before = (size - 1) / 2, after = size - 1 - before;
    // [N, 1, C, rest] so that a 2-D average pool slides along channels only.
    at::Tensor sq = x.pow(2).reshape({x.size(0), 1, x.size(1), -1});
    sq = at::constant_pad_nd(sq, {0, 0, before, after}, 0);
    at::Tensor sum = at::avg_pool2d(sq, {size, 1}, {1, 1}) * static_cast<double>(size);
    at::Tensor denom = (sum.reshape(x.sizes()) * (alpha / size) + bias).pow(beta);
    return ops::one(x / denom);
  });
}

}  // namespace featvis::graph
