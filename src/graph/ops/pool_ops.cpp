// Pooling. Symmetric padding maps straight onto ATen's pools (same ceil_mode and
// count_include_pad semantics as PyTorch's exporter); asymmetric padding is applied
// explicitly first (-inf for max, zeros plus a coverage mask for average).
#include "op_util.h"

#include <limits>

namespace featvis::graph {
namespace {

struct PoolParams {
  std::vector<int64_t> kernel, strides, dilations;
  ops::SpatialPads pads;
  bool ceil_mode;
};

PoolParams pool_params(const Node& n, const at::Tensor& x) {
  PoolParams p;
  p.kernel = n.attributes.get_ints("kernel_shape", {});
  if (p.kernel.empty()) ops::fail(n, "kernel_shape is required");
  const size_t spatial = p.kernel.size();
  if (static_cast<size_t>(x.dim()) != spatial + 2) ops::fail(n, "input rank does not match kernel_shape");
  if (spatial < 1 || spatial > 3) ops::fail(n, "only 1-D, 2-D and 3-D pooling is supported");
  p.strides = n.attributes.get_ints("strides", std::vector<int64_t>(spatial, 1));
  p.dilations = n.attributes.get_ints("dilations", std::vector<int64_t>(spatial, 1));
  std::vector<int64_t> extent(spatial);
  for (size_t i = 0; i < spatial; ++i) extent[i] = (p.kernel[i] - 1) * p.dilations[i] + 1;
  p.pads = ops::spatial_pads(n, x, extent, p.strides);
  p.ceil_mode = n.attributes.get_int("ceil_mode", 0) != 0;
  return p;
}

// ATen requires pad <= kernel/2; larger or uneven padding goes in explicitly.
bool aten_can_pad(const PoolParams& p) {
  if (!p.pads.symmetric()) return false;
  for (size_t i = 0; i < p.kernel.size(); ++i)
    if (p.pads.begin[i] * 2 > p.kernel[i]) return false;
  return true;
}

at::Tensor max_pool(const at::Tensor& x, const PoolParams& p, std::vector<int64_t> pad) {
  switch (p.kernel.size()) {
    case 1: return at::max_pool1d(x, p.kernel, p.strides, pad, p.dilations, p.ceil_mode);
    case 2: return at::max_pool2d(x, p.kernel, p.strides, pad, p.dilations, p.ceil_mode);
    default: return at::max_pool3d(x, p.kernel, p.strides, pad, p.dilations, p.ceil_mode);
  }
}

at::Tensor avg_pool(const at::Tensor& x, const PoolParams& p, std::vector<int64_t> pad,
                    bool count_include_pad) {
  switch (p.kernel.size()) {
    case 1: return at::avg_pool1d(x, p.kernel, p.strides, pad, p.ceil_mode, count_include_pad);
    case 2: return at::avg_pool2d(x, p.kernel, p.strides, pad, p.ceil_mode, count_include_pad);
    default: return at::avg_pool3d(x, p.kernel, p.strides, pad, p.ceil_mode, count_include_pad);
  }
}

std::vector<int64_t> zeros(size_t n) { return std::vector<int64_t>(n, 0); }

}  // namespace

void register_pool_ops() {
  register_op("MaxPool", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = ops::arg(n, in, 0);
    const PoolParams p = pool_params(n, x);
    if (aten_can_pad(p)) return ops::one(max_pool(x, p, p.pads.begin));
    at::Tensor padded = at::constant_pad_nd(x, ops::torch_pad_order(p.pads),
                                            -std::numeric_limits<double>::infinity());
    return ops::one(max_pool(padded, p, zeros(p.kernel.size())));
  });
  register_op("AveragePool", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = ops::arg(n, in, 0);
    const PoolParams p = pool_params(n, x);
    for (int64_t d : p.dilations)
      if (d != 1) ops::fail(n, "dilated average pooling is not supported");
    const bool include_pad = n.attributes.get_int("count_include_pad", 0) != 0;
    if (aten_can_pad(p)) return ops::one(avg_pool(x, p, p.pads.begin, include_pad));
    const auto order = ops::torch_pad_order(p.pads);
    at::Tensor summed = avg_pool(at::constant_pad_nd(x, order, 0), p, zeros(p.kernel.size()), true);
    if (include_pad) return ops::one(summed);
    // Divide by the share of each window that covers real input, not padding.
    std::vector<int64_t> shape(x.dim(), 1);
    for (int64_t d = 2; d < x.dim(); ++d) shape[d] = x.size(d);
    at::Tensor mask = at::constant_pad_nd(at::ones(shape, x.options()), order, 0);
    at::Tensor coverage = avg_pool(mask, p, zeros(p.kernel.size()), true);
    return ops::one(summed / coverage);
  });
  register_op("GlobalAveragePool", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = ops::arg(n, in, 0);
    std::vector<int64_t> dims;
    for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
    return ops::one(x.mean(dims, /*keepdim=*/true));
  });
  register_op("GlobalMaxPool", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = ops::arg(n, in, 0);
    std::vector<int64_t> dims;
    for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
    return ops::one(at::amax(x, dims, /*keepdim=*/true));
  });
}

}  // namespace featvis::graph
