// LRP on small bias-free networks built here: every rule against a hand computation
// (the rule's formula written out with loops over an explicit weight matrix, an
// unrolled convolution for Conv), conservation to 1e-5, BatchNorm canonization, the
// residual split, and the one-line error for an op without a rule.
#include "support/test_support.h"

#include <featvis/attribution/attribution.h>
#include <featvis/attribution/lrp.h>
#include <featvis/graph/graph.h>
#include <featvis/objective/kinds.h>

#include <onnx/onnx_pb.h>

#include <cmath>
#include <map>

namespace featvis::attribution {
namespace {

using featvis::testing::error_of;

// A hand-built ONNX graph with explicit weights.
class Net {
 public:
  explicit Net(std::vector<int64_t> input_shape, int64_t opset = 13) {
    model_.set_ir_version(opset >= 17 ? 8 : 7);
    model_.add_opset_import()->set_version(opset);
    g()->set_name("lrp_test");
    auto* in = g()->add_input();
    in->set_name("input");
    auto* tt = in->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : input_shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  void weight(const std::string& name, const at::Tensor& value) {
    onnx::TensorProto* t = g()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : value.sizes()) t->add_dims(d);
    const at::Tensor v = value.to(at::kFloat).contiguous();
    for (int64_t i = 0; i < v.numel(); ++i) t->add_float_data(v.data_ptr<float>()[i]);
  }
  void shape(const std::string& name, const std::vector<int64_t>& values) {
    onnx::TensorProto* t = g()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) t->add_int64_data(v);
  }
  Net& node(const std::string& op, std::vector<std::string> in, const std::string& out,
            std::map<std::string, std::vector<int64_t>> ints = {}, std::map<std::string, int64_t> int_attrs = {}) {
    onnx::NodeProto* n = g()->add_node();
    n->set_op_type(op);
    n->set_name(out + "/" + op);
    for (auto& i : in) n->add_input(i);
    n->add_output(out);
    for (const auto& [name, values] : ints) {
      auto* a = n->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::INTS);
      for (auto v : values) a->add_ints(v);
    }
    for (const auto& [name, value] : int_attrs) {
      auto* a = n->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(value);
    }
    last_ = out;
    return *this;
  }
  onnx::NodeProto* last_node() { return g()->mutable_node(g()->node_size() - 1); }
  // A float attribute on the last node.
  Net& attr(const std::string& name, float value) {
    auto* a = g()->mutable_node(g()->node_size() - 1)->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(value);
    return *this;
  }
  graph::Graph graph() {
    auto* out = g()->add_output();
    out->set_name(last_);
    out->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    out->mutable_type()->mutable_tensor_type()->mutable_shape();
    std::string bytes;
    model_.SerializeToString(&bytes);
    return graph::Graph::load_onnx_bytes(bytes, "lrp_test.onnx");
  }

 private:
  onnx::GraphProto* g() { return model_.mutable_graph(); }
  onnx::ModelProto model_;
  std::string last_;
};

// epsilon 1e-9: the stabilizer's own share (eps / z_j of R_j, 2e-5 for a unit with z_j
// ~0.05 at Zennit's 1e-6) stays below the 1e-5 conservation check; propagation is float64.
constexpr double kTestEpsilon = 1e-9;

LrpSettings everywhere(LrpRule rule, LrpRule first) {
  LrpSettings s;
  s.epsilon = kTestEpsilon;
  s.composite = {"test", first, rule, rule};
  s.low = at::zeros({1});
  s.high = at::ones({1});
  return s;
}

// The rule's formula with loops: W is [out, in], x [in], r [out]; contributions c_ij and
// their sums z_j, R_i = sum_j c_ij / z_j r_j (two normalized parts for alpha-beta).
at::Tensor hand_rule(LrpRule rule, const at::Tensor& W64, const at::Tensor& x64, const at::Tensor& r64, double low,
                     double high, double gamma = 0.25, double eps = kTestEpsilon) {
  const auto W = W64.to(at::kDouble).contiguous(), x = x64.to(at::kDouble).flatten().contiguous(),
             r = r64.to(at::kDouble).flatten().contiguous();
  const int64_t out = W.size(0), in = W.size(1);
  auto w = [&](int64_t j, int64_t i) { return W[j][i].item<double>(); };
  std::vector<double> R(in, 0.0);
  auto stab = [&](double z) { return z + (z >= 0 ? eps : -eps); };
  for (int64_t j = 0; j < out; ++j) {
    const double rj = r[j].item<double>();
    std::vector<double> c(in), p(in), n(in);
    double z = 0, zp = 0, zn = 0, plain = 0;
    for (int64_t i = 0; i < in; ++i) plain += x[i].item<double>() * w(j, i);
    const bool up = plain > 0;  // gamma: which contributions the unit favours
    for (int64_t i = 0; i < in; ++i) {
      const double xi = x[i].item<double>(), wij = w(j, i);
      switch (rule) {
        case LrpRule::kEpsilon: c[i] = xi * wij; break;
        case LrpRule::kGamma: c[i] = xi * wij + gamma * (up ? std::max(xi * wij, 0.0) : std::min(xi * wij, 0.0)); break;
        case LrpRule::kZBox: c[i] = xi * wij - low * std::max(wij, 0.0) - high * std::min(wij, 0.0); break;
        default: p[i] = std::max(xi * wij, 0.0); n[i] = std::min(xi * wij, 0.0);
      }
      z += c[i];
      zp += p[i];
      zn += n[i];
    }
    for (int64_t i = 0; i < in; ++i) {
      if (rule == LrpRule::kAlpha1Beta0) R[i] += p[i] / stab(zp) * rj;
      else if (rule == LrpRule::kAlpha2Beta1) R[i] += 2 * p[i] / stab(zp) * rj - n[i] / stab(zn) * rj;
      else R[i] += c[i] / stab(z) * rj;
    }
  }
  return at::tensor(R, at::kDouble);
}

const std::vector<LrpRule> kRules = {LrpRule::kEpsilon, LrpRule::kGamma, LrpRule::kAlpha1Beta0, LrpRule::kAlpha2Beta1};

// input [1,2,2,2] -> Flatten -> Gemm W1 [6,8] -> Relu -> Gemm W2 [3,6] -> logits; no biases.
struct DenseNet {
  at::Tensor w1, w2, x;
  graph::Graph graph;
  DenseNet() : w1(seeded({6, 8}, 1)), w2(seeded({3, 6}, 2)), x(seeded_uniform({1, 2, 2, 2}, 3)), graph(build()) {}
  static at::Tensor seeded(std::vector<int64_t> shape, uint64_t seed) {
    at::manual_seed(seed);
    return at::randn(shape);
  }
  static at::Tensor seeded_uniform(std::vector<int64_t> shape, uint64_t seed) {
    at::manual_seed(seed);
    return at::rand(shape) * 0.9 + 0.05;  // inside z^B's [0, 1]
  }
  graph::Graph build() {
    Net net({1, 2, 2, 2});
    net.weight("w1", w1);
    net.weight("w2", w2);
    net.node("Flatten", {"input"}, "flat")
        .node("Gemm", {"flat", "w1"}, "h1", {}, {{"transB", 1}})
        .node("Relu", {"h1"}, "h")
        .node("Gemm", {"h", "w2"}, "logits", {}, {{"transB", 1}});
    return net.graph();
  }
};

TEST(Lrp, EachRuleEqualsItsHandComputationAndConservesRelevance) {
  const DenseNet net;
  const at::Tensor h = at::relu(at::mm(net.x.reshape({1, 8}).to(at::kDouble), net.w1.t().to(at::kDouble)));
  const at::Tensor logits = at::mm(h, net.w2.t().to(at::kDouble));
  const double target = logits[0][1].item<double>();
  const at::Tensor start = at::zeros({1, 3}).index_put_({0, 1}, target);
  for (LrpRule rule : kRules) {
    for (LrpRule first : {rule, LrpRule::kZBox}) {
      const at::Tensor r = lrp_relevance(net.graph, net.x, "logits", start, everywhere(rule, first));
      ASSERT_EQ(r.sizes(), net.x.sizes());
      const at::Tensor r_h = hand_rule(rule, net.w2, h, start.to(at::kDouble), 0, 1);
      const at::Tensor expected = hand_rule(first, net.w1, net.x, r_h, 0, 1);
      const std::string what = to_string(rule) + " (first layer " + to_string(first) + ")";
      // float32 against float64 over two layers of sums of 6-8 terms of size ~1.
      EXPECT_TRUE(at::allclose(r.flatten().to(at::kDouble), expected, 1e-5, 1e-5)) << what << "\n" << r << expected;
      EXPECT_NEAR(r.sum().item<double>(), target, 1e-5) << what;
    }
  }
}

// Grouped, strided, padded convolution: the rule equals the hand computation on the
// convolution unrolled into its [out, in] matrix (columns: the conv of each basis image).
TEST(Lrp, ConvRulesEqualTheUnrolledMatrix) {
  const int64_t groups = 2;
  at::manual_seed(5);
  const at::Tensor w = at::randn({4, 2, 3, 3});  // 4 in channels in 2 groups, 4 out
  const at::Tensor x = at::rand({1, 4, 5, 5}) * 0.9 + 0.05;
  Net net({1, 4, 5, 5});
  net.weight("w", w);
  net.node("Conv", {"input", "w"}, "y", {{"pads", {1, 1, 1, 1}}, {"strides", {2, 2}}, {"kernel_shape", {3, 3}}},
           {{"group", groups}});
  const graph::Graph graph = net.graph();
  const at::Tensor basis = at::eye(x.numel()).reshape({x.numel(), 4, 5, 5});
  const at::Tensor M = at::conv2d(basis, w, {}, 2, 1, 1, groups).reshape({x.numel(), -1}).t();  // [out, in]
  const at::Tensor y = at::conv2d(x, w, {}, 2, 1, 1, groups);
  const at::Tensor start = y * at::rand(y.sizes());  // any relevance at the output
  for (LrpRule rule : {LrpRule::kEpsilon, LrpRule::kGamma, LrpRule::kAlpha1Beta0, LrpRule::kAlpha2Beta1,
                       LrpRule::kZBox}) {
    const at::Tensor r = lrp_relevance(graph, x, "y", start, everywhere(rule, rule));
    const at::Tensor expected = hand_rule(rule, M, x, start, 0, 1);
    EXPECT_TRUE(at::allclose(r.flatten().to(at::kDouble), expected, 1e-5, 1e-5)) << to_string(rule);
    if (rule != LrpRule::kAlpha2Beta1)  // a unit without negative contributions loses beta's share
      EXPECT_NEAR(r.sum().item<double>(), start.sum().item<double>(), 1e-5) << to_string(rule);
  }
}

// Residual Add: each branch gets relevance in proportion to its contribution; the conv
// branch then passes its share through its rule (epsilon here).
TEST(Lrp, ResidualAddSplitsInProportionToContributions) {
  at::manual_seed(6);
  const at::Tensor w = at::randn({3, 3, 1, 1});
  const at::Tensor x = at::rand({1, 3, 1, 1}) + 0.5;
  Net net({1, 3, 1, 1});
  net.weight("w", w);
  net.node("Conv", {"input", "w"}, "c", {{"kernel_shape", {1, 1}}}).node("Add", {"input", "c"}, "s");
  const at::Tensor c = at::conv2d(x, w);
  const at::Tensor s = x + c;
  const at::Tensor start = at::rand({1, 3, 1, 1});
  const at::Tensor r = lrp_relevance(net.graph(), x, "s", start, everywhere(LrpRule::kEpsilon, LrpRule::kEpsilon));
  const at::Tensor skip_share = x / s * start, conv_share = c / s * start;
  const at::Tensor expected = skip_share.flatten().to(at::kDouble) +
                              hand_rule(LrpRule::kEpsilon, w.reshape({3, 3}), x, conv_share, 0, 1);
  EXPECT_TRUE(at::allclose(r.flatten().to(at::kDouble), expected, 1e-5, 1e-5)) << r << expected;
  EXPECT_NEAR(r.sum().item<double>(), start.sum().item<double>(), 1e-5);
}

// A small CNN with every op of the shipped models' kind: conv, depthwise conv, BatchNorm
// (folded), ReLU, ReLU6 (Clip), residual Add, Concat, max and average pooling, global
// average pooling, Flatten, Gemm. Bias-free (BatchNorm with zero mean and shift), so
// every composite conserves the logit to 1e-5.
graph::Graph small_cnn(bool with_batchnorm, const at::Tensor& bn_scale) {
  at::manual_seed(7);
  const at::Tensor w1 = at::randn({4, 3, 3, 3}) * 0.5, dw = at::randn({4, 1, 3, 3}) * 0.5,
                   w2 = at::randn({4, 8, 1, 1}) * 0.5, fc = at::randn({5, 4});
  Net net({1, 3, 8, 8});
  net.weight("w1", with_batchnorm ? w1 : w1 * bn_scale.reshape({4, 1, 1, 1}));
  net.weight("dw", dw);
  net.weight("w2", w2);
  net.weight("fc", fc);
  net.weight("bn.scale", bn_scale);
  net.weight("bn.zero", at::zeros({4}));
  net.weight("bn.var", at::ones({4}) - 1e-5);  // sqrt(var + eps) = 1
  net.node("Conv", {"input", "w1"}, with_batchnorm ? "c1" : "b1", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}});
  if (with_batchnorm) net.node("BatchNormalization", {"c1", "bn.scale", "bn.zero", "bn.zero", "bn.var"}, "b1");
  net.weight("six", at::tensor(6.0f));
  net.weight("zero", at::tensor(0.0f));
  net.node("Relu", {"b1"}, "r1")
      .node("Conv", {"r1", "dw"}, "d", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}, {{"group", 4}})
      .node("Clip", {"d", "zero", "six"}, "r2")
      .node("Add", {"r1", "r2"}, "res")
      .node("MaxPool", {"res"}, "mp", {{"kernel_shape", {2, 2}}, {"strides", {2, 2}}})
      .node("AveragePool", {"res"}, "ap", {{"kernel_shape", {2, 2}}, {"strides", {2, 2}}})
      .node("Concat", {"mp", "ap"}, "cat", {}, {{"axis", 1}})
      .node("Conv", {"cat", "w2"}, "c2", {{"kernel_shape", {1, 1}}})
      .node("Relu", {"c2"}, "r3")
      .node("GlobalAveragePool", {"r3"}, "gap")
      .node("Flatten", {"gap"}, "flat")
      .node("Gemm", {"flat", "fc"}, "logits", {}, {{"transB", 1}});
  return net.graph();
}

at::Tensor logit_relevance(const graph::Graph& g, const at::Tensor& x, int64_t k) {
  const at::Tensor logits = g.run(x, {"logits"}).at("logits");
  return at::zeros_like(logits).index_put_({0, k}, logits[0][k]);
}

TEST(Lrp, EveryCompositeConservesTheLogitOnASmallBiasFreeCnn) {
  const at::Tensor scale = at::tensor({0.5f, 2.0f, 1.5f, 0.8f});
  const graph::Graph g = small_cnn(true, scale);
  at::manual_seed(8);
  const at::Tensor x = at::rand({1, 3, 8, 8});
  for (int64_t k : {0, 3}) {
    const at::Tensor start = logit_relevance(g, x, k);
    for (const std::string& name : lrp_composite_names()) {
      LrpSettings s;
      s.composite = parse_lrp_composite(name);
      s.low = at::zeros({1});
      s.high = at::ones({1});
      const at::Tensor r = lrp_relevance(g, x, "logits", start, s);
      std::printf("[ lrp      ] %s logit %lld = %.6f, relevance sum %.6f\n", name.c_str(), static_cast<long long>(k),
                  start.sum().item<double>(), r.sum().item<double>());
      if (name != "epsilon-alpha2-beta1")  // a unit without negative contributions gains beta's share
        EXPECT_NEAR(r.sum().item<double>(), start.sum().item<double>(), 1e-5) << name;
      EXPECT_TRUE(at::isfinite(r).all().item<bool>()) << name;
    }
  }
}

// Canonization: LRP through Conv + BatchNorm equals LRP through the conv with the
// BatchNorm folded in by hand; without folding, z+ would treat BatchNorm as a separate
// proportional layer and the conv would see unscaled weights (a different map).
TEST(Lrp, BatchNormIsFoldedIntoThePrecedingConv) {
  const at::Tensor scale = at::tensor({0.5f, -2.0f, 1.5f, 0.8f});  // one negative: flips z+ signs
  const graph::Graph with_bn = small_cnn(true, scale), folded = small_cnn(false, scale);
  at::manual_seed(9);
  const at::Tensor x = at::rand({1, 3, 8, 8});
  const at::Tensor start = logit_relevance(with_bn, x, 2);
  for (const std::string& name : {"epsilon-plus", "epsilon-gamma-box"}) {
    LrpSettings s;
    s.composite = parse_lrp_composite(name);
    s.composite.first = s.composite.conv;  // the folded layer is the first; give it the conv rule
    s.low = at::zeros({1});
    s.high = at::ones({1});
    const at::Tensor a = lrp_relevance(with_bn, x, "logits", start, s), b = lrp_relevance(folded, x, "logits", start, s);
    EXPECT_TRUE(at::allclose(a, b, 1e-5, 1e-6)) << name;
  }
}

TEST(Lrp, AnOpWithoutARuleIsAOneLineErrorNamingIt) {
  Net net({1, 2, 1, 1});
  net.node("Softmax", {"input"}, "s", {}, {{"axis", 1}}).node("Flatten", {"s"}, "logits");
  const graph::Graph g = net.graph();
  const at::Tensor x = at::rand({1, 2, 1, 1});
  const std::string e = error_of([&] { lrp_relevance(g, x, "logits", x.reshape({1, 2}), everywhere(LrpRule::kEpsilon, LrpRule::kEpsilon)); });
  EXPECT_EQ(e, "LRP has no rule for op 'Softmax' (node 's/Softmax')");
  const std::string m = error_of([] { parse_lrp_composite("flat"); });
  EXPECT_NE(m.find("unknown LRP composite 'flat'"), std::string::npos) << m;
  EXPECT_NE(m.find("epsilon-gamma-box"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos);
}

// ---- Transformers and gated CNNs: activations, gates, LayerNorm, attention ----

// Rows of `t` ([..., C]) as a [rows, C] double matrix.
at::Tensor rows(const at::Tensor& t) { return t.to(at::kDouble).reshape({-1, t.size(-1)}); }

// The epsilon rule token by token: x [T, in], W [in, out] (as MatMul reads it), r [T, out].
at::Tensor hand_tokens(const at::Tensor& W, const at::Tensor& x, const at::Tensor& r) {
  std::vector<at::Tensor> out;
  for (int64_t t = 0; t < x.size(0); ++t) out.push_back(hand_rule(LrpRule::kEpsilon, W.t(), x[t], r[t], 0, 1));
  return at::stack(out);
}

// Activations pass relevance unchanged (identity rule) and a gate passes all of it to its
// signal (signal-takes-all): SiLU written as x * Sigmoid(x), GELU as the Erf form PyTorch
// exports, a squeeze-excite-like gate HardSigmoid(fc(x)) * x (the gate first), Tanh,
// HardSwish (written as x * HardSigmoid(x), fused by the loader) and a Sigmoid activation.
// Between the two Gemms the relevance is thus unchanged: the map equals the epsilon rule
// of W1 on the relevance the epsilon rule of W2 gives the last activation.
TEST(Lrp, ActivationsPassRelevanceAndGatesGiveItAllToTheSignal) {
  at::manual_seed(21);
  const at::Tensor w1 = at::randn({5, 6}), wg = at::randn({5, 5}), w2 = at::randn({3, 5});
  const at::Tensor x = at::randn({1, 6, 1, 1});
  Net net({1, 6, 1, 1});
  net.weight("w1", w1);
  net.weight("wg", wg);
  net.weight("w2", w2);
  net.weight("sqrt2", at::tensor(1.41421356f));
  net.weight("one", at::tensor(1.0f));
  net.weight("half", at::tensor(0.5f));
  net.node("Flatten", {"input"}, "flat")
      .node("Gemm", {"flat", "w1"}, "a", {}, {{"transB", 1}})
      .node("Sigmoid", {"a"}, "sig")
      .node("Mul", {"a", "sig"}, "silu")  // SiLU
      .node("Div", {"silu", "sqrt2"}, "d")
      .node("Erf", {"d"}, "erf")
      .node("Add", {"erf", "one"}, "erf1")
      .node("Mul", {"silu", "erf1"}, "m")
      .node("Mul", {"m", "half"}, "gelu")  // GELU, as torch.onnx writes it
      .node("Gemm", {"gelu", "wg"}, "fc", {}, {{"transB", 1}})
      .node("HardSigmoid", {"fc"}, "gate")
      .attr("alpha", 0.2f)
      .node("Mul", {"gate", "gelu"}, "gated")  // squeeze-excite: the gate is the first operand
      .node("Tanh", {"gated"}, "tanh")
      .node("HardSigmoid", {"tanh"}, "hs")
      .attr("alpha", 1.0f / 6.0f)
      .node("Mul", {"tanh", "hs"}, "hardswish")
      .node("Sigmoid", {"hardswish"}, "act")
      .node("Gemm", {"act", "w2"}, "logits", {}, {{"transB", 1}});
  const graph::Graph g = net.graph();
  int fused = 0;
  for (const auto& n : g.nodes()) fused += n.op_type == "HardSwish";
  EXPECT_EQ(fused, 1);  // so the HardSwish entry is the one that runs
  const graph::TensorMap v = g.run(x, {"act", "logits"});
  const at::Tensor start = at::zeros({1, 3}).index_put_({0, 2}, v.at("logits")[0][2]);
  const at::Tensor r = lrp_relevance(g, x, "logits", start, everywhere(LrpRule::kEpsilon, LrpRule::kEpsilon));
  const at::Tensor r_act = hand_rule(LrpRule::kEpsilon, w2, v.at("act"), start, 0, 1);
  const at::Tensor expected = hand_rule(LrpRule::kEpsilon, w1, x, r_act, 0, 1);
  EXPECT_TRUE(at::allclose(r.flatten().to(at::kDouble), expected, 1e-6, 1e-8)) << r << expected;
  EXPECT_NEAR(r.sum().item<double>(), start.sum().item<double>(), 1e-5);
}

// LayerNormalization (opset 17) on [1, T, C] tokens between two MatMuls, bias-free: the
// LN-rule by hand, R_k = sum_j h_k (delta_kj - 1/C) scale_j / std R_j / y_j per token
// (the std held constant, mean-centring linear), conserves relevance to 1e-5.
TEST(Lrp, LayerNormRuleHoldsTheStdConstantAndConserves) {
  at::manual_seed(22);
  const int64_t T = 3, C = 5;
  const at::Tensor w1 = at::randn({4, C}), scale = at::rand({C}) + 0.5, w2 = at::randn({C, 2});
  const at::Tensor x = at::randn({1, 1, T, 4});
  Net net({1, 1, T, 4}, 17);  // graph inputs are images: tokens come from a Reshape
  net.shape("tokens", {1, T, 4});
  net.weight("w1", w1);
  net.weight("scale", scale);
  net.weight("w2", w2);
  net.node("Reshape", {"input", "tokens"}, "x").node("MatMul", {"x", "w1"}, "h")
      .node("LayerNormalization", {"h", "scale"}, "y", {}, {{"axis", -1}})
      .attr("epsilon", 1e-5f)
      .node("MatMul", {"y", "w2"}, "out");
  const graph::Graph g = net.graph();
  const graph::TensorMap v = g.run(x, {"h", "y", "out"});
  at::manual_seed(23);
  const at::Tensor start = v.at("out") * at::rand({1, T, 2});  // any relevance at the output
  const at::Tensor r = lrp_relevance(g, x, "out", start, everywhere(LrpRule::kEpsilon, LrpRule::kEpsilon));

  const at::Tensor h = rows(v.at("h")), y = rows(v.at("y")), s = scale.to(at::kDouble);
  const at::Tensor r_y = hand_tokens(w2, y, rows(start));
  at::Tensor r_h = at::zeros({T, C}, at::kDouble);
  for (int64_t t = 0; t < T; ++t) {
    const double mean = h[t].mean().item<double>();
    const double sd = std::sqrt((h[t] - mean).pow(2).mean().item<double>() + 1e-5);
    for (int64_t k = 0; k < C; ++k) {
      double sum = 0;
      for (int64_t j = 0; j < C; ++j)
        sum += h[t][k].item<double>() * ((k == j) - 1.0 / C) * s[j].item<double>() / sd * r_y[t][j].item<double>() /
               y[t][j].item<double>();
      r_h[t][k] = sum;
    }
  }
  const at::Tensor expected = hand_tokens(w1, rows(x), r_h);
  EXPECT_TRUE(at::allclose(rows(r), expected, 1e-5, 1e-7)) << r << expected;
  EXPECT_NEAR(r.sum().item<double>(), start.sum().item<double>(), 1e-5);
}

// LayerNorm exported at opset 13 (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul,
// Add: the Div by the normalizer gives all to its numerator, Sub and ReduceMean their
// proportional shares) propagates the same relevance as the LayerNormalization node, with
// its bias absorbing its share, and with biases ignored.
graph::Graph layer_norm_net(bool fused, const at::Tensor& w1, const at::Tensor& scale, const at::Tensor& bias,
                            const at::Tensor& w2) {
  Net net({1, 1, 3, 4}, fused ? 17 : 13);
  net.shape("tokens", {1, 3, 4});
  net.node("Reshape", {"input", "tokens"}, "x");
  net.weight("w1", w1);
  net.weight("scale", scale);
  net.weight("bias", bias);
  net.weight("w2", w2);
  net.weight("two", at::tensor(2.0f));
  net.weight("eps", at::tensor(1e-5f));
  net.node("MatMul", {"x", "w1"}, "h");
  if (fused) {
    net.node("LayerNormalization", {"h", "scale", "bias"}, "y", {}, {{"axis", -1}}).attr("epsilon", 1e-5f);
  } else {
    net.node("ReduceMean", {"h"}, "mean", {{"axes", {-1}}})
        .node("Sub", {"h", "mean"}, "centred")
        .node("Pow", {"centred", "two"}, "sq")
        .node("ReduceMean", {"sq"}, "var", {{"axes", {-1}}})
        .node("Add", {"var", "eps"}, "var_eps")
        .node("Sqrt", {"var_eps"}, "sd")
        .node("Div", {"centred", "sd"}, "normed")
        .node("Mul", {"normed", "scale"}, "scaled")
        .node("Add", {"scaled", "bias"}, "y");
  }
  net.node("MatMul", {"y", "w2"}, "out");
  return net.graph();
}

TEST(Lrp, DecomposedLayerNormEqualsTheFusedNode) {
  at::manual_seed(24);
  const at::Tensor w1 = at::randn({4, 5}), scale = at::rand({5}) + 0.5, bias = at::randn({5}) * 0.3,
                   w2 = at::randn({5, 2});
  const graph::Graph fused = layer_norm_net(true, w1, scale, bias, w2), parts = layer_norm_net(false, w1, scale, bias, w2);
  const at::Tensor x = at::randn({1, 1, 3, 4});
  const at::Tensor out = fused.run(x, {"out"}).at("out");
  ASSERT_TRUE(at::allclose(out, parts.run(x, {"out"}).at("out"), 1e-5, 1e-6));
  const at::Tensor start = out * at::rand(out.sizes());
  for (bool ignore_bias : {false, true}) {
    LrpSettings s = everywhere(LrpRule::kEpsilon, LrpRule::kEpsilon);
    s.ignore_bias = ignore_bias;
    const at::Tensor a = lrp_relevance(fused, x, "out", start, s), b = lrp_relevance(parts, x, "out", start, s);
    EXPECT_TRUE(at::allclose(a, b, 1e-5, 1e-7)) << "ignore_bias " << ignore_bias << "\n" << a << b;
    if (ignore_bias) EXPECT_NEAR(a.sum().item<double>(), start.sum().item<double>(), 1e-5);
    else EXPECT_GT(std::abs(a.sum().item<double>() - start.sum().item<double>()), 1e-4);  // the bias's share
  }
}

// Self-attention on [1, T, C] tokens, bias-free: Q, K, V = x Wq, x Wk, x Wv; A =
// Softmax(Q K^T); O = A V; out = O Wo. The AH-rule holds A constant: R_V[t,c] = sum_s
// A[s,t] V[t,c] R_O[s,c] / O[s,c]; Q and K get nothing, so the map is the epsilon rule of
// Wv on R_V, and relevance is conserved.
TEST(Lrp, AttentionHoldsTheWeightsConstantAndRelevanceFlowsThroughTheValues) {
  at::manual_seed(25);
  const int64_t T = 4, C = 3;
  const at::Tensor wq = at::randn({C, C}), wk = at::randn({C, C}), wv = at::randn({C, C}), wo = at::randn({C, 2});
  const at::Tensor x = at::randn({1, 1, T, C});
  // The input as T tokens and the four projections, shared by the MatMul and Einsum forms.
  auto tokens_and_weights = [&](Net& n) {
    n.shape("tokens", {1, T, C});
    n.node("Reshape", {"input", "tokens"}, "x");
    n.weight("wq", wq);
    n.weight("wk", wk);
    n.weight("wv", wv);
    n.weight("wo", wo);
  };
  Net net({1, 1, T, C});
  tokens_and_weights(net);
  net.node("MatMul", {"x", "wq"}, "q")
      .node("MatMul", {"x", "wk"}, "k")
      .node("MatMul", {"x", "wv"}, "v")
      .node("Transpose", {"k"}, "kt", {{"perm", {0, 2, 1}}})
      .node("MatMul", {"q", "kt"}, "scores")
      .node("Softmax", {"scores"}, "attn", {}, {{"axis", -1}})
      .node("Dropout", {"attn"}, "attn_d")
      .node("MatMul", {"attn_d", "v"}, "o")
      .node("MatMul", {"o", "wo"}, "out");
  const graph::Graph g = net.graph();
  const graph::TensorMap val = g.run(x, {"attn", "v", "o", "out"});
  const at::Tensor start = val.at("out") * at::rand({1, T, 2});
  const at::Tensor r = lrp_relevance(g, x, "out", start, everywhere(LrpRule::kEpsilon, LrpRule::kEpsilon));

  const at::Tensor A = val.at("attn")[0].to(at::kDouble), V = rows(val.at("v")), O = rows(val.at("o"));
  const at::Tensor r_o = hand_tokens(wo, O, rows(start));
  at::Tensor r_v = at::zeros({T, C}, at::kDouble);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < C; ++c) {
      double sum = 0;
      for (int64_t q = 0; q < T; ++q)
        sum += A[q][t].item<double>() * V[t][c].item<double>() * r_o[q][c].item<double>() / O[q][c].item<double>();
      r_v[t][c] = sum;
    }
  const at::Tensor expected = hand_tokens(wv, rows(x), r_v);
  EXPECT_TRUE(at::allclose(rows(r), expected, 1e-5, 1e-7)) << r << expected;
  EXPECT_NEAR(r.sum().item<double>(), start.sum().item<double>(), 1e-5);

  // The same attention written with Einsum (as maxvit_t exports it), values first in the
  // product: the same relevance.
  Net e({1, 1, T, C}, 13);
  tokens_and_weights(e);
  auto einsum = [&](std::vector<std::string> in, const std::string& out, const std::string& equation) {
    e.node("Einsum", std::move(in), out);
    auto* a = e.last_node()->add_attribute();
    a->set_name("equation");
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(equation);
  };
  e.node("MatMul", {"x", "wq"}, "q").node("MatMul", {"x", "wk"}, "k");
  einsum({"x", "wv"}, "v", "btc,cd->btd");
  einsum({"q", "k"}, "scores", "bic,bjc->bij");
  e.node("Softmax", {"scores"}, "attn", {}, {{"axis", -1}});
  einsum({"v", "attn"}, "o", "bjd,bij->bid");
  e.node("MatMul", {"o", "wo"}, "out");
  const at::Tensor re = lrp_relevance(e.graph(), x, "out", start, everywhere(LrpRule::kEpsilon, LrpRule::kEpsilon));
  EXPECT_TRUE(at::allclose(re, r, 1e-6, 1e-8)) << re << r;
}

// Products the rules do not cover stay one-line errors: a Mul of two activations neither of
// which is a gate, a MatMul of two activations neither of which is attention weights, a Div
// by an activation that is no normalizer.
TEST(Lrp, ProductsOfTwoActivationsWithoutAGateOrAttentionAreErrors) {
  at::manual_seed(26);
  auto net_with = [](const std::string& op) {
    Net net({1, 1, 2, 2});
    net.weight("w1", at::randn({2, 2}));
    net.weight("w2", at::randn({2, 2}));
    net.node("MatMul", {"input", "w1"}, "a").node("MatMul", {"input", "w2"}, "b").node(op, {"a", "b"}, "p");
    return net.graph();
  };
  const at::Tensor x = at::randn({1, 1, 2, 2});
  auto error = [&](const std::string& op) {
    return error_of([&] { lrp_relevance(net_with(op), x, "p", at::ones({1, 1, 2, 2}), everywhere(LrpRule::kEpsilon, LrpRule::kEpsilon)); });
  };
  EXPECT_EQ(error("Mul"), "LRP has no rule for op 'Mul' on two input-dependent tensors, neither a gate (node 'p/Mul')");
  EXPECT_EQ(error("MatMul"),
            "LRP has no rule for op 'MatMul' on two input-dependent tensors, neither attention weights (node 'p/MatMul')");
  EXPECT_EQ(error("Div"), "LRP has no rule for op 'Div' with an input-dependent divisor that is no normalizer (node 'p/Div')");
}

// attribute(): the [0,1]-pixel map of a logit on the model; conservation reported.
TEST(Lrp, AttributeReportsConservationOnABiasFreeModel) {
  model::ModelCard card;  // a 2x2 input, pixel / 255: z^B's range is [0, 1]
  card.name = "dense", card.input = "input", card.output = "logits", card.num_classes = 3;
  card.preprocessing.width = card.preprocessing.height = 2;
  Net net({1, 3, 2, 2});
  at::manual_seed(10);
  net.weight("w1", at::randn({6, 12}));
  net.weight("w2", at::randn({3, 6}));
  net.node("Flatten", {"input"}, "flat")
      .node("Gemm", {"flat", "w1"}, "h1", {}, {{"transB", 1}})
      .node("Relu", {"h1"}, "h")
      .node("Gemm", {"h", "w2"}, "logits", {}, {{"transB", 1}});
  const model::Model model{card, net.graph(), "", ""};
  at::manual_seed(11);
  const at::Tensor image = at::rand({3, 2, 2});
  AttributionOptions o;
  o.method = Method::kLrp;
  const Attribution a = attribute(model, objective::logit("logits", 0), image, o);
  ASSERT_TRUE(a.conservation.has_value());
  EXPECT_EQ(a.raw.sizes(), image.sizes());
  EXPECT_NEAR(a.conservation->relevance_sum, a.target_value, 1e-5);
  EXPECT_NEAR(a.conservation->target_value, a.target_value, 1e-6);
  EXPECT_TRUE(at::allclose(a.map, a.raw.sum(0)));
  o.lrp.composite = "nope";
  EXPECT_NE(error_of([&] { attribute(model, objective::logit("logits", 0), image, o); }).find("composites:"),
            std::string::npos);
}

}  // namespace
}  // namespace featvis::attribution
