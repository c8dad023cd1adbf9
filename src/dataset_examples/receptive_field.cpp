// Receptive fields by walking the graph back from a tensor to the input. Per axis a
// field is (size, stride, first pixel, feature-map extent); a Conv or pool with
// effective kernel k, stride s and leading pad p maps it to
//   size + (k-1)*stride,  stride*s,  first - p*stride,  (extent + pads - k)/s + 1.
#include <featvis/dataset_examples/receptive_field.h>
#include <featvis/util/error.h>

#include "../graph/ops/op_util.h"

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>

namespace featvis::dataset_examples {
namespace {

struct Field {
  ReceptiveField rf;
  std::array<int64_t, 2> extent{0, 0};  // spatial size of the tensor (for SAME padding)
};

// nullopt: the tensor does not depend on the input pixels (weights, shapes, constants).
using MaybeField = std::optional<Field>;

const std::set<std::string> kPassThrough = {
    "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Neg", "Abs", "Erf", "Reciprocal", "Softplus",
    "HardSwish", "LeakyRelu", "Elu", "PRelu", "HardSigmoid", "Clip", "Identity", "Dropout", "Cast",
    "BatchNormalization", "LRN", "Add", "Sub", "Mul", "Div", "Pow", "Sum", "Max", "Min", "Where",
    "Equal", "Less", "Greater", "Concat"};
// Ops after which positions no longer map to the input grid: every unit sees it all.
const std::set<std::string> kWholeInput = {
    "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Gemm", "MatMul", "Reshape", "Transpose",
    "Squeeze", "Unsqueeze", "ReduceMean", "ReduceSum", "ReduceMax", "Softmax", "LogSoftmax",
    "Gather", "Split", "Expand"};
// Ops whose outputs are shape arithmetic, never pixels.
const std::set<std::string> kConstant = {"Shape", "Constant", "ConstantOfShape"};

class Walker {
 public:
  Walker(const graph::Graph& graph, int64_t height, int64_t width) : graph_(graph), height_(height), width_(width) {}

  MaybeField field(const std::string& tensor) {
    if (auto it = memo_.find(tensor); it != memo_.end()) return it->second;
    MaybeField result;
    const graph::Node* node = graph_.producer(tensor);
    if (!node) {
      if (!graph_.inputs().empty() && graph_.inputs()[0].name == tensor) {
        Field f;
        f.extent = {height_, width_};
        result = f;
      }
    } else {
      result = apply(*node);
    }
    memo_[tensor] = result;
    return result;
  }

 private:
  Field whole() const {
    Field f;
    f.rf.whole_input = true;
    f.rf.size = f.rf.stride = {height_, width_};
    f.extent = {1, 1};
    return f;
  }

  // Union of the fields of several inputs (residual Add, Concat, ...).
  Field merge(const graph::Node& node, const std::vector<Field>& in) const {
    Field out = in[0];
    for (size_t i = 1; i < in.size(); ++i) {
      const Field& f = in[i];
      if (f.rf.whole_input) return whole();
      for (int a = 0; a < 2; ++a) {
        if (f.rf.stride[a] != out.rf.stride[a])
          throw Error("receptive field: inputs of " + node.op_type + " node '" + node.name +
                      "' are at different strides (" + std::to_string(f.rf.stride[a]) + " and " +
                      std::to_string(out.rf.stride[a]) + " pixels)");
        const int64_t lo = std::min(out.rf.first[a], f.rf.first[a]);
        const int64_t hi = std::max(out.rf.first[a] + out.rf.size[a], f.rf.first[a] + f.rf.size[a]);
        out.rf.first[a] = lo;
        out.rf.size[a] = hi - lo;
        out.extent[a] = std::max(out.extent[a], f.extent[a]);
      }
    }
    return out;
  }

  Field window(const graph::Node& node, const Field& in) const {
    const bool conv = node.op_type == "Conv";
    std::vector<int64_t> kernel = node.attributes.get_ints("kernel_shape", {});
    if (kernel.empty() && conv && node.inputs.size() > 1) {
      if (const at::Tensor* w = graph_.has_weight(node.inputs[1]) ? &graph_.weight(node.inputs[1]) : nullptr;
          w && w->dim() == 4)
        kernel = {w->size(2), w->size(3)};
    }
    if (kernel.size() != 2)
      throw Error("receptive field: " + node.op_type + " node '" + node.name + "' is not a 2-D window");
    const auto strides = node.attributes.get_ints("strides", {1, 1});
    const auto dilations = node.attributes.get_ints("dilations", {1, 1});
    const std::vector<int64_t> extent = {(kernel[0] - 1) * dilations[0] + 1, (kernel[1] - 1) * dilations[1] + 1};
    // Only the spatial sizes of the probe matter (SAME padding); meta tensors hold no data.
    const at::Tensor probe = at::empty({1, 1, in.extent[0], in.extent[1]}, at::TensorOptions().device(at::kMeta));
    const graph::ops::SpatialPads pads = graph::ops::spatial_pads(node, probe, extent, strides);
    const bool ceil_mode = !conv && node.attributes.get_int("ceil_mode", 0) != 0;
    Field out = in;
    for (int a = 0; a < 2; ++a) {
      out.rf.size[a] = in.rf.size[a] + (extent[a] - 1) * in.rf.stride[a];
      out.rf.first[a] = in.rf.first[a] - pads.begin[a] * in.rf.stride[a];
      out.rf.stride[a] = in.rf.stride[a] * strides[a];
      const int64_t span = in.extent[a] + pads.begin[a] + pads.end[a] - extent[a];
      out.extent[a] = (ceil_mode ? (span + strides[a] - 1) / strides[a] : span / strides[a]) + 1;
    }
    return out;
  }

  MaybeField apply(const graph::Node& node) {
    std::vector<Field> in;
    for (const auto& name : node.inputs)
      if (!name.empty())
        if (MaybeField f = field(name)) in.push_back(*f);
    if (kConstant.count(node.op_type) || in.empty()) return std::nullopt;
    if (std::any_of(in.begin(), in.end(), [](const Field& f) { return f.rf.whole_input; })) return whole();
    if (kWholeInput.count(node.op_type)) return whole();
    if (node.op_type == "Conv" || node.op_type == "MaxPool" || node.op_type == "AveragePool") {
      return window(node, in[0]);
    }
    if (node.op_type == "Concat") {
      const int64_t axis = node.attributes.get_int("axis", 0);
      if (axis != 1 && axis != -3)
        throw Error("receptive field: Concat node '" + node.name + "' joins along axis " + std::to_string(axis) +
                    ", not channels");
    }
    if (kPassThrough.count(node.op_type)) return merge(node, in);
    throw Error("receptive field: op " + node.op_type + " (node '" + node.name +
                "') has no known effect on positions");
  }

  const graph::Graph& graph_;
  int64_t height_, width_;
  std::unordered_map<std::string, MaybeField> memo_;
};

}  // namespace

std::array<int64_t, 4> ReceptiveField::box(int64_t y, int64_t x, int64_t height, int64_t width) const {
  if (whole_input) return {0, 0, width, height};
  const int64_t y0 = first[0] + y * stride[0], x0 = first[1] + x * stride[1];
  return {std::clamp<int64_t>(x0, 0, width), std::clamp<int64_t>(y0, 0, height),
          std::clamp<int64_t>(x0 + size[1], 0, width), std::clamp<int64_t>(y0 + size[0], 0, height)};
}

ReceptiveField receptive_field(const graph::Graph& graph, const std::string& tensor, int64_t height, int64_t width) {
  graph.require_tensor(tensor);
  Walker walker(graph, height, width);
  const MaybeField f = walker.field(tensor);
  if (!f) throw Error("layer '" + tensor + "' does not depend on the input image");
  return f->rf;
}

}  // namespace featvis::dataset_examples
