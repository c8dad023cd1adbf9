// channel_slice: a graph cut to some channels of a tensor computes those channels of the
// whole graph's tensor, and the same input gradient, on ATen's kernels and the render's
// blocked ones; it cuts back to the first full convolution and no further, and declines
// (an empty graph) what it cannot cut.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/graph/blocked_backprop.h>
#include <featvis/graph/graph.h>
#include <featvis/model/model.h>

#include <iostream>

namespace {

using featvis::graph::GradientKernels;
using featvis::graph::Graph;
using featvis::testing::TestNode;

// A depthwise block with a residual sum, normalization, pooling and activations of every
// kind the slicer passes through; "e" is a full convolution reading all of "l".
Graph block_model() {
  const std::vector<TestNode> nodes{
      TestNode{"Conv", {"input"}, "a", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}, {}, {}, {}, 8, true},
      TestNode{"Clip", {"a"}, "a6", {}, {}, {}, {0.f, 6.f}},
      TestNode{"Conv", {"a6"}, "dw", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}, {{"group", 8}}, {}, {}, 0, true},
      TestNode{"Relu", {"dw"}, "r"},
      TestNode{"Conv", {"r"}, "b", {{"kernel_shape", {1, 1}}}, {}, {}, {}, 0, true},
      TestNode{"Add", {"b", "a6"}, "s"},
      TestNode{"BatchNormalization", {"s"}, "n"},
      TestNode{"MaxPool", {"n"}, "p", {{"kernel_shape", {2, 2}}, {"strides", {2, 2}}}},
      TestNode{"LeakyRelu", {"p"}, "l"},
      TestNode{"Conv", {"l"}, "e", {{"kernel_shape", {1, 1}}}},
      TestNode{"Sigmoid", {"e"}, "y"},
      TestNode{"Concat", {"y", "l"}, "cat", {}, {{"axis", 1}}},
      TestNode{"Conv", {"cat"}, "g", {{"kernel_shape", {1, 1}}}, {{"group", 2}}}};
  return Graph::load_onnx_bytes(featvis::testing::onnx_from_nodes(nodes, 3, 12), "slice test");
}

struct Pass {
  at::Tensor value, gradient;  // the tensor's channels; d <value, R> / d input
};

// `tensor` of `graph` and the input gradient of a fixed random projection of it.
Pass pass(const Graph& graph, const std::string& tensor, const at::Tensor& x, const at::Tensor& projection,
          GradientKernels kernels) {
  const featvis::graph::GradientKernelsGuard guard(kernels);
  const at::Tensor input = x.detach().clone().requires_grad_(true);
  const at::Tensor value = graph.run(input, {tensor}).at(tensor);
  (value * projection).sum().backward();
  return {value.detach(), input.grad()};
}

// The cut graph against the whole one, for `channels` of `tensor`; the gradient's bound is
// wider where ReLU6 boundaries make rounding matter (a real network on a photo).
void expect_slice_matches(const Graph& graph, const std::string& tensor, const std::vector<int64_t>& channels,
                          const at::Tensor& x, double gradient_bound) {
  const featvis::graph::ChannelSlice slice = graph.channel_slice(tensor, channels);
  ASSERT_NE(slice.graph, nullptr) << tensor;
  const at::Tensor index = at::tensor(channels, at::kLong);
  for (GradientKernels kernels : {GradientKernels::kMatchPyTorch, GradientKernels::kBlocked}) {
    const at::Tensor whole_value = graph.run(x, {tensor}).at(tensor);
    at::Generator generator = at::detail::createCPUGenerator(11);
    const at::Tensor projection = at::randn(whole_value.index_select(1, index).sizes(), generator);
    const at::Tensor widened = at::zeros_like(whole_value).index_copy(1, index, projection);
    const Pass whole = pass(graph, tensor, x, widened, kernels);
    const Pass cut = pass(*slice.graph, slice.tensor, x, projection, kernels);
    const std::string where = tensor + (kernels == GradientKernels::kBlocked ? " (blocked)" : " (ATen)");
    EXPECT_EQ(slice.channels, whole_value.size(1)) << where;
    ASSERT_TRUE(cut.value.sizes().equals(whole.value.index_select(1, index).sizes())) << where;
    EXPECT_LE(featvis::testing::relative_l2(cut.value, whole.value.index_select(1, index)), 1e-5) << where;
    const double g = featvis::testing::relative_l2(cut.gradient, whole.gradient);
    if (gradient_bound > 1e-5) std::cout << where << ": gradient relative L2 " << g << "\n";
    EXPECT_LE(g, gradient_bound) << where;
  }
}

// How many nodes of the plan for the slice are cut copies (named with the channels).
int cut_nodes(const featvis::graph::ChannelSlice& slice, const std::string& suffix) {
  int n = 0;
  for (size_t i : slice.graph->node_order({slice.tensor})) {
    const std::string& name = slice.graph->nodes()[i].name;
    n += name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return n;
}

TEST(ChannelSlice, CutTensorsAreTheWholeGraphsChannelsWithItsGradient) {
  const Graph graph = block_model();
  at::manual_seed(0);
  const at::Tensor x = at::randn({2, 3, 12, 12});
  for (const std::string tensor : {"a", "a6", "dw", "r", "b", "s", "n", "p", "l", "e", "y"})
    for (const std::vector<int64_t>& channels : {std::vector<int64_t>{5}, {0, 3, 7}})
      expect_slice_matches(graph, tensor, channels, x, 1e-5);
}

TEST(ChannelSlice, CutsBackToTheFirstFullConvolutionAndNoFurther) {
  const Graph graph = block_model();
  // y <- e: e reads every channel of l, so only e and y are copies; l runs whole.
  EXPECT_EQ(cut_nodes(graph.channel_slice("y", {2}), "{2}"), 2);
  // l <- p <- n <- s <- the sum's two branches: b, a full convolution (r and dw run whole),
  // and a6 <- a: seven copies.
  EXPECT_EQ(cut_nodes(graph.channel_slice("l", {1, 6}), "{1,6}"), 7);
  // dw is depthwise: r <- dw <- a6 <- a, four copies.
  EXPECT_EQ(cut_nodes(graph.channel_slice("r", {0}), "{0}"), 4);
  EXPECT_EQ(cut_nodes(graph.channel_slice("b", {4}), "{4}"), 1);
  // The cut weights have the channels' rows; a depthwise copy as many groups.
  const auto dw = graph.channel_slice("dw", {1, 6});
  EXPECT_EQ(dw.graph->weight("dw.w{1,6}").size(0), 2);
  EXPECT_TRUE(dw.graph->weight("dw.w{1,6}").equal(graph.weight("dw.w").index_select(0, at::tensor({1, 6}))));
  EXPECT_FALSE(graph.has_weight("dw.w{1,6}")) << "the model's own graph is unchanged";
  // Asked again, the same graph (its compiled programs with it).
  EXPECT_EQ(graph.channel_slice("dw", {1, 6}).graph, dw.graph);
}

TEST(ChannelSlice, DeclinesWhatItCannotCut) {
  const Graph graph = block_model();
  EXPECT_EQ(graph.channel_slice("cat", {0}).graph, nullptr) << "a Concat";
  EXPECT_EQ(graph.channel_slice("g", {0}).graph, nullptr) << "a grouped, not depthwise, convolution";
  EXPECT_EQ(graph.channel_slice("input", {0}).graph, nullptr) << "the graph input";
  EXPECT_EQ(graph.channel_slice("e", {8}).graph, nullptr) << "out of range";
  EXPECT_EQ(graph.channel_slice("e", {3, 1}).graph, nullptr) << "not ascending";
  EXPECT_EQ(graph.channel_slice("e", {}).graph, nullptr) << "no channels";
  EXPECT_EQ(graph.channel_slice("no such", {0}).graph, nullptr);
}

// MobileNetV2 on a photo: an expand (ReLU6 of a convolution), a depthwise one (cut through
// the expand before it) and a residual sum (cut through both branches) at the channels of
// a render and of a Microscope batch.
TEST(ChannelSlice, MobileNetV2LayersOnAPhoto) {
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  FEATVIS_REQUIRE_IMAGES(images);
  const featvis::model::Model model = featvis::model::load_model("mobilenet_v2");
  const at::Tensor x = featvis::testing::first_photo_input(model, images);
  expect_slice_matches(model.graph, "MobileNetV2/expanded_conv_2/expand", {7}, x, 1e-3);
  expect_slice_matches(model.graph, "MobileNetV2/expanded_conv_8/depthwise", {3, 17, 100, 200}, x, 1e-3);
  expect_slice_matches(model.graph, "MobileNetV2/expanded_conv_5/add/add", {3}, x, 1e-3);
}

}  // namespace
