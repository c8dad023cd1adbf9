// The visualization tensor on the command line: `featvis layers --card` shows it beside
// each layer, `--derive-visualize` finds it from the graph, and `featvis render` of a
// capped card layer says once what to render instead.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <nlohmann/json.hpp>

namespace {

using featvis::testing::CommandResult;
using featvis::testing::run_featvis;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(VisualizationTensorCli, LayersCardShowsTheLayerAndItsVisualizationTensor) {
  featvis::testing::TinyModelDir ws;
  featvis::testing::write_bytes(ws.card, featvis::testing::tiny_classifier_card("conv1/preact"));
  const CommandResult table = run_featvis({"layers", ws.model, "--card"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("visualized"), std::string::npos) << table.out;
  const size_t row = table.out.find("\nconv1 ");
  ASSERT_NE(row, std::string::npos) << table.out;
  EXPECT_NE(table.out.find("conv1/preact", row), std::string::npos) << table.out;

  const CommandResult json = run_featvis({"layers", ws.model, "--card", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto layers = nlohmann::json::parse(json.out)["layers"];
  ASSERT_EQ(layers.size(), 1u);
  EXPECT_EQ(layers[0]["name"], "conv1");
  EXPECT_EQ(layers[0]["visualize"], "conv1/preact");
}

TEST(VisualizationTensorCli, DeriveVisualizePrintsTheCardLayersToPaste) {
  featvis::testing::TinyModelDir ws;  // its card names no visualization tensor
  const CommandResult r = run_featvis({"layers", ws.model, "--derive-visualize"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "  \"layers\": [\n    {\"name\": \"conv1\", \"title\": \"first conv\", \"visualize\": \"conv1/preact\"}\n  ]\n");
  // What it prints is valid card JSON.
  const auto layers = nlohmann::json::parse("{" + r.out + "}")["layers"];
  EXPECT_EQ(layers[0]["visualize"], "conv1/preact");
}

TEST(VisualizationTensorCli, RenderOfACappedCardLayerSaysOnceWhatToRenderInstead) {
  FEATVIS_REQUIRE_MODEL(model, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  const std::string out = featvis::testing::temp_dir();
  const std::string layer = "MobileNetV2/Conv2d_18_1";
  const CommandResult capped = run_featvis({"render", "mobilenet_v2", layer + ":0", "--steps", "2", "--size", "32",
                                            "--threads", "1", "-q", "--out", out + "/capped"});
  ASSERT_EQ(capped.exit_code, 0) << capped.err;
  EXPECT_EQ(count(capped.err, "is capped"), 1u) << capped.err;
  EXPECT_NE(capped.err.find("'" + layer + "/preact' instead"), std::string::npos) << capped.err;

  const CommandResult preact = run_featvis({"render", "mobilenet_v2", layer + "/preact:0", "--steps", "2", "--size",
                                            "32", "--threads", "1", "-q", "--out", out + "/preact"});
  ASSERT_EQ(preact.exit_code, 0) << preact.err;
  EXPECT_EQ(preact.err.find("is capped"), std::string::npos) << preact.err;
}

}  // namespace
