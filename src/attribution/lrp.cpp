// LRP over a Graph: one forward pass keeping every tensor on the way to the target, then
// relevance propagated node by node in reverse graph order. Each op type has one entry
// in flow_table() saying how relevance crosses it; weighted layers take their rule from
// the composite (lrp_rules.cpp). An op with no entry is an error, never a gradient.
#include "lrp_rules.h"

#include <featvis/attribution/lrp.h>
#include <featvis/graph/graph.h>
#include <featvis/graph/op_registry.h>
#include <featvis/util/check.h>

#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

#include <functional>
#include <unordered_map>
#include <unordered_set>

namespace featvis::attribution {
namespace {

enum class Flow {
  kPass,          // elementwise rectifiers and no-ops: relevance passes unchanged (Zennit's Pass)
  kLayout,        // rearrangements: relevance moves with the values (the op's transpose)
  kProportional,  // sums, means, maxima, affine maps by constants: each input's share of the
                  // output, x_i * dz/dx_i * R / z (Zennit's Norm rule; a residual Add splits
                  // relevance in proportion to the branches' contributions)
  kWeighted,      // Conv, Gemm, MatMul by a constant: the composite's rule
};

const std::unordered_map<std::string, Flow>& flow_table() {
  static const std::unordered_map<std::string, Flow> table = {
      {"Relu", Flow::kPass},          {"Clip", Flow::kPass},          {"LeakyRelu", Flow::kPass},
      {"Identity", Flow::kPass},      {"Dropout", Flow::kPass},
      {"Flatten", Flow::kLayout},     {"Reshape", Flow::kLayout},     {"Transpose", Flow::kLayout},
      {"Squeeze", Flow::kLayout},     {"Unsqueeze", Flow::kLayout},   {"Slice", Flow::kLayout},
      {"Concat", Flow::kLayout},      {"Split", Flow::kLayout},       {"Pad", Flow::kLayout},
      {"Gather", Flow::kLayout},      {"Expand", Flow::kLayout},
      {"Add", Flow::kProportional},   {"Sub", Flow::kProportional},   {"Sum", Flow::kProportional},
      {"Mul", Flow::kProportional},   {"Div", Flow::kProportional},
      {"AveragePool", Flow::kProportional},  {"GlobalAveragePool", Flow::kProportional},
      {"MaxPool", Flow::kProportional},      {"GlobalMaxPool", Flow::kProportional},
      {"ReduceMean", Flow::kProportional},   {"ReduceSum", Flow::kProportional},
      {"BatchNormalization", Flow::kProportional},  // one that canonization could not fold
      {"Conv", Flow::kWeighted},      {"Gemm", Flow::kWeighted},      {"MatMul", Flow::kWeighted},
  };
  return table;
}

[[noreturn]] void no_rule(const graph::Node& node, const std::string& why = "") {
  throw Error("LRP has no rule for op '" + node.op_type + "'" + why + " (node '" + node.name + "')");
}

// Canonization: a BatchNormalization right after a Conv or Gemm (whose output nothing
// else reads) folds into that layer's weight and bias.
struct Folded {
  at::Tensor weight, bias;
};
struct Canonized {
  std::unordered_map<size_t, Folded> layers;  // weighted node -> folded parameters
  std::unordered_set<size_t> absorbed;        // BatchNormalization nodes that now pass relevance
};

Canonized canonize(const graph::Graph& g, const std::vector<size_t>& order,
                   const std::function<at::Tensor(const std::string&)>& value) {
  const auto& nodes = g.nodes();
  std::unordered_map<std::string, int> readers;
  for (size_t i : order)
    for (const auto& in : nodes[i].inputs) ++readers[in];
  std::unordered_map<std::string, size_t> index_of;
  for (size_t i : order) index_of[nodes[i].outputs[0]] = i;
  Canonized c;
  for (size_t i : order) {
    const graph::Node& bn = nodes[i];
    if (bn.op_type != "BatchNormalization" || bn.inputs.size() < 5) continue;
    auto p = index_of.find(bn.inputs[0]);
    if (p == index_of.end() || readers[bn.inputs[0]] != 1) continue;
    const graph::Node& layer = nodes[p->second];
    const bool conv = layer.op_type == "Conv";
    const bool gemm = layer.op_type == "Gemm" && !layer.attributes.get_int("transA", 0) &&
                      layer.attributes.get_float("alpha", 1.0f) == 1.0f && layer.attributes.get_float("beta", 1.0f) == 1.0f;
    if (!conv && !gemm) continue;
    at::Tensor w = value(layer.inputs[1]);
    at::Tensor b = layer.inputs.size() > 2 && !layer.inputs[2].empty() ? value(layer.inputs[2]) : at::Tensor();
    const float eps = bn.attributes.get_float("epsilon", 1e-5f);
    const at::Tensor scale = value(bn.inputs[1]) / (value(bn.inputs[4]) + eps).sqrt();
    const at::Tensor shift = value(bn.inputs[2]) - value(bn.inputs[3]) * scale;
    // Output channels: dim 0 of a Conv weight, dim 0 of Gemm's B with transB, else dim 1.
    const bool rows = conv || layer.attributes.get_int("transB", 0);
    std::vector<int64_t> shape(w.dim(), 1);
    shape[rows ? 0 : 1] = -1;
    Folded f;
    f.weight = w * scale.reshape(shape);
    f.bias = (b.defined() ? b * scale : at::zeros_like(scale)) + shift;
    c.layers[p->second] = f;
    c.absorbed.insert(i);
  }
  return c;
}

}  // namespace

at::Tensor lrp_relevance(const graph::Graph& g, const at::Tensor& input, const std::string& layer,
                         const at::Tensor& layer_relevance, const LrpSettings& settings) {
  FEATVIS_CHECK(!g.inputs().empty(), "model '", g.origin(), "' has no input");
  g.require_tensor(layer);
  const std::string& input_name = g.inputs()[0].name;
  const auto& nodes = g.nodes();

  // The nodes the layer depends on, in graph order.
  std::vector<bool> needed(nodes.size(), false);
  std::vector<std::string> stack{layer};
  while (!stack.empty()) {
    const std::string t = stack.back();
    stack.pop_back();
    const graph::Node* p = g.producer(t);
    if (!p) continue;
    const size_t i = static_cast<size_t>(p - nodes.data());
    if (needed[i]) continue;
    needed[i] = true;
    for (const auto& in : p->inputs) stack.push_back(in);
  }
  std::vector<size_t> order;
  std::vector<std::string> wanted;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!needed[i]) continue;
    order.push_back(i);
    for (const auto& out : nodes[i].outputs)
      if (!out.empty()) wanted.push_back(out);
  }

  graph::TensorMap values;
  {
    at::NoGradGuard no_grad;
    values = g.run(input.detach(), wanted);
  }
  values[input_name] = input.detach();
  // Relevance is propagated in float64 (settings.dtype): conservation then holds to
  // rounding of the sums, ~1e-12, not float32's ~1e-6 of the largest terms.
  auto value = [&](const std::string& name) -> at::Tensor {
    if (name.empty()) return at::Tensor();
    auto v = values.find(name);
    const at::Tensor t = v != values.end() ? v->second : g.weight(name);
    return at::isFloatingType(t.scalar_type()) ? t.to(settings.dtype) : t;
  };

  // Which tensors carry the input, and which have passed a weighted layer already.
  std::unordered_set<std::string> dependent{input_name}, after_weighted;
  std::unordered_set<size_t> first_layers;
  for (size_t i : order) {
    const graph::Node& n = nodes[i];
    bool dep = false, after = false;
    for (const auto& in : n.inputs) {
      dep = dep || dependent.count(in);
      after = after || after_weighted.count(in);
    }
    if (!dep) continue;
    const bool weighted = n.op_type == "Conv" || n.op_type == "Gemm" || n.op_type == "MatMul";
    if (weighted && !after) first_layers.insert(i);
    for (const auto& out : n.outputs) {
      dependent.insert(out);
      if (after || weighted) after_weighted.insert(out);
    }
  }

  const Canonized canon = canonize(g, order, value);
  detail::RuleContext context;
  context.epsilon = settings.epsilon;
  context.gamma = settings.gamma;
  context.ignore_bias = settings.ignore_bias;

  std::unordered_map<std::string, at::Tensor> relevance{{layer, layer_relevance.detach().to(settings.dtype)}};
  auto add = [&](const std::string& name, const at::Tensor& r) {
    at::Tensor& slot = relevance[name];
    slot = slot.defined() ? slot + r : r;
  };

  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const graph::Node& n = nodes[*it];
    std::vector<at::Tensor> out_r;
    bool any = false;
    for (const auto& out : n.outputs) {
      auto r = relevance.find(out);
      out_r.push_back(r == relevance.end() ? at::Tensor() : r->second);
      any = any || out_r.back().defined();
      if (r != relevance.end()) relevance.erase(r);
    }
    std::vector<size_t> dep_inputs;
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (!n.inputs[k].empty() && dependent.count(n.inputs[k])) dep_inputs.push_back(k);
    if (!any || dep_inputs.empty()) continue;

    const auto flow_it = flow_table().find(n.op_type);
    if (flow_it == flow_table().end()) no_rule(n);
    Flow flow = flow_it->second;
    if (canon.absorbed.count(*it)) flow = Flow::kPass;
    if ((n.op_type == "Mul" || n.op_type == "MatMul") && dep_inputs.size() > 1)
      no_rule(n, " on two input-dependent tensors");
    if (n.op_type == "Div" && (dep_inputs.size() > 1 || dep_inputs[0] != 0)) no_rule(n, " with an input-dependent divisor");

    if (flow == Flow::kPass) {
      add(n.inputs[0], out_r[0]);
      continue;
    }
    if (flow == Flow::kWeighted) {
      if (dep_inputs[0] != 0 || dep_inputs.size() > 1) no_rule(n, " with input-dependent weights");
      if (n.op_type == "Gemm" && n.attributes.get_int("transA", 0)) no_rule(n, " with transA");
      detail::LinearLayer linear;
      const auto folded = canon.layers.find(*it);
      linear.weight = folded != canon.layers.end() ? folded->second.weight : value(n.inputs[1]);
      linear.bias = folded != canon.layers.end() ? folded->second.bias
                    : n.inputs.size() > 2 ? value(n.inputs[2]) : at::Tensor();
      const graph::OpFunction& op = *graph::find_op(n.op_type);
      linear.f = [&op, &n](const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
        graph::OpInputs args{x, w};
        if (n.op_type != "MatMul") args.push_back(b);
        return op(n, args)[0];
      };
      const at::Tensor x = value(n.inputs[0]);
      const bool dense = n.op_type != "Conv" || (x.dim() == 4 && x.size(2) * x.size(3) == 1);
      LrpRule rule = dense ? settings.composite.dense : settings.composite.conv;
      if (first_layers.count(*it)) {
        rule = settings.composite.first;
        if (rule == LrpRule::kZBox) {
          FEATVIS_CHECK(settings.low.defined() && settings.high.defined(),
                        "LRP composite '", settings.composite.name, "' needs the input's value range");
          // The range where the layer reads it (a layout op may come first).
          at::NoGradGuard no_grad;
          const at::Tensor low = settings.low.to(input.scalar_type()).expand_as(input).contiguous();
          const at::Tensor high = settings.high.to(input.scalar_type()).expand_as(input).contiguous();
          context.low = (n.inputs[0] == input_name ? low : g.run(low, {n.inputs[0]}).at(n.inputs[0])).to(settings.dtype);
          context.high = (n.inputs[0] == input_name ? high : g.run(high, {n.inputs[0]}).at(n.inputs[0])).to(settings.dtype);
        }
      }
      add(n.inputs[0], detail::apply_rule(rule, linear, x, out_r[0], context));
      continue;
    }

    // Layout and proportional: a vector-Jacobian product of the op itself.
    at::AutoGradMode grad_mode(true);
    graph::OpInputs args;
    std::vector<at::Tensor> leaves;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      at::Tensor v = value(n.inputs[k]);
      if (v.defined() && dependent.count(n.inputs[k])) {
        v = v.detach().requires_grad_(true);
        leaves.push_back(v);
      }
      args.push_back(v);
    }
    const std::vector<at::Tensor> outs = (*graph::find_op(n.op_type))(n, args);
    std::vector<at::Tensor> ys, grads;
    for (size_t k = 0; k < out_r.size() && k < outs.size(); ++k) {
      if (!out_r[k].defined()) continue;
      ys.push_back(outs[k]);
      grads.push_back(flow == Flow::kLayout ? out_r[k] : out_r[k] / detail::stabilize(outs[k].detach(), settings.epsilon));
    }
    const std::vector<at::Tensor> g_in = torch::autograd::grad(ys, leaves, grads, false, false, /*allow_unused=*/true);
    for (size_t k = 0, leaf = 0; k < n.inputs.size(); ++k) {
      if (!args[k].defined() || !dependent.count(n.inputs[k])) continue;
      const at::Tensor& grad = g_in[leaf];
      const at::Tensor& x = leaves[leaf++];
      if (!grad.defined()) continue;
      add(n.inputs[k], flow == Flow::kLayout ? grad : x.detach() * grad);
    }
  }
  auto r = relevance.find(input_name);
  FEATVIS_CHECK(r != relevance.end(), "'", layer, "' does not depend on the input of model '", g.origin(), "'");
  return r->second.to(input.scalar_type());
}

}  // namespace featvis::attribution
