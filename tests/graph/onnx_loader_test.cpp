// The loader's structural checks: ONNX's own checker, mapped to one line naming the
// file, and the one-pass check of ONNX's required topological node order.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/graph/graph.h>

#include <onnx/onnx_pb.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

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

// tiny_classifier_onnx with every weight moved to one file beside the model, as
// torch.onnx stores a model over 2 GB (vit_h_14): `location`, `offset` (starting at 16, so
// an offset that is ignored shows) and `length` per tensor.
std::string externalize(const std::string& dir, const std::string& location = "weights.bin") {
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromString(featvis::testing::tiny_classifier_onnx(3, 8)));
  std::string blob(16, '\x7f');
  for (auto& t : *model.mutable_graph()->mutable_initializer()) {
    const std::string bytes(reinterpret_cast<const char*>(t.float_data().data()), t.float_data_size() * sizeof(float));
    t.clear_float_data();
    t.set_data_location(onnx::TensorProto::EXTERNAL);
    for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
             {"location", location}, {"offset", std::to_string(blob.size())}, {"length", std::to_string(bytes.size())}}) {
      auto* entry = t.add_external_data();
      entry->set_key(key);
      entry->set_value(value);
    }
    blob += bytes;
  }
  featvis::testing::write_bytes(dir + "/weights.bin", blob);
  const std::string path = dir + "/model.onnx";
  featvis::testing::write_bytes(path, model.SerializeAsString());
  return path;
}

TEST(OnnxLoader, ExternalWeightsAreReadFromBesideTheModel) {
  const std::string dir = featvis::testing::temp_dir();
  const Graph inline_graph = Graph::load_onnx_bytes(featvis::testing::tiny_classifier_onnx(3, 8), "tiny.onnx");
  const Graph external = Graph::load_onnx(externalize(dir));
  for (const char* name : {"conv1.w", "conv1.b", "fc.w", "fc.b"}) {
    // The same bytes: bit-equal, nothing is computed.
    EXPECT_TRUE(external.weight(name).equal(inline_graph.weight(name))) << name;
  }
  const at::Tensor x = at::linspace(-1, 1, 3 * 8 * 8).reshape({1, 3, 8, 8});
  EXPECT_TRUE(at::allclose(external.run(x, {"logits"}).at("logits"), inline_graph.run(x, {"logits"}).at("logits")));
}

TEST(OnnxLoader, BrokenExternalWeightsAreOneLineErrorsNamingTheTensor) {
  const std::string dir = featvis::testing::temp_dir();
  const std::string path = externalize(dir);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // From bytes alone there is no folder to read from.
  std::string msg = error_of([&] { Graph::load_onnx_bytes(bytes, "mem.onnx"); });
  EXPECT_NE(msg.find("'mem.onnx': tensor 'conv1.w' stores its data in an external file"), std::string::npos) << msg;
  // A truncated data file.
  std::filesystem::resize_file(dir + "/weights.bin", 100);
  msg = error_of([&] { Graph::load_onnx(path); });
  EXPECT_NE(msg.find("holds 100 bytes, the tensor needs"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  // A missing one.
  std::filesystem::remove(dir + "/weights.bin");
  msg = error_of([&] { Graph::load_onnx(path); });
  EXPECT_NE(msg.find("tensor 'conv1.w': cannot read its external data file '" + dir + "/weights.bin'"),
            std::string::npos) << msg;
  // A location outside the model's folder is refused before anything is opened.
  const std::string outside = externalize(featvis::testing::temp_dir(), "../weights.bin");
  msg = error_of([&] { Graph::load_onnx(outside); });
  EXPECT_NE(msg.find("external data location '../weights.bin'; ONNX requires a file inside the model's folder"),
            std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

}  // namespace
