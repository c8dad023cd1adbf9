// The cards committed in cards/: they parse, and for the real models in ../shared/models
// every name on the card (input, output, layers) exists in the graph, the labels load
// and the recorded sha256 is the file's.
#include "model/scoped_env.h"
#include "support/test_support.h"

#include <featvis/model/fetch.h>
#include <featvis/model/model.h>
#include <featvis/model/visualization_tensor.h>
#include <featvis/util/error.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace featvis {
namespace {

using testing::ScopedEnv;

std::vector<model::ModelCard> shipped_cards() {
  std::vector<model::ModelCard> cards;
  for (const auto& entry : fs::directory_iterator(model::builtin_cards_dir())) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 10 && name.substr(name.size() - 10) == ".card.json")
      cards.push_back(model::ModelCard::from_file(entry.path().string()));
  }
  return cards;
}

TEST(ShippedCardsTest, AllParseWithUniqueNamesAndOneDefault) {
  const auto cards = shipped_cards();
  ASSERT_GE(cards.size(), 7u);
  std::set<std::string> names;
  int defaults = 0;
  for (const auto& c : cards) {
    EXPECT_TRUE(names.insert(c.name).second) << "repeated card name " << c.name;
    defaults += c.is_default;
    EXPECT_EQ(c.sha256.size(), 64u) << c.name;
    EXPECT_EQ(c.labels_file, "imagenet_labels.txt") << c.name;
    EXPECT_EQ(c.num_classes, 1000) << c.name;
    EXPECT_FALSE(c.layers.empty()) << c.name;
    EXPECT_FALSE(c.source.empty()) << c.name;
  }
  EXPECT_EQ(defaults, 1);
}

TEST(ShippedCardsTest, LocallyConvertedModelsHaveNoUrlAndZooModelsDo) {
  std::set<std::string> local{"mobilenet_v2", "mobilenet_v1", "darknet_tiny"};
  for (const auto& c : shipped_cards()) {
    if (local.count(c.name)) {
      EXPECT_TRUE(c.url.empty()) << c.name;
    } else {
      EXPECT_EQ(c.url.rfind("https://github.com/onnx/models/raw/main/validated/vision/classification/", 0), 0u)
          << c.name << ": " << c.url;
      EXPECT_EQ(c.url.substr(c.url.rfind('/') + 1), c.file) << c.name;
    }
  }
}

TEST(ShippedCardsTest, PreprocessingFollowsTheModelsReadme) {
  ScopedEnv env("FEATVIS_MODEL_PATH", std::nullopt);
  std::map<std::string, model::ModelCard> by_name;
  for (auto& c : shipped_cards()) by_name[c.name] = c;
  const model::Preprocessing& v2 = by_name.at("mobilenet_v2").preprocessing;
  EXPECT_EQ(v2.crop, model::Preprocessing::Crop::kResizeCrop);
  EXPECT_EQ(v2.resize, 256);
  EXPECT_FLOAT_EQ(v2.mean[0], 127.5f);  // x = pixel/127.5 - 1
  EXPECT_FLOAT_EQ(v2.std[2], 127.5f);
  const model::Preprocessing& v1 = by_name.at("mobilenet_v1").preprocessing;
  EXPECT_EQ(v1.crop, model::Preprocessing::Crop::kCentralFraction);
  EXPECT_DOUBLE_EQ(v1.central_fraction, 0.875);
  const model::Preprocessing& dk = by_name.at("darknet_tiny").preprocessing;
  EXPECT_FLOAT_EQ(dk.mean[1], 0.f);  // x = pixel/255
  EXPECT_FLOAT_EQ(dk.std[1], 255.f);
  const model::Preprocessing& zoo = by_name.at("squeezenet1_1").preprocessing;
  EXPECT_FLOAT_EQ(zoo.mean[0], 0.485f * 255);
  EXPECT_FLOAT_EQ(zoo.std[2], 0.225f * 255);
  for (const auto& [name, c] : by_name) {
    EXPECT_FALSE(c.preprocessing.bgr) << name;
    EXPECT_EQ(c.preprocessing.width, 224) << name;
    EXPECT_EQ(c.preprocessing.height, 224) << name;
  }
}

class SharedModelTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SharedModelTest, CardMatchesTheRealModel) {
  ScopedEnv env("FEATVIS_MODEL_PATH", std::nullopt);
  const model::ModelLocation loc = model::locate_model(GetParam());
  FEATVIS_REQUIRE_MODEL(path, loc.card.file);

  const model::Model m = model::load_model(GetParam());
  EXPECT_EQ(fs::canonical(m.onnx_path), fs::canonical(path));
  EXPECT_EQ(m.card.sha256, model::sha256_file(m.onnx_path)) << "the card's sha256 is not the file's";
  ASSERT_EQ(m.card.labels.size(), 1000u);
  EXPECT_EQ(m.label(0), "tench, Tinca tinca");
  EXPECT_EQ(m.label(999), "toilet tissue, toilet paper, bathroom tissue");
  for (const auto& layer : m.card.layers) EXPECT_TRUE(m.graph.has_tensor(layer.name)) << layer.name;
  EXPECT_TRUE(m.note.empty());
}

TEST_P(SharedModelTest, GivenByPathItStillGetsItsCard) {
  ScopedEnv env("FEATVIS_MODEL_PATH", std::nullopt);
  const model::ModelLocation by_name = model::locate_model(GetParam());
  FEATVIS_REQUIRE_MODEL(path, by_name.card.file);
  const model::ModelLocation by_path = model::locate_model(path);
  EXPECT_EQ(by_path.card.name, GetParam());
  EXPECT_EQ(by_path.card.labels.size(), 1000u);
  EXPECT_TRUE(by_path.note.empty());
}

// "visualize" is derived (`featvis layers MODEL --derive-visualize`), not typed: on every
// layer produced by a Relu/Clip it is that node's input, and it is absent elsewhere.
TEST_P(SharedModelTest, VisualizeIsTheInputOfTheRectifierProducingTheLayer) {
  ScopedEnv env("FEATVIS_MODEL_PATH", std::nullopt);
  FEATVIS_REQUIRE_MODEL(path, model::locate_model(GetParam()).card.file);
  const model::Model m = model::load_model(GetParam());
  int filled = 0;
  for (const auto& layer : m.card.layers) {
    EXPECT_EQ(layer.visualize, model::derive_visualization_tensor(m.graph, layer.name)) << layer.name;
    filled += !layer.visualize.empty();
  }
  // The MobileNets' card layers are all ReLU6 outputs; Tiny Darknet's are LeakyRelu or linear.
  const size_t expected = GetParam() == "darknet_tiny" ? 0 : m.card.layers.size();
  EXPECT_EQ(static_cast<size_t>(filled), expected);
}

INSTANTIATE_TEST_SUITE_P(Models, SharedModelTest, ::testing::Values("mobilenet_v2", "mobilenet_v1", "darknet_tiny"));

TEST(ShippedCardsTest, ZooModelsAreFoundWhenDownloaded) {
  // Without network access the zoo files are normally missing; then load_model must say
  // how to get them rather than fail obscurely.
  ScopedEnv env("FEATVIS_MODEL_PATH", std::nullopt);
  for (const char* name : {"mobilenetv2_7", "squeezenet1_1", "resnet18_v2", "resnet50_v1"}) {
    const model::ModelLocation loc = model::locate_model(name);
    EXPECT_EQ(loc.card.labels.size(), 1000u) << name;  // labels ship beside the cards
    if (!loc.onnx_path.empty()) {
      const model::Model m = model::load_model(name);
      for (const auto& layer : m.card.layers) {
        EXPECT_TRUE(m.graph.has_tensor(layer.name)) << name << ": " << layer.name;
        // Not filled yet (the files were never here to derive it from); what is filled must hold.
        if (!layer.visualize.empty())
          EXPECT_EQ(layer.visualize, model::derive_visualization_tensor(m.graph, layer.name)) << name << ": " << layer.name;
      }
      continue;
    }
    try {
      model::load_model(name);
      ADD_FAILURE() << name << " loaded without a file";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("featvis fetch " + std::string(name)), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace featvis
