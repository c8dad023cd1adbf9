#pragma once
// Small helpers shared by the op implementations.
#include <featvis/graph/op_registry.h>
#include <featvis/util/error.h>

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace featvis::graph::ops {

// Input i, which must be present.
inline const at::Tensor& arg(const Node& node, const OpInputs& in, size_t i) {
  if (i >= in.size() || !in[i].defined()) {
    throw Error(node.op_type + " node '" + node.name + "' is missing its input #" +
                std::to_string(i));
  }
  return in[i];
}

// Optional input i (undefined tensor when absent).
inline at::Tensor opt(const OpInputs& in, size_t i) {
  return i < in.size() ? in[i] : at::Tensor();
}

// A small integer tensor (shapes, axes, pads) as a std::vector.
inline std::vector<int64_t> to_ints(const at::Tensor& t) {
  at::Tensor c = t.to(at::kCPU, at::kLong).contiguous().reshape({-1});
  const int64_t* p = c.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + c.numel());
}

inline int64_t normalize_axis(int64_t axis, int64_t rank, const Node& node) {
  if (axis < -rank || axis >= rank) {
    throw Error(node.op_type + " node '" + node.name + "': axis " + std::to_string(axis) +
                " out of range for rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

[[noreturn]] inline void fail(const Node& node, const std::string& what) {
  throw Error(node.op_type + " node '" + node.name + "': " + what);
}

// Spatial padding of a conv/pool node as (begin, end) per spatial dim, resolving
// auto_pad. `kernel` is the effective kernel extent ((k-1)*dilation+1) per dim.
struct SpatialPads {
  std::vector<int64_t> begin, end;
  bool symmetric() const { return begin == end; }
};

inline SpatialPads spatial_pads(const Node& node, const at::Tensor& x,
                                const std::vector<int64_t>& kernel,
                                const std::vector<int64_t>& strides) {
  const size_t n = kernel.size();
  SpatialPads p{std::vector<int64_t>(n, 0), std::vector<int64_t>(n, 0)};
  const std::string auto_pad = node.attributes.get_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    auto pads = node.attributes.get_ints("pads", std::vector<int64_t>(2 * n, 0));
    if (pads.size() != 2 * n) fail(node, "pads has " + std::to_string(pads.size()) + " values");
    for (size_t i = 0; i < n; ++i) {
      p.begin[i] = pads[i];
      p.end[i] = pads[i + n];
    }
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (size_t i = 0; i < n; ++i) {
      const int64_t in = x.size(static_cast<int64_t>(i) + 2);
      const int64_t out = (in + strides[i] - 1) / strides[i];
      const int64_t total = std::max<int64_t>((out - 1) * strides[i] + kernel[i] - in, 0);
      const int64_t small = total / 2, large = total - small;
      p.begin[i] = auto_pad == "SAME_UPPER" ? small : large;
      p.end[i] = auto_pad == "SAME_UPPER" ? large : small;
    }
  } else if (auto_pad != "VALID") {
    fail(node, "unknown auto_pad '" + auto_pad + "'");
  }
  return p;
}

// at::constant_pad_nd wants (last-dim begin, last-dim end, previous dim begin, ...).
inline std::vector<int64_t> torch_pad_order(const SpatialPads& p) {
  std::vector<int64_t> out;
  for (size_t i = p.begin.size(); i-- > 0;) {
    out.push_back(p.begin[i]);
    out.push_back(p.end[i]);
  }
  return out;
}

inline std::vector<at::Tensor> one(at::Tensor t) { return {std::move(t)}; }

}  // namespace featvis::graph::ops
