// Checkpoint series: ordering by step, the card, training.json, and the one-line errors
// for series that are not one architecture.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/model/series.h>
#include <featvis/util/atomic_file.h>

#include <filesystem>

namespace {

namespace fs = std::filesystem;
using featvis::testing::error_of;
using featvis::testing::write_bytes;

// A folder with the tiny model's card and the given files.
std::string series_dir(const std::vector<std::pair<std::string, std::string>>& files) {
  const featvis::testing::TinyModelDir tiny;
  const std::string dir = featvis::testing::temp_dir() + "/series" + std::to_string(std::rand());
  fs::create_directories(dir);
  fs::copy_file(tiny.card, dir + "/tiny.card.json");
  for (const auto& [name, bytes] : files) write_bytes(dir + "/" + name, bytes);
  return dir;
}

TEST(Series, OrdersByTheStepInTheNameAndReadsTrainingJson) {
  const std::string m = featvis::testing::tiny_classifier_onnx(3, 8);
  const std::string dir = series_dir({{"ckpt-100.onnx", m}, {"ckpt-20.onnx", m}, {"ckpt-3.onnx", m}});
  write_bytes(dir + "/training.json", R"({"checkpoints": [{"step": 20, "loss": 0.5, "test_accuracy": 0.75}]})");
  const auto s = featvis::model::open_series(dir);
  ASSERT_EQ(s.checkpoints.size(), 3u);
  EXPECT_EQ(s.checkpoints[0].step, 3);
  EXPECT_EQ(s.checkpoints[1].step, 20);
  EXPECT_EQ(s.checkpoints[2].step, 100);
  EXPECT_FALSE(s.checkpoints[0].test_accuracy.has_value());
  EXPECT_DOUBLE_EQ(s.checkpoints[1].test_accuracy.value_or(-1), 0.75);
  featvis::model::check_series(s);
  EXPECT_EQ(featvis::model::load_checkpoint(s, 2).onnx_path, dir + "/ckpt-100.onnx");
  // A comma-separated list works too.
  EXPECT_EQ(featvis::model::open_series(dir + "/ckpt-3.onnx," + dir + "/ckpt-100.onnx").checkpoints.size(), 2u);
}

TEST(Series, DifferentArchitecturesNameTheFirstDifference) {
  const std::string dir = series_dir({{"a-1.onnx", featvis::testing::tiny_classifier_onnx(3, 8)},
                                      {"a-2.onnx", featvis::testing::tiny_two_conv_onnx(3, 8)}});
  const std::string e = error_of([&] { featvis::model::check_series(featvis::model::open_series(dir)); });
  EXPECT_NE(e.find("checkpoint series: node 2 ('pool') is GlobalAveragePool in '"), std::string::npos) << e;
  EXPECT_NE(e.find("a-2.onnx"), std::string::npos) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);

  // Same nodes, a different weight shape (4 classes instead of 3): the weight is named.
  const std::string dir2 = series_dir({{"b-1.onnx", featvis::testing::tiny_classifier_onnx(3, 8)},
                                       {"b-2.onnx", featvis::testing::tiny_classifier_onnx(4, 8)}});
  const std::string e2 = error_of([&] {
    auto s = featvis::model::open_series(dir2);
    featvis::model::check_series(s);
  });
  EXPECT_NE(e2.find("weight 'fc.w': [3,4] in"), std::string::npos) << e2;
}

TEST(Series, BadSeriesAreErrors) {
  const std::string m = featvis::testing::tiny_classifier_onnx(3, 8);
  EXPECT_NE(error_of([&] { featvis::model::open_series(series_dir({{"a-1.onnx", m}})); }).find("holds 1 .onnx file(s)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { featvis::model::open_series(series_dir({{"a.onnx", m}, {"a-2.onnx", m}})); })
                .find("has no step number in its name"),
            std::string::npos);
  EXPECT_NE(error_of([&] { featvis::model::open_series(series_dir({{"a-02.onnx", m}, {"b-2.onnx", m}})); })
                .find("both have step 2"),
            std::string::npos);
  const std::string no_card = featvis::testing::temp_dir() + "/nocard";
  fs::create_directories(no_card);
  write_bytes(no_card + "/x-1.onnx", m);
  write_bytes(no_card + "/x-2.onnx", m);
  EXPECT_NE(error_of([&] { featvis::model::open_series(no_card); }).find("need exactly one *.card.json"),
            std::string::npos);
  EXPECT_NE(error_of([&] { featvis::model::open_series("/nonexistent/a-1.onnx,/nonexistent/a-2.onnx"); })
                .find("checkpoint '/nonexistent/a-1.onnx' not found"),
            std::string::npos);
}

}  // namespace
