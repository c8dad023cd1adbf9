// The loader's structural checks: ONNX's own checker, mapped to one line naming the
// file, and the one-pass check of ONNX's required topological node order.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/graph/graph.h>

#include <gtest/gtest.h>

namespace {

using featvis::graph::Graph;
using featvis::testing::error_of;
using featvis::testing::onnx_from_nodes;
using featvis::testing::TestNode;

TEST(OnnxLoader, CheckerFailureIsOneLineNamingTheFile) {
  // Relu has no attribute "foo": featvis would ignore it, ONNX's schema check does not.
  const std::string bytes = onnx_from_nodes({TestNode{"Relu", {"input"}, "y", {{"foo", {1}}}}});
  const std::string msg = error_of([&] { Graph::load_onnx_bytes(bytes, "odd.onnx"); });
  EXPECT_NE(msg.find("'odd.onnx' is not a valid ONNX model"), std::string::npos) << msg;
  EXPECT_NE(msg.find("foo"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Relu"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(OnnxLoader, NodesOutOfTopologicalOrderAreRefused) {
  // "a" reads "b", which the next node produces.
  const std::string bytes = onnx_from_nodes({TestNode{"Relu", {"b"}, "a"}, TestNode{"Relu", {"input"}, "b"}});
  const std::string msg = error_of([&] { Graph::load_onnx_bytes(bytes, "shuffled.onnx"); });
  EXPECT_NE(msg.find("'shuffled.onnx'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("node 'a/Relu' reads tensor 'b' before node 'b/Relu' produces it"), std::string::npos) << msg;
  EXPECT_NE(msg.find("topological order"), std::string::npos) << msg;
}

TEST(OnnxLoader, TensorThatNothingProducesIsNamed) {
  const std::string bytes = onnx_from_nodes({TestNode{"Relu", {"nowhere"}, "a"}});
  const std::string msg = error_of([&] { Graph::load_onnx_bytes(bytes, "broken.onnx"); });
  EXPECT_NE(msg.find("node 'a/Relu' reads tensor 'nowhere', which nothing produces"), std::string::npos) << msg;
}

TEST(OnnxLoader, ValidGraphLoadsInFileOrder) {
  const Graph g = Graph::load_onnx_bytes(
      onnx_from_nodes({TestNode{"Relu", {"input"}, "a"}, TestNode{"Neg", {"a"}, "b"}}), "ok.onnx");
  ASSERT_EQ(g.nodes().size(), 2u);
  EXPECT_EQ(g.nodes()[0].name, "a/Relu");
  EXPECT_EQ(g.nodes()[1].name, "b/Neg");
}

// The shipped real models pass ONNX's checker as they are.
TEST(OnnxLoader, RealModelsPassTheChecker) {
  for (const char* file : {"mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx", "mobilenet_v1_1.0_224_quant_dequant.onnx",
                           "darknet_tiny_imagenet.onnx"}) {
    FEATVIS_REQUIRE_MODEL(path, file);
    EXPECT_NO_THROW(Graph::load_onnx(path)) << file;
  }
}

}  // namespace
