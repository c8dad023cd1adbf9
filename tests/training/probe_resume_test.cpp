// featvis probe after Ctrl-C: the run stopped through the library's stop_requested hook,
// once in a feature pass and once between fits, keeps what it finished in the state
// folder; the same settings continue from it and end with the uninterrupted run's
// results; other settings are refused naming the difference. Real data: the trained
// Fashion-MNIST CNN (fixture) on Fashion-MNIST.
#include "support/test_support.h"
#include "training/fashion_mnist.h"

#include <featvis/model/model.h>
#include <featvis/probe/experiment.h>
#include <featvis/util/atomic_file.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <filesystem>

namespace {

namespace fs = std::filesystem;

TEST(ProbeResume, InterruptedRunsContinueToTheUninterruptedResult) {
  FEATVIS_REQUIRE_FASHION_CNN(series);
  FEATVIS_REQUIRE_FASHION_MNIST(data);
  at::set_num_threads(1);  // the same rounding in every run below
  const auto train = featvis::probe::ProbeData::open(data + "/train-images-idx3-ubyte.gz", 600);
  const auto test = featvis::probe::ProbeData::open(data + "/t10k-images-idx3-ubyte.gz", 200);
  const std::vector<std::string> models{series + "/fashion_cnn.card.json"};
  const featvis::probe::OpenModel open = [](const std::string& ref) { return featvis::model::load_model(ref); };
  auto options = [](const std::string& state) {
    featvis::probe::ExperimentOptions o;
    o.batch_size = 32;
    o.progress = false;
    o.logistic.l2 = {1e-4, 1e-2};
    o.logistic.max_iterations = 40;
    o.state_dir = state;
    return o;
  };
  const std::string tmp = featvis::testing::temp_dir();
  const auto whole = featvis::probe::run_experiment(models, open, train, test, options(tmp + "/whole"));
  ASSERT_FALSE(whole.interrupted);
  ASSERT_EQ(whole.models.size(), 1u);
  ASSERT_EQ(whole.models[0].layers.size(), 5u);
  EXPECT_FALSE(fs::exists(tmp + "/whole")) << "the state of a finished run is removed";

  const std::string state = tmp + "/state";
  // 1. Stopped after 5 batches of the training images: those 160 rows are kept.
  auto o = options(state);
  int polls = 0;
  o.stop_requested = [&polls] { return ++polls >= 5; };
  auto r = featvis::probe::run_experiment(models, open, train, test, o);
  ASSERT_TRUE(r.interrupted);
  EXPECT_EQ(r.stopped_during, "the training images of fashion_cnn");
  const auto features = nlohmann::json::parse(featvis::read_file(state + "/model-0/features.json"));
  EXPECT_EQ(features.at("train").at("chunks").at(0).at("rows"), 160);

  // Other settings are refused, naming the first that differs, and leave the state alone.
  auto other = options(state);
  other.logistic.l2 = {1e-3};
  const std::string error = featvis::testing::error_of([&] { featvis::probe::run_experiment(models, open, train, test, other); });
  EXPECT_NE(error.find("other settings (l2 [0.001] now"), std::string::npos) << error;
  EXPECT_TRUE(fs::exists(state + "/model-0/train-0.npy"));

  // 2. Continued, and stopped again after two of the five fits: the 14 remaining training
  // batches and 7 test batches poll 21 times, then each fit once before it starts.
  o = options(state);
  polls = 0;
  o.stop_requested = [&polls] { return ++polls >= 24; };
  r = featvis::probe::run_experiment(models, open, train, test, o);
  ASSERT_TRUE(r.interrupted);
  EXPECT_EQ(r.stopped_during, "the regressions of fashion_cnn");
  EXPECT_EQ(nlohmann::json::parse(featvis::read_file(state + "/model-0/fits.json")).size(), 2u);

  // 3. Continued to the end: the uninterrupted run's results, exactly (the same rows in
  // the same batches, saved as float32, and deterministic fits at one thread).
  r = featvis::probe::run_experiment(models, open, train, test, options(state));
  ASSERT_FALSE(r.interrupted);
  ASSERT_EQ(r.models.size(), 1u);
  ASSERT_EQ(r.models[0].layers.size(), whole.models[0].layers.size());
  for (size_t l = 0; l < r.models[0].layers.size(); ++l) {
    const auto& a = r.models[0].layers[l];
    const auto& b = whole.models[0].layers[l];
    SCOPED_TRACE(a.layer);
    EXPECT_EQ(a.layer, b.layer);
    EXPECT_EQ(a.score.features, b.score.features);
    EXPECT_EQ(a.score.l2, b.score.l2);
    EXPECT_EQ(a.score.held_out_accuracy, b.score.held_out_accuracy);
    EXPECT_EQ(a.score.train_accuracy, b.score.train_accuracy);
    EXPECT_EQ(a.score.test_accuracy, b.score.test_accuracy);
  }
  EXPECT_FALSE(fs::exists(state));
}

}  // namespace
