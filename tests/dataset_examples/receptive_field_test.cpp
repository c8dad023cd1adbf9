// Receptive fields against hand-computed values: synthetic graphs for each rule, the
// real MobileNetV2 for a few layers, and the gradient of a real unit, which must stay
// inside its box.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/dataset_examples/receptive_field.h>
#include <featvis/model/model.h>

namespace {

using featvis::dataset_examples::ReceptiveField;
using featvis::testing::TestNode;

ReceptiveField field_of(const std::vector<TestNode>& nodes, const std::string& tensor, int size = 16) {
  const auto graph = featvis::graph::Graph::load_onnx_bytes(featvis::testing::onnx_from_nodes(nodes, 3, size), "test");
  return featvis::dataset_examples::receptive_field(graph, tensor, size, size);
}

void expect_field(const ReceptiveField& f, int64_t size, int64_t stride, int64_t first) {
  EXPECT_FALSE(f.whole_input);
  EXPECT_EQ(f.size[0], size);
  EXPECT_EQ(f.size[1], size);
  EXPECT_EQ(f.stride[0], stride);
  EXPECT_EQ(f.stride[1], stride);
  EXPECT_EQ(f.first[0], first);
  EXPECT_EQ(f.first[1], first);
}

TestNode conv(const std::string& in, const std::string& out, int64_t k, int64_t s, std::vector<int64_t> pads,
              int64_t dilation = 1) {
  return {"Conv", {in}, out, {{"kernel_shape", {k, k}}, {"strides", {s, s}}, {"pads", pads}, {"dilations", {dilation, dilation}}}, {}};
}

TEST(ReceptiveField, InputIsOnePixel) {
  expect_field(field_of({{"Relu", {"input"}, "r", {}, {}}}, "input"), 1, 1, 0);
}

TEST(ReceptiveField, StackedConvsGrowByKernelTimesStride) {
  const std::vector<TestNode> nodes = {conv("input", "a", 3, 1, {1, 1, 1, 1}), {"Relu", {"a"}, "a_relu", {}, {}},
                                       conv("a_relu", "b", 3, 2, {1, 1, 1, 1}), conv("b", "c", 3, 1, {1, 1, 1, 1})};
  expect_field(field_of(nodes, "a"), 3, 1, -1);
  expect_field(field_of(nodes, "a_relu"), 3, 1, -1);  // activations pass through
  expect_field(field_of(nodes, "b"), 5, 2, -2);       // 3 + 2*1
  expect_field(field_of(nodes, "c"), 9, 2, -4);       // 5 + 2*2, first -2 - 1*2
}

TEST(ReceptiveField, AsymmetricPadsPoolsAndDilation) {
  // TF "SAME" at stride 2: pads [0,0,1,1], so the first unit starts at pixel 0.
  const std::vector<TestNode> nodes = {
      conv("input", "a", 3, 2, {0, 0, 1, 1}),
      {"MaxPool", {"a"}, "p", {{"kernel_shape", {2, 2}}, {"strides", {2, 2}}}, {}},
      conv("p", "d", 3, 1, {2, 2, 2, 2}, /*dilation=*/2),
      {"AveragePool", {"d"}, "avg", {{"kernel_shape", {3, 3}}, {"strides", {1, 1}}, {"pads", {1, 1, 1, 1}}}, {}}};
  const ReceptiveField a = field_of(nodes, "a");
  expect_field(a, 3, 2, 0);
  EXPECT_EQ(a.offset()[0], 1.5);
  expect_field(field_of(nodes, "p"), 5, 4, 0);     // 3 + (2-1)*2
  expect_field(field_of(nodes, "d"), 21, 4, -8);   // effective kernel 5: 5 + 4*4, first -2*4
  expect_field(field_of(nodes, "avg"), 29, 4, -12);
}

TEST(ReceptiveField, AutoPadSameResolvesFromTheSpatialSize) {
  // 16 px, kernel 3, stride 2 -> 8 outputs need 1 pad pixel: at the end for SAME_UPPER,
  // at the start for SAME_LOWER.
  TestNode c = {"Conv", {"input"}, "a", {{"kernel_shape", {3, 3}}, {"strides", {2, 2}}}, {}, {{"auto_pad", "SAME_UPPER"}}};
  expect_field(field_of({c}, "a"), 3, 2, 0);
  c.strings = {{"auto_pad", "SAME_LOWER"}};
  expect_field(field_of({c}, "a"), 3, 2, -1);
  c.strings = {{"auto_pad", "VALID"}};
  expect_field(field_of({c}, "a"), 3, 2, 0);
}

TEST(ReceptiveField, MultiInputNodesTakeTheUnion) {
  const std::vector<TestNode> nodes = {
      conv("input", "wide", 3, 1, {1, 1, 1, 1}), conv("wide", "wider", 3, 1, {1, 1, 1, 1}),
      conv("input", "narrow", 1, 1, {0, 0, 0, 0}),
      {"Add", {"wider", "narrow"}, "sum", {}, {}},
      {"Concat", {"narrow", "wide"}, "cat", {}, {{"axis", 1}}},
      {"Add", {"input", "narrow"}, "skip", {}, {}}};
  expect_field(field_of(nodes, "sum"), 5, 1, -2);
  expect_field(field_of(nodes, "cat"), 3, 1, -1);
  expect_field(field_of(nodes, "skip"), 1, 1, 0);
}

TEST(ReceptiveField, GlobalPoolingFlattenAndGemmSeeTheWholeInput) {
  const auto graph = featvis::graph::Graph::load_onnx_bytes(featvis::testing::tiny_classifier_onnx(3, 8), "tiny");
  for (const std::string t : {"pool", "flat", "logits"}) {
    const ReceptiveField f = featvis::dataset_examples::receptive_field(graph, t, 8, 8);
    EXPECT_TRUE(f.whole_input) << t;
    EXPECT_EQ(f.box(0, 0, 8, 8), (std::array<int64_t, 4>{0, 0, 8, 8})) << t;
  }
  expect_field(featvis::dataset_examples::receptive_field(graph, "conv1", 8, 8), 3, 1, -1);
}

TEST(ReceptiveField, BoxesAreHalfOpenAndClippedToTheInput) {
  ReceptiveField f;
  f.size = {9, 9};
  f.stride = {4, 4};
  f.first = {-4, -4};
  EXPECT_EQ(f.box(0, 0, 32, 32), (std::array<int64_t, 4>{0, 0, 5, 5}));
  EXPECT_EQ(f.box(2, 3, 32, 32), (std::array<int64_t, 4>{8, 4, 17, 13}));  // x0 = -4 + 3*4
  EXPECT_EQ(f.box(7, 7, 32, 32), (std::array<int64_t, 4>{24, 24, 32, 32}));
}

TEST(ReceptiveField, UnknownOpsAndStrideMismatchesAreOneLineErrors) {
  const std::vector<TestNode> padded = {{"Relu", {"input"}, "r", {}, {}},
                                        {"Constant", {}, "pads", {{"value_ints", {0, 0, 1, 1, 0, 0, 1, 1}}}, {}},
                                        {"Pad", {"r", "pads"}, "odd", {}, {}}};
  const auto pad_graph = featvis::graph::Graph::load_onnx_bytes(featvis::testing::onnx_from_nodes(padded), "padded");
  const std::string unknown = featvis::testing::error_of([&] { featvis::dataset_examples::receptive_field(pad_graph, "odd", 16, 16); });
  EXPECT_NE(unknown.find("op Pad (node 'odd/Pad')"), std::string::npos) << unknown;
  const std::vector<TestNode> mixed = {conv("input", "half", 3, 2, {1, 1, 1, 1}), conv("input", "full", 3, 1, {1, 1, 1, 1}),
                                       {"Add", {"half", "full"}, "bad", {}, {}}};
  const auto graph = featvis::graph::Graph::load_onnx_bytes(featvis::testing::onnx_from_nodes(mixed), "mixed");
  const std::string e = featvis::testing::error_of([&] { featvis::dataset_examples::receptive_field(graph, "bad", 16, 16); });
  EXPECT_NE(e.find("Add node 'bad/Add'"), std::string::npos) << e;
  EXPECT_NE(e.find("different strides"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);
  EXPECT_NE(featvis::testing::error_of([&] { featvis::dataset_examples::receptive_field(graph, "nope", 16, 16); }).find("unknown layer 'nope'"),
            std::string::npos);
}

// Hand-computed for MobileNetV2 (3x3 convs; stride-2 ones padded [0,0,1,1] TF-style):
// stem 3 /2; each stride-1 depthwise adds 2*stride; each stride-2 one adds 2*stride and
// doubles the stride; 1x1 convs and residual adds change nothing.
TEST(ReceptiveField, MobileNetV2LayersMatchHandComputedValues) {
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  const featvis::model::Model model = featvis::model::load_model("mobilenet_v2");
  struct Case {
    const char* layer;
    int64_t size, stride, first;
  };
  for (const Case& c : {Case{"MobileNetV2/Conv2d_0_0", 3, 2, 0},
                        Case{"MobileNetV2/expanded_conv_1/depthwise", 7, 2, -2},
                        Case{"MobileNetV2/expanded_conv_2/expand", 7, 2, -2},
                        Case{"MobileNetV2/expanded_conv_2/depthwise", 11, 4, -2},
                        Case{"MobileNetV2/expanded_conv_3/add/add", 19, 4, -6},
                        Case{"MobileNetV2/expanded_conv_4/depthwise", 27, 8, -6},
                        Case{"MobileNetV2/expanded_conv_8/expand", 75, 16, -22},
                        Case{"MobileNetV2/expanded_conv_8/depthwise", 107, 16, -38},
                        Case{"MobileNetV2/Conv2d_18_1", 491, 32, -214}}) {
    SCOPED_TRACE(c.layer);
    expect_field(featvis::dataset_examples::receptive_field(model.graph, c.layer, 224, 224), c.size, c.stride, c.first);
  }
  EXPECT_TRUE(featvis::dataset_examples::receptive_field(model.graph, "logits", 224, 224).whole_input);
}

// The input gradient of one unit is zero outside its receptive field.
TEST(ReceptiveField, MobileNetV2GradientStaysInsideTheBox) {
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  const featvis::model::Model model = featvis::model::load_model("mobilenet_v2");
  const std::string layer = "MobileNetV2/expanded_conv_4/project";
  const ReceptiveField f = featvis::dataset_examples::receptive_field(model.graph, layer, 224, 224);
  at::manual_seed(0);
  at::Tensor x = (at::rand({1, 3, 224, 224}) * 2 - 1).requires_grad_();
  const at::Tensor act = model.graph.run(x, {layer}).at(layer);
  const int64_t y = 10, xx = 13;
  act.select(1, 0).select(1, y).select(1, xx).sum().backward();
  const at::Tensor support = x.grad().abs().sum(1)[0] > 0;
  const at::Tensor rows = support.any(1).nonzero(), cols = support.any(0).nonzero();
  ASSERT_GT(rows.numel(), 0);
  const auto box = f.box(y, xx, 224, 224);
  const int64_t y0 = rows.min().item<int64_t>(), y1 = rows.max().item<int64_t>() + 1;
  const int64_t x0 = cols.min().item<int64_t>(), x1 = cols.max().item<int64_t>() + 1;
  EXPECT_GE(x0, box[0]);
  EXPECT_GE(y0, box[1]);
  EXPECT_LE(x1, box[2]);
  EXPECT_LE(y1, box[3]);
  // And the field is not much larger than where the gradient reaches.
  EXPECT_GE(x1 - x0, f.size[1] - 2 * f.stride[1]);
  EXPECT_GE(y1 - y0, f.size[0] - 2 * f.stride[0]);
}

}  // namespace
