// blocked_backprop: the render step's network in oneDNN's blocked layout computes what
// Graph::run's ATen path computes, values and input gradient, and is taken only when asked.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/graph/blocked_backprop.h>
#include <featvis/graph/graph.h>
#include <featvis/graph/relu_gradient.h>
#include <featvis/image/image.h>
#include <featvis/image/network_input.h>
#include <featvis/model/model.h>
#include <featvis/util/error.h>

#include <filesystem>
#include <limits>

namespace {

using featvis::graph::GradientKernels;
using featvis::graph::GradientKernelsGuard;
using featvis::testing::TestNode;

struct Pass {
  featvis::graph::TensorMap values;
  at::Tensor gradient;  // of sum_k <values[k], weights[k]> with respect to the input
};

// Graph::run with the given kernels, and the gradient of a fixed random projection of
// every wanted tensor (so that every unit's gradient counts).
Pass run(const featvis::graph::Graph& graph, const at::Tensor& x, const std::vector<std::string>& wanted,
         GradientKernels kernels) {
  const GradientKernelsGuard guard(kernels);
  const at::Tensor input = x.detach().clone().requires_grad_(true);
  Pass pass;
  pass.values = graph.run(input, wanted);
  at::Tensor total = at::zeros({}, x.options());
  at::Generator generator = at::detail::createCPUGenerator(7);
  for (const auto& w : wanted) total = total + (pass.values.at(w) * at::randn(pass.values.at(w).sizes(), generator)).sum();
  total.backward();
  pass.gradient = input.grad();
  for (auto& [name, v] : pass.values) v = v.detach();
  return pass;
}

TEST(BlockedBackprop, ConvReluLeakyAddMatchesTheAtenPath) {
  const std::vector<TestNode> nodes{
      TestNode{"Conv", {"input"}, "a", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}},
      TestNode{"Relu", {"a"}, "b"},
      TestNode{"Conv", {"b"}, "c", {{"kernel_shape", {3, 3}}, {"pads", {0, 0, 1, 1}}, {"strides", {2, 2}}}},
      TestNode{"LeakyRelu", {"c"}, "d"},
      TestNode{"Conv", {"d"}, "e", {{"kernel_shape", {1, 1}}}},
      TestNode{"Add", {"d", "e"}, "f"},
      TestNode{"Conv", {"f"}, "y", {{"kernel_shape", {3, 3}}, {"dilations", {2, 2}}, {"pads", {2, 2, 2, 2}}}}};
  const auto graph = featvis::graph::Graph::load_onnx_bytes(featvis::testing::onnx_from_nodes(nodes, 3, 15), "blocked test");
  at::manual_seed(0);
  const at::Tensor x = at::randn({2, 3, 15, 15});
  for (const std::vector<std::string>& wanted : {std::vector<std::string>{"y"}, {"b", "f", "y"}, {"a"}}) {
    const int before = graph.blocked_programs();
    const Pass aten = run(graph, x, wanted, GradientKernels::kMatchPyTorch);
    EXPECT_EQ(graph.blocked_programs(), before) << "the ATen path is the default";
    const Pass blocked = run(graph, x, wanted, GradientKernels::kBlocked);
    EXPECT_EQ(graph.blocked_programs(), before + 1) << "the graph is supported";
    std::string why;
    const auto program = featvis::graph::BlockedBackprop::compile(graph, {2, 3, 15, 15}, wanted, &why);
    for (const auto& w : wanted) {
      ASSERT_TRUE(blocked.values.at(w).sizes().equals(aten.values.at(w).sizes())) << w;
      EXPECT_LE(featvis::testing::relative_l2(blocked.values.at(w), aten.values.at(w)), 1e-5) << w;
      EXPECT_EQ(program->shape(w), aten.values.at(w).sizes().vec()) << w << ": the shape known without a forward";
    }
    EXPECT_LE(featvis::testing::relative_l2(blocked.gradient, aten.gradient), 1e-5);
    EXPECT_THROW(program->shape("input"), featvis::Error);  // not wanted
  }
  std::string why;
  EXPECT_EQ(featvis::graph::BlockedBackprop::compile(graph, {2, 3, 15, 15}, {"y"}, &why)->forward_primitives(), 5)
      << "four convolutions (two with their activation fused) and the Add";
}

// A convolution reading the 3-channel input takes its backward-data by columns (a 1x1
// convolution to C x KH x KW, then col2im): strides, dilations and uneven pads put taps
// outside the image on every side.
TEST(BlockedBackprop, FirstConvolutionsGradientByColumnsMatchesTheAtenPath) {
  for (const auto& attributes : std::vector<std::vector<std::pair<std::string, std::vector<int64_t>>>>{
           {{"kernel_shape", {3, 3}}, {"strides", {2, 2}}, {"pads", {0, 1, 2, 0}}},
           {{"kernel_shape", {3, 2}}, {"dilations", {2, 3}}, {"pads", {2, 0, 1, 3}}, {"strides", {1, 2}}},
           {{"kernel_shape", {5, 5}}, {"strides", {3, 3}}, {"pads", {2, 2, 2, 2}}}}) {
    const std::vector<TestNode> nodes{TestNode{"Conv", {"input"}, "a", attributes}, TestNode{"Relu", {"a"}, "y"}};
    const auto graph = featvis::graph::Graph::load_onnx_bytes(featvis::testing::onnx_from_nodes(nodes, 3, 15), "columns test");
    at::manual_seed(1);
    const at::Tensor x = at::randn({2, 3, 15, 15});
    const Pass aten = run(graph, x, {"y"}, GradientKernels::kMatchPyTorch);
    const Pass blocked = run(graph, x, {"y"}, GradientKernels::kBlocked);
    EXPECT_EQ(graph.blocked_programs(), 1) << "the graph is supported";
    EXPECT_LE(featvis::testing::relative_l2(blocked.values.at("y"), aten.values.at("y")), 1e-5);
    EXPECT_LE(featvis::testing::relative_l2(blocked.gradient, aten.gradient), 1e-5);
    EXPECT_GT(aten.gradient.abs().sum().item<double>(), 0.0);
  }
}

TEST(BlockedBackprop, PoolingMatchesTheAtenPath) {
  const std::vector<TestNode> nodes{
      TestNode{"Conv", {"input"}, "a", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}},
      TestNode{"LeakyRelu", {"a"}, "b"},
      TestNode{"MaxPool", {"b"}, "c", {{"kernel_shape", {2, 2}}, {"strides", {2, 2}}}},
      TestNode{"Conv", {"c"}, "d", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}},
      TestNode{"AveragePool", {"d"}, "e", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}},
      TestNode{"Conv", {"e"}, "f", {{"kernel_shape", {1, 1}}}},
      TestNode{"GlobalAveragePool", {"f"}, "y"}};
  const auto graph = featvis::graph::Graph::load_onnx_bytes(featvis::testing::onnx_from_nodes(nodes, 3, 16), "pool test");
  at::manual_seed(2);
  const at::Tensor x = at::randn({2, 3, 16, 16});
  const std::vector<std::string> wanted{"c", "e", "y"};
  const Pass aten = run(graph, x, wanted, GradientKernels::kMatchPyTorch);
  const Pass blocked = run(graph, x, wanted, GradientKernels::kBlocked);
  EXPECT_EQ(graph.blocked_programs(), 1);
  for (const auto& w : wanted) {
    ASSERT_TRUE(blocked.values.at(w).sizes().equals(aten.values.at(w).sizes())) << w;
    EXPECT_LE(featvis::testing::relative_l2(blocked.values.at(w), aten.values.at(w)), 1e-5) << w;
  }
  EXPECT_LE(featvis::testing::relative_l2(blocked.gradient, aten.gradient), 1e-5);
}

// Lucid's redirected ReLU gradient (the first steps of a render) on the blocked path: the
// same gradient as the ATen path's RedirectedClamp, for batch items dead at a clamp (all
// below a ReLU's 0, all above a ReLU6's 6: the exact gradient there is zero) and alive ones.
TEST(BlockedBackprop, RedirectedGradientMatchesTheAtenPath) {
  const std::vector<TestNode> nodes{
      TestNode{"Relu", {"input"}, "a"},
      TestNode{"Conv", {"a"}, "b", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}},
      TestNode{"Clip", {"b"}, "c", {}, {}, {}, {0.f, 6.f}},
      TestNode{"Conv", {"c"}, "y", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}, {"strides", {2, 2}}}}};
  const auto graph = featvis::graph::Graph::load_onnx_bytes(featvis::testing::onnx_from_nodes(nodes, 3, 12), "redirect test");
  at::manual_seed(4);
  // Item 0 mixed; item 1 all negative (dead at the Relu); item 2 a constant 1000, so that
  // the convolution's outputs are multiples of 1000 / 16 (the test weights are sixteenths):
  // none strictly between the Clip's 0 and 6, some above it (dead at the Clip).
  const at::Tensor x = at::stack({at::randn({3, 12, 12}), -at::rand({3, 12, 12}) - 0.1, at::full({3, 12, 12}, 1000.f)});
  const featvis::graph::ReluGradientGuard redirected(featvis::graph::ReluGradient::kRedirected);
  const Pass aten = run(graph, x, {"y"}, GradientKernels::kMatchPyTorch);
  const Pass blocked = run(graph, x, {"y"}, GradientKernels::kBlocked);
  EXPECT_EQ(graph.blocked_programs(), 1) << "the redirected gradient runs blocked";
  EXPECT_LE(featvis::testing::relative_l2(blocked.values.at("y"), aten.values.at("y")), 1e-5);
  for (int64_t item = 0; item < 3; ++item)
    EXPECT_LE(featvis::testing::relative_l2(blocked.gradient[item], aten.gradient[item]), 1e-5) << "item " << item;
  // The dead item's gradient is the redirected one: zero with the exact gradient.
  const featvis::graph::ReluGradientGuard exact(featvis::graph::ReluGradient::kExact);
  const Pass plain = run(graph, x, {"y"}, GradientKernels::kBlocked);
  for (int64_t item : {1, 2}) {
    EXPECT_EQ(plain.gradient[item].abs().max().item<float>(), 0.f) << "item " << item;
    EXPECT_GT(blocked.gradient[item].abs().max().item<float>(), 0.f) << "item " << item;
  }
}

// A classifier's head (Flatten, Gemm) is not the blocked network's: its convolutions run
// there and the head on ATen's path, autograd joining the two, for the logits and for
// a convolution's output wanted beside them.
TEST(BlockedBackprop, AClassifiersConvolutionsRunBlockedAndItsHeadOnAten) {
  const auto graph = featvis::graph::Graph::load_onnx_bytes(featvis::testing::tiny_two_conv_onnx(5, 16), "head test");
  at::manual_seed(6);
  const at::Tensor x = at::randn({2, 3, 16, 16});
  for (const std::vector<std::string>& wanted : {std::vector<std::string>{"logits"}, {"logits", "block 2:conv"}}) {
    const Pass aten = run(graph, x, wanted, GradientKernels::kMatchPyTorch);
    const int before = graph.blocked_programs();
    const Pass mixed = run(graph, x, wanted, GradientKernels::kBlocked);
    EXPECT_GT(graph.blocked_programs(), before) << "the convolutions ran blocked";
    for (const auto& w : wanted) EXPECT_LE(featvis::testing::relative_l2(mixed.values.at(w), aten.values.at(w)), 1e-5) << w;
    EXPECT_LE(featvis::testing::relative_l2(mixed.gradient, aten.gradient), 1e-5);
    EXPECT_GT(mixed.gradient.abs().sum().item<double>(), 0.0);
  }
}

// An op the blocked network does not take: the whole graph does not compile (the reason
// names it), the part before it runs blocked, and with the guided gradient (attribution)
// all of it takes ATen's path.
TEST(BlockedBackprop, UnsupportedOpsRunOnAtenAfterTheBlockedPartAndGuidedGradientsAllOnAten) {
  const std::vector<TestNode> nodes{TestNode{"Conv", {"input"}, "a", {{"kernel_shape", {3, 3}}}},
                                    TestNode{"Sigmoid", {"a"}, "y"}};
  const auto graph = featvis::graph::Graph::load_onnx_bytes(featvis::testing::onnx_from_nodes(nodes, 3, 12), "sigmoid test");
  std::string why;
  EXPECT_EQ(featvis::graph::BlockedBackprop::compile(graph, {1, 3, 12, 12}, {"y"}, &why), nullptr);
  EXPECT_NE(why.find("Sigmoid"), std::string::npos) << why;
  const at::Tensor x = at::randn({1, 3, 12, 12});
  const Pass aten = run(graph, x, {"y"}, GradientKernels::kMatchPyTorch);
  {
    const featvis::graph::ReluGradientGuard guided(featvis::graph::ReluGradient::kGuided);
    const Pass all_aten = run(graph, x, {"y"}, GradientKernels::kBlocked);
    EXPECT_EQ(graph.blocked_programs(), 0);
    EXPECT_TRUE(at::equal(all_aten.gradient, aten.gradient));
  }
  const Pass mixed = run(graph, x, {"y"}, GradientKernels::kBlocked);
  EXPECT_EQ(graph.blocked_programs(), 1) << "the Conv before the Sigmoid";
  EXPECT_LE(featvis::testing::relative_l2(mixed.values.at("y"), aten.values.at("y")), 1e-5);
  EXPECT_LE(featvis::testing::relative_l2(mixed.gradient, aten.gradient), 1e-5);
}

// MobileNetV2 on a real photo: depthwise and pointwise convolutions, ReLU6, residual Adds,
// TensorFlow's asymmetric padding. Values agree to rounding. The gradient agrees except
// where a ReLU6 input lies within rounding of 0 or 6: there the two paths may put one
// unit's gradient on different sides, which can move the gradient by up to a few percent; on this photo it is 6e-7 (Intel Xeon).
TEST(BlockedBackprop, MobileNetV2MatchesTheAtenPathOnAPhoto) {
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  FEATVIS_REQUIRE_IMAGES(images);
  const featvis::model::Model model = featvis::model::load_model("mobilenet_v2");
  const at::Tensor x = featvis::testing::first_photo_input(model, images);
  for (const std::vector<std::string>& wanted :
       {std::vector<std::string>{"MobileNetV2/expanded_conv_2/expand"}, {"MobileNetV2/expanded_conv_8/expand"},
        {"MobileNetV2/Conv2d_18_1", "MobileNetV2/expanded_conv_12/add/add"}}) {
    const Pass aten = run(model.graph, x, wanted, GradientKernels::kMatchPyTorch);
    const Pass blocked = run(model.graph, x, wanted, GradientKernels::kBlocked);
    for (const auto& w : wanted) {
      EXPECT_LE(featvis::testing::relative_l2(blocked.values.at(w), aten.values.at(w)), 1e-5) << w;
      EXPECT_LE((blocked.values.at(w) - aten.values.at(w)).abs().max().item<double>(),
                1e-4 * aten.values.at(w).abs().max().item<double>()) << w;
    }
    const double g = featvis::testing::relative_l2(blocked.gradient, aten.gradient);
    std::cout << wanted[0] << ": gradient relative L2 " << g << "\n";
    EXPECT_LE(g, 5e-2) << wanted[0];
  }
  EXPECT_GE(model.graph.blocked_programs(), 3);
}

// channel_stats (the examples scan): mean, maximum and its first position per channel,
// read from the blocked layout, against ATen on the dense tensor.
void expect_stats_match(const featvis::graph::Graph& graph, const at::Tensor& x, const std::vector<std::string>& wanted) {
  const auto program = graph.blocked_program(x.sizes().vec(), wanted);
  ASSERT_NE(program, nullptr);
  const auto stats = program->channel_stats(x);
  const featvis::graph::TensorMap dense = graph.run(x, wanted);
  for (const auto& w : wanted) {
    const at::Tensor flat = dense.at(w).flatten(2);
    const auto [max, where] = flat.max(2);
    const auto& s = stats.at(w);
    ASSERT_TRUE(s.mean.sizes().equals(max.sizes())) << w;
    EXPECT_LE((s.mean - flat.mean(2)).abs().max().item<double>(), 1e-5 * (1 + flat.abs().max().item<double>())) << w;
    EXPECT_LE((s.max - max).abs().max().item<double>(), 1e-5 * (1 + max.abs().max().item<double>())) << w;
    // Positions agree except where two pixels tie to rounding.
    const at::Tensor differ = s.where != where;
    EXPECT_LE(differ.sum().item<int64_t>(), std::max<int64_t>(1, where.numel() / 1000)) << w;
  }
}

TEST(BlockedBackprop, ChannelStatsMatchMeanMaxAndArgmaxOnTheDenseTensor) {
  const std::vector<TestNode> nodes{
      TestNode{"Conv", {"input"}, "a", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}},
      TestNode{"Relu", {"a"}, "b"},
      TestNode{"Conv", {"b"}, "y", {{"kernel_shape", {3, 3}}, {"strides", {2, 2}}}}};
  const auto graph = featvis::graph::Graph::load_onnx_bytes(featvis::testing::onnx_from_nodes(nodes, 3, 13), "stats test");
  at::manual_seed(1);
  expect_stats_match(graph, at::randn({3, 3, 13, 13}), {"a", "b", "y"});
}

// channel_stats' numbers exactly as plane_stats sums them (each row in float, the rows in
// double), from the dense tensors the same program's forward writes with oneDNN's own
// eltwise primitives. The scan takes a recorded convolution's statistics and applies its
// ReLU / ReLU6 / LeakyReLU in one pass (fused_activations): any difference in the
// activation's bits would show in the layers after it.
void expect_stats_exact(const featvis::graph::Graph& graph, const at::Tensor& x, const std::vector<std::string>& wanted) {
  const auto program = graph.blocked_program(x.sizes().vec(), wanted);
  ASSERT_NE(program, nullptr);
  const auto stats = program->channel_stats(x);
  const featvis::graph::TensorMap dense = program->run(x);
  for (const auto& w : wanted) {
    const at::Tensor t = dense.at(w).contiguous();
    const int64_t n_items = t.size(0), channels = t.size(1), h = t.size(2), wd = t.size(3);
    at::Tensor mean = at::empty({n_items, channels}, at::kFloat), max = at::empty({n_items, channels}, at::kFloat);
    at::Tensor where = at::empty({n_items, channels}, at::kLong);
    const float* p = t.data_ptr<float>();
    for (int64_t k = 0; k < n_items * channels; ++k, p += h * wd) {
      double total = 0.0;
      float best = -std::numeric_limits<float>::infinity();
      int64_t at_ = 0;
      for (int64_t y = 0; y < h; ++y) {
        float row = 0.f;
        for (int64_t i = 0; i < wd; ++i) {
          row += p[y * wd + i];
          if (p[y * wd + i] > best) best = p[y * wd + i], at_ = y * wd + i;
        }
        total += row;
      }
      mean.data_ptr<float>()[k] = static_cast<float>(total / static_cast<double>(h * wd));
      max.data_ptr<float>()[k] = best;
      where.data_ptr<int64_t>()[k] = at_;
    }
    const auto& s = stats.at(w);
    EXPECT_TRUE(at::equal(s.mean, mean)) << w << ": " << (s.mean - mean).abs().max().item<float>();
    EXPECT_TRUE(at::equal(s.max, max)) << w;
    EXPECT_TRUE(at::equal(s.where, where)) << w;
  }
}

TEST(BlockedBackprop, StatisticsTakenWithTheActivationAreExact) {
  const std::vector<TestNode> nodes{
      TestNode{"Conv", {"input"}, "a", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}},
      TestNode{"Relu", {"a"}, "b"},
      TestNode{"Conv", {"b"}, "c", {{"kernel_shape", {3, 3}}, {"strides", {2, 2}}}},
      TestNode{"LeakyRelu", {"c"}, "d"},
      TestNode{"Conv", {"d"}, "e", {{"kernel_shape", {1, 1}}}},
      TestNode{"Add", {"d", "e"}, "f"},
      TestNode{"Conv", {"f"}, "y", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}}};
  // 20 channels: a blocked layout with padding lanes in its last block.
  const auto graph = featvis::graph::Graph::load_onnx_bytes(featvis::testing::onnx_from_nodes(nodes, 20, 13), "fused stats");
  at::manual_seed(2);
  const at::Tensor x = at::randn({3, 20, 13, 13});
  // The convolutions alone (their activations write over them), every tensor (the
  // activations' outputs are recorded too, so they are written beside their inputs), and
  // "c" read again by the Add after its LeakyReLU.
  for (const std::vector<std::string>& wanted :
       {std::vector<std::string>{"a", "c", "e", "y"}, {"a", "b", "c", "d", "e", "f", "y"}, {"c", "f"}})
    expect_stats_exact(graph, x, wanted);
}

// The network inputs of the first `count` JPEGs the folder lists.
std::vector<at::Tensor> network_inputs(const std::string& folder, const featvis::model::Model& model, size_t count) {
  std::vector<at::Tensor> photos;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() != ".JPEG") continue;
    photos.push_back(featvis::image::load_network_input(entry.path().string(), model.card.preprocessing));
    if (photos.size() == count) break;
  }
  return photos;
}

TEST(BlockedBackprop, MobileNetV2ChannelStatsOnPhotos) {
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  FEATVIS_REQUIRE_IMAGES(images);
  const featvis::model::Model model = featvis::model::load_model("mobilenet_v2");
  const std::vector<at::Tensor> photos = network_inputs(images, model, 2);
  ASSERT_EQ(photos.size(), 2u);
  expect_stats_match(model.graph, at::stack(photos),
                     {"MobileNetV2/Conv2d_0_0", "MobileNetV2/expanded_conv_2/expand", "MobileNetV2/expanded_conv_8/project",
                      "MobileNetV2/expanded_conv_12/add/add", "MobileNetV2/Conv2d_18_1"});
  // The convolutions of the first blocks as the scan records them, each but the projections
  // followed by a ReLU6 (a Clip) taken in the statistics pass.
  expect_stats_exact(model.graph, at::stack(photos),
                     {"MobileNetV2/Conv2d_0_0/preact", "MobileNetV2/expanded_conv_1/depthwise/preact",
                      "MobileNetV2/expanded_conv_1/project", "MobileNetV2/expanded_conv_2/expand/preact",
                      "MobileNetV2/expanded_conv_2/depthwise/preact", "MobileNetV2/expanded_conv_2/project",
                      "MobileNetV2/expanded_conv_3/expand/preact"});
}

// A batch whose activations outgrow the cache runs in chunks of photos (Graph::run_blocked):
// each photo's values and gradient as when it runs alone, in the batch's order.
TEST(BlockedBackprop, ABatchRunInChunksEqualsEachPhotoAlone) {
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  FEATVIS_REQUIRE_IMAGES(images);
  const featvis::model::Model model = featvis::model::load_model("mobilenet_v2");
  const std::vector<at::Tensor> photos = network_inputs(images, model, 3);
  ASSERT_EQ(photos.size(), 3u);
  const std::vector<std::string> wanted{"MobileNetV2/expanded_conv_8/expand"};
  const int before = model.graph.blocked_programs();
  const Pass batch = run(model.graph, at::stack(photos), wanted, GradientKernels::kBlocked);
  // The batch's program, and at least one for the chunks' shape.
  EXPECT_GE(model.graph.blocked_programs(), before + 2) << "a batch of 3 MobileNetV2 photos runs in chunks";
  for (size_t i = 0; i < photos.size(); ++i) {
    const GradientKernelsGuard guard(GradientKernels::kBlocked);
    const at::Tensor input = photos[i].unsqueeze(0).requires_grad_(true);
    const at::Tensor alone = model.graph.run(input, wanted).at(wanted[0]);
    // The same projection as run() draws for the batch, this photo's slice of it.
    at::Generator generator = at::detail::createCPUGenerator(7);
    const at::Tensor weights = at::randn(batch.values.at(wanted[0]).sizes(), generator)[static_cast<int64_t>(i)];
    (alone[0] * weights).sum().backward();
    const at::Tensor mine = batch.values.at(wanted[0])[static_cast<int64_t>(i)];
    EXPECT_LE(featvis::testing::relative_l2(mine, alone[0].detach()), 1e-5) << "photo " << i;
    EXPECT_LE(featvis::testing::relative_l2(batch.gradient[static_cast<int64_t>(i)], input.grad()[0]), 1e-5) << "photo " << i;
  }
}

}  // namespace
