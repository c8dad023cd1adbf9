// Linear probes: the regression on synthetic data with a known answer, pooled features
// against a hand computation, the chart, the real probe on the trained Fashion-MNIST CNN,
// and the one-line errors for bad data.
#include "support/onnx_builder.h"
#include "support/test_support.h"
#include "training/fashion_mnist.h"

#include <featvis/image/image.h>
#include <featvis/image/network_input.h>
#include <featvis/model/model.h>
#include <featvis/probe/chart.h>
#include <featvis/probe/data.h>
#include <featvis/probe/features.h>
#include <featvis/probe/logistic.h>
#include <featvis/util/atomic_file.h>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <filesystem>

namespace {

namespace fs = std::filesystem;
using featvis::testing::error_of;
using featvis::testing::expect_one_line_error;
using featvis::testing::run_featvis;

// Three Gaussian blobs in 20 dimensions, two of them informative.
std::pair<at::Tensor, at::Tensor> blobs(int64_t n, uint64_t seed) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor y = at::randint(0, 3, {n}, g, at::kLong);
  at::Tensor x = at::randn({n, 20}, g) * 0.5;
  x.select(1, 0).add_(y.to(at::kFloat) * 2.0);
  x.select(1, 1).add_((y == 1).to(at::kFloat) * 3.0);
  return {x, y};
}

TEST(Probe, LogisticRegressionSeparatesBlobsAndNotNoise) {
  const auto [x, y] = blobs(600, 1);
  const auto [xt, yt] = blobs(300, 2);
  const auto s = featvis::probe::fit_probe(x, y, xt, yt, 3);
  // The blobs are 4 standard deviations apart: a linear probe gets nearly all right.
  EXPECT_GT(s.test_accuracy, 0.95);
  EXPECT_EQ(s.features, 20);
  // Shuffled labels carry nothing: test accuracy near chance (1/3; 300 samples give a
  // standard error of 2.7 points, so 0.45 is over 4 of them).
  const at::Tensor shuffled = yt.index_select(0, at::randperm(300, at::make_generator<at::CPUGeneratorImpl>(3), at::kLong));
  const auto noise = featvis::probe::fit_probe(x, y.flip(0), xt, shuffled, 3);
  EXPECT_LT(noise.test_accuracy, 0.45);
  EXPECT_NE(error_of([&] { featvis::probe::fit_probe(x, y, xt, yt, 1); }).find("at least 2 classes"), std::string::npos);
}

TEST(Probe, PooledFeaturesAreChannelMeans) {
  const featvis::testing::TinyModelDir tiny(/*two_conv=*/true);
  const featvis::model::Model m = featvis::model::load_model(tiny.card);
  // Four photos as an IDX pair (8x8 grey), written plainly.
  const std::string dir = featvis::testing::temp_dir();
  std::string images{'\0', '\0', 8, 3, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0, 8};
  for (int i = 0; i < 4 * 64; ++i) images += static_cast<char>((i * 37) % 256);
  featvis::write_file_atomically(dir + "/p-images-idx3-ubyte", images);
  featvis::write_file_atomically(dir + "/p-labels-idx1-ubyte", std::string{'\0', '\0', 8, 1, 0, 0, 0, 4, 0, 1, 0, 1});
  const auto data = featvis::probe::ProbeData::open(dir + "/p-images-idx3-ubyte");
  ASSERT_EQ(data.size(), 4);
  featvis::probe::FeatureOptions o;
  o.layers = {"conv1", "block2"};
  o.batch_size = 3;  // a partial last batch
  o.progress = false;
  const auto f = featvis::probe::pooled_features(m, data, o);
  ASSERT_EQ(f.per_layer.size(), 2u);
  EXPECT_EQ(f.per_layer[0].sizes().vec(), (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(f.per_layer[1].sizes().vec(), (std::vector<int64_t>{4, 6}));
  const at::Tensor input = featvis::image::network_input(data.images01(0, 4, m.card.preprocessing), m.card.preprocessing);
  const at::Tensor full = m.graph.run(input, {"block2"}).at("block2");
  // Same arithmetic in another batch split: equal up to float summation order.
  EXPECT_TRUE(at::allclose(f.per_layer[1], full.mean({2, 3}), 1e-5, 1e-6));
  o.pooling = featvis::probe::Pooling::kGrid2x2;
  const auto g = featvis::probe::pooled_features(m, data, o);
  EXPECT_EQ(g.per_layer[1].sizes().vec(), (std::vector<int64_t>{4, 24}));
  // Cell (0, 0) of channel 0: the mean of the top-left quarter of the 4x4 map.
  EXPECT_NEAR(g.per_layer[1][2][0].item<float>(), full[2][0].slice(0, 0, 2).slice(1, 0, 2).mean().item<float>(), 1e-5);
}

TEST(Probe, ChartDrawsEachLineInItsColour) {
  featvis::probe::ChartOptions o;
  o.title = "t";
  o.reference = 0.1;
  const at::Tensor img = featvis::probe::line_chart({{"a", {0, 1}, {0.2, 0.2}}, {"b", {0, 1}, {0.9, 0.9}}}, o);
  EXPECT_EQ(img.sizes().vec(), (std::vector<int64_t>{3, 560, 960}));
  // Plot area: x from 90 to 930, y from 76 to 480 (y = 1 at the top); the middle of each line.
  auto pixel = [&](int x, double y) { return img.index({at::indexing::Slice(), static_cast<int64_t>(76 + (1 - y) * 404), x}); };
  EXPECT_NEAR(pixel(500, 0.2)[0].item<float>(), 0.12f, 1e-3);  // first colour: blue
  EXPECT_NEAR(pixel(500, 0.9)[0].item<float>(), 1.0f, 1e-3);   // second: orange
  EXPECT_NEAR(pixel(500, 0.9)[2].item<float>(), 0.05f, 1e-3);
}

TEST(Probe, TrainedCnnLayersAreFarAboveChance) {
  FEATVIS_REQUIRE_FASHION_CNN(series);
  FEATVIS_REQUIRE_FASHION_MNIST(data);
  const std::string out = featvis::testing::temp_dir() + "/probe";
  const auto r = run_featvis({"probe", series + "/fashion_cnn.card.json", "--train", data + "/train-images-idx3-ubyte.gz",
                              "--test", data + "/t10k-images-idx3-ubyte.gz", "--train-count", "1500", "--test-count", "500",
                              "--out", out, "--threads", "1", "-q", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& layers = j.at("models").at(0).at("layers");
  ASSERT_EQ(layers.size(), 5u);  // conv1, conv2, conv3, fc1, logits
  // Measured: 73 % (conv1) to 91 % (fc1) with 2,000 training images. Chance is 10 %;
  // the last layers of a network trained on this very task must be far above it, and
  // above its first layer (18 points apart here; 500 test images give ~2 points of noise).
  EXPECT_GT(layers[3].at("test_accuracy").get<double>(), 0.8);
  EXPECT_GT(layers[4].at("test_accuracy").get<double>(), 0.8);
  EXPECT_GT(layers[3].at("test_accuracy").get<double>(), layers[0].at("test_accuracy").get<double>() + 0.05);
  EXPECT_TRUE(fs::exists(out + "/probe.png"));
  EXPECT_TRUE(fs::exists(out + "/probe.json"));
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::string idx(std::vector<char> header, int64_t data_bytes, char value = 1) {
  return std::string(header.begin(), header.end()) + std::string(static_cast<size_t>(data_bytes), value);
}

TEST(Probe, ReadsAFolderWithLabelsCsv) {
  const featvis::testing::TinyModelDir tiny;
  const std::string d = featvis::testing::temp_dir() + "/folder";
  fs::create_directories(d);
  // Two classes told apart by colour: red photos (class 3) and blue ones (class 5).
  std::string csv = "file,class_index\n";
  for (int i = 0; i < 20; ++i) {
    at::Tensor photo = at::full({3, 8, 8}, 0.1f);
    photo[i % 2 == 0 ? 0 : 2].fill_(0.6f + 0.015f * static_cast<float>(i));
    const std::string name = "p" + std::to_string(i) + ".png";
    featvis::image::save_png(d + "/" + name, photo);
    csv += name + "," + (i % 2 == 0 ? "3" : "5") + "\n";
  }
  featvis::write_file_atomically(d + "/labels.csv", csv);
  const auto r = run_featvis({"probe", tiny.card, "--train", d, "--test", d, "--layers", "pool", "--out", d + "/o", "-q", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("classes"), nlohmann::json({3, 5}));
  EXPECT_EQ(j.at("train").at("images").get<int>(), 20);
  // Colour separates the classes linearly, and pooled conv features keep colour.
  EXPECT_GE(j.at("models").at(0).at("layers").at(0).at("test_accuracy").get<double>(), 0.9);
}

TEST(Probe, BadDataIsOneLineError) {
  const featvis::testing::TinyModelDir tiny;
  const std::string d = featvis::testing::temp_dir() + "/bad";
  fs::create_directories(d);
  // 3 images of 8x8 with labels 0, 1, 2; a label file with 2 entries; one with label 7.
  write_gz(d + "/ok-images-idx3-ubyte.gz", idx({0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 8, 0, 0, 0, 8}, 192));
  write_gz(d + "/ok-labels-idx1-ubyte.gz", std::string{0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 2});
  write_gz(d + "/short-labels.gz", std::string{0, 0, 8, 1, 0, 0, 0, 2, 0, 1});
  write_gz(d + "/seven-labels.gz", std::string{0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 7});
  write_gz(d + "/one-class-labels.gz", std::string{0, 0, 8, 1, 0, 0, 0, 3, 4, 4, 4});
  featvis::write_file_atomically(d + "/corrupt-images-idx3-ubyte", "\x89PNG not idx");
  const std::string ok = d + "/ok-images-idx3-ubyte.gz";
  auto probe = [&](const std::string& train, const std::string& test) {
    return run_featvis({"probe", tiny.card, "--train", train, "--test", test, "--layers", "conv1", "--out", d + "/o", "-q"});
  };
  expect_one_line_error(probe(ok + "," + d + "/short-labels.gz", ok), 1, {"has 2 labels but", "has 3 images"});
  expect_one_line_error(probe(ok, ok + "," + d + "/seven-labels.gz"), 1, {"--test: label 7", "not among the 3 classes"});
  expect_one_line_error(probe(ok + "," + d + "/one-class-labels.gz", ok), 1, {"has 1 class", "at least 2"});
  expect_one_line_error(probe(d + "/corrupt-images-idx3-ubyte", ok), 1, {"bad magic number"});
  expect_one_line_error(probe(d + "/missing-images-idx3-ubyte.gz", ok), 1, {"not found"});
  expect_one_line_error(probe(d, ok), 1, {"has no labels.csv"});
}

}  // namespace
