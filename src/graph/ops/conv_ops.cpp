// Conv: groups (depthwise), dilation, strides, explicit or automatic padding. Asymmetric
// padding (TensorFlow "SAME" exports: [0,0,1,1]) becomes an explicit pad first.
#include "op_util.h"

namespace featvis::graph {

void register_conv_ops() {
  register_op("Conv", [](const Node& node, const OpInputs& in) {
    const at::Tensor& x = ops::arg(node, in, 0);
    const at::Tensor& w = ops::arg(node, in, 1);
    const at::Tensor b = ops::opt(in, 2);
    const int64_t spatial = w.dim() - 2;
    if (x.dim() != w.dim()) ops::fail(node, "input rank does not match the weights");
    auto kernel = node.attributes.get_ints("kernel_shape", {});
    if (kernel.empty()) kernel = std::vector<int64_t>(w.sizes().begin() + 2, w.sizes().end());
    auto strides = node.attributes.get_ints("strides", std::vector<int64_t>(spatial, 1));
    auto dilations = node.attributes.get_ints("dilations", std::vector<int64_t>(spatial, 1));
    const int64_t groups = node.attributes.get_int("group", 1);
    std::vector<int64_t> extent(spatial);
    for (int64_t i = 0; i < spatial; ++i) extent[i] = (kernel[i] - 1) * dilations[i] + 1;
    const ops::SpatialPads pads = ops::spatial_pads(node, x, extent, strides);
    at::Tensor input = x;
    std::vector<int64_t> padding = pads.begin;
    if (!pads.symmetric()) {
      input = at::constant_pad_nd(x, ops::torch_pad_order(pads), 0);
      padding.assign(spatial, 0);
    }
    if (input.size(1) != w.size(1) * groups) {
      ops::fail(node, "input has " + std::to_string(input.size(1)) + " channels, weights expect " +
                          std::to_string(w.size(1) * groups));
    }
    return ops::one(at::convolution(input, w, b, strides, padding, dilations, false,
                                    std::vector<int64_t>(spatial, 0), groups));
  });
}

}  // namespace featvis::graph
