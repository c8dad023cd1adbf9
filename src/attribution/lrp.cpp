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

#include <algorithm>
#include <functional>
#include <unordered_map>
#include <unordered_set>

namespace featvis::attribution {
namespace {

enum class Flow {
  kPass,          // elementwise activations and no-ops: relevance passes unchanged (Zennit's Pass,
                  // AttnLRP's identity rule)
  kLayout,        // rearrangements: relevance moves with the values (the op's transpose)
  kProportional,  // sums, means, maxima, affine maps by constants: each input's share of the
                  // output, x_i * dz/dx_i * R / z (Zennit's Norm rule; a residual Add splits
                  // relevance in proportion to the branches' contributions)
  kProduct,       // Mul: by a constant, proportional; of a signal and a gate, signal-takes-all
  kQuotient,      // Div: by a constant, proportional; by a normalizer, the numerator takes all
  kWeighted,      // Conv, Gemm, MatMul by a constant: the composite's rule; MatMul of attention
                  // weights and values: the AH-rule (attention held constant)
  kLayerNorm,     // LayerNormalization (opset 17): the LN-rule (1/std held constant)
};

// One entry per op type. What each new one follows:
// * Sigmoid, HardSigmoid, HardSwish (the loader fuses x * HardSigmoid(x)), Tanh as
//   activations: the identity rule (Achtibat et al. 2024, "AttnLRP: Attention-Aware
//   Layer-wise Relevance Propagation for Transformers", Eq. 9: an elementwise nonlinearity
//   passes relevance unchanged), as for ReLU.
// * Mul(signal, gate): signal-takes-all (Arras et al. 2017, "Explaining recurrent neural
//   network predictions in sentiment analysis"; used for LSTM gates): a gate is a tensor
//   made by Sigmoid, HardSigmoid, Erf or Tanh, seen through layout ops and affine maps by
//   constants (is_gate below). So SiLU written as x * Sigmoid(x), Erf-GELU written as
//   x * (1 + Erf(x / sqrt 2)) / 2 and squeeze-excite's x * Sigmoid(fc(gap(x))) give all their
//   relevance to x, none to the gate branch. (AttnLRP splits a product's relevance evenly
//   between its factors instead, its uniform rule, Eq. 7.) A Mul of two tensors neither or
//   both of which is a gate is an error.
// * Div(x, normalizer) and LayerNormalization: the LN-rule (Ali et al. 2022, "XAI for
//   Transformers: Better Explanations through Conservative Propagation", their LN-rule): the
//   standard deviation is held constant, so LayerNorm is the linear map x -> (x - mean x) *
//   scale / std; mean-centring is linear and conserves relevance. At opset 13 LayerNorm is
//   exported as ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add: the Div by the
//   Sqrt of a reduction (is_normalizer) passes all relevance to its numerator and the Sub
//   and ReduceMean take their proportional shares, which is the same rule written node by
//   node (test Lrp.DecomposedLayerNormEqualsTheFusedNode).
// * MatMul(softmax(Q K^T), V), and the same written as an Einsum (maxvit_t): the AH-rule of
//   Ali et al. 2022 (CP-LRP): the attention weights are held constant, so the product is a
//   linear map of V with weights A and takes the epsilon rule; Q and K (the Softmax branch)
//   get no relevance. An Einsum of one activation and constants takes the epsilon rule.
const std::unordered_map<std::string, Flow>& flow_table() {
  static const std::unordered_map<std::string, Flow> table = {
      {"Relu", Flow::kPass},          {"Clip", Flow::kPass},          {"LeakyRelu", Flow::kPass},
      {"Identity", Flow::kPass},      {"Dropout", Flow::kPass},       {"Cast", Flow::kPass},
      {"Sigmoid", Flow::kPass},       {"HardSigmoid", Flow::kPass},   {"HardSwish", Flow::kPass},
      {"Tanh", Flow::kPass},
      {"Flatten", Flow::kLayout},     {"Reshape", Flow::kLayout},     {"Transpose", Flow::kLayout},
      {"Squeeze", Flow::kLayout},     {"Unsqueeze", Flow::kLayout},   {"Slice", Flow::kLayout},
      {"Concat", Flow::kLayout},      {"Split", Flow::kLayout},       {"Pad", Flow::kLayout},
      {"Gather", Flow::kLayout},      {"Expand", Flow::kLayout},
      {"Add", Flow::kProportional},   {"Sub", Flow::kProportional},   {"Sum", Flow::kProportional},
      {"Mul", Flow::kProduct},        {"Div", Flow::kQuotient},
      {"AveragePool", Flow::kProportional},  {"GlobalAveragePool", Flow::kProportional},
      {"MaxPool", Flow::kProportional},      {"GlobalMaxPool", Flow::kProportional},
      {"ReduceMean", Flow::kProportional},   {"ReduceSum", Flow::kProportional},
      {"BatchNormalization", Flow::kProportional},  // one that canonization could not fold
      {"Conv", Flow::kWeighted},      {"Gemm", Flow::kWeighted},      {"MatMul", Flow::kWeighted},
      {"Einsum", Flow::kWeighted},  // by constants: epsilon; attention and values (maxvit_t): AH-rule
      {"LayerNormalization", Flow::kLayerNorm},
  };
  return table;
}

// The op a tensor is made by, looking through layout ops, float casts and affine maps by
// constants (Add/Sub/Mul/Div with one operand that does not depend on the input), and
// through `also` (e.g. Sqrt for a normalizer). nullptr for a graph input or a weight.
const graph::Node* source_op(const graph::Graph& g, std::string t, const std::unordered_set<std::string>& dependent,
                             const std::unordered_set<std::string>& also = {}) {
  static const std::unordered_set<std::string> through = {"Identity", "Dropout", "Cast",    "Reshape", "Transpose",
                                                          "Squeeze",  "Unsqueeze", "Flatten", "Expand"};
  static const std::unordered_set<std::string> affine = {"Add", "Sub", "Mul", "Div"};
  for (int depth = 0; depth < 64; ++depth) {
    const graph::Node* p = g.producer(t);
    if (!p || p->inputs.empty()) return p;
    if (through.count(p->op_type) || also.count(p->op_type)) {
      t = p->inputs[0];
      continue;
    }
    if (affine.count(p->op_type) && p->inputs.size() == 2 &&
        dependent.count(p->inputs[0]) + dependent.count(p->inputs[1]) == 1) {
      t = dependent.count(p->inputs[0]) ? p->inputs[0] : p->inputs[1];
      continue;
    }
    return p;
  }
  return nullptr;
}

bool made_by(const graph::Node* p, std::initializer_list<const char*> ops) {
  if (!p) return false;
  for (const char* op : ops)
    if (p->op_type == op) return true;
  return false;
}

// A gate: values squashed into a bounded range by Sigmoid, HardSigmoid, Erf or Tanh.
bool is_gate(const graph::Graph& g, const std::string& t, const std::unordered_set<std::string>& dependent) {
  return made_by(source_op(g, t, dependent), {"Sigmoid", "HardSigmoid", "Erf", "Tanh"});
}

// Attention weights: a Softmax output (through layout ops and a Dropout).
bool is_attention(const graph::Graph& g, const std::string& t, const std::unordered_set<std::string>& dependent) {
  return made_by(source_op(g, t, dependent), {"Softmax"});
}

// A normalizer: the square root (or power) of a reduction, e.g. LayerNorm's
// sqrt(mean((x - mean x)^2) + eps).
bool is_normalizer(const graph::Graph& g, const std::string& t, const std::unordered_set<std::string>& dependent) {
  return made_by(source_op(g, t, dependent, {"Sqrt", "Pow", "Reciprocal"}),
                 {"ReduceMean", "ReduceSum", "ReduceL2", "ReduceSumSquare"});
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

bool is_weighted(const graph::Node& n) { return n.op_type == "Conv" || n.op_type == "Gemm" || n.op_type == "MatMul"; }

// The LN-rule on a LayerNormalization node: y = (x - mean x) / std * scale + bias over the
// trailing axes from `axis`, with std held constant, so y - bias is linear in x; R_x = x *
// J^T (R / y), which conserves R up to the bias's share (none with ignore_bias).
at::Tensor layer_norm_rule(const graph::Node& n, const std::function<at::Tensor(const std::string&)>& value,
                           const at::Tensor& r, const LrpSettings& settings) {
  const at::Tensor x = value(n.inputs[0]);
  const int64_t rank = x.dim();
  int64_t axis = n.attributes.get_int("axis", -1);
  if (axis < 0) axis += rank;
  std::vector<int64_t> axes;
  for (int64_t a = axis; a < rank; ++a) axes.push_back(a);
  const double eps = n.attributes.get_float("epsilon", 1e-5f);
  const at::Tensor scale = value(n.inputs[1]);
  const at::Tensor bias = n.inputs.size() > 2 && !n.inputs[2].empty() ? value(n.inputs[2]) : at::Tensor();
  at::AutoGradMode grad_mode(true);
  const at::Tensor xr = x.detach().requires_grad_(true);
  const at::Tensor centred = xr - xr.mean(axes, /*keepdim=*/true);
  const at::Tensor sd = (centred.detach().pow(2).mean(axes, /*keepdim=*/true) + eps).sqrt();
  const at::Tensor linear = centred / sd * scale;
  const at::Tensor z = bias.defined() && !settings.ignore_bias ? linear.detach() + bias : linear.detach();
  const at::Tensor grad = torch::autograd::grad({linear}, {xr}, {r / detail::stabilize(z, settings.epsilon)})[0];
  return x * grad;
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

  // Which tensors carry the input, and which have passed a weighted layer already. Shape
  // arithmetic does not: a Shape (or Size) reads only the input's sizes, and a tensor that
  // is not floating point (an index, a mask) carries no relevance.
  std::unordered_set<std::string> dependent{input_name}, after_weighted;
  for (size_t i : order) {
    const graph::Node& n = nodes[i];
    if (n.op_type == "Shape" || n.op_type == "Size") continue;
    bool dep = false, after = false;
    for (const auto& in : n.inputs) {
      dep = dep || dependent.count(in);
      after = after || after_weighted.count(in);
    }
    if (!dep) continue;
    for (const auto& out : n.outputs) {
      auto v = values.find(out);
      if (out.empty() || v == values.end() || !at::isFloatingType(v->second.scalar_type())) continue;
      dependent.insert(out);
      if (after || is_weighted(n)) after_weighted.insert(out);
    }
  }
  // Weighted layers whose input has passed no other weighted layer: the composite's first.
  std::unordered_set<size_t> first_layers;
  for (size_t i : order) {
    const graph::Node& n = nodes[i];
    if (is_weighted(n) && dependent.count(n.inputs[0]) && !after_weighted.count(n.inputs[0])) {
      bool weights_dependent = false;
      for (size_t k = 1; k < n.inputs.size(); ++k) weights_dependent = weights_dependent || dependent.count(n.inputs[k]);
      if (!weights_dependent) first_layers.insert(i);
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
  // All of a node's output relevance to one input (summed over the axes it was broadcast on).
  auto give_all = [&](const graph::Node& n, size_t k, const at::Tensor& r) {
    const at::Tensor x = value(n.inputs[k]);
    add(n.inputs[k], x.sizes() == r.sizes() ? r : at::sum_to(r, x.sizes()));
  };

  // Layout and proportional flows: a vector-Jacobian product of the op itself, with the
  // inputs in `leaves` differentiated and the others held constant.
  auto vjp = [&](const graph::Node& n, const std::vector<at::Tensor>& out_r, Flow flow,
                 const std::vector<size_t>& leaf_inputs) {
    at::AutoGradMode grad_mode(true);
    graph::OpInputs args;
    std::vector<at::Tensor> leaves;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      at::Tensor v = value(n.inputs[k]);
      if (std::find(leaf_inputs.begin(), leaf_inputs.end(), k) != leaf_inputs.end()) {
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
    for (size_t leaf = 0; leaf < leaf_inputs.size(); ++leaf) {
      if (!g_in[leaf].defined()) continue;
      add(n.inputs[leaf_inputs[leaf]], flow == Flow::kLayout ? g_in[leaf] : leaves[leaf].detach() * g_in[leaf]);
    }
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
    const bool two = dep_inputs.size() > 1;

    switch (flow) {
      case Flow::kPass:
        add(n.inputs[0], out_r[0]);
        break;
      case Flow::kLayout:
        vjp(n, out_r, flow, dep_inputs);
        break;
      case Flow::kProportional:
        // Biases left out (--lrp-ignore-bias): an Add of a constant (a Linear's bias, a
        // position embedding) passes all relevance to its other operand.
        if (settings.ignore_bias && (n.op_type == "Add" || n.op_type == "Sub") && n.inputs.size() == 2 && !two) {
          give_all(n, dep_inputs[0], out_r[0]);
        } else {
          vjp(n, out_r, flow, dep_inputs);
        }
        break;
      case Flow::kProduct: {
        if (!two) {
          vjp(n, out_r, Flow::kProportional, dep_inputs);
          break;
        }
        const bool gate0 = is_gate(g, n.inputs[0], dependent), gate1 = is_gate(g, n.inputs[1], dependent);
        if (gate0 == gate1) no_rule(n, gate0 ? " on two gates" : " on two input-dependent tensors, neither a gate");
        give_all(n, gate0 ? 1 : 0, out_r[0]);  // signal-takes-all
        break;
      }
      case Flow::kQuotient:
        if (!dependent.count(n.inputs[1])) {
          vjp(n, out_r, Flow::kProportional, dep_inputs);
        } else if (is_normalizer(g, n.inputs[1], dependent)) {
          if (dependent.count(n.inputs[0])) give_all(n, 0, out_r[0]);  // LN-rule: the std held constant
        } else {
          no_rule(n, " with an input-dependent divisor that is no normalizer");
        }
        break;
      case Flow::kLayerNorm:
        add(n.inputs[0], layer_norm_rule(n, value, out_r[0], settings));
        break;
      case Flow::kWeighted: {
        if ((n.op_type == "MatMul" || n.op_type == "Einsum") && two) {
          // AH-rule: the attention weights held constant, relevance to the values.
          if (dep_inputs.size() > 2) no_rule(n, " on more than two input-dependent tensors");
          const bool a0 = is_attention(g, n.inputs[dep_inputs[0]], dependent),
                     a1 = is_attention(g, n.inputs[dep_inputs[1]], dependent);
          if (a0 == a1)
            no_rule(n, a0 ? " on two attention maps" : " on two input-dependent tensors, neither attention weights");
          vjp(n, out_r, Flow::kProportional, {a0 ? dep_inputs[1] : dep_inputs[0]});
          break;
        }
        if (n.op_type == "Einsum") {  // linear in its one activation: the epsilon rule
          vjp(n, out_r, Flow::kProportional, dep_inputs);
          break;
        }
        if (dep_inputs[0] != 0 || two) no_rule(n, " with input-dependent weights");
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
        break;
      }
    }
  }
  auto r = relevance.find(input_name);
  FEATVIS_CHECK(r != relevance.end(), "'", layer, "' does not depend on the input of model '", g.origin(), "'");
  return r->second.to(input.scalar_type());
}

}  // namespace featvis::attribution
