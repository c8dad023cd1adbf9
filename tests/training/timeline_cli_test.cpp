// featvis timeline on the real trained series (the fashion_cnn_series fixture): one
// picture per checkpoint, a strip with one tile per checkpoint, finite objective values,
// Jaccard overlaps in [0, 1]; and the one-line errors.
#include "support/onnx_builder.h"
#include "support/test_support.h"
#include "training/fashion_mnist.h"

#include <featvis/image/image.h>
#include <featvis/io/idx.h>
#include <featvis/util/atomic_file.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

namespace {

namespace fs = std::filesystem;
using featvis::testing::run_featvis;

TEST(Timeline, RendersEveryCheckpointOfTheTrainedSeries) {
  FEATVIS_REQUIRE_FASHION_CNN(series);
  FEATVIS_REQUIRE_FASHION_MNIST(data);
  const std::string photos = featvis::testing::fashion_png_folder(data, 120);
  const std::string out = featvis::testing::temp_dir() + "/timeline";
  const auto r = run_featvis({"timeline", series, "conv2:3", "--out", out, "--steps", "32", "--images", photos, "--top", "6",
                              "--threads", "1", "-q", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(featvis::read_file(out + "/timeline.json"));
  const auto& cps = j.at("checkpoints");
  const auto training = nlohmann::json::parse(featvis::read_file(series + "/training.json"));
  ASSERT_EQ(cps.size(), training.at("checkpoints").size());
  int64_t previous = -1;
  for (size_t i = 0; i < cps.size(); ++i) {
    const auto& c = cps[i];
    EXPECT_GT(c.at("step").get<int64_t>(), previous);  // step order
    previous = c.at("step").get<int64_t>();
    EXPECT_TRUE(std::isfinite(c.at("objective_value").get<double>()));
    EXPECT_TRUE(fs::exists(out + "/" + c.at("image").get<std::string>()));
    EXPECT_DOUBLE_EQ(c.at("test_accuracy").get<double>(), training["checkpoints"][i]["test_accuracy"].get<double>());
    EXPECT_EQ(c.at("top_examples").size(), 6u);
    if (i == 0) {
      EXPECT_TRUE(c.at("jaccard_with_previous").is_null());
    } else {
      const double jac = c.at("jaccard_with_previous").get<double>();
      EXPECT_GE(jac, 0.0);
      EXPECT_LE(jac, 1.0);
    }
  }
  EXPECT_DOUBLE_EQ(cps.back().at("jaccard_with_final").get<double>(), 1.0);
  // The settle step: the first checkpoint from which every set overlaps the final one by half.
  size_t settle = cps.size() - 1;
  while (settle > 0 && cps[settle - 1].at("jaccard_with_final").get<double>() >= 0.5) --settle;
  EXPECT_EQ(j.at("examples").at("settle_step"), cps[settle].at("step"));
  // The optimization raised the objective at the trained checkpoint.
  EXPECT_GT(cps.back().at("objective_value").get<double>(), cps.back().at("initial_value").get<double>());
  // The strip: one 112-pixel tile per checkpoint (28 px scaled by 4) and 6-pixel gaps.
  const at::Tensor strip = featvis::image::load_image_rgb8(out + "/strip.png").permute({2, 0, 1});
  EXPECT_EQ(strip.size(2), static_cast<int64_t>(cps.size()) * (112 + 6) + 6);
  EXPECT_GT(strip.size(1), 112 + 12);  // room for the captions
}

TEST(Timeline, BadInputIsOneLineError) {
  const std::string dir = featvis::testing::two_architecture_series();
  featvis::testing::expect_one_line_error(run_featvis({"timeline", dir, "conv1:0", "--out", dir + "/o"}), 1,
                                          {"checkpoint series: weight 'fc.w'", "s-2.onnx"});
  featvis::testing::expect_one_line_error(run_featvis({"timeline", "/nonexistent", "conv1:0"}), 1, {"/nonexistent"});
  featvis::testing::write_bytes(dir + "/s-2.onnx", featvis::testing::tiny_classifier_onnx(3, 8));
  featvis::testing::expect_one_line_error(
      run_featvis({"timeline", dir, "conv1:0 + conv1:1", "--out", dir + "/o", "--images", dir, "--steps", "2", "-q"}), 1,
      {"--images"});
}

}  // namespace
