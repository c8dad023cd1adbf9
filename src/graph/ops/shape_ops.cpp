// Ops that move data around without arithmetic (plus reductions and casts). Shape
// tensors are small int64 CPU tensors; their values are read eagerly.
#include "op_util.h"

#include <algorithm>
#include <limits>

namespace featvis::graph {
namespace {

using ops::arg;
using ops::one;
using ops::opt;
using ops::to_ints;

// Axes come from an attribute before `input_opset` and from input `index` after.
std::vector<int64_t> axes_of(const Node& n, const OpInputs& in, size_t index, int64_t input_opset) {
  if (n.opset >= input_opset) return opt(in, index).defined() ? to_ints(in[index]) : std::vector<int64_t>{};
  return n.attributes.get_ints("axes", {});
}

at::ScalarType onnx_dtype(const Node& n, int64_t type) {
  switch (type) {
    case 1: return at::kFloat;
    case 2: return at::kByte;
    case 3: return at::kChar;
    case 5: return at::kShort;
    case 6: return at::kInt;
    case 7: return at::kLong;
    case 9: return at::kBool;
    case 10: return at::kHalf;
    case 11: return at::kDouble;
    default: ops::fail(n, "unsupported element type " + std::to_string(type));
  }
}

at::Tensor slice_axis(const at::Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  const int64_t size = x.size(dim);
  if (step > 0) {
    start = start < 0 ? std::max<int64_t>(start + size, 0) : std::min(start, size);
    end = end < 0 ? std::max<int64_t>(end + size, 0) : std::min(end, size);
    return x.slice(dim, start, std::max(start, end), step);
  }
  // Negative step: clamp as ONNX says, then gather the indices explicitly.
  start = start < 0 ? std::max<int64_t>(start + size, -1) : std::min(start, size - 1);
  end = end < 0 ? std::max<int64_t>(end + size, -1) : std::min(end, size - 1);
  std::vector<int64_t> idx;
  for (int64_t i = start; i > end; i += step) idx.push_back(i);
  return x.index_select(dim, at::tensor(idx, at::kLong).to(x.device()));
}

std::vector<int64_t> reduce_dims(const Node& n, const at::Tensor& x, std::vector<int64_t> axes) {
  if (axes.empty()) {
    for (int64_t d = 0; d < x.dim(); ++d) axes.push_back(d);
  }
  for (auto& a : axes) a = ops::normalize_axis(a, x.dim(), n);
  return axes;
}

}  // namespace

void register_shape_ops() {
  auto identity = [](const Node& n, const OpInputs& in) { return one(arg(n, in, 0)); };
  register_op("Identity", identity);
  register_op("Dropout", [](const Node& n, const OpInputs& in) {
    // Inference: the data passes unchanged; the optional mask is all true, and made
    // only when the model names it (it is as large as the activation).
    const at::Tensor& x = arg(n, in, 0);
    if (n.outputs.size() < 2 || n.outputs[1].empty()) return one(x);
    return std::vector<at::Tensor>{x, at::ones(x.sizes(), x.options().dtype(at::kBool))};
  });
  register_op("Constant", [](const Node& n, const OpInputs&) {
    const auto& a = n.attributes;
    if (a.has("value")) return one(a.get_tensor("value"));
    if (a.has("value_float")) return one(at::scalar_tensor(a.get_float("value_float", 0), at::kFloat));
    if (a.has("value_int")) return one(at::scalar_tensor(a.get_int("value_int", 0), at::kLong));
    if (a.has("value_floats")) return one(at::tensor(a.get_floats("value_floats"), at::kFloat));
    if (a.has("value_ints")) return one(at::tensor(a.get_ints("value_ints"), at::kLong));
    ops::fail(n, "no supported value attribute");
  });
  register_op("ConstantOfShape", [](const Node& n, const OpInputs& in) {
    at::Tensor value = n.attributes.has("value") ? n.attributes.get_tensor("value")
                                                 : at::zeros({1}, at::kFloat);
    return one(at::full(to_ints(arg(n, in, 0)), value.reshape({-1})[0].item(), value.options()));
  });
  register_op("Shape", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    std::vector<int64_t> sizes(x.sizes().begin(), x.sizes().end());
    const int64_t rank = x.dim();
    int64_t start = n.attributes.get_int("start", 0), end = n.attributes.get_int("end", rank);
    start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
    end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
    return one(at::tensor(std::vector<int64_t>(sizes.begin() + start, sizes.begin() + std::max(start, end)), at::kLong));
  });
  register_op("Cast", [](const Node& n, const OpInputs& in) {
    return one(arg(n, in, 0).to(onnx_dtype(n, n.attributes.get_int("to", 1))));
  });
  register_op("Flatten", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    int64_t axis = n.attributes.get_int("axis", 1);
    if (axis < 0) axis += x.dim();
    if (axis < 0 || axis > x.dim()) ops::fail(n, "axis out of range");
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.size(d);
    return one(x.reshape({outer, outer == 0 ? 0 : x.numel() / std::max<int64_t>(outer, 1)}));
  });
  register_op("Reshape", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    std::vector<int64_t> shape = to_ints(arg(n, in, 1));
    const bool allow_zero = n.attributes.get_int("allowzero", 0) != 0;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == 0 && !allow_zero) {
        if (static_cast<int64_t>(i) >= x.dim()) ops::fail(n, "0 in shape beyond the input rank");
        shape[i] = x.size(static_cast<int64_t>(i));
      }
    }
    return one(x.reshape(shape));
  });
  register_op("Transpose", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    std::vector<int64_t> perm = n.attributes.get_ints("perm", {});
    if (perm.empty())
      for (int64_t d = x.dim() - 1; d >= 0; --d) perm.push_back(d);
    return one(x.permute(perm));
  });
  register_op("Squeeze", [](const Node& n, const OpInputs& in) {
    at::Tensor x = arg(n, in, 0);
    std::vector<int64_t> axes = axes_of(n, in, 1, 13);
    if (axes.empty()) return one(x.squeeze());
    for (auto& a : axes) a = ops::normalize_axis(a, x.dim(), n);
    std::sort(axes.rbegin(), axes.rend());
    for (int64_t a : axes) x = x.squeeze(a);
    return one(x);
  });
  register_op("Unsqueeze", [](const Node& n, const OpInputs& in) {
    at::Tensor x = arg(n, in, 0);
    std::vector<int64_t> axes = axes_of(n, in, 1, 13);
    const int64_t out_rank = x.dim() + static_cast<int64_t>(axes.size());
    for (auto& a : axes) a = ops::normalize_axis(a, out_rank, n);
    std::sort(axes.begin(), axes.end());
    for (int64_t a : axes) x = x.unsqueeze(a);
    return one(x);
  });
  register_op("Concat", [](const Node& n, const OpInputs& in) {
    std::vector<at::Tensor> parts;
    for (const auto& t : in)
      if (t.defined()) parts.push_back(t);
    if (parts.empty()) ops::fail(n, "no inputs");
    const int64_t axis = ops::normalize_axis(n.attributes.get_int("axis", 0), parts[0].dim(), n);
    return one(at::cat(parts, axis));
  });
  register_op("Split", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    const int64_t axis = ops::normalize_axis(n.attributes.get_int("axis", 0), x.dim(), n);
    std::vector<int64_t> split = n.opset >= 13 ? (opt(in, 1).defined() ? to_ints(in[1]) : std::vector<int64_t>{})
                                               : n.attributes.get_ints("split", {});
    const auto outputs = static_cast<int64_t>(n.outputs.size());
    if (split.empty()) {
      const int64_t each = (x.size(axis) + outputs - 1) / outputs;
      return at::split(x, each, axis);
    }
    return at::split_with_sizes(x, split, axis);
  });
  register_op("Slice", [](const Node& n, const OpInputs& in) {
    at::Tensor x = arg(n, in, 0);
    std::vector<int64_t> starts, ends, axes, steps;
    if (n.opset >= 10) {
      starts = to_ints(arg(n, in, 1));
      ends = to_ints(arg(n, in, 2));
      if (opt(in, 3).defined()) axes = to_ints(in[3]);
      if (opt(in, 4).defined()) steps = to_ints(in[4]);
    } else {
      starts = n.attributes.get_ints("starts", {});
      ends = n.attributes.get_ints("ends", {});
      axes = n.attributes.get_ints("axes", {});
    }
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
      ops::fail(n, "starts, ends, axes and steps differ in length");
    for (size_t i = 0; i < starts.size(); ++i) {
      if (steps[i] == 0) ops::fail(n, "step 0");
      x = slice_axis(x, ops::normalize_axis(axes[i], x.dim(), n), starts[i], ends[i], steps[i]);
    }
    return one(x);
  });
  register_op("Pad", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    std::vector<int64_t> pads;
    double value = 0.0;
    if (n.opset >= 11) {
      pads = to_ints(arg(n, in, 1));
      if (opt(in, 2).defined() && in[2].numel() > 0) value = in[2].reshape({-1})[0].item<double>();
    } else {
      pads = n.attributes.get_ints("pads", {});
      value = n.attributes.get_float("value", 0.0f);
    }
    const int64_t rank = x.dim();
    if (static_cast<int64_t>(pads.size()) != 2 * rank) ops::fail(n, "pads must have 2*rank values");
    std::vector<int64_t> order;  // last dim first, (begin, end) each
    for (int64_t d = rank - 1; d >= 0; --d) {
      order.push_back(pads[d]);
      order.push_back(pads[d + rank]);
    }
    const std::string mode = n.attributes.get_string("mode", "constant");
    if (mode == "constant") return one(at::constant_pad_nd(x, order, value));
    // reflect / edge: ATen pads only trailing spatial dims.
    if (pads[0] || pads[1] || pads[rank] || pads[rank + 1])
      ops::fail(n, mode + " padding of batch or channel dims is not supported");
    order.resize(2 * (rank - 2));
    const bool reflect = mode == "reflect";
    if (!reflect && mode != "edge") ops::fail(n, "unknown mode '" + mode + "'");
    switch (rank - 2) {
      case 1: return one(reflect ? at::reflection_pad1d(x, order) : at::replication_pad1d(x, order));
      case 2: return one(reflect ? at::reflection_pad2d(x, order) : at::replication_pad2d(x, order));
      case 3: return one(reflect ? at::reflection_pad3d(x, order) : at::replication_pad3d(x, order));
      default: ops::fail(n, mode + " padding needs 1 to 3 spatial dims");
    }
  });
  register_op("Gather", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    at::Tensor idx = arg(n, in, 1).to(at::kLong);
    const int64_t axis = ops::normalize_axis(n.attributes.get_int("axis", 0), x.dim(), n);
    idx = at::where(idx < 0, idx + x.size(axis), idx).to(x.device());
    if (idx.dim() == 0) return one(x.select(axis, idx.item<int64_t>()));
    at::Tensor flat = x.index_select(axis, idx.reshape({-1}));
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
    shape.insert(shape.end(), idx.sizes().begin(), idx.sizes().end());
    shape.insert(shape.end(), x.sizes().begin() + axis + 1, x.sizes().end());
    return one(flat.reshape(shape));
  });
  // Range: start, start + delta, ... up to (not including) limit; the inputs' type.
  register_op("Range", [](const Node& n, const OpInputs& in) {
    const at::Tensor start = arg(n, in, 0).cpu(), limit = arg(n, in, 1).cpu(), delta = arg(n, in, 2).cpu();
    if ((delta == 0).all().item<bool>()) ops::fail(n, "delta is 0");
    const auto options = at::TensorOptions().dtype(start.scalar_type());
    if (at::isFloatingType(start.scalar_type()))
      return one(at::arange(start.item<double>(), limit.item<double>(), delta.item<double>(), options));
    return one(at::arange(start.item<int64_t>(), limit.item<int64_t>(), delta.item<int64_t>(), options));
  });
  // ScatterND: a copy of data with updates written at the index tuples in the last axis of
  // `indices` (reduction "add" sums them in; opset 16+). Out-of-place, so differentiable.
  register_op("ScatterND", [](const Node& n, const OpInputs& in) {
    const at::Tensor& data = arg(n, in, 0);
    const at::Tensor indices = arg(n, in, 1).to(data.device(), at::kLong);
    const at::Tensor& updates = arg(n, in, 2);
    const std::string reduction = n.attributes.get_string("reduction", "none");
    if (reduction != "none" && reduction != "add") ops::fail(n, "reduction '" + reduction + "' is not supported");
    const int64_t k = indices.size(-1);
    if (k > data.dim()) ops::fail(n, "index tuples longer than the data's rank");
    c10::List<c10::optional<at::Tensor>> index;
    for (int64_t i = 0; i < k; ++i) {
      const at::Tensor idx = indices.select(-1, i);
      index.push_back(at::where(idx < 0, idx + data.size(i), idx));
    }
    return one(at::index_put(data, index, updates.to(data.scalar_type()), reduction == "add"));
  });
  register_op("Expand", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    const auto shape = at::infer_size(x.sizes(), to_ints(arg(n, in, 1)));
    return one(x.expand(shape));
  });
  register_op("ReduceMean", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    const bool keep = n.attributes.get_int("keepdims", 1) != 0;
    return one(x.mean(reduce_dims(n, x, axes_of(n, in, 1, 18)), keep));
  });
  register_op("ReduceSum", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    const bool keep = n.attributes.get_int("keepdims", 1) != 0;
    return one(x.sum(reduce_dims(n, x, axes_of(n, in, 1, 13)), keep));
  });
  // ReduceL2: sqrt of the sum of squares (swin_v2's F.normalize of queries and keys);
  // PyTorch's own norm kernel, whose gradient at a zero norm is 0, as torch's is.
  register_op("ReduceL2", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    const bool keep = n.attributes.get_int("keepdims", 1) != 0;
    return one(at::linalg_vector_norm(x, 2, reduce_dims(n, x, axes_of(n, in, 1, 18)), keep));
  });
  register_op("ReduceMax", [](const Node& n, const OpInputs& in) {
    const at::Tensor& x = arg(n, in, 0);
    const bool keep = n.attributes.get_int("keepdims", 1) != 0;
    return one(at::amax(x, reduce_dims(n, x, axes_of(n, in, 1, 18)), keep));
  });
}

}  // namespace featvis::graph
