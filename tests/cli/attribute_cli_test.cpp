// `featvis attribute` through the real binary: the files it writes, and one-line errors
// for bad input (missing image, unknown target, wrong method, zero-size window).
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/image/image.h>
#include <featvis/io/npy.h>
#include <featvis/util/atomic_file.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

namespace {

using featvis::testing::CommandResult;
using featvis::testing::expect_one_line_error;
using featvis::testing::run_featvis;

struct TinyWorkspace : featvis::testing::TinyModelDir {
  std::string photo = dir + "/photo.png";
  TinyWorkspace() {
    at::manual_seed(1);
    featvis::image::save_png(photo, at::rand({3, 12, 10}));
  }
};

TEST(AttributeCli, WritesHeatmapOverlayRawAndSummary) {
  TinyWorkspace ws;
  const std::string out = ws.dir + "/out/attr.png";
  const CommandResult r = run_featvis({"attribute", ws.model, ws.photo, "--method", "ig", "--steps", "8", "--target",
                                       "logit:2", "--out", out, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["method"], "ig");
  EXPECT_EQ(j["target"]["description"], "logit:2");
  EXPECT_EQ(j["options"]["steps"], 8);
  EXPECT_LT(j["completeness"]["relative_error"].get<double>(), 0.05);
  for (const std::string f : {"/out/attr.png", "/out/attr_overlay.png", "/out/attr.npy", "/out/attr.json"})
    EXPECT_TRUE(std::filesystem::exists(ws.dir + f)) << f;
  const at::Tensor raw = featvis::io::load_npy(ws.dir + "/out/attr.npy");
  EXPECT_EQ(raw.sizes(), (std::vector<int64_t>{3, 8, 8}));
  EXPECT_NEAR(raw.sum().item<double>(), j["completeness"]["attribution_sum"].get<double>(), 1e-4);
  EXPECT_EQ(nlohmann::json::parse(featvis::read_file(ws.dir + "/out/attr.json")), j);
  // Default target (top-1 class) and the table output.
  const CommandResult table = run_featvis({"attribute", ws.model, ws.photo, "--method", "gradcam", "--out", out});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("layer"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("logit:"), std::string::npos) << table.out;
}

// LRP on the tiny model (with biases): the table and JSON report conservation, the
// options name the composite, and an unknown composite is a one-line --lrp-composite error.
TEST(AttributeCli, LrpReportsConservationAndItsComposite) {
  TinyWorkspace ws;
  const std::string out = ws.dir + "/lrp.png";
  const CommandResult r = run_featvis({"attribute", ws.model, ws.photo, "--method", "lrp", "--lrp-composite",
                                       "epsilon-gamma-box", "--target", "logit:1", "--out", out, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["method"], "lrp");
  EXPECT_EQ(j["options"]["lrp_composite"], "epsilon-gamma-box");
  const at::Tensor raw = featvis::io::load_npy(ws.dir + "/lrp.npy");
  EXPECT_NEAR(raw.sum().item<double>(), j["conservation"]["relevance_sum"].get<double>(), 1e-4);
  EXPECT_NEAR(j["conservation"]["target_value"].get<double>(), j["target"]["value"].get<double>(), 1e-5);
  const CommandResult table = run_featvis({"attribute", ws.model, ws.photo, "--method", "lrp", "--out", out});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("conservation"), std::string::npos) << table.out;
  expect_one_line_error(
      run_featvis({"attribute", ws.model, ws.photo, "--method", "lrp", "--lrp-composite", "flat", "--out", out}), 1,
      {"--lrp-composite: unknown LRP composite 'flat'", "epsilon-plus"});
  const CommandResult help = run_featvis({"attribute", "--help"});
  EXPECT_NE(help.out.find("epsilon-plus (default"), std::string::npos) << help.out;
}

TEST(AttributeCli, BadInputIsOneLine) {
  TinyWorkspace ws;
  const std::string out = ws.dir + "/bad.png";
  expect_one_line_error(run_featvis({"attribute", ws.model, ws.dir + "/missing.jpg", "--out", out}), 1,
                        {"missing.jpg"});
  expect_one_line_error(run_featvis({"attribute", ws.model, ws.photo, "--target", "logit:7", "--out", out}), 1,
                        {"logit:7"});
  expect_one_line_error(run_featvis({"attribute", ws.model, ws.photo, "--target", "nolayer:1", "--out", out}), 1,
                        {"unknown layer 'nolayer'"});
  expect_one_line_error(run_featvis({"attribute", ws.model, ws.photo, "--method", "lime", "--out", out}), 1,
                        {"unknown attribution method 'lime'"});
  expect_one_line_error(
      run_featvis({"attribute", ws.model, ws.photo, "--method", "occlusion", "--window", "0", "--out", out}), 1,
      {"occlusion window must be at least 1 pixel, got 0"});
  expect_one_line_error(
      run_featvis({"attribute", ws.model, ws.photo, "--method", "occlusion", "--stride", "0", "--out", out}), 1,
      {"occlusion stride must be at least 1 pixel, got 0"});
  expect_one_line_error(run_featvis({"attribute", ws.model, ws.photo, "--baseline", "white", "--out", out}), 1,
                        {"baseline 'white'"});
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
