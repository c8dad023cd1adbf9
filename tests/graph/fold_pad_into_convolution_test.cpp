// fold_pad_into_convolution: a convolution with asymmetric padding (Graph::run pads first)
// runs in the frozen program as one convolution with a grown kernel, and computes the same.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/graph/frozen_forward.h>
#include <featvis/graph/graph.h>
#include <featvis/model/model.h>

#include <c10/core/InferenceMode.h>

namespace {

using featvis::testing::TestNode;

struct Case {
  std::vector<int64_t> pads, strides, kernel;
  int expected_folds;
};

// Runs the model of one Conv both ways on a random batch of 2: the frozen program must
// fold as expected and agree with Graph::run to float rounding.
void expect_fold(const Case& c) {
  SCOPED_TRACE(::testing::Message() << "pads " << at::IntArrayRef(c.pads) << " strides " << at::IntArrayRef(c.strides)
                                    << " kernel " << at::IntArrayRef(c.kernel));
  TestNode conv{"Conv", {"input"}, "y", {{"kernel_shape", c.kernel}, {"strides", c.strides}}};
  if (!c.pads.empty()) conv.ints.push_back({"pads", c.pads});
  const auto graph = featvis::graph::Graph::load_onnx_bytes(featvis::testing::onnx_from_nodes({conv}, 3, 13), "fold test");
  c10::InferenceMode guard;
  at::manual_seed(0);
  const at::Tensor x = at::randn({2, 3, 13, 13});
  const featvis::graph::FrozenForward program(graph, x, {"y"});
  EXPECT_EQ(program.folded_pads(), c.expected_folds);
  const at::Tensor frozen = program.run(x).at("y"), eager = graph.run(x, {"y"}).at("y");
  ASSERT_EQ(frozen.sizes(), eager.sizes());
  EXPECT_LE((frozen - eager).abs().max().item<double>(), 1e-5 * eager.abs().max().item<double>());
}

TEST(FoldPadIntoConvolution, AsymmetricPaddingBecomesOneConvolutionWithTheSameOutput) {
  expect_fold({{0, 0, 1, 1}, {2, 2}, {3, 3}, 1});  // TensorFlow "SAME", stride 2
  expect_fold({{2, 0, 0, 1}, {3, 2}, {3, 3}, 1});  // more before on H, more after on W
  expect_fold({{1, 0, 2, 1}, {1, 1}, {2, 3}, 1});  // even kernel, stride 1
  expect_fold({{0, 3, 0, 0}, {2, 1}, {1, 1}, 1});  // a 1x1 kernel grows on one axis only
}

TEST(FoldPadIntoConvolution, SymmetricPaddingHasNoPadToFold) {
  expect_fold({{1, 1, 1, 1}, {2, 2}, {3, 3}, 0});
  expect_fold({{}, {1, 1}, {3, 3}, 0});
}

TEST(FoldPadIntoConvolution, RealModelsLoseTheirPads) {
  // MobileNetV2 (a TensorFlow export) pads its five stride-2 convolutions asymmetrically.
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  const featvis::model::Model model = featvis::model::load_model("mobilenet_v2");
  const featvis::graph::FrozenForward program(model.graph, at::zeros({2, 3, 224, 224}), {model.card.output});
  EXPECT_EQ(program.folded_pads(), 5);
  EXPECT_EQ(program.op_count("aten::constant_pad_nd"), 0);
  EXPECT_LE(program.op_count("aten::to_dense"), 2) << "was 6: a round trip around each pad";
}

}  // namespace
