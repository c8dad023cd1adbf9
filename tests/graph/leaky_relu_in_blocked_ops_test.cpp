// leaky_relu_in_blocked_ops: LeakyReLU between convolutions stays in oneDNN's blocked
// layout in the frozen program, and computes what Graph::run computes.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/graph/frozen_forward.h>
#include <featvis/graph/graph.h>
#include <featvis/model/model.h>

#include <c10/core/InferenceMode.h>

namespace {

using featvis::testing::TestNode;

TEST(LeakyReluInBlockedOps, ConvLeakyReluConvIsOneBlockedChainWithTheSameOutput) {
  const std::vector<TestNode> nodes{
      TestNode{"Conv", {"input"}, "a", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}},
      TestNode{"LeakyRelu", {"a"}, "b"},  // alpha 0.01, ONNX's default
      TestNode{"Conv", {"b"}, "y", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}}};
  const auto graph = featvis::graph::Graph::load_onnx_bytes(featvis::testing::onnx_from_nodes(nodes, 3, 12), "leaky test");
  c10::InferenceMode guard;
  at::manual_seed(0);
  const at::Tensor x = at::randn({2, 3, 12, 12});
  const featvis::graph::FrozenForward program(graph, x, {"y"});
  EXPECT_EQ(program.op_count("aten::leaky_relu"), 0);
  EXPECT_EQ(program.op_count("aten::to_dense"), 1) << "only the output leaves the blocked layout";
  const at::Tensor frozen = program.run(x).at("y"), eager = graph.run(x, {"y"}).at("y");
  EXPECT_LE((frozen - eager).abs().max().item<double>(), 1e-5 * eager.abs().max().item<double>());
  // The negative side is exactly a*x: the LeakyReLU output itself, recorded as a layer.
  const featvis::graph::FrozenForward recorded(graph, x, {"b"});
  const at::Tensor b = recorded.run(x).at("b"), b_eager = graph.run(x, {"b"}).at("b");
  const at::Tensor negative = b_eager < 0;
  ASSERT_GT(negative.sum().item<int64_t>(), 0);
  EXPECT_TRUE(at::equal(b.masked_select(negative), b_eager.masked_select(negative)));
  EXPECT_LE((b - b_eager).abs().max().item<double>(), 1e-6 * b_eager.abs().max().item<double>());
}

TEST(LeakyReluInBlockedOps, DarknetRunsInTheBlockedLayoutFromInputToHead) {
  FEATVIS_REQUIRE_MODEL(path, "darknet_tiny_imagenet.onnx");
  const featvis::model::Model model = featvis::model::load_model("darknet_tiny");
  const featvis::graph::FrozenForward program(model.graph, at::zeros({2, 3, 224, 224}), {model.card.output});
  EXPECT_EQ(program.op_count("aten::leaky_relu"), 0);
  // Was 16 pairs, one around each LeakyReLU.
  EXPECT_LE(program.op_count("aten::to_dense"), 2);
}

}  // namespace
