// Short layer names through the real binary: a name that ends exactly one layer's name
// in whole '/' segments stands for it in every command that takes a layer; an ambiguous
// one lists the candidates.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/image/image.h>
#include <featvis/util/atomic_file.h>

#include <nlohmann/json.hpp>

namespace {

using featvis::testing::CommandResult;
using featvis::testing::expect_one_line_error;
using featvis::testing::run_featvis;
using featvis::testing::TestNode;
using featvis::testing::write_bytes;

// A grey 8x8 photo in `dir`.
std::string grey_photo(const std::string& dir) {
  const std::string path = dir + "/photo.png";
  featvis::image::save_png(path, at::full({3, 8, 8}, 0.5));
  return path;
}

nlohmann::json json_of(const CommandResult& r) {
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

TEST(LayerNamesCli, ASuffixOfWholeSegmentsNamesTheLayerEverywhere) {
  featvis::testing::TinyModelDir ws;  // "conv1/preact" -> "conv1" -> ... "logits"
  const std::string photo = grey_photo(ws.dir);
  const std::string out = ws.dir + "/out";
  const nlohmann::json render = json_of(run_featvis({"render", ws.model, "preact:1", "--size", "8", "--steps", "2",
                                                     "--threads", "1", "--out", out + "/render", "--json"}));
  EXPECT_EQ(render["objective"]["description"], "conv1/preact:1");
  const nlohmann::json activations = json_of(run_featvis({"activations", ws.model, photo, "--layer", "preact", "--json"}));
  EXPECT_EQ(activations["layer"], "conv1/preact");
  const nlohmann::json attribute =
      json_of(run_featvis({"attribute", ws.model, photo, "--method", "gradcam", "--layer", "preact", "--target",
                           "preact:2", "--out", out + "/attr.png", "--json"}));
  EXPECT_EQ(attribute["layer"], "conv1/preact");
  EXPECT_EQ(attribute["target"]["description"], "conv1/preact:2");
  const nlohmann::json examples = json_of(run_featvis({"examples", ws.model, "--images", ws.dir, "--layers", "preact",
                                                       "--top", "1", "--out", out + "/examples", "--json", "-q"}));
  ASSERT_EQ(examples["layers"].size(), 1u) << examples.dump();
  EXPECT_EQ(examples["layers"][0]["name"], "conv1/preact");
  const CommandResult microscope = run_featvis(
      {"microscope", "build", ws.model, "--layers", "preact", "--units", "1", "--out", out + "/site", "--dry-run"});
  ASSERT_EQ(microscope.exit_code, 0) << microscope.err;
  EXPECT_NE(microscope.out.find("conv1/preact"), std::string::npos) << microscope.out;
  // Only whole segments: "eact" is no layer's segment.
  expect_one_line_error(run_featvis({"activations", ws.model, photo, "--layer", "eact"}), 1,
                        {"unknown layer 'eact'"});
}

TEST(LayerNamesCli, AnAmbiguousShortNameListsTheCandidates) {
  // Two blocks whose last layers are both ".../relu".
  featvis::testing::TinyModelDir ws;
  const std::string model = ws.dir + "/nested.onnx";
  write_bytes(model, featvis::testing::onnx_from_nodes({
                         {"Conv", {"input"}, "a/conv", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}},
                         {"Relu", {"a/conv"}, "a/relu"},
                         {"Conv", {"a/relu"}, "b/conv", {{"kernel_shape", {3, 3}}, {"pads", {1, 1, 1, 1}}}},
                         {"Relu", {"b/conv"}, "b/relu"},
                     }, 3, 8));
  write_bytes(ws.dir + "/nested.card.json",
              R"({"name": "nested", "file": "nested.onnx", "input": "input", "output": "b/relu",
                  "preprocessing": {"crop": "stretch", "width": 8, "height": 8,
                                    "mean": [0, 0, 0], "std": [255, 255, 255], "channels": "rgb"}})");
  const std::string photo = grey_photo(ws.dir);
  expect_one_line_error(run_featvis({"activations", model, photo, "--layer", "relu"}), 1,
                        {"layer name 'relu' is ambiguous", "2 layers end with it", "'a/relu', 'b/relu'"});
  expect_one_line_error(run_featvis({"render", model, "relu:0", "--steps", "1", "--out", ws.dir + "/r"}), 1,
                        {"'relu' is ambiguous", "'a/relu', 'b/relu'"});
  // More segments make it unique.
  const nlohmann::json j = json_of(run_featvis({"activations", model, photo, "--layer", "b/relu", "--json"}));
  EXPECT_EQ(j["layer"], "b/relu");
}

}  // namespace
