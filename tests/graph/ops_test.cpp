// Single ops and the loader/executor, on tiny ONNX models built here with the protobuf
// classes. Conv and pooling are checked against plain loops written from the ONNX (and
// PyTorch) definitions, not against the ATen calls featvis itself makes.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/graph/graph.h>
#include <featvis/graph/op_registry.h>
#include <featvis/graph/relu_gradient.h>
#include <featvis/util/error.h>

#include <onnx/onnx_pb.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace {

using featvis::graph::Graph;

// --- building models ---------------------------------------------------------------

class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset = 13) {
    model_.set_ir_version(7);
    auto* o = model_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    graph_ = model_.mutable_graph();
    graph_->set_name("ops_test");
  }

  ModelBuilder& input(const std::string& name, const std::vector<int64_t>& shape) {
    auto* vi = graph_->add_input();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
    return *this;
  }

  ModelBuilder& output(const std::string& name) {
    featvis::testing::add_float_output(graph_, name);
    return *this;
  }

  // A float32 or int64 initializer.
  ModelBuilder& weight(const std::string& name, const at::Tensor& t) {
    const at::Tensor c = t.contiguous();
    auto* init = graph_->add_initializer();
    init->set_name(name);
    init->set_data_type(c.scalar_type() == at::kLong ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT);
    for (int64_t d : c.sizes()) init->add_dims(d);
    init->set_raw_data(std::string(static_cast<const char*>(c.data_ptr()), c.nbytes()));
    return *this;
  }

  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* n = graph_->add_node();
    n->set_op_type(op);
    if (!name.empty()) n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }

  std::string bytes() const {
    std::string out;
    model_.SerializeToString(&out);
    return out;
  }
  Graph load() const { return Graph::load_onnx_bytes(bytes(), "ops_test model"); }

 private:
  onnx::ModelProto model_;
  onnx::GraphProto* graph_;
};

void attr_i(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
void attr_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}
void attr_f(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
void attr_s(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

at::Tensor ints(const std::vector<int64_t>& v) { return at::tensor(v, at::kLong); }

at::Tensor random(const std::vector<int64_t>& shape, uint64_t seed) {
  at::manual_seed(seed);
  return at::randn(shape);
}

// Runs a one-input, one-output model.
at::Tensor run(const ModelBuilder& b, const at::Tensor& x, const std::string& out = "y") {
  return b.load().run(x, {out}).at(out);
}

void expect_close(const at::Tensor& actual, const at::Tensor& expected, double tol = 1e-5) {
  ASSERT_EQ(actual.sizes(), expected.sizes());
  const double err = (actual.to(at::kDouble) - expected.to(at::kDouble)).abs().max().item<double>();
  EXPECT_LE(err, tol) << "max abs difference " << err;
}

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const featvis::Error& e) {
    return e.what();
  }
  return "<no featvis::Error thrown>";
}

// --- loop references -----------------------------------------------------------------

struct Pads2d {
  int64_t top, left, bottom, right;  // ONNX order is [top, left, bottom, right]
};

// ONNX Conv: y[n, m, i, j] = b[m] + sum over the group's channels and the kernel of
// w * x at (i*stride - pad_begin + k*dilation), zero outside the input.
at::Tensor conv_reference(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, int64_t stride,
                          Pads2d p, int64_t dilation, int64_t group) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t M = w.size(0), CG = w.size(1), KH = w.size(2), KW = w.size(3);
  const int64_t OH = (H + p.top + p.bottom - ((KH - 1) * dilation + 1)) / stride + 1;
  const int64_t OW = (W + p.left + p.right - ((KW - 1) * dilation + 1)) / stride + 1;
  EXPECT_EQ(C, CG * group);
  at::Tensor y = at::zeros({N, M, OH, OW}, at::kDouble);
  const at::Tensor xd = x.to(at::kDouble), wd = w.to(at::kDouble);
  auto xa = xd.accessor<double, 4>();
  auto wa = wd.accessor<double, 4>();
  auto ya = y.accessor<double, 4>();
  const int64_t per_group = M / group;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t i = 0; i < OH; ++i)
        for (int64_t j = 0; j < OW; ++j) {
          double s = b.defined() ? b[m].item<double>() : 0.0;
          for (int64_t c = 0; c < CG; ++c)
            for (int64_t ki = 0; ki < KH; ++ki)
              for (int64_t kj = 0; kj < KW; ++kj) {
                const int64_t h = i * stride - p.top + ki * dilation;
                const int64_t v = j * stride - p.left + kj * dilation;
                if (h < 0 || h >= H || v < 0 || v >= W) continue;
                s += wa[m][c][ki][kj] * xa[n][(m / per_group) * CG + c][h][v];
              }
          ya[n][m][i][j] = s;
        }
  return y;
}

// Output length of a pooled dim, PyTorch's rule (which its ONNX export relies on): with
// ceil_mode the last window must still start inside the input or its leading padding.
int64_t pooled_size(int64_t in, int64_t k, int64_t s, int64_t begin, int64_t end, bool ceil_mode) {
  const int64_t span = in + begin + end - k;
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= in + begin) --out;
  return out;
}

// Max ignores padding; average divides by the window clipped to the padded input
// (count_include_pad=1) or by the number of real input cells it covers (=0).
at::Tensor pool_reference(const at::Tensor& x, bool max, int64_t k, int64_t s, Pads2d p, bool ceil_mode,
                          bool include_pad) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t OH = pooled_size(H, k, s, p.top, p.bottom, ceil_mode);
  const int64_t OW = pooled_size(W, k, s, p.left, p.right, ceil_mode);
  at::Tensor y = at::zeros({N, C, OH, OW}, at::kDouble);
  const at::Tensor xd = x.to(at::kDouble);
  auto xa = xd.accessor<double, 4>();
  auto ya = y.accessor<double, 4>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < OH; ++i)
        for (int64_t j = 0; j < OW; ++j) {
          const int64_t h0 = i * s - p.top, v0 = j * s - p.left;
          const int64_t h1 = std::min(h0 + k, H + p.bottom), v1 = std::min(v0 + k, W + p.right);
          double acc = max ? -std::numeric_limits<double>::infinity() : 0.0;
          int64_t real = 0;
          for (int64_t h = std::max<int64_t>(h0, 0); h < std::min(h1, H); ++h)
            for (int64_t v = std::max<int64_t>(v0, 0); v < std::min(v1, W); ++v) {
              acc = max ? std::max(acc, xa[n][c][h][v]) : acc + xa[n][c][h][v];
              ++real;
            }
          ya[n][c][i][j] = max ? acc : acc / static_cast<double>(include_pad ? (h1 - h0) * (v1 - v0) : real);
        }
  return y;
}

// --- Conv ------------------------------------------------------------------------------

TEST(Ops, ConvAsymmetricPads) {
  // TensorFlow-style "SAME" padding exported as explicit pads [0, 0, 1, 1].
  const at::Tensor x = random({2, 3, 6, 7}, 1), w = random({4, 3, 3, 3}, 2), b = random({4}, 3);
  ModelBuilder m;
  m.input("x", {2, 3, 6, 7}).output("y").weight("w", w).weight("b", b);
  auto& conv = m.node("Conv", {"x", "w", "b"}, {"y"});
  attr_ints(conv, "pads", {0, 0, 1, 1});
  attr_ints(conv, "strides", {2, 2});
  attr_ints(conv, "kernel_shape", {3, 3});
  const at::Tensor y = run(m, x);
  EXPECT_EQ(y.sizes().vec(), (std::vector<int64_t>{2, 4, 3, 3}));
  expect_close(y, conv_reference(x, w, b, 2, {0, 0, 1, 1}, 1, 1));
}

TEST(Ops, ConvAutoPadSameUpperWithDilation) {
  const at::Tensor x = random({1, 2, 7, 8}, 4), w = random({3, 2, 3, 3}, 5);
  ModelBuilder m;
  m.input("x", {1, 2, 7, 8}).output("y").weight("w", w);
  auto& conv = m.node("Conv", {"x", "w"}, {"y"});
  attr_s(conv, "auto_pad", "SAME_UPPER");
  attr_ints(conv, "strides", {2, 2});
  attr_ints(conv, "dilations", {2, 2});
  // Effective kernel 5, stride 2: out = ceil(in / 2); total pad = (out-1)*2 + 5 - in,
  // the larger half at the end. H: 7 -> 4, pad 4 = 2+2. W: 8 -> 4, pad 3 = 1+2.
  const at::Tensor y = run(m, x);
  EXPECT_EQ(y.sizes().vec(), (std::vector<int64_t>{1, 3, 4, 4}));
  expect_close(y, conv_reference(x, w, at::Tensor(), 2, {2, 1, 2, 2}, 2, 1));
}

TEST(Ops, DepthwiseAndGroupedConv) {
  const at::Tensor x = random({2, 4, 9, 9}, 6);
  {
    const at::Tensor w = random({4, 1, 3, 3}, 7), b = random({4}, 8);
    ModelBuilder m;
    m.input("x", {2, 4, 9, 9}).output("y").weight("w", w).weight("b", b);
    auto& conv = m.node("Conv", {"x", "w", "b"}, {"y"});
    attr_i(conv, "group", 4);
    attr_ints(conv, "pads", {1, 1, 1, 1});
    attr_ints(conv, "strides", {2, 2});
    const at::Tensor y = run(m, x);
    EXPECT_EQ(y.sizes().vec(), (std::vector<int64_t>{2, 4, 5, 5}));
    expect_close(y, conv_reference(x, w, b, 2, {1, 1, 1, 1}, 1, 4));
  }
  {
    const at::Tensor w = random({6, 2, 1, 1}, 9);
    ModelBuilder m;
    m.input("x", {2, 4, 9, 9}).output("y").weight("w", w);
    attr_i(m.node("Conv", {"x", "w"}, {"y"}), "group", 2);
    expect_close(run(m, x), conv_reference(x, w, at::Tensor(), 1, {0, 0, 0, 0}, 1, 2));
  }
}

TEST(Ops, ConvChannelMismatchNamesNode) {
  ModelBuilder m;
  m.input("x", {1, 3, 5, 5}).output("y").weight("w", random({2, 4, 3, 3}, 1));
  m.node("Conv", {"x", "w"}, {"y"}, "conv_bad");
  const std::string msg = error_of([&] { run(m, random({1, 3, 5, 5}, 2)); });
  EXPECT_NE(msg.find("conv_bad"), std::string::npos) << msg;
  EXPECT_NE(msg.find("channels"), std::string::npos) << msg;
}

// --- Pooling ---------------------------------------------------------------------------

struct PoolCase {
  int64_t size, kernel, stride;
  Pads2d pads;
  bool ceil_mode;
};

at::Tensor run_pool(const std::string& op, const at::Tensor& x, const PoolCase& c, int64_t include_pad) {
  ModelBuilder m;
  m.input("x", x.sizes().vec()).output("y");
  auto& n = m.node(op, {"x"}, {"y"});
  attr_ints(n, "kernel_shape", {c.kernel, c.kernel});
  attr_ints(n, "strides", {c.stride, c.stride});
  attr_ints(n, "pads", {c.pads.top, c.pads.left, c.pads.bottom, c.pads.right});
  attr_i(n, "ceil_mode", c.ceil_mode);
  if (include_pad >= 0) attr_i(n, "count_include_pad", include_pad);
  return run(m, x);
}

TEST(Ops, MaxPoolCeilModeWithPads) {
  const std::vector<PoolCase> cases = {
      {6, 3, 2, {1, 1, 1, 1}, true},    // ceil gives 4 outputs where floor gives 3
      {5, 2, 2, {1, 1, 1, 1}, true},    // ceil's extra window would start in the end pad: dropped
      {7, 3, 2, {0, 0, 0, 0}, true},    // GoogLeNet / SqueezeNet style
      {6, 3, 2, {1, 1, 1, 1}, false},
      {6, 2, 2, {0, 0, 1, 1}, false},   // asymmetric
      {5, 3, 1, {2, 2, 2, 2}, false},   // pad > kernel/2, beyond what ATen accepts
  };
  for (const auto& c : cases) {
    // Negative values so that padding must not act as zeros.
    const at::Tensor x = random({2, 3, c.size, c.size}, 10) - 3.0;
    const at::Tensor y = run_pool("MaxPool", x, c, -1);
    SCOPED_TRACE("size " + std::to_string(c.size) + " kernel " + std::to_string(c.kernel) + " ceil " +
                 std::to_string(c.ceil_mode));
    expect_close(y, pool_reference(x, true, c.kernel, c.stride, c.pads, c.ceil_mode, false));
  }
  EXPECT_EQ(run_pool("MaxPool", random({1, 1, 6, 6}, 1), {6, 3, 2, {1, 1, 1, 1}, true}, -1).size(2), 4);
  EXPECT_EQ(run_pool("MaxPool", random({1, 1, 5, 5}, 1), {5, 2, 2, {1, 1, 1, 1}, true}, -1).size(2), 3);
}

TEST(Ops, AveragePoolCountIncludePad) {
  const std::vector<PoolCase> cases = {
      {6, 3, 2, {1, 1, 1, 1}, false},
      {6, 3, 2, {1, 1, 1, 1}, true},
      {5, 2, 2, {0, 0, 1, 1}, false},  // asymmetric: explicit padding plus a coverage mask
      {7, 3, 2, {1, 0, 0, 1}, false},
      {5, 3, 1, {2, 2, 2, 2}, false},  // pad > kernel/2
  };
  for (const auto& c : cases) {
    for (int64_t include : {0, 1}) {
      const at::Tensor x = random({2, 3, c.size, c.size}, 11) + 2.0;
      SCOPED_TRACE("size " + std::to_string(c.size) + " pads " + std::to_string(c.pads.top) +
                   std::to_string(c.pads.left) + std::to_string(c.pads.bottom) + std::to_string(c.pads.right) +
                   " ceil " + std::to_string(c.ceil_mode) + " count_include_pad " + std::to_string(include));
      expect_close(run_pool("AveragePool", x, c, include),
                   pool_reference(x, false, c.kernel, c.stride, c.pads, c.ceil_mode, include == 1));
    }
  }
  // The two settings really differ at the border.
  const at::Tensor x = at::ones({1, 1, 4, 4});
  const PoolCase c{4, 3, 1, {1, 1, 1, 1}, false};
  EXPECT_FLOAT_EQ(run_pool("AveragePool", x, c, 0)[0][0][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(run_pool("AveragePool", x, c, 1)[0][0][0][0].item<float>(), 4.0f / 9.0f);
  // count_include_pad defaults to 0.
  EXPECT_FLOAT_EQ(run_pool("AveragePool", x, c, -1)[0][0][0][0].item<float>(), 1.0f);
}

TEST(Ops, GlobalPools) {
  const at::Tensor x = random({2, 3, 4, 5}, 12);
  ModelBuilder m;
  m.input("x", {2, 3, 4, 5}).output("avg").output("max");
  m.node("GlobalAveragePool", {"x"}, {"avg"});
  m.node("GlobalMaxPool", {"x"}, {"max"});
  const auto out = m.load().run(x, {"avg", "max"});
  expect_close(out.at("avg"), x.mean({2, 3}, true));
  expect_close(out.at("max"), x.amax({2, 3}, true));
}

// --- Elementwise, activations ---------------------------------------------------------

TEST(Ops, ClipWithMinMaxInputs) {
  const at::Tensor x = at::linspace(-2, 2, 2 * 3 * 4 * 4).reshape({2, 3, 4, 4});
  {
    ModelBuilder m;
    m.input("x", {2, 3, 4, 4}).output("y");
    m.weight("lo", at::scalar_tensor(-0.5, at::kFloat)).weight("hi", at::scalar_tensor(0.75, at::kFloat));
    m.node("Clip", {"x", "lo", "hi"}, {"y"});
    const at::Tensor y = run(m, x);
    EXPECT_FLOAT_EQ(y.min().item<float>(), -0.5f);
    EXPECT_FLOAT_EQ(y.max().item<float>(), 0.75f);
    expect_close(y, at::clamp(x, -0.5, 0.75));
  }
  {
    // Min omitted (empty input name), max given: ReLU6-like upper bound only.
    ModelBuilder m;
    m.input("x", {2, 3, 4, 4}).output("y").weight("hi", at::scalar_tensor(1.0, at::kFloat));
    m.node("Clip", {"x", "", "hi"}, {"y"});
    const at::Tensor y = run(m, x);
    EXPECT_FLOAT_EQ(y.min().item<float>(), -2.0f);
    EXPECT_FLOAT_EQ(y.max().item<float>(), 1.0f);
  }
  {
    // Opset 6: bounds are attributes.
    ModelBuilder m(6);
    m.input("x", {2, 3, 4, 4}).output("y");
    auto& n = m.node("Clip", {"x"}, {"y"});
    attr_f(n, "min", 0.0f);
    attr_f(n, "max", 6.0f);
    expect_close(run(m, x * 5), at::clamp(x * 5, 0, 6));
  }
}

// Lucid's redirected ReLU gradient (featvis/graph/relu_gradient.h) on ReLU6 = Clip(0, 6).
// The backward receives d(loss)/dy of a minimized loss: a positive value pushes x down.
TEST(Ops, RedirectedReluGradientOnlyForItemsWithNoTrueGradient) {
  ModelBuilder m;
  m.input("x", {2, 5, 1, 1}).output("y");
  m.weight("lo", at::scalar_tensor(0.0, at::kFloat)).weight("hi", at::scalar_tensor(6.0, at::kFloat));
  m.node("Clip", {"x", "lo", "hi"}, {"y"});
  const Graph graph = m.load();
  // Item 0: every unit clamped (-1 below, 7 above), so the true gradient is all zero.
  // Item 1: one unit inside the range, so it keeps the true gradient.
  const at::Tensor x0 = at::tensor({-1.f, -1.f, 7.f, 7.f, -3.f, -1.f, -1.f, 7.f, 7.f, 3.f}).reshape({2, 5, 1, 1});
  const at::Tensor g = at::tensor({1.f, -1.f, 1.f, -1.f, -2.f, 1.f, -1.f, 1.f, -1.f, 4.f}).reshape({2, 5, 1, 1});
  auto gradient = [&](featvis::graph::ReluGradient mode) {
    const at::Tensor x = x0.clone().requires_grad_(true);
    {
      const featvis::graph::ReluGradientGuard guard(mode);
      (graph.run(x, {"y"}).at("y") * g).sum().backward();
    }
    return x.grad().reshape({2, 5});
  };
  // Redirected where a descent step moves x back into range; blocked where it pushes
  // further out (x < 0 with g > 0, x > 6 with g < 0).
  expect_close(gradient(featvis::graph::ReluGradient::kRedirected)[0], at::tensor({0.f, -1.f, 1.f, 0.f, -2.f}));
  expect_close(gradient(featvis::graph::ReluGradient::kRedirected)[1], at::tensor({0.f, 0.f, 0.f, 0.f, 4.f}));
  expect_close(gradient(featvis::graph::ReluGradient::kExact), at::tensor({0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 4.f}).reshape({2, 5}));
  EXPECT_EQ(featvis::graph::current_relu_gradient(), featvis::graph::ReluGradient::kExact);  // the guard restored it

  ModelBuilder relu;
  relu.input("x", {1, 3, 1, 1}).output("y");
  relu.node("Relu", {"x"}, {"y"});
  const at::Tensor x = at::tensor({-1.f, -2.f, -3.f}).reshape({1, 3, 1, 1}).requires_grad_(true);
  {
    const featvis::graph::ReluGradientGuard guard(featvis::graph::ReluGradient::kRedirected);
    const at::Tensor y = relu.load().run(x, {"y"}).at("y");
    expect_close(y, at::zeros({1, 3, 1, 1}));
    (y * at::tensor({-1.f, 1.f, -0.5f}).reshape({1, 3, 1, 1})).sum().backward();
  }
  expect_close(x.grad(), at::tensor({-1.f, 0.f, -0.5f}).reshape({1, 3, 1, 1}));
}

TEST(Ops, SoftmaxAxis) {
  const at::Tensor x = random({2, 3, 4, 5}, 13);
  {
    ModelBuilder m(13);
    m.input("x", {2, 3, 4, 5}).output("y");
    attr_i(m.node("Softmax", {"x"}, {"y"}), "axis", 1);
    const at::Tensor e = x.exp();
    expect_close(run(m, x), e / e.sum({1}, true));
  }
  {
    // Default axis since opset 13 is the last one.
    ModelBuilder m(13);
    m.input("x", {2, 3, 4, 5}).output("y");
    m.node("Softmax", {"x"}, {"y"});
    const at::Tensor e = x.exp();
    expect_close(run(m, x), e / e.sum({3}, true));
  }
  {
    // Before opset 13, axis 2 means: flatten to [2*3, 4*5] and normalize each row.
    ModelBuilder m(11);
    m.input("x", {2, 3, 4, 5}).output("y");
    attr_i(m.node("Softmax", {"x"}, {"y"}), "axis", 2);
    const at::Tensor e = x.exp();
    expect_close(run(m, x), e / e.sum({2, 3}, true));
  }
}

TEST(Ops, HardSigmoidAndSwishLikeMul) {
  const at::Tensor x = at::linspace(-5, 5, 40).reshape({1, 2, 4, 5});
  ModelBuilder m;
  m.input("x", {1, 2, 4, 5}).output("y");
  auto& hs = m.node("HardSigmoid", {"x"}, {"h"});
  attr_f(hs, "alpha", 1.0f / 6.0f);
  m.node("Mul", {"x", "h"}, {"y"});
  expect_close(run(m, x), x * at::clamp(x / 6 + 0.5, 0, 1));  // hardswish, as exported
}

// --- Linear, shapes ----------------------------------------------------------------------

TEST(Ops, GemmTransB) {
  const at::Tensor x = random({1, 1, 2, 3}, 14), w = random({4, 3}, 15), c = random({4}, 16);
  ModelBuilder m;
  m.input("x", {1, 1, 2, 3}).output("y").weight("w", w).weight("c", c);
  attr_i(m.node("Flatten", {"x"}, {"a"}), "axis", 3);  // [1*1*2, 3]
  auto& g = m.node("Gemm", {"a", "w", "c"}, {"y"});
  attr_i(g, "transB", 1);
  attr_f(g, "alpha", 0.5f);
  attr_f(g, "beta", 2.0f);
  const at::Tensor a = x.reshape({2, 3});
  at::Tensor expected = at::zeros({2, 4});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 4; ++j)
      expected[i][j] = 0.5 * (a[i] * w[j]).sum() + 2.0 * c[j];
  expect_close(run(m, x), expected);
}

TEST(Ops, GemmTransAWithoutBias) {
  const at::Tensor x = random({1, 1, 3, 2}, 17), w = random({3, 4}, 18);
  ModelBuilder m;
  m.input("x", {1, 1, 3, 2}).output("y").weight("w", w);
  attr_i(m.node("Flatten", {"x"}, {"a"}), "axis", 3);
  attr_i(m.node("Gemm", {"a", "w"}, {"y"}), "transA", 1);
  expect_close(run(m, x), at::mm(x.reshape({3, 2}).t(), w));
}

TEST(Ops, ReshapeWithZeroAndMinusOne) {
  const at::Tensor x = at::arange(2 * 3 * 4 * 5, at::kFloat).reshape({2, 3, 4, 5});
  auto reshape = [&](const std::vector<int64_t>& shape) {
    ModelBuilder m;
    m.input("x", {2, 3, 4, 5}).output("y").weight("s", ints(shape));
    m.node("Reshape", {"x", "s"}, {"y"});
    return run(m, x);
  };
  EXPECT_EQ(reshape({0, -1}).sizes().vec(), (std::vector<int64_t>{2, 60}));
  EXPECT_EQ(reshape({0, 0, -1}).sizes().vec(), (std::vector<int64_t>{2, 3, 20}));
  EXPECT_EQ(reshape({-1, 0, 5}).sizes().vec(), (std::vector<int64_t>{8, 3, 5}));
  EXPECT_TRUE(at::equal(reshape({0, -1}), x.reshape({2, 60})));
  // Two -1s cannot be resolved: the error names the node.
  ModelBuilder bad;
  bad.input("x", {2, 3, 4, 5}).output("y").weight("s", ints({-1, -1}));
  bad.node("Reshape", {"x", "s"}, {"y"}, "reshape_bad");
  const std::string msg = error_of([&] { run(bad, x); });
  EXPECT_NE(msg.find("reshape_bad"), std::string::npos) << msg;
}

TEST(Ops, Slice) {
  const at::Tensor x = at::arange(2 * 3 * 6 * 6, at::kFloat).reshape({2, 3, 6, 6});
  const int64_t big = std::numeric_limits<int64_t>::max(), small = std::numeric_limits<int64_t>::min();
  {
    // x[:, :, 1:5:2, ::-2] in NumPy terms: rows 1, 3; columns 5, 3, 1.
    ModelBuilder m;
    m.input("x", {2, 3, 6, 6}).output("y");
    m.weight("starts", ints({1, -1})).weight("ends", ints({5, small}));
    m.weight("axes", ints({2, -1})).weight("steps", ints({2, -2}));
    m.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"});
    const at::Tensor expected = x.index_select(2, ints({1, 3})).index_select(3, ints({5, 3, 1}));
    EXPECT_TRUE(at::equal(run(m, x), expected));
  }
  {
    // Axes omitted: starts/ends apply to the leading dims; ends past the end clamp.
    ModelBuilder m;
    m.input("x", {2, 3, 6, 6}).output("y");
    m.weight("starts", ints({1, 0, -4})).weight("ends", ints({big, 2, 100}));
    m.node("Slice", {"x", "starts", "ends"}, {"y"});
    EXPECT_TRUE(at::equal(run(m, x), x.slice(0, 1, 2).slice(1, 0, 2).slice(2, 2, 6)));
  }
}

TEST(Ops, Concat) {
  const at::Tensor x = random({2, 3, 4, 5}, 19);
  ModelBuilder m;
  m.input("x", {2, 3, 4, 5}).output("c1").output("c_last");
  m.node("Relu", {"x"}, {"r"});
  m.node("Neg", {"x"}, {"n"});
  attr_i(m.node("Concat", {"r", "n", "x"}, {"c1"}), "axis", 1);
  attr_i(m.node("Concat", {"n", "r"}, {"c_last"}), "axis", -1);
  const auto out = m.load().run(x, {"c1", "c_last"});
  EXPECT_TRUE(at::equal(out.at("c1"), at::cat({x.relu(), -x, x}, 1)));
  EXPECT_TRUE(at::equal(out.at("c_last"), at::cat({-x, x.relu()}, 3)));
  EXPECT_EQ(out.at("c1").size(1), 9);
}

TEST(Ops, BatchNormalizationUsesEachInputInItsPlace) {
  const at::Tensor x = random({2, 3, 4, 4}, 20);
  const at::Tensor scale = at::tensor({0.5f, 2.0f, -1.0f}), bias = at::tensor({0.1f, -0.2f, 0.3f});
  const at::Tensor mean = at::tensor({1.0f, -1.0f, 0.5f}), var = at::tensor({4.0f, 0.25f, 1.0f});
  ModelBuilder m;
  m.input("x", {2, 3, 4, 4}).output("y");
  m.weight("scale", scale).weight("bias", bias).weight("mean", mean).weight("var", var);
  attr_f(m.node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"}), "epsilon", 1e-3f);
  auto c = [](const at::Tensor& t) { return t.view({1, 3, 1, 1}); };
  expect_close(run(m, x), (x - c(mean)) / (c(var) + 1e-3).sqrt() * c(scale) + c(bias));
}

TEST(Ops, PadConstantReflectEdge) {
  const at::Tensor x = random({1, 2, 3, 4}, 21);
  auto pad = [&](const std::string& mode) {
    ModelBuilder m;
    m.input("x", {1, 2, 3, 4}).output("y").weight("p", ints({0, 0, 1, 2, 0, 0, 2, 1}));
    m.weight("v", at::scalar_tensor(1.5, at::kFloat));
    attr_s(m.node("Pad", {"x", "p", mode == "constant" ? "v" : ""}, {"y"}), "mode", mode);
    return run(m, x);
  };
  const at::Tensor c = pad("constant");
  EXPECT_EQ(c.sizes().vec(), (std::vector<int64_t>{1, 2, 6, 7}));
  EXPECT_TRUE(at::equal(c.slice(2, 1, 4).slice(3, 2, 6), x));
  EXPECT_FLOAT_EQ(c[0][0][0][0].item<float>(), 1.5f);
  // reflect: row -1 mirrors row 1; edge: it repeats row 0.
  EXPECT_TRUE(at::equal(pad("reflect")[0][0][0].slice(0, 2, 6), x[0][0][1]));
  EXPECT_TRUE(at::equal(pad("edge")[0][0][0].slice(0, 2, 6), x[0][0][0]));
}

TEST(Ops, DropoutPassesDataThrough) {
  const at::Tensor x = random({1, 2, 3, 3}, 26);
  ModelBuilder m;
  m.input("x", {1, 2, 3, 3}).output("y").output("mask").output("z");
  m.node("Dropout", {"x"}, {"y", "mask"});
  m.node("Dropout", {"y"}, {"z"});
  const auto out = m.load().run(x, {"y", "mask", "z"});
  EXPECT_TRUE(at::equal(out.at("y"), x));
  EXPECT_TRUE(at::equal(out.at("z"), x));
  EXPECT_EQ(out.at("mask").scalar_type(), at::kBool);
  EXPECT_TRUE(out.at("mask").all().item<bool>());
}

// --- Loader and executor ---------------------------------------------------------------

TEST(Ops, UnsupportedOpIsNamedWithItsNode) {
  ModelBuilder m;
  m.input("x", {1, 1, 2, 2}).output("y");
  m.node("Relu", {"x"}, {"r"});
  m.node("FancyOp", {"r"}, {"y"}, "fancy_node");
  const std::string msg = error_of([&] { m.load(); });
  EXPECT_NE(msg.find("FancyOp"), std::string::npos) << msg;
  EXPECT_NE(msg.find("fancy_node"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ops_test model"), std::string::npos) << msg;

  // An unnamed node gets "<op>_<index>".
  ModelBuilder unnamed;
  unnamed.input("x", {1, 1, 2, 2}).output("y");
  unnamed.node("Relu", {"x"}, {"r"});
  unnamed.node("FancyOp", {"r"}, {"y"});
  EXPECT_NE(error_of([&] { unnamed.load(); }).find("'FancyOp_1'"), std::string::npos);

  // Ops from other domains are refused even when the name matches a standard op.
  ModelBuilder domain;
  domain.input("x", {1, 1, 2, 2}).output("y");
  domain.node("Relu", {"x"}, {"y"}, "custom_relu").set_domain("com.example");
  const std::string dmsg = error_of([&] { domain.load(); });
  EXPECT_NE(dmsg.find("com.example"), std::string::npos) << dmsg;
  EXPECT_NE(dmsg.find("custom_relu"), std::string::npos) << dmsg;
}

TEST(Ops, TruncatedBytesAreRejected) {
  ModelBuilder m;
  m.input("x", {1, 4, 8, 8}).output("y").weight("w", random({8, 4, 3, 3}, 22));
  m.node("Conv", {"x", "w"}, {"y"});
  const std::string bytes = m.bytes();
  ASSERT_NO_THROW(Graph::load_onnx_bytes(bytes, "whole.onnx"));
  for (const size_t keep : {bytes.size() / 2, bytes.size() - 7}) {
    const std::string msg = error_of([&] { Graph::load_onnx_bytes(bytes.substr(0, keep), "cut.onnx"); });
    EXPECT_NE(msg.find("cut.onnx"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not a valid ONNX model"), std::string::npos) << msg;
  }
  EXPECT_NE(error_of([] { Graph::load_onnx_bytes("", "empty.onnx"); }).find("empty.onnx"), std::string::npos);
  EXPECT_NE(error_of([] { Graph::load_onnx("/nonexistent/model.onnx"); }).find("/nonexistent/model.onnx"),
            std::string::npos);
}

TEST(Ops, WeightWithWrongByteCountIsRejected) {
  onnx::ModelProto model;
  model.add_opset_import()->set_version(13);
  auto* g = model.mutable_graph();
  auto* in = g->add_input();
  in->set_name("x");
  auto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(4);
  w->set_raw_data(std::string(12, '\0'));  // 3 floats for 4
  auto* n = g->add_node();
  n->set_op_type("Add");
  n->add_input("x");
  n->add_input("w");
  n->add_output("y");
  g->add_output()->set_name("y");
  std::string bytes;
  model.SerializeToString(&bytes);
  const std::string msg = error_of([&] { Graph::load_onnx_bytes(bytes, "short.onnx"); });
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("12 bytes"), std::string::npos) << msg;
}

TEST(Ops, UnknownLayerNameSuggestsCloseOnes) {
  ModelBuilder m;
  m.input("x", {1, 1, 2, 2}).output("y");
  m.node("Relu", {"x"}, {"block1_relu"});
  m.node("Neg", {"block1_relu"}, {"y"});
  const Graph g = m.load();
  const std::string msg = error_of([&] { g.run(at::ones({1, 1, 2, 2}), {"block1_reul"}); });
  EXPECT_NE(msg.find("unknown layer 'block1_reul'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ops_test model"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'block1_relu'"), std::string::npos) << msg;
  EXPECT_NE(error_of([&] { g.require_tensor("nope"); }).find("unknown layer 'nope'"), std::string::npos);
  EXPECT_TRUE(g.has_tensor("block1_relu"));
  EXPECT_TRUE(g.has_tensor("x"));
}

TEST(Ops, EarlyLayerRunsOnlyTheNodesItNeeds) {
  ModelBuilder m;
  m.input("x", {1, 2, 3, 3}).output("late");
  m.node("Relu", {"x"}, {"early"}, "relu");
  m.node("Reshape", {"early", "bad_shape"}, {"late"}, "would_throw");  // 18 values into 7x7x7
  m.weight("bad_shape", ints({7, 7, 7}));
  const Graph g = m.load();
  const at::Tensor x = random({1, 2, 3, 3}, 23);
  featvis::graph::TensorMap out;
  ASSERT_NO_THROW(out = g.run(x, {"early"}));
  EXPECT_EQ(out.size(), 1u);
  EXPECT_TRUE(at::equal(out.at("early"), x.relu()));
  // The later node does fail when it is needed, with its name in the message.
  const std::string msg = error_of([&] { g.run(x, {"late"}); });
  EXPECT_NE(msg.find("would_throw"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Reshape"), std::string::npos) << msg;
}

TEST(Ops, IntermediateAndFinalTogetherAndGradient) {
  const at::Tensor w = random({2, 2, 3, 3}, 24);
  ModelBuilder m;
  m.input("x", {1, 2, 5, 5}).output("y").weight("w", w);
  m.node("Conv", {"x", "w"}, {"c"});
  m.node("Relu", {"c"}, {"r"});
  m.node("GlobalAveragePool", {"r"}, {"y"});
  const Graph g = m.load();
  const at::Tensor x = random({1, 2, 5, 5}, 25).requires_grad_(true);
  const auto out = g.run(x, {"c", "y"});
  expect_close(out.at("y"), out.at("c").relu().mean({2, 3}, true));
  // Autograd reaches the input; the weights stay frozen.
  out.at("y").sum().backward();
  ASSERT_TRUE(x.grad().defined());
  const at::Tensor xr = x.detach().clone().requires_grad_(true);
  at::conv2d(xr, w).relu().mean({2, 3}).sum().backward();
  expect_close(x.grad(), xr.grad());
}

TEST(Ops, BrokenGraphNamesMissingTensor) {
  ModelBuilder m;
  m.input("x", {1, 1, 2, 2}).output("y");
  m.node("Add", {"x", "ghost"}, {"y"}, "adder");
  const std::string msg = error_of([&] { m.load(); });
  EXPECT_NE(msg.find("adder"), std::string::npos) << msg;
  EXPECT_NE(msg.find("ghost"), std::string::npos) << msg;
}

// --- Swin's ops: Mod, Not, Range, ScatterND, LayerNormalization (opset 17) -----------

TEST(Ops, ModIntegerTakesTheDivisorsSignAndFmodTheDividends) {
  const at::Tensor x = at::tensor({-7.5f, 7.5f, -7.5f, 7.5f}).reshape({1, 1, 1, 4});
  ModelBuilder m;
  m.input("x", {1, 1, 1, 4}).output("y").output("z");
  m.weight("b", at::tensor({2.f, 2.f, -2.f, -2.f}).reshape({1, 1, 1, 4}));
  m.weight("ia", ints({-7, 7, -7, 7})).weight("ib", ints({3, 3, -3, -3}));
  attr_i(m.node("Mod", {"x", "b"}, {"y"}), "fmod", 1);
  m.node("Mod", {"ia", "ib"}, {"z"});  // fmod 0 (the default) on integers
  const auto out = m.load().run(x, {"y", "z"});
  // C fmod: the dividend's sign; -7.5 = -3 * 2 - 1.5.
  expect_close(out.at("y"), at::tensor({-1.5f, 1.5f, -1.5f, 1.5f}).reshape({1, 1, 1, 4}), 0);
  // Integer modulus: the divisor's sign (Python: -7 % 3 == 2, 7 % -3 == -2).
  EXPECT_TRUE(at::equal(out.at("z"), ints({2, 1, -1, -2}))) << out.at("z");

  ModelBuilder bad;
  bad.input("x", {1, 1, 1, 4}).output("y").weight("b", at::ones({1, 1, 1, 4}));
  bad.node("Mod", {"x", "b"}, {"y"}, "float_mod");
  const std::string e = error_of([&] { run(bad, x); });
  EXPECT_NE(e.find("Mod node 'float_mod'"), std::string::npos) << e;
  EXPECT_NE(e.find("fmod must be 1"), std::string::npos) << e;
}

TEST(Ops, RangeAndNot) {
  ModelBuilder m;
  m.input("x", {1, 1, 1, 1}).output("r").output("f").output("n");
  m.weight("s", ints({1})).weight("l", ints({10})).weight("d", ints({3}));
  m.weight("fs", at::tensor(0.5f)).weight("fl", at::tensor(2.0f)).weight("fd", at::tensor(0.5f));
  m.node("Range", {"s", "l", "d"}, {"r"});
  m.node("Range", {"fs", "fl", "fd"}, {"f"});
  m.node("Equal", {"r", "r"}, {"eq"});
  m.node("Not", {"eq"}, {"n"});
  const auto out = m.load().run(at::zeros({1, 1, 1, 1}), {"r", "f", "n"});
  EXPECT_TRUE(at::equal(out.at("r"), ints({1, 4, 7}))) << out.at("r");
  expect_close(out.at("f"), at::tensor({0.5f, 1.0f, 1.5f}), 0);
  EXPECT_FALSE(out.at("n").any().item<bool>());
  EXPECT_EQ(out.at("n").numel(), 3);
}

TEST(Ops, ScatterNDWritesAtIndexTuplesAndPassesGradientElsewhere) {
  const at::Tensor x = at::arange(6, at::kFloat).reshape({1, 1, 2, 3});
  ModelBuilder m;
  m.input("x", {1, 1, 2, 3}).output("y").output("rows");
  m.weight("idx", ints({0, 0, 1, 2, 0, 0, 0, -3}).reshape({2, 4}));  // -3: the first column
  m.weight("upd", at::tensor({9.f, 8.f}));
  m.weight("ridx", ints({0, 0, 1}).reshape({1, 3}));  // a whole row
  m.weight("rupd", at::full({1, 3}, 5.f));
  m.node("ScatterND", {"x", "idx", "upd"}, {"y"});
  m.node("ScatterND", {"x", "ridx", "rupd"}, {"rows"});
  const at::Tensor in = x.clone().requires_grad_(true);
  const auto out = m.load().run(in, {"y", "rows"});
  expect_close(out.at("y"), at::tensor({8.f, 1.f, 2.f, 3.f, 4.f, 9.f}).reshape({1, 1, 2, 3}), 0);
  expect_close(out.at("rows"), at::tensor({0.f, 1.f, 2.f, 5.f, 5.f, 5.f}).reshape({1, 1, 2, 3}), 0);
  out.at("y").sum().backward();
  expect_close(in.grad(), at::tensor({0.f, 1.f, 1.f, 1.f, 1.f, 0.f}).reshape({1, 1, 2, 3}), 0);
}

TEST(Ops, LayerNormalizationOverTheTrailingAxes) {
  const at::Tensor x = random({1, 2, 3, 4}, 31), scale = random({3, 4}, 32), bias = random({3, 4}, 33);
  ModelBuilder m(17);
  m.input("x", {1, 2, 3, 4}).output("y").weight("s", scale).weight("b", bias);
  auto& ln = m.node("LayerNormalization", {"x", "s", "b"}, {"y"});
  attr_i(ln, "axis", 2);
  attr_f(ln, "epsilon", 1e-3f);
  at::Tensor expected = at::empty_like(x);
  for (int64_t c = 0; c < 2; ++c) {
    const at::Tensor v = x[0][c].to(at::kDouble);
    const double mean = v.sum().item<double>() / 12;
    const double var = (v - mean).pow(2).sum().item<double>() / 12;
    expected[0][c] = ((v - mean) / std::sqrt(var + 1e-3) * scale + bias).to(at::kFloat);
  }
  expect_close(run(m, x), expected);
}

TEST(Ops, EinsumBatchedProductAndTranspose) {
  const at::Tensor x = random({1, 2, 3, 4}, 41), w = random({2, 4, 5}, 42);
  ModelBuilder m;
  m.input("x", {1, 2, 3, 4}).output("y").output("t").weight("w", w);
  attr_s(m.node("Einsum", {"x", "w"}, {"y"}), "equation", "nbij,bjk->nbik");
  attr_s(m.node("Einsum", {"x"}, {"t"}), "equation", "...ij->...ji");
  const auto out = m.load().run(x, {"y", "t"});
  at::Tensor expected = at::zeros({1, 2, 3, 5});
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t k = 0; k < 5; ++k)
        for (int64_t j = 0; j < 4; ++j) expected[0][b][i][k] += x[0][b][i][j] * w[b][j][k];
  expect_close(out.at("y"), expected);
  expect_close(out.at("t"), x.transpose(2, 3), 0);
}

// swin_v2's F.normalize: sqrt of the sum of squares over the last axis (kept), and over all
// axes without keepdims; the gradient of a zero row is 0 (PyTorch's), never NaN.
TEST(Ops, ReduceL2OverAnAxisAndItsGradientAtZero) {
  at::Tensor x = random({1, 2, 3, 4}, 51);
  x[0][1][2].zero_();
  ModelBuilder m;
  m.input("x", {1, 2, 3, 4}).output("y").output("all");
  attr_ints(m.node("ReduceL2", {"x"}, {"y"}), "axes", {-1});
  attr_i(m.node("ReduceL2", {"x"}, {"all"}), "keepdims", 0);
  const at::Tensor in = x.clone().requires_grad_(true);
  const auto out = m.load().run(in, {"y", "all"});
  at::Tensor expected = at::zeros({1, 2, 3, 1});
  double total = 0;
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t i = 0; i < 3; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < 4; ++j) sum += std::pow(x[0][c][i][j].item<double>(), 2);
      expected[0][c][i][0] = std::sqrt(sum);
      total += sum;
    }
  expect_close(out.at("y"), expected);
  ASSERT_EQ(out.at("all").dim(), 0);
  EXPECT_NEAR(out.at("all").item<double>(), std::sqrt(total), 1e-5);
  out.at("y").sum().backward();
  // d|v|/dv = v / |v|; 0 for the zero row.
  expect_close(in.grad(), at::where(expected > 0, x / expected, at::zeros_like(x)));
}

TEST(Ops, RegistryListsWhatTorchvisionExports) {
  // Every op in the ONNX exports of the parity architectures (opset 13).
  for (const char* op : {"Conv", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Gemm",
                         "Concat", "Add", "Mul", "Sigmoid", "HardSigmoid", "Clip", "Constant", "Pad",
                         "Identity", "BatchNormalization", "Mod", "Not", "Range", "ScatterND",
                         "LayerNormalization", "Einsum", "ReduceL2"}) {
    EXPECT_NE(featvis::graph::find_op(op), nullptr) << op;
  }
  EXPECT_EQ(featvis::graph::find_op("FancyOp"), nullptr);
}

}  // namespace
