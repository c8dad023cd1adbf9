// The Microscope's training lens on the real trained series (the fashion_cnn_series
// fixture): a strip and an example-overlap chart per unit, a median settle step per layer
// and across layers, in the pages and the JSON; a model that is not a series has no such
// lens; interrupted, resumed and sharded builds give the one-process site's bytes; a
// series of two architectures is a one-line error.
#include "microscope/microscope_test_util.h"
#include "support/onnx_builder.h"
#include "support/test_support.h"
#include "training/fashion_mnist.h"

#include <featvis/image/image.h>
#include <featvis/microscope/builder.h>
#include <featvis/model/series.h>
#include <featvis/timeline/timeline.h>
#include <featvis/util/atomic_file.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>

namespace {

namespace fs = std::filesystem;
using featvis::testing::read_json;
using featvis::testing::run_featvis;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(MicroscopeTraining, SeriesBuildShowsEachUnitOverTraining) {
  FEATVIS_REQUIRE_FASHION_CNN(series);
  FEATVIS_REQUIRE_FASHION_MNIST(data);
  const std::string photos = featvis::testing::fashion_png_folder(data, 60);
  const std::string site = featvis::testing::temp_dir() + "/site";
  // Dense layers behind a Flatten need the input size kept: --transforms none.
  const auto r = run_featvis({"microscope", "build", series, "--images", photos, "--layers", "conv1,conv2,fc1", "--units", "2",
                              "--steps", "4", "--batch", "2", "--diversity", "0", "--transforms", "none", "--thumb", "32",
                              "--threads", "1", "--out", site, "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string model_dir = site + "/fashion_cnn";
  const auto manifest = read_json(model_dir + "/manifest.json");
  const auto lenses = manifest.at("lenses").get<std::vector<std::string>>();
  EXPECT_NE(std::find(lenses.begin(), lenses.end(), "training"), lenses.end());
  const auto training = read_json(series + "/training.json").at("checkpoints");
  std::vector<int64_t> steps;
  for (const auto& c : training) steps.push_back(c.at("step"));
  EXPECT_EQ(manifest["settings"]["series"]["steps"].get<std::vector<int64_t>>(), steps);

  std::string overview = featvis::read_file(model_dir + "/index.html");
  EXPECT_TRUE(contains(overview, "when each layer")) << "no settle chart on the overview";
  for (const std::string layer : {"conv1", "conv2", "fc1"}) {
    SCOPED_TRACE(layer);
    EXPECT_TRUE(contains(overview, ">" + layer + "</text>"));
    const auto layer_entry = read_json(model_dir + "/" + layer + "/layer.json").at("lenses").at("training");
    const auto settle = layer_entry.at("settle_steps").get<std::vector<int64_t>>();
    ASSERT_EQ(settle.size(), 2u);
    EXPECT_DOUBLE_EQ(layer_entry.at("median_settle_step").get<double>(), (settle[0] + settle[1]) / 2.0);
    const std::string layer_page = featvis::read_file(model_dir + "/" + layer + "/index.html");
    EXPECT_TRUE(contains(layer_page, "Median settle step of the 2 units"));
    for (int64_t u : {0, 1}) {
      SCOPED_TRACE(u);
      const std::string dir = model_dir + "/" + layer + "/" + std::to_string(u);
      const auto e = read_json(dir + "/unit.json").at("lenses").at("training");
      // The strip: one 112-pixel tile per checkpoint (28 px x 4) and 6-pixel gaps, as
      // `featvis timeline` draws it, in the site's picture format.
      EXPECT_EQ(e.at("strip").at("image"), "training_strip.webp");
      const at::Tensor strip = featvis::image::load_image_rgb8(dir + "/training_strip.webp");
      EXPECT_EQ(strip.size(1), static_cast<int64_t>(steps.size()) * (112 + 6) + 6);
      const auto& cps = e.at("checkpoints");
      ASSERT_EQ(cps.size(), steps.size());
      for (size_t i = 0; i < cps.size(); ++i) {
        EXPECT_EQ(cps[i].at("step").get<int64_t>(), steps[i]);
        EXPECT_DOUBLE_EQ(cps[i].at("test_accuracy").get<double>(), training[i].at("test_accuracy").get<double>());
        const double with_final = cps[i].at("jaccard_with_final");
        EXPECT_GE(with_final, 0.0);
        EXPECT_LE(with_final, 1.0);
        EXPECT_EQ(cps[i].at("jaccard_with_previous").is_null(), i == 0);
      }
      EXPECT_DOUBLE_EQ(cps.back().at("jaccard_with_final").get<double>(), 1.0);
      // Settled: from the settle step on every set overlaps the final one by half, and
      // the checkpoint before it does not.
      const int64_t s = e.at("settle_step");
      const size_t at = static_cast<size_t>(std::find(steps.begin(), steps.end(), s) - steps.begin());
      ASSERT_LT(at, steps.size());
      for (size_t i = at; i < cps.size(); ++i) EXPECT_GE(cps[i].at("jaccard_with_final").get<double>(), 0.5);
      if (at > 0) EXPECT_LT(cps[at - 1].at("jaccard_with_final").get<double>(), 0.5);
      EXPECT_EQ(s, settle[static_cast<size_t>(u)]);
      const std::string page = featvis::read_file(dir + "/index.html");
      EXPECT_TRUE(contains(page, "src=\"training_strip.webp\""));
      EXPECT_TRUE(contains(page, "<svg class=\"chart\""));
      EXPECT_TRUE(contains(page, "settles at step " + std::to_string(s) + "<"));
    }
  }
}

TEST(MicroscopeTraining, NonSeriesModelHasNoTrainingLens) {
  FEATVIS_REQUIRE_FASHION_CNN(series);
  const std::string site = featvis::testing::temp_dir() + "/plain";
  // The card alone names the trained (last) checkpoint: a model, not a series.
  const auto r = run_featvis({"microscope", "build", series + "/fashion_cnn.card.json", "--layers", "conv2", "--units", "1",
                              "--steps", "2", "--diversity", "0", "--transforms", "none", "--threads", "1", "--out", site, "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto manifest = read_json(site + "/fashion_cnn/manifest.json");
  const auto lenses = manifest.at("lenses").get<std::vector<std::string>>();
  EXPECT_EQ(std::find(lenses.begin(), lenses.end(), "training"), lenses.end());
  EXPECT_FALSE(manifest.at("settings").contains("series"));
  EXPECT_FALSE(read_json(site + "/fashion_cnn/conv2/0/unit.json").at("lenses").contains("training"));
  EXPECT_FALSE(contains(featvis::read_file(site + "/fashion_cnn/conv2/0/index.html"), "Over training"));
  EXPECT_FALSE(contains(featvis::read_file(site + "/fashion_cnn/index.html"), "settle"));
}

// Every file of two sites, byte for byte.
void expect_same_site(const std::string& a, const std::string& b) {
  const auto files = featvis::testing::files_under(a);
  ASSERT_EQ(files, featvis::testing::files_under(b));
  for (const auto& f : files) EXPECT_EQ(featvis::read_file(a + "/" + f), featvis::read_file(b + "/" + f)) << f;
}

TEST(MicroscopeTraining, InterruptedResumedAndShardedBuildsEqualOneProcess) {
  FEATVIS_REQUIRE_FASHION_CNN(dir);
  FEATVIS_REQUIRE_FASHION_MNIST(data);
  at::set_num_threads(1);  // every build below in this process, at one thread: the same bytes
  const std::string tmp = featvis::testing::temp_dir();
  const std::string photos = featvis::testing::fashion_png_folder(data, 40);
  const auto ex = run_featvis({"examples", dir + "/fashion_cnn.card.json", "--images", photos, "--layers", "conv2,fc1",
                               "--top", "6", "--threads", "1", "--out", tmp + "/ex", "-q"});
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  auto series = std::make_shared<featvis::model::Series>(featvis::model::open_series(dir));
  const featvis::model::Model model = featvis::model::load_checkpoint(*series, series->checkpoints.size() - 1);
  auto options = [&](const std::string& site) {
    featvis::microscope::BuildOptions o;
    o.site = site;
    o.layers = {"conv2", "fc1"};
    o.units = "2";
    o.render.steps = 3;
    o.render.batch = 1;  // more work items: one per unit
    o.render.diversity = 0;
    o.render.transforms = "none";
    o.render.thumb = 32;
    o.examples = tmp + "/ex";
    o.series = series;
    o.series_ref = dir;
    return o;
  };
  const std::string one = tmp + "/one";
  ASSERT_FALSE(featvis::microscope::Builder(model, options(one)).build().manifest.empty());

  // Stopped before its fourth work item (conv2's layer and both units done, fc1 not), then resumed.
  const std::string resumed = tmp + "/resumed";
  {
    auto o = options(resumed);
    int polls = 0;
    o.stop_requested = [&polls] { return ++polls > 3; };
    EXPECT_TRUE(featvis::microscope::Builder(model, o).build().interrupted);
    EXPECT_TRUE(fs::exists(resumed + "/fashion_cnn/conv2/1/training_strip.webp"));
    EXPECT_FALSE(fs::exists(resumed + "/fashion_cnn/fc1/0/unit.json"));
    EXPECT_FALSE(fs::exists(resumed + "/fashion_cnn/manifest.json"));
    o = options(resumed);
    o.resume = true;
    const auto s = featvis::microscope::Builder(model, o).build();
    EXPECT_EQ(s.units_skipped, 2);
    EXPECT_EQ(s.units_rendered, 2);
  }
  expect_same_site(one, resumed);

  // Two shards, then finalize.
  const std::string sharded = tmp + "/sharded";
  for (int64_t k : {1, 0}) {
    auto o = options(sharded);
    o.shard = {k, 2, "--shard"};
    EXPECT_TRUE(featvis::microscope::Builder(model, o).build().manifest.empty());
  }
  {
    auto o = options(sharded);
    o.resume = true;
    EXPECT_TRUE(featvis::microscope::Builder(model, o).finalize().missing.empty());
  }
  expect_same_site(one, sharded);

  // Resuming with another series (fewer checkpoints) is refused, naming the difference.
  auto fewer = std::make_shared<featvis::model::Series>(featvis::model::open_series(
      series->checkpoints[0].onnx_path + "," + series->checkpoints[5].onnx_path + "," + series->checkpoints.back().onnx_path));
  auto o = options(one);
  o.resume = true;
  o.series = fewer;
  const std::string error = featvis::testing::error_of([&] { featvis::microscope::Builder(model, o); });
  EXPECT_TRUE(contains(error, "settings differ")) << error;
  EXPECT_TRUE(contains(error, "series")) << error;
}

TEST(MicroscopeTraining, SeriesOfTwoArchitecturesIsOneLineError) {
  const std::string dir = featvis::testing::two_architecture_series();
  featvis::testing::expect_one_line_error(run_featvis({"microscope", "build", dir, "--out", dir + "/site"}), 1,
                                          {"checkpoint series: weight 'fc.w'", "s-2.onnx"});
  EXPECT_FALSE(fs::exists(dir + "/site"));
}

}  // namespace
