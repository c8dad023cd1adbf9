// The render step's network in oneDNN's blocked layout: see blocked_backprop.h.
//
// How to add an op: give compile() a case that appends a Step (its forward primitive, and
// the backward that turns the gradient of its output into gradients of its inputs), then
// a line in run_forward() and run_backward(); tests/graph/blocked_backprop_test.cpp checks
// every op against Graph::run's ATen path, values and input gradient.
#include <featvis/graph/blocked_backprop.h>
#include <featvis/graph/plane_stats.h>
#include <featvis/graph/relu_gradient.h>
#include <featvis/util/check.h>
#include <featvis/util/error.h>

#include "ops/op_util.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#ifdef FEATVIS_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace featvis::graph {

namespace {
thread_local GradientKernels g_kernels = GradientKernels::kMatchPyTorch;
}

GradientKernels current_gradient_kernels() { return g_kernels; }
GradientKernelsGuard::GradientKernelsGuard(GradientKernels kernels) : previous_(g_kernels) { g_kernels = kernels; }
GradientKernelsGuard::~GradientKernelsGuard() { g_kernels = previous_; }

namespace {
bool blocked_backprop_verbose() {
  const char* v = std::getenv("FEATVIS_BLOCKED_BACKPROP");
  return v && std::string(v) == "verbose";
}
}  // namespace

bool blocked_op(const std::string& op_type) {
  static const std::unordered_set<std::string> ops{"Conv",        "Relu",        "LeakyRelu",        "Clip", "Add",
                                                   "MaxPool",     "AveragePool", "GlobalAveragePool", "Pad"};
  return ops.count(op_type) > 0;
}

bool blocked_backprop_enabled() {
#ifdef FEATVIS_HAVE_DNNL
  static const bool enabled = [] {
    const char* v = std::getenv("FEATVIS_BLOCKED_BACKPROP");
    return !(v && std::string(v) == "0");
  }();
  return enabled;
#else
  return false;
#endif
}

#ifdef FEATVIS_HAVE_DNNL

using dnnl::memory;
using Desc = dnnl::memory::desc;
using Dims = dnnl::memory::dims;

namespace {

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

Desc any_desc(const Dims& dims) { return Desc(dims, memory::data_type::f32, memory::format_tag::any); }
Desc plain_desc(const Dims& dims) { return Desc(dims, memory::data_type::f32, memory::format_tag::nchw); }

// A clamp as oneDNN's eltwise: the forward algorithm and the backward one that reads the
// output. Both backwards pass the gradient where the input was strictly inside the
// bounds (ReLU: above 0), as PyTorch's hardtanh_backward and threshold_backward do.
struct Activation {
  dnnl::algorithm forward = dnnl::algorithm::undef;
  dnnl::algorithm backward = dnnl::algorithm::undef;
  float alpha = 0.f, beta = 0.f;
  bool clamp = false;  // Relu or Clip: the ones Lucid's redirected gradient applies to
  bool present() const { return forward != dnnl::algorithm::undef; }
};

}  // namespace

struct BlockedBackprop::Impl {
  enum class Kind { kConv, kActivation, kAdd, kPool };
  struct Step {
    Kind kind;
    std::vector<int> in;  // value ids
    int out = -1;
    Activation act;       // kActivation, or fused into kConv
    // Forward.
    dnnl::primitive forward;
    std::vector<Desc> src;  // the layouts the forward reads its inputs in
    Desc dst;
    memory weights, bias;
    // Backward.
    dnnl::primitive act_backward;  // on dst's layout
    dnnl::primitive conv_backward;  // or the pooling's backward
    Desc conv_diff_dst, conv_diff_src;
    Desc workspace;  // max pooling: where each maximum came from
    memory backward_weights;
    // kConv reading a few channels (an image's 3): the backward-data as a 1x1 convolution
    // to the C x KH x KW columns (conv_backward, into `columns`), summed into place by
    // col2im. oneDNN computes it in 16-channel blocks, 13 of them padding for an image:
    // 1.1 ms of a 10 ms early render step at 1 thread.
    bool by_columns = false;
    Desc columns;
    struct Window {
      int64_t kh = 1, kw = 1, sy = 1, sx = 1, dy = 1, dx = 1, py = 0, px = 0;
    } window;
    std::string implementation;
  };
  struct Value {
    Dims dims;
    Desc desc;
    bool keep = false;    // read by the backward (an activation's output)
    bool wanted = false;  // handed to the caller
  };
  std::vector<Step> steps;
  std::vector<Value> values;                      // 0 is the graph input
  std::vector<std::pair<std::string, int>> wanted;  // name -> value id
  std::vector<int> last_forward_use;              // value id -> last step that reads it
  std::vector<int> fused_activation;              // value id -> the step taking its statistics, or -1
};

namespace {

using Impl = BlockedBackprop::Impl;

// Whether a 4-D f32 layout holds its channels in one inner block of 8 or 16 (what oneDNN's
// convolutions write): read in place by channel_view, as plain NCHW is.
bool channels_blocked(const Desc& desc) {
  const auto& b = desc.data.format_desc.blocking;
  return desc.data.format_kind == dnnl_blocked && desc.data.ndims == 4 && b.inner_nblks == 1 && b.inner_idxs[0] == 1 &&
         (b.inner_blks[0] == 8 || b.inner_blks[0] == 16);
}

// The scan's recorded convolutions are followed by their ReLU / ReLU6: oneDNN's eltwise
// would read the whole tensor again right after the statistics did (a fifth of the scan's
// primitive time for MobileNetV2). fused[v] = the activation step that reads value v,
// takes v's statistics and writes its own output in the same pass (plane_stats with a
// PlaneActivation), or -1. Only where that is exact: a wanted 4-D value read in place in
// the activation's own layout, and an activation that keeps a zero a zero (the padding
// channels of a blocked layout stay zero, as oneDNN keeps them).
std::vector<int> fused_activations(const Impl& impl) {
  std::vector<int> fused(impl.values.size(), -1);
  std::vector<bool> wanted(impl.values.size(), false);
  for (const auto& w : impl.wanted) wanted[w.second] = true;
  for (size_t s = 0; s < impl.steps.size(); ++s) {
    const Impl::Step& step = impl.steps[s];
    if (step.kind != Impl::Kind::kActivation) continue;
    const int v = step.in[0];
    const Activation& a = step.act;
    const bool zero_stays = a.forward == dnnl::algorithm::eltwise_relu ||
                            (a.forward == dnnl::algorithm::eltwise_clip_v2 && a.alpha <= 0.f && a.beta >= 0.f);
    if (v == 0 || !wanted[v] || fused[v] != -1 || !zero_stays) continue;
    const Desc& d = impl.values[v].desc;
    if (!(step.src[0] == d && step.dst == d) || impl.values[v].dims.size() != 4) continue;
    if (channels_blocked(d) || d == plain_desc(impl.values[v].dims)) fused[v] = static_cast<int>(s);
  }
  return fused;
}

// Input channels up to which a convolution's backward-data runs by columns (Step::by_columns).
constexpr int64_t kFewChannels = 4;

struct Unsupported {
  std::string why;
};

memory in_layout(const memory& m, const Desc& want, dnnl::stream& stream) {
  if (m.get_desc() == want) return m;
  memory out(want, cpu_engine());
  dnnl::reorder(m, out).execute(stream, const_cast<memory&>(m), out);
  return out;
}

// dst = a + b in a's layout (b reordered to it first). A fresh buffer: gradients are
// shared between the two inputs of an Add, so none is ever written in place.
memory sum_of(const memory& a, const memory& b, dnnl::stream& stream) {
  const Desc desc = a.get_desc();
  memory bb = in_layout(b, desc, stream);
  memory out(desc, cpu_engine());
  const dnnl::binary::primitive_desc pd(dnnl::binary::desc(dnnl::algorithm::binary_add, desc, desc, desc), cpu_engine());
  dnnl::binary(pd).execute(stream, {{DNNL_ARG_SRC_0, const_cast<memory&>(a)}, {DNNL_ARG_SRC_1, bb}, {DNNL_ARG_DST, out}});
  return out;
}

memory wrap(const at::Tensor& t, const Desc& desc) { return memory(desc, cpu_engine(), t.data_ptr()); }

memory reordered_weights(const at::Tensor& w, const Desc& plain, const Desc& want) {
  const at::Tensor c = w.to(at::kFloat).contiguous();
  memory out(want, cpu_engine());
  dnnl::stream stream(cpu_engine());
  memory src = wrap(c, plain);
  dnnl::reorder(src, out).execute(stream, src, out);
  stream.wait();
  return out;
}

float scalar_weight(const Graph& graph, const Node& node, size_t i, float absent) {
  if (i >= node.inputs.size() || node.inputs[i].empty()) return absent;
  if (!graph.has_weight(node.inputs[i])) throw Unsupported{node.op_type + " '" + node.name + "' has a computed bound"};
  const at::Tensor& t = graph.weight(node.inputs[i]);
  if (t.numel() != 1) throw Unsupported{node.op_type + " '" + node.name + "' has a bound that is not a scalar"};
  return t.to(at::kFloat).item<float>();
}

// Relu / LeakyRelu / Clip as an Activation, or throws Unsupported.
Activation activation_of(const Graph& graph, const Node& node) {
  Activation a;
  if (node.op_type == "Relu" || node.op_type == "LeakyRelu") {
    a.forward = dnnl::algorithm::eltwise_relu;
    a.backward = dnnl::algorithm::eltwise_relu_use_dst_for_bwd;
    a.alpha = node.op_type == "Relu" ? 0.f : node.attributes.get_float("alpha", 0.01f);
    if (a.alpha < 0.f) throw Unsupported{"LeakyRelu '" + node.name + "' has a negative slope"};
    a.clamp = node.op_type == "Relu";
    return a;
  }
  if (node.op_type == "Clip") {
    float lo, hi;
    if (node.opset < 11) {
      lo = node.attributes.get_float("min", std::numeric_limits<float>::lowest());
      hi = node.attributes.get_float("max", std::numeric_limits<float>::max());
    } else {
      lo = scalar_weight(graph, node, 1, std::numeric_limits<float>::lowest());
      hi = scalar_weight(graph, node, 2, std::numeric_limits<float>::max());
    }
    if (!(lo <= hi)) throw Unsupported{"Clip '" + node.name + "' has min > max"};
    a.forward = dnnl::algorithm::eltwise_clip_v2;
    a.backward = dnnl::algorithm::eltwise_clip_v2_use_dst_for_bwd;
    a.alpha = lo;
    a.beta = hi;
    a.clamp = true;
    return a;
  }
  throw Unsupported{"'" + node.op_type + "' is not an activation"};
}

bool is_activation(const std::string& op) { return op == "Relu" || op == "LeakyRelu" || op == "Clip"; }

// Lucid's redirected gradient at one clamp (graph/relu_gradient.h), after its exact
// backward wrote `diff_src`: for a batch item whose exact gradient there is all zero, the
// gradient arriving at the output instead, but zero where a descent step would push the
// input further out (clamped at the lower bound and positive, at the upper and negative).
// `dst` (the clamp's output) says where the input was clamped. Per batch item: in place
// where the layout holds each item contiguously (oneDNN's f32 layouts do), else through
// plain NCHW. The same as ops::redirected_clamp's backward on the ATen path.
void redirect_dead_items(const Activation& a, const Dims& dims, const memory& dst, const memory& diff_dst,
                         memory& diff_src, dnnl::stream& stream) {
  const Desc desc = dst.get_desc();
  const auto& blocking = desc.data.format_desc.blocking;
  const int64_t items = dims[0], floats = static_cast<int64_t>(desc.get_size() / sizeof(float));
  bool contiguous_items = items == 1 || (desc.data.format_kind == dnnl_blocked && blocking.strides[0] * items == floats);
  for (int i = 0; i < blocking.inner_nblks; ++i) contiguous_items = contiguous_items && blocking.inner_idxs[i] != 0;
  if (!contiguous_items) {
    const Desc plain = plain_desc(dims);
    memory out = in_layout(diff_src, plain, stream);
    redirect_dead_items(a, dims, in_layout(dst, plain, stream), in_layout(diff_dst, plain, stream), out, stream);
    dnnl::reorder(out, diff_src).execute(stream, out, diff_src);
    stream.wait();
    return;
  }
  stream.wait();
  const float lo = a.forward == dnnl::algorithm::eltwise_relu ? 0.f : a.alpha;
  const float hi = a.forward == dnnl::algorithm::eltwise_relu ? std::numeric_limits<float>::infinity() : a.beta;
  const int64_t per_item = floats / items;
  const float* y = static_cast<const float*>(dst.get_data_handle());
  const float* g = static_cast<const float*>(diff_dst.get_data_handle());
  float* out = static_cast<float*>(diff_src.get_data_handle());
  at::parallel_for(0, items, 1, [&](int64_t first, int64_t last) {
    for (int64_t n = first; n < last; ++n) {
      const int64_t begin = n * per_item, end = begin + per_item;
      if (std::any_of(out + begin, out + end, [](float v) { return v != 0.f; })) continue;
      for (int64_t i = begin; i < end; ++i) {
        const bool wrong_way = (y[i] <= lo && g[i] > 0.f) || (y[i] >= hi && g[i] < 0.f);
        out[i] = wrong_way ? 0.f : g[i];
      }
    }
  });
}

// The eltwise backward on `desc`, from the output.
dnnl::primitive activation_backward(const Activation& a, const Desc& desc) {
  const dnnl::eltwise_forward::primitive_desc hint(
      dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, a.backward, desc, a.alpha, a.beta), cpu_engine());
  return dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc(
      dnnl::eltwise_backward::desc(a.backward, desc, desc, a.alpha, a.beta), cpu_engine(), hint));
}

struct PendingPad {
  int source;
  std::vector<int64_t> begin, end;  // spatial, H then W
};

std::unique_ptr<Impl> compile_impl(const Graph& graph, const std::vector<int64_t>& input_shape,
                                   const std::vector<std::string>& wanted) {
  if (graph.inputs().empty()) throw Unsupported{"the model has no input"};
  if (input_shape.size() != 4) throw Unsupported{"the input is not 4-D"};
  const auto& nodes = graph.nodes();
  // The nodes the wanted tensors depend on, in the file's (topological) order.
  std::vector<bool> needed(nodes.size(), false);
  for (size_t i : graph.node_order(wanted)) needed[i] = true;
  std::unordered_map<std::string, int> consumers;  // within the pruned graph, plus wanted
  for (size_t i = 0; i < nodes.size(); ++i)
    if (needed[i])
      for (const auto& in : nodes[i].inputs) ++consumers[in];
  const std::unordered_set<std::string> wanted_set(wanted.begin(), wanted.end());
  for (const auto& w : wanted) ++consumers[w];

  auto impl = std::make_unique<Impl>();
  std::unordered_map<std::string, int> value_of;
  std::unordered_map<std::string, PendingPad> pads;
  const Dims input_dims(input_shape.begin(), input_shape.end());
  impl->values.push_back({input_dims, plain_desc(input_dims), false});
  value_of[graph.inputs()[0].name] = 0;
  auto value = [&](const Node& node, size_t i) -> int {
    if (i >= node.inputs.size() || node.inputs[i].empty())
      throw Unsupported{node.op_type + " '" + node.name + "' lacks input #" + std::to_string(i)};
    if (pads.count(node.inputs[i])) throw Unsupported{"a Pad feeds " + node.op_type + " '" + node.name + "'"};
    auto v = value_of.find(node.inputs[i]);
    if (v == value_of.end())
      throw Unsupported{node.op_type + " '" + node.name + "' reads '" + node.inputs[i] + "', not computed from the input"};
    return v->second;
  };
  auto add_value = [&](const std::string& name, const Desc& desc, const Dims& dims) {
    impl->values.push_back({dims, desc, false});
    value_of[name] = static_cast<int>(impl->values.size()) - 1;
    return value_of[name];
  };
  std::vector<bool> fused(nodes.size(), false);
  std::unordered_map<std::string, size_t> sole_consumer;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (needed[i])
      for (const auto& in : nodes[i].inputs) sole_consumer[in] = i;

  for (size_t index = 0; index < nodes.size(); ++index) {
    if (!needed[index] || fused[index]) continue;
    const Node& node = nodes[index];
    if (node.outputs.size() != 1) throw Unsupported{node.op_type + " '" + node.name + "' has several outputs"};
    const std::string& out_name = node.outputs[0];
    if (node.op_type == "Pad") {
      const int source = value(node, 0);
      std::vector<int64_t> p;
      float fill = 0.f;
      if (node.opset >= 11) {
        if (node.inputs.size() < 2 || !graph.has_weight(node.inputs[1])) throw Unsupported{"Pad '" + node.name + "' has computed pads"};
        p = ops::to_ints(graph.weight(node.inputs[1]));
        if (node.inputs.size() > 2 && !node.inputs[2].empty()) fill = scalar_weight(graph, node, 2, 0.f);
      } else {
        p = node.attributes.get_ints("pads", {});
        fill = node.attributes.get_float("value", 0.f);
      }
      if (node.attributes.get_string("mode", "constant") != "constant" || fill != 0.f || p.size() != 8 || p[0] || p[1] ||
          p[4] || p[5] || p[2] < 0 || p[3] < 0 || p[6] < 0 || p[7] < 0 || wanted_set.count(out_name) ||
          consumers[out_name] != 1 || nodes[sole_consumer[out_name]].op_type != "Conv")
        throw Unsupported{"Pad '" + node.name + "' is not a zero pad of H and W before one Conv"};
      pads[out_name] = PendingPad{source, {p[2], p[3]}, {p[6], p[7]}};
      continue;
    }
    Impl::Step step;
    if (node.op_type == "Conv") {
      // The input, through a zero Pad that becomes part of the padding.
      int source;
      std::vector<int64_t> pad_begin{0, 0}, pad_end{0, 0};
      if (node.inputs.empty()) throw Unsupported{"Conv '" + node.name + "' has no input"};
      auto pending = pads.find(node.inputs[0]);
      if (pending != pads.end()) {
        source = pending->second.source;
        pad_begin = pending->second.begin;
        pad_end = pending->second.end;
        pads.erase(pending);
      } else {
        source = value(node, 0);
      }
      if (node.inputs.size() < 2 || !graph.has_weight(node.inputs[1])) throw Unsupported{"Conv '" + node.name + "' has computed weights"};
      const at::Tensor& w = graph.weight(node.inputs[1]);
      at::Tensor b;
      if (node.inputs.size() > 2 && !node.inputs[2].empty()) {
        if (!graph.has_weight(node.inputs[2])) throw Unsupported{"Conv '" + node.name + "' has a computed bias"};
        b = graph.weight(node.inputs[2]);
      }
      if (w.dim() != 4) throw Unsupported{"Conv '" + node.name + "' is not 2-D"};
      const Dims& in = impl->values[source].dims;
      const int64_t groups = node.attributes.get_int("group", 1);
      if (groups < 1 || in[1] != w.size(1) * groups || w.size(0) % groups)
        throw Unsupported{"Conv '" + node.name + "' has channels that do not match"};
      auto kernel = node.attributes.get_ints("kernel_shape", {w.size(2), w.size(3)});
      const auto strides = node.attributes.get_ints("strides", {1, 1});
      const auto dilations = node.attributes.get_ints("dilations", {1, 1});
      if (kernel.size() != 2 || strides.size() != 2 || dilations.size() != 2 || kernel[0] != w.size(2) ||
          kernel[1] != w.size(3))
        throw Unsupported{"Conv '" + node.name + "' has unexpected attributes"};
      std::vector<int64_t> extent{(kernel[0] - 1) * dilations[0] + 1, (kernel[1] - 1) * dilations[1] + 1};
      const at::Tensor shape_only = at::empty({in[0], in[1], in[2] + pad_begin[0] + pad_end[0], in[3] + pad_begin[1] + pad_end[1]},
                                              at::TensorOptions().device(at::kMeta));
      const ops::SpatialPads conv_pads = ops::spatial_pads(node, shape_only, extent, strides);
      Dims padding_l(2), padding_r(2), out_dims{in[0], w.size(0), 0, 0};
      for (int i = 0; i < 2; ++i) {
        padding_l[i] = pad_begin[i] + conv_pads.begin[i];
        padding_r[i] = pad_end[i] + conv_pads.end[i];
        const int64_t span = in[2 + i] + padding_l[i] + padding_r[i] - extent[i];
        if (span < 0 || strides[i] < 1 || dilations[i] < 1) throw Unsupported{"Conv '" + node.name + "' has an empty output"};
        out_dims[2 + i] = span / strides[i] + 1;
      }
      const Dims stride_dims(strides.begin(), strides.end());
      const Dims dilate_dims{dilations[0] - 1, dilations[1] - 1};  // oneDNN counts the gaps
      const Dims weight_dims = groups == 1 ? Dims{w.size(0), w.size(1), w.size(2), w.size(3)}
                                           : Dims{groups, w.size(0) / groups, w.size(1), w.size(2), w.size(3)};
      const Desc weight_plain(weight_dims, memory::data_type::f32,
                              groups == 1 ? memory::format_tag::oihw : memory::format_tag::goihw);
      // A Relu / Clip / LeakyRelu that alone reads the output runs as the conv's post-op.
      std::string result = out_name;
      if (!wanted_set.count(out_name) && consumers[out_name] == 1 && is_activation(nodes[sole_consumer[out_name]].op_type)) {
        const size_t next = sole_consumer[out_name];
        step.act = activation_of(graph, nodes[next]);
        if (nodes[next].outputs.size() != 1) throw Unsupported{"an activation has several outputs"};
        fused[next] = true;
        result = nodes[next].outputs[0];
      }
      dnnl::primitive_attr attr;
      if (step.act.present()) {
        dnnl::post_ops post;
        post.append_eltwise(1.f, step.act.forward, step.act.alpha, step.act.beta);
        attr.set_post_ops(post);
      }
      const Desc bias_desc = b.defined() ? Desc({w.size(0)}, memory::data_type::f32, memory::format_tag::any) : Desc();
      const dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                               any_desc(in), Desc(weight_dims, memory::data_type::f32, memory::format_tag::any),
                                               bias_desc, any_desc(out_dims), stride_dims, dilate_dims, padding_l, padding_r);
      const dnnl::convolution_forward::primitive_desc fpd(fd, attr, cpu_engine());
      step.kind = Impl::Kind::kConv;
      step.forward = dnnl::convolution_forward(fpd);
      step.implementation = fpd.impl_info_str();
      step.src = {fpd.src_desc()};
      step.dst = fpd.dst_desc();
      step.weights = reordered_weights(w, weight_plain, fpd.weights_desc());
      if (b.defined())
        step.bias = reordered_weights(b, Desc({w.size(0)}, memory::data_type::f32, memory::format_tag::x), fpd.bias_desc());
      if (groups == 1 && in[1] <= kFewChannels) {
        const int64_t k = w.size(1) * w.size(2) * w.size(3);
        const Dims column_weights{k, w.size(0), 1, 1};  // [C*KH*KW, OC]: the weights transposed
        // Read the gradient in the forward output's layout and write the columns in 16-channel
        // blocks: left to choose, oneDNN picks channels-last for both, two reorders more.
        const dnnl::convolution_forward::desc cd(
            dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, fpd.dst_desc(),
            Desc(column_weights, memory::data_type::f32, memory::format_tag::any),
            Desc({out_dims[0], k, out_dims[2], out_dims[3]}, memory::data_type::f32, memory::format_tag::nChw16c),
            Dims{1, 1}, Dims{0, 0}, Dims{0, 0}, Dims{0, 0});
        const dnnl::convolution_forward::primitive_desc cpd(cd, cpu_engine());
        step.by_columns = true;
        step.conv_backward = dnnl::convolution_forward(cpd);
        step.conv_diff_dst = cpd.src_desc();
        step.columns = cpd.dst_desc();
        step.backward_weights = reordered_weights(w.reshape({w.size(0), k}).t().contiguous().view(column_weights),
                                                  Desc(column_weights, memory::data_type::f32, memory::format_tag::oihw),
                                                  cpd.weights_desc());
        step.window = {kernel[0], kernel[1], strides[0], strides[1], dilations[0], dilations[1], padding_l[0], padding_l[1]};
      } else {
        const dnnl::convolution_backward_data::desc bd(dnnl::algorithm::convolution_direct, any_desc(in),
                                                       Desc(weight_dims, memory::data_type::f32, memory::format_tag::any),
                                                       any_desc(out_dims), stride_dims, dilate_dims, padding_l, padding_r);
        const dnnl::convolution_backward_data::primitive_desc bpd(bd, cpu_engine(), fpd);
        step.conv_backward = dnnl::convolution_backward_data(bpd);
        step.conv_diff_dst = bpd.diff_dst_desc();
        step.conv_diff_src = bpd.diff_src_desc();
        step.backward_weights = bpd.weights_desc() == fpd.weights_desc()
                                    ? step.weights
                                    : reordered_weights(w, weight_plain, bpd.weights_desc());
      }
      if (step.act.present()) step.act_backward = activation_backward(step.act, step.dst);
      step.in = {source};
      step.out = add_value(result, step.dst, out_dims);
      impl->values[step.out].keep = step.act.present();
    } else if (is_activation(node.op_type)) {
      const int source = value(node, 0);
      step.kind = Impl::Kind::kActivation;
      step.act = activation_of(graph, node);
      const Desc src = impl->values[source].desc;
      const dnnl::eltwise_forward::primitive_desc fpd(
          dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, step.act.forward, src, step.act.alpha, step.act.beta),
          cpu_engine());
      step.forward = dnnl::eltwise_forward(fpd);
      step.implementation = fpd.impl_info_str();
      step.src = {fpd.src_desc()};
      step.dst = fpd.dst_desc();
      step.act_backward = activation_backward(step.act, step.dst);
      step.in = {source};
      step.out = add_value(out_name, step.dst, impl->values[source].dims);
      impl->values[step.out].keep = true;
    } else if (node.op_type == "Add") {
      const int a = value(node, 0), b = value(node, 1);
      if (impl->values[a].dims != impl->values[b].dims) throw Unsupported{"Add '" + node.name + "' broadcasts"};
      const Desc desc = impl->values[a].desc;
      const dnnl::binary::primitive_desc pd(dnnl::binary::desc(dnnl::algorithm::binary_add, desc, desc, desc), cpu_engine());
      step.kind = Impl::Kind::kAdd;
      step.forward = dnnl::binary(pd);
      step.implementation = pd.impl_info_str();
      step.src = {desc, desc};
      step.dst = pd.dst_desc();
      step.in = {a, b};
      step.out = add_value(out_name, step.dst, impl->values[a].dims);
    } else if (node.op_type == "MaxPool" || node.op_type == "AveragePool" || node.op_type == "GlobalAveragePool") {
      const int source = value(node, 0);
      const Dims& in = impl->values[source].dims;
      const bool global = node.op_type == "GlobalAveragePool", max = node.op_type == "MaxPool";
      const auto kernel = global ? std::vector<int64_t>{in[2], in[3]} : node.attributes.get_ints("kernel_shape", {});
      const auto strides = global ? std::vector<int64_t>{1, 1} : node.attributes.get_ints("strides", {1, 1});
      const auto dilations = node.attributes.get_ints("dilations", {1, 1});
      if (kernel.size() != 2 || strides.size() != 2 || dilations != std::vector<int64_t>{1, 1} ||
          node.attributes.get_int("ceil_mode", 0) != 0 || node.attributes.get_int("storage_order", 0) != 0)
        throw Unsupported{node.op_type + " '" + node.name + "' has attributes the blocked network does not take"};
      const at::Tensor shape_only = at::empty({in[0], in[1], in[2], in[3]}, at::TensorOptions().device(at::kMeta));
      const ops::SpatialPads pads =
          global ? ops::SpatialPads{{0, 0}, {0, 0}} : ops::spatial_pads(node, shape_only, kernel, strides);
      Dims out_dims{in[0], in[1], 0, 0};
      for (int i = 0; i < 2; ++i) {
        const int64_t span = in[2 + i] + pads.begin[i] + pads.end[i] - kernel[i];
        if (span < 0 || strides[i] < 1) throw Unsupported{node.op_type + " '" + node.name + "' has an empty output"};
        out_dims[2 + i] = span / strides[i] + 1;
      }
      const dnnl::algorithm algorithm = max ? dnnl::algorithm::pooling_max
                                        : node.attributes.get_int("count_include_pad", 0) != 0
                                            ? dnnl::algorithm::pooling_avg_include_padding
                                            : dnnl::algorithm::pooling_avg_exclude_padding;
      const Dims k(kernel.begin(), kernel.end()), st(strides.begin(), strides.end());
      const Dims pl(pads.begin.begin(), pads.begin.end()), pr(pads.end.begin(), pads.end.end());
      const dnnl::pooling_forward::primitive_desc fpd(
          dnnl::pooling_forward::desc(dnnl::prop_kind::forward_training, algorithm, impl->values[source].desc,
                                      any_desc(out_dims), st, k, pl, pr),
          cpu_engine());
      step.kind = Impl::Kind::kPool;
      step.forward = dnnl::pooling_forward(fpd);
      step.implementation = fpd.impl_info_str();
      step.src = {fpd.src_desc()};
      step.dst = fpd.dst_desc();
      step.workspace = fpd.workspace_desc();
      const dnnl::pooling_backward::primitive_desc bpd(
          dnnl::pooling_backward::desc(algorithm, any_desc(in), any_desc(out_dims), st, k, pl, pr), cpu_engine(), fpd);
      step.conv_backward = dnnl::pooling_backward(bpd);
      step.conv_diff_dst = bpd.diff_dst_desc();
      step.conv_diff_src = bpd.diff_src_desc();
      step.in = {source};
      step.out = add_value(out_name, step.dst, out_dims);
    } else {
      throw Unsupported{"op '" + node.op_type + "' (node '" + node.name + "')"};
    }
    if (step.implementation.rfind("ref", 0) == 0)  // oneDNN's reference loops: slower than ATen
      throw Unsupported{node.op_type + " '" + node.name + "' would run oneDNN's reference implementation"};
    impl->steps.push_back(std::move(step));
  }
  for (const auto& w : wanted) {
    auto v = value_of.find(w);
    if (v == value_of.end() || v->second == 0) throw Unsupported{"'" + w + "' is not computed by a supported op"};
    impl->wanted.emplace_back(w, v->second);
    impl->values[v->second].wanted = true;
  }
  if (impl->steps.empty()) throw Unsupported{"nothing to compute"};
  impl->last_forward_use.assign(impl->values.size(), -1);
  for (size_t s = 0; s < impl->steps.size(); ++s)
    for (int v : impl->steps[s].in) impl->last_forward_use[v] = static_cast<int>(s);
  impl->fused_activation = fused_activations(*impl);
  return impl;
}

// The forward's buffers, kept for the backward.
struct Run : torch::CustomClassHolder {
  std::shared_ptr<const Impl> impl;
  at::Tensor input;  // the memory of values[0]
  std::vector<memory> values;
  std::vector<memory> workspaces;  // by step: max pooling's, for its backward
  // Set: the wanted tensors are summarized per channel (channel_stats) instead of copied out.
  std::vector<BlockedBackprop::ChannelStats>* stats = nullptr;
  bool redirected = false;  // the ReLU gradient of the forward's thread was kRedirected
};

// A 4-D f32 memory read in place: element (n, c, y, x) at
// base + n*s0 + (c/block)*s1 + y*s2 + x*s3 + c%block. Channels in one inner block of 8 or 16
// (what oneDNN's convolutions write) are read as they are, anything else after a reorder
// to plain NCHW (block 1), kept alive in `source`.
struct ChannelView {
  memory source;
  const float* base = nullptr;
  int64_t block = 1, s0 = 0, s1 = 0, s2 = 0, s3 = 0;
};

ChannelView channel_view(const memory& m, const Dims& dims, dnnl::stream& stream) {
  Desc desc = m.get_desc();
  const bool blocked = channels_blocked(desc);
  ChannelView v;
  v.source = m;
  if (!blocked) {
    desc = plain_desc(dims);
    v.source = in_layout(m, desc, stream);
  }
  stream.wait();
  const auto& b = desc.data.format_desc.blocking;
  v.block = blocked ? b.inner_blks[0] : 1;
  v.base = static_cast<const float*>(v.source.get_data_handle()) + desc.data.offset0;
  v.s0 = b.strides[0];
  v.s1 = b.strides[1];
  v.s2 = b.strides[2];
  v.s3 = b.strides[3];
  return v;
}

// The adjoint of im2col: image[n][c][iy][ix] += columns[n][(c*KH + ky)*KW + kx][oy][ox] with
// iy = oy*sy - py + ky*dy (ix alike) over the taps inside the image. Pixel by pixel, so
// each column value is read once (a pixel's 16 channels are one cache line in nChw16c) and
// added into a small window that stays in cache. A thread owns whole items, so the sums do
// not depend on the thread count.
memory columns_to_image(const memory& columns, const Dims& column_dims, const Impl::Step::Window& win,
                        const Dims& image_dims, dnnl::stream& stream) {
  const ChannelView col = channel_view(columns, column_dims, stream);
  memory image(plain_desc(image_dims), cpu_engine());
  const int64_t n_items = image_dims[0], channels = image_dims[1], h = image_dims[2], w = image_dims[3];
  const int64_t k_count = column_dims[1], out_h = column_dims[2], out_w = column_dims[3], taps = win.kh * win.kw;
  // Per column k: its element's offset in the column memory's pixel, and where it lands
  // relative to the window's top-left corner (iy0, ix0) = (oy*sy - py, ox*sx - px).
  std::vector<int64_t> read(k_count), ky_off(k_count), kx_off(k_count), to(k_count);
  for (int64_t k = 0; k < k_count; ++k) {
    const int64_t c = k / taps, t = k % taps;
    read[k] = (k / col.block) * col.s1 + k % col.block;
    ky_off[k] = (t / win.kw) * win.dy;
    kx_off[k] = (t % win.kw) * win.dx;
    to[k] = c * h * w + ky_off[k] * w + kx_off[k];
  }
  const int64_t span_y = (win.kh - 1) * win.dy, span_x = (win.kw - 1) * win.dx;
  float* out = static_cast<float*>(image.get_data_handle());
  at::parallel_for(0, n_items, 1, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      float* dst = out + n * channels * h * w;
      std::fill(dst, dst + channels * h * w, 0.f);
      for (int64_t oy = 0; oy < out_h; ++oy) {
        const int64_t iy0 = oy * win.sy - win.py;
        const bool rows_inside = iy0 >= 0 && iy0 + span_y < h;
        for (int64_t ox = 0; ox < out_w; ++ox) {
          const int64_t ix0 = ox * win.sx - win.px;
          const float* pixel = col.base + n * col.s0 + oy * col.s2 + ox * col.s3;
          if (rows_inside && ix0 >= 0 && ix0 + span_x < w) {  // most pixels: no checks
            float* corner = dst + iy0 * w + ix0;
            for (int64_t k = 0; k < k_count; ++k) corner[to[k]] += pixel[read[k]];
            continue;
          }
          for (int64_t k = 0; k < k_count; ++k) {
            const int64_t iy = iy0 + ky_off[k], ix = ix0 + kx_off[k];
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) dst[(k / taps) * h * w + iy * w + ix] += pixel[read[k]];
          }
        }
      }
    }
  });
  return image;
}

// Mean, maximum and its position per (item, channel) of a 4-D f32 memory, read in its own
// layout (channel_view). One pass; with `act`, the same pass writes the activation of
// every value to act.out, the base of a memory with m's layout (which must then be one
// channel_view reads in place: fused_activations).
BlockedBackprop::ChannelStats stats_of(const memory& m, const Dims& dims, dnnl::stream& stream,
                                       const PlaneActivation& act = {}) {
  const ChannelView view = channel_view(m, dims, stream);
  FEATVIS_CHECK(!act.out || view.source.get_data_handle() == m.get_data_handle(),
                "a fused activation needs a layout read in place");
  const int64_t block = view.block;
  const int64_t n_items = dims[0], channels = dims[1], height = dims[2], width = dims[3];
  const int64_t blocks = (channels + block - 1) / block;
  const float* base = view.base;
  BlockedBackprop::ChannelStats out;
  out.mean = at::empty({n_items, channels}, at::kFloat);
  out.max = at::empty({n_items, channels}, at::kFloat);
  out.where = at::empty({n_items, channels}, at::kLong);
  float* mean = out.mean.data_ptr<float>();
  float* max = out.max.data_ptr<float>();
  int64_t* where = out.where.data_ptr<int64_t>();
  const int64_t s0 = view.s0, s1 = view.s1, s2 = view.s2, s3 = view.s3;
  const double pixels = static_cast<double>(height * width);
  at::parallel_for(0, n_items * blocks, 1, [&](int64_t begin, int64_t end) {
    double total[16];
    float best[16];
    int64_t at_[16];
    for (int64_t job = begin; job < end; ++job) {
      const int64_t n = job / blocks, cb = job % blocks;
      const float* plane = base + n * s0 + cb * s1;
      PlaneActivation plane_act = act;
      if (act.out) plane_act.out = act.out + (plane - base);
      plane_stats(static_cast<int>(block), plane, height, width, s2, s3, total, best, at_, plane_act);
      const int64_t lanes = std::min(block, channels - cb * block);
      for (int64_t l = 0; l < lanes; ++l) {
        const int64_t k = n * channels + cb * block + l;
        mean[k] = static_cast<float>(total[l] / pixels);
        max[k] = best[l];
        where[k] = at_[l];
      }
    }
  });
  return out;
}

PlaneActivation plane_activation(const Activation& a, float* out) {
  PlaneActivation p;
  p.kind = a.forward == dnnl::algorithm::eltwise_relu ? PlaneActivation::Kind::kRelu : PlaneActivation::Kind::kClip;
  p.alpha = a.alpha;
  p.beta = a.beta;
  p.out = out;
  return p;
}

std::vector<at::Tensor> run_forward(Run& run) {
  RECORD_FUNCTION("featvis::blocked_network_forward", std::vector<c10::IValue>());  // one row in profiles
  const Impl& impl = *run.impl;
  dnnl::stream stream(cpu_engine());
  run.values.assign(impl.values.size(), memory());
  run.workspaces.assign(impl.steps.size(), memory());
  run.values[0] = wrap(run.input, impl.values[0].desc);
  for (size_t s = 0; s < impl.steps.size(); ++s) {
    const Impl::Step& step = impl.steps[s];
    // Only the statistics pass fuses: the dense forward keeps oneDNN's eltwise.
    const bool fuse = run.stats && step.kind == Impl::Kind::kActivation &&
                      impl.fused_activation[step.in[0]] == static_cast<int>(s);
    // A fused activation whose input nothing else reads writes over it.
    const bool in_place = fuse && impl.last_forward_use[step.in[0]] == static_cast<int>(s);
    memory dst = in_place ? run.values[step.in[0]] : memory(step.dst, cpu_engine());
    if (fuse) {
      const memory& src = run.values[step.in[0]];
      const BlockedBackprop::ChannelStats stats =
          stats_of(src, impl.values[step.in[0]].dims, stream,
                   plane_activation(step.act, static_cast<float*>(dst.get_data_handle()) + dst.get_desc().data.offset0));
      for (size_t k = 0; k < impl.wanted.size(); ++k)
        if (impl.wanted[k].second == step.in[0]) (*run.stats)[k] = stats;
    }
    if (!fuse) switch (step.kind) {
      case Impl::Kind::kConv: {
        memory src = in_layout(run.values[step.in[0]], step.src[0], stream);
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src},
                                             {DNNL_ARG_WEIGHTS, step.weights},
                                             {DNNL_ARG_DST, dst}};
        if (step.bias) args[DNNL_ARG_BIAS] = step.bias;
        step.forward.execute(stream, args);
        break;
      }
      case Impl::Kind::kActivation: {
        memory src = in_layout(run.values[step.in[0]], step.src[0], stream);
        step.forward.execute(stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
        break;
      }
      case Impl::Kind::kAdd: {
        memory a = in_layout(run.values[step.in[0]], step.src[0], stream);
        memory b = in_layout(run.values[step.in[1]], step.src[1], stream);
        step.forward.execute(stream, {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_SRC_1, b}, {DNNL_ARG_DST, dst}});
        break;
      }
      case Impl::Kind::kPool: {
        memory src = in_layout(run.values[step.in[0]], step.src[0], stream);
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
        if (step.workspace.get_size() > 0) {
          run.workspaces[s] = memory(step.workspace, cpu_engine());
          args[DNNL_ARG_WORKSPACE] = run.workspaces[s];
        }
        step.forward.execute(stream, args);
        break;
      }
    }
    run.values[step.out] = dst;
    if (run.stats && impl.fused_activation[step.out] == -1)  // summarized now, or by its activation
      for (size_t k = 0; k < impl.wanted.size(); ++k)
        if (impl.wanted[k].second == step.out) (*run.stats)[k] = stats_of(dst, impl.values[step.out].dims, stream);
    // Free what neither a later step, the backward nor the caller reads.
    for (int v : step.in)
      if (v != 0 && impl.last_forward_use[v] == static_cast<int>(s) &&
          (run.stats || (!impl.values[v].keep && !impl.values[v].wanted)))
        run.values[v] = memory();
  }
  std::vector<at::Tensor> outputs;
  if (run.stats) {
    stream.wait();
    run.values.clear();
    return outputs;
  }
  for (const auto& [name, id] : impl.wanted) {
    const Dims& d = impl.values[id].dims;
    at::Tensor t = at::empty({d[0], d[1], d[2], d[3]}, at::kFloat);
    memory dense = wrap(t, plain_desc(d));
    dnnl::reorder(run.values[id], dense).execute(stream, run.values[id], dense);
    outputs.push_back(t);
  }
  stream.wait();
  for (const auto& [name, id] : impl.wanted)
    if (!impl.values[id].keep) run.values[id] = memory();
  return outputs;
}

at::Tensor run_backward(Run& run, const std::vector<at::Tensor>& grads) {
  RECORD_FUNCTION("featvis::blocked_network_backward", std::vector<c10::IValue>());
  const Impl& impl = *run.impl;
  dnnl::stream stream(cpu_engine());
  std::vector<memory> diff(impl.values.size());
  auto accumulate = [&](int id, const memory& m) { diff[id] = diff[id] ? sum_of(diff[id], m, stream) : m; };
  for (size_t k = 0; k < impl.wanted.size(); ++k) {
    if (k >= grads.size() || !grads[k].defined()) continue;
    const int id = impl.wanted[k].second;
    const at::Tensor g = grads[k].to(at::kFloat).contiguous();
    memory dense = wrap(g, plain_desc(impl.values[id].dims));
    memory blocked(impl.values[id].desc, cpu_engine());
    dnnl::reorder(dense, blocked).execute(stream, dense, blocked);
    stream.wait();  // g may be freed when this scope ends
    accumulate(id, blocked);
  }
  for (size_t s = impl.steps.size(); s-- > 0;) {
    const Impl::Step& step = impl.steps[s];
    if (!diff[step.out]) continue;
    memory d = diff[step.out];
    diff[step.out] = memory();
    if (step.act.present()) {
      d = in_layout(d, step.dst, stream);
      memory before(step.dst, cpu_engine());
      step.act_backward.execute(stream, {{DNNL_ARG_DST, run.values[step.out]}, {DNNL_ARG_DIFF_DST, d}, {DNNL_ARG_DIFF_SRC, before}});
      if (run.redirected && step.act.clamp)
        redirect_dead_items(step.act, impl.values[step.out].dims, run.values[step.out], d, before, stream);
      d = before;
      run.values[step.out] = memory();
    }
    switch (step.kind) {
      case Impl::Kind::kConv: {
        d = in_layout(d, step.conv_diff_dst, stream);
        if (step.by_columns) {
          memory columns(step.columns, cpu_engine());
          step.conv_backward.execute(stream, {{DNNL_ARG_SRC, d}, {DNNL_ARG_WEIGHTS, step.backward_weights}, {DNNL_ARG_DST, columns}});
          const Dims& out_dims = impl.values[step.out].dims;
          const Dims column_dims{out_dims[0], step.columns.data.dims[1], out_dims[2], out_dims[3]};
          accumulate(step.in[0], columns_to_image(columns, column_dims, step.window, impl.values[step.in[0]].dims, stream));
          break;
        }
        memory source(step.conv_diff_src, cpu_engine());
        step.conv_backward.execute(stream, {{DNNL_ARG_DIFF_DST, d}, {DNNL_ARG_WEIGHTS, step.backward_weights}, {DNNL_ARG_DIFF_SRC, source}});
        accumulate(step.in[0], source);
        break;
      }
      case Impl::Kind::kActivation:
        accumulate(step.in[0], d);
        break;
      case Impl::Kind::kAdd:
        accumulate(step.in[0], d);
        accumulate(step.in[1], d);
        break;
      case Impl::Kind::kPool: {
        d = in_layout(d, step.conv_diff_dst, stream);
        memory source(step.conv_diff_src, cpu_engine());
        std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, d}, {DNNL_ARG_DIFF_SRC, source}};
        if (run.workspaces[s]) args[DNNL_ARG_WORKSPACE] = run.workspaces[s];
        step.conv_backward.execute(stream, args);
        run.workspaces[s] = memory();
        accumulate(step.in[0], source);
        break;
      }
    }
  }
  const Dims& d = impl.values[0].dims;
  at::Tensor grad = at::empty({d[0], d[1], d[2], d[3]}, at::kFloat);
  if (!diff[0]) {
    grad.zero_();
  } else {
    memory dense = wrap(grad, plain_desc(d));
    dnnl::reorder(diff[0], dense).execute(stream, diff[0], dense);
  }
  stream.wait();
  run.values.clear();
  run.workspaces.clear();
  return grad;
}

struct BlockedFunction : public torch::autograd::Function<BlockedFunction> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const at::Tensor& input,
                                                std::shared_ptr<const Impl> impl) {
    auto run = c10::make_intrusive<Run>();
    run->impl = std::move(impl);
    run->input = input.detach();
    run->redirected = current_relu_gradient() == ReluGradient::kRedirected;
    std::vector<at::Tensor> outputs = run_forward(*run);
    ctx->set_materialize_grads(false);
    ctx->saved_data["run"] = c10::IValue::make_capsule(run);
    return outputs;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto run = c10::static_intrusive_pointer_cast<Run>(ctx->saved_data["run"].toCapsule());
    FEATVIS_CHECK(run->values.size() == run->impl->values.size(),
                  "the blocked network's backward ran twice (retain_graph is not supported)");
    at::Tensor grad = run_backward(*run, grads);
    return {grad, at::Tensor()};
  }
};

}  // namespace

BlockedBackprop::BlockedBackprop(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlockedBackprop::~BlockedBackprop() = default;

std::shared_ptr<const BlockedBackprop> BlockedBackprop::compile(const Graph& graph, const std::vector<int64_t>& input_shape,
                                                                const std::vector<std::string>& wanted, std::string* why_not) {
  try {
    return std::shared_ptr<const BlockedBackprop>(new BlockedBackprop(compile_impl(graph, input_shape, wanted)));
  } catch (const Unsupported& u) {
    if (why_not) *why_not = u.why;
  } catch (const dnnl::error& e) {
    if (why_not) *why_not = std::string("oneDNN: ") + e.what();
  }
  return nullptr;
}

void BlockedBackprop::check_input(const at::Tensor& input) const {
  const Dims& d = impl_->values[0].dims;
  FEATVIS_CHECK(input.dim() == 4 && input.size(0) == d[0] && input.size(1) == d[1] && input.size(2) == d[2] &&
                    input.size(3) == d[3] && input.scalar_type() == at::kFloat && input.device().is_cpu(),
                "the blocked network was compiled for another input");
}

TensorMap BlockedBackprop::run(const at::Tensor& input) const {
  check_input(input);
  const at::Tensor x = input.contiguous();
  torch::autograd::variable_list outputs;
  if (c10::GradMode::is_enabled() && x.requires_grad()) {
    outputs = BlockedFunction::apply(x, std::shared_ptr<const Impl>(impl_));
  } else {
    Run run;
    run.impl = impl_;
    run.input = x;
    outputs = run_forward(run);
  }
  TensorMap result;
  for (size_t k = 0; k < impl_->wanted.size(); ++k) result[impl_->wanted[k].first] = outputs[k];
  return result;
}

std::unordered_map<std::string, BlockedBackprop::ChannelStats> BlockedBackprop::channel_stats(const at::Tensor& input) const {
  check_input(input);
  std::vector<ChannelStats> stats(impl_->wanted.size());
  Run run;
  run.impl = impl_;
  run.input = input.detach().contiguous();
  run.stats = &stats;
  run_forward(run);
  std::unordered_map<std::string, ChannelStats> result;
  for (size_t k = 0; k < impl_->wanted.size(); ++k) result[impl_->wanted[k].first] = stats[k];
  return result;
}

int BlockedBackprop::forward_primitives() const { return static_cast<int>(impl_->steps.size()); }

int64_t BlockedBackprop::value_bytes() const {
  int64_t bytes = 0;
  for (const auto& v : impl_->values) {
    int64_t numel = 1;
    for (int64_t d : v.dims) numel *= d;
    bytes += numel * static_cast<int64_t>(sizeof(float));
  }
  return bytes;
}

std::vector<int64_t> BlockedBackprop::shape(const std::string& name) const {
  for (const auto& [wanted, id] : impl_->wanted)
    if (wanted == name) return impl_->values[static_cast<size_t>(id)].dims;
  throw Error("the blocked program does not make '" + name + "'");
}

std::vector<std::string> BlockedBackprop::implementations() const {
  std::vector<std::string> names;
  for (const auto& s : impl_->steps) names.push_back(s.implementation);
  return names;
}

// The cache behind Graph::run: programs by (wanted, input shape, threads); nullptr where
// the graph is not supported, so that it is not compiled again.
struct Graph::BlockedCache {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<const BlockedBackprop>> programs;
};

std::shared_ptr<const BlockedBackprop> Graph::blocked_program(const std::vector<int64_t>& input_shape,
                                                              const std::vector<std::string>& wanted) const {
  if (!blocked_backprop_enabled() || !device_.is_cpu()) return nullptr;
  std::string key;
  for (const auto& w : wanted) key += w + '\n';
  for (int64_t d : input_shape) key += std::to_string(d) + 'x';
  key += std::to_string(at::get_num_threads());
  std::shared_ptr<BlockedCache> cache;
  {
    std::lock_guard<std::mutex> lock(*plan_mutex_);
    if (!blocked_) blocked_ = std::make_shared<BlockedCache>();
    cache = blocked_;
  }
  {
    std::lock_guard<std::mutex> lock(cache->mutex);
    auto it = cache->programs.find(key);
    if (it != cache->programs.end()) return it->second;
  }
  for (const auto& w : wanted) require_tensor(w);
  std::string why;
  std::shared_ptr<const BlockedBackprop> program = BlockedBackprop::compile(*this, input_shape, wanted, &why);
  // FEATVIS_BLOCKED_BACKPROP=verbose says on stderr why a graph keeps ATen's kernels.
  if (!program && blocked_backprop_verbose())
    std::fprintf(stderr, "featvis: note: '%s' runs without the blocked network: %s\n", origin_.c_str(), why.c_str());
  std::lock_guard<std::mutex> lock(cache->mutex);
  if (cache->programs.size() >= 256) cache->programs.clear();
  cache->programs[key] = program;  // two threads compiling one key store the same thing
  return program;
}

// The activations one chunk of a batch may weigh (Graph::run_blocked): about half of the
// last-level cache of the 2-core machines featvis is measured on (32 MiB L3).
constexpr int64_t kBlockedChunkBytes = int64_t{16} << 20;

bool Graph::run_blocked(const at::Tensor& input, const std::vector<std::string>& wanted, TensorMap* out) const {
  if (current_gradient_kernels() != GradientKernels::kBlocked || current_relu_gradient() == ReluGradient::kGuided ||
      !input.device().is_cpu() || input.scalar_type() != at::kFloat || !c10::GradMode::is_enabled() ||
      !input.requires_grad())
    return false;
  const std::vector<int64_t> sizes = input.sizes().vec();
  const std::shared_ptr<const BlockedBackprop> program = blocked_program(sizes, wanted);
  if (!program) return false;
  // A batch whose activations outgrow the cache runs in chunks of photos, each chunk a
  // program of its own shape: oneDNN's primitives ran 1.6x slower per photo on a batch of 8
  // renders of MobileNetV2's middle layer than on one (8.0 against 5.0 ms a photo at 1
  // thread). A chunk holds at least a photo per thread: one photo split over 2 threads made
  // the batch slower than whole. Every output depends on its own photo only, so the chunks'
  // outputs, concatenated, are the batch's, and autograd splits the gradient back.
  const int64_t n = sizes[0], per_photo = std::max<int64_t>(1, program->value_bytes() / std::max<int64_t>(n, 1));
  const int64_t chunk = std::max<int64_t>(at::get_num_threads(), kBlockedChunkBytes / per_photo);
  if (n <= chunk) {
    *out = program->run(input);
    return true;
  }
  std::vector<TensorMap> parts;
  for (const at::Tensor& piece : input.split(chunk)) {
    const std::shared_ptr<const BlockedBackprop> part = blocked_program(piece.sizes().vec(), wanted);
    if (!part) return false;  // (the whole batch compiled, so its pieces do)
    parts.push_back(part->run(piece));
  }
  for (const auto& w : wanted) {
    std::vector<at::Tensor> pieces;
    for (const auto& part : parts) pieces.push_back(part.at(w));
    (*out)[w] = at::cat(pieces, 0);
  }
  return true;
}

int Graph::blocked_programs() const {
  std::shared_ptr<BlockedCache> cache;
  {
    std::lock_guard<std::mutex> lock(*plan_mutex_);
    cache = blocked_;
  }
  if (!cache) return 0;
  std::lock_guard<std::mutex> lock(cache->mutex);
  int n = 0;
  for (const auto& [key, program] : cache->programs) n += program != nullptr;
  return n;
}

#else  // no oneDNN headers: Graph::run always takes the ATen path

struct BlockedBackprop::Impl {};
BlockedBackprop::BlockedBackprop(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlockedBackprop::~BlockedBackprop() = default;
std::shared_ptr<const BlockedBackprop> BlockedBackprop::compile(const Graph&, const std::vector<int64_t>&,
                                                                const std::vector<std::string>&, std::string* why_not) {
  if (why_not) *why_not = "this build has no oneDNN headers";
  return nullptr;
}
TensorMap BlockedBackprop::run(const at::Tensor&) const { throw Error("this build has no oneDNN headers"); }
int BlockedBackprop::forward_primitives() const { return 0; }
int64_t BlockedBackprop::value_bytes() const { return 0; }
std::vector<int64_t> BlockedBackprop::shape(const std::string&) const { throw Error("this build has no oneDNN headers"); }
std::vector<std::string> BlockedBackprop::implementations() const { return {}; }
std::unordered_map<std::string, BlockedBackprop::ChannelStats> BlockedBackprop::channel_stats(const at::Tensor&) const {
  throw Error("this build has no oneDNN headers");
}
struct Graph::BlockedCache {};
std::shared_ptr<const BlockedBackprop> Graph::blocked_program(const std::vector<int64_t>&,
                                                              const std::vector<std::string>&) const {
  return nullptr;
}
bool Graph::run_blocked(const at::Tensor&, const std::vector<std::string>&, TensorMap*) const { return false; }
int Graph::blocked_programs() const { return 0; }

#endif

}  // namespace featvis::graph
