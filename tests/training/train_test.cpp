// The Fashion-MNIST training run (the fashion_cnn_series fixture) against the issue's
// bar: >= 10 log-spaced checkpoints from step 0, test accuracy >= 89 %, every file a
// loadable model with the card; plus determinism and bad input on a short run.
#include "support/test_support.h"
#include "training/fashion_mnist.h"

#include <featvis/model/series.h>
#include <featvis/train/fashion_cnn.h>
#include <featvis/util/atomic_file.h>

#include <nlohmann/json.hpp>

#include <filesystem>

namespace {

namespace fs = std::filesystem;
using featvis::testing::run_featvis;

TEST(Train, CheckpointStepsAreLogSpacedFromZero) {
  EXPECT_EQ(featvis::train::checkpoint_steps(1800),
            (std::vector<int64_t>{0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 1800}));
  EXPECT_EQ(featvis::train::checkpoint_steps(4), (std::vector<int64_t>{0, 1, 2, 4}));
}

TEST(Train, TrainedSeriesMeetsTheBar) {
  FEATVIS_REQUIRE_FASHION_CNN(dir);
  const auto j = nlohmann::json::parse(featvis::read_file(dir + "/training.json"));
  const auto& cps = j.at("checkpoints");
  ASSERT_GE(cps.size(), 10u);
  EXPECT_EQ(cps.front().at("step").get<int64_t>(), 0);
  for (size_t i = 2; i + 1 < cps.size(); ++i)  // log scale: each step doubles the one before
    EXPECT_EQ(cps[i].at("step").get<int64_t>(), 2 * cps[i - 1].at("step").get<int64_t>());
  // The trained network: >= 89 % on the 10,000 test images (the bar; measured
  // 89.98 % here). An untrained one is near chance; training lowers the loss.
  EXPECT_GE(cps.back().at("test_accuracy").get<double>(), 0.89);
  EXPECT_LT(cps.front().at("test_accuracy").get<double>(), 0.3);
  EXPECT_LT(cps.back().at("loss").get<double>(), 0.5 * cps.front().at("loss").get<double>());

  const featvis::model::Series s = featvis::model::open_series(dir);
  ASSERT_EQ(s.checkpoints.size(), cps.size());
  EXPECT_EQ(s.card.labels.size(), 10u);
  EXPECT_EQ(s.card.labels[9], "Ankle boot");
  ASSERT_TRUE(s.checkpoints.back().test_accuracy.has_value());
  EXPECT_DOUBLE_EQ(*s.checkpoints.back().test_accuracy, cps.back().at("test_accuracy").get<double>());
  featvis::model::check_series(s);  // one architecture
}

TEST(Train, ShortRunIsDeterministicAndWritesASeries) {
  FEATVIS_REQUIRE_FASHION_MNIST(data);
  const std::string a = featvis::testing::temp_dir() + "/a", b = featvis::testing::temp_dir() + "/b";
  for (const auto& out : {a, b}) {
    const auto r = run_featvis({"train-fashion-mnist", "--data", data, "--out", out, "--steps", "4", "--test-images", "200", "--threads", "1", "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // Same seed, same machine, same thread count: the same weights, byte for byte.
  for (const char* f : {"step-000000.onnx", "step-000004.onnx"})
    EXPECT_EQ(featvis::read_file(a + "/" + f), featvis::read_file(b + "/" + f)) << f;
  EXPECT_NE(featvis::read_file(a + "/step-000000.onnx"), featvis::read_file(a + "/step-000004.onnx"));
  EXPECT_TRUE(fs::exists(a + "/fashion_cnn.card.json"));
  const auto s = featvis::model::open_series(a);
  EXPECT_EQ(s.checkpoints.size(), 4u);  // 0, 1, 2, 4
  EXPECT_EQ(s.checkpoints[3].step, 4);
}

TEST(Train, MissingDataIsOneLineError) {
  const auto r = run_featvis({"train-fashion-mnist", "--data", "/nonexistent/fm", "--out", featvis::testing::temp_dir() + "/x"});
  featvis::testing::expect_one_line_error(r, 1, {"train-images-idx3-ubyte[.gz]", "/nonexistent/fm"});
}

}  // namespace
