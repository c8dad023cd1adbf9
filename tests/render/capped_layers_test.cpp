// Issue 18: a ReLU6 layer's render saturates, so the Microscope renders the card's
// visualization tensor (the pre-activation) instead. For 8 units of the last two card
// layers of each shipped model, compares the post-activation channel mean that a short
// render of the visualization tensor ends with against a render of the capped layer
// itself; on the last card layer each unit must end higher (or level), or the capped
// render saturated at the cap. Prints both figures per unit; with
// FEATVIS_TEST_PICTURES=DIR it also saves both contact sheets there, to be looked at.
#include "support/test_support.h"

#include <featvis/graph/rectifier.h>
#include <featvis/image/image.h>
#include <featvis/model/model.h>
#include <featvis/objective/evaluate.h>
#include <featvis/objective/kinds.h>
#include <featvis/render/contact_sheet.h>
#include <featvis/render/recipe.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace {

namespace fs = std::filesystem;
namespace objective = featvis::objective;

constexpr int64_t kUnits = 8;
constexpr int64_t kSize = 64;   // the last layers at 2x2: enough room for the transforms
constexpr int64_t kSteps = 48;  // Lucid's redirected gradient for 16 of them

objective::Objective channels_of(const std::string& tensor) {
  std::vector<objective::Objective> items;
  for (int64_t u = 0; u < kUnits; ++u) items.push_back(objective::channel(tensor, u));
  return objective::per_item(items);
}

at::Tensor render_channels(const featvis::model::Model& model, const std::string& tensor) {
  featvis::render::Recipe recipe;  // the Microscope's: the lucid preset
  recipe.size = kSize;
  recipe.batch = kUnits;
  recipe.steps = kSteps;
  const objective::Objective objective = channels_of(tensor);
  return featvis::render::prepare(recipe, model, objective).run(model, objective).images;
}

void save_sheet(const std::string& model, const std::string& layer, const std::string& which, const at::Tensor& images) {
  const char* dir = std::getenv("FEATVIS_TEST_PICTURES");
  if (dir == nullptr || *dir == '\0') return;
  std::string name = model + "_" + layer + "_" + which + ".png";
  for (char& c : name)
    if (c == '/') c = '_';
  fs::create_directories(dir);
  featvis::image::save_png((fs::path(dir) / name).string(), featvis::render::contact_sheet(images, kUnits));
}

class CappedLayersTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CappedLayersTest, RenderingTheVisualizationTensorRaisesTheLayerPastTheCappedRender) {
  const std::string name = GetParam();
  FEATVIS_REQUIRE_MODEL(file, featvis::model::locate_model(name).card.file);
  const featvis::model::Model model = featvis::model::load_model(name);
  const auto& layers = model.card.layers;
  ASSERT_GE(layers.size(), 2u);
  int compared = 0;
  for (size_t l = layers.size() - 2; l < layers.size(); ++l) {
    const std::string& layer = layers[l].name;
    const std::string& tensor = layers[l].visualization_tensor();
    const auto rectifier = featvis::graph::rectifier_producing(model.graph, layer);
    if (tensor == layer) {
      // Tiny Darknet: LeakyRelu and linear layers, nothing capped, nothing to compare.
      EXPECT_FALSE(rectifier.has_value() && rectifier->capped) << layer << " is capped but the card names no pre-activation";
      std::printf("%s %s: no visualization tensor (op %s), the layer itself is rendered\n", name.c_str(), layer.c_str(),
                  model.graph.producer(layer)->op_type.c_str());
      continue;
    }
    ASSERT_TRUE(rectifier && rectifier->capped && rectifier->cap) << layer;
    const double cap = *rectifier->cap;
    const at::Tensor by_tensor = render_channels(model, tensor);
    const at::Tensor by_layer = render_channels(model, layer);
    save_sheet(name, layer, "preact", by_tensor);
    save_sheet(name, layer, "capped", by_layer);
    const std::vector<double> post_tensor = objective::values(model, channels_of(layer), by_tensor);
    const std::vector<double> post_layer = objective::values(model, channels_of(layer), by_layer);
    const std::vector<double> pre_tensor = objective::values(model, channels_of(tensor), by_tensor);
    std::printf("%s %s (cap %g), post-activation channel mean at the end, unit: preact render / capped render "
                "(preact reached)\n",
                name.c_str(), layer.c_str(), cap);
    int holds = 0;
    for (int64_t u = 0; u < kUnits; ++u) {
      const double a = post_tensor[static_cast<size_t>(u)], b = post_layer[static_cast<size_t>(u)];
      // Margins far from rounding: "higher" by 0.05, "saturated" within 5% of the cap, a
      // tie within 0.1 (below the cap the two objectives differ only where the
      // pre-activation is negative, so unsaturated renders often end level).
      const bool higher = a > b + 0.05, saturated = b > 0.95 * cap, tie = std::abs(a - b) <= 0.1;
      holds += higher || saturated || tie;
      std::printf("  %2lld: %6.3f / %6.3f (%7.3f)  %s\n", static_cast<long long>(u), a, b, pre_tensor[static_cast<size_t>(u)],
                  higher ? "higher" : saturated ? "capped render saturated" : tie ? "tie" : "LOWER");
    }
    // Measured (48 steps, 64 px): on the last card layer every unit holds, at 1 and at 2
    // threads. On the layer before, renders mostly stay below the cap, where the two
    // objectives differ only at negative positions: there the comparison is decided by
    // rounding (MobileNetV2 block 17 expand: 1 unit lower at 1 thread, 2 at 2 threads),
    // so it is printed, not asserted.
    if (l + 1 == layers.size()) EXPECT_EQ(holds, kUnits) << name << " " << layer;
    ++compared;
  }
  if (name != "darknet_tiny") EXPECT_EQ(compared, 2);
}

INSTANTIATE_TEST_SUITE_P(ShippedModels, CappedLayersTest, ::testing::Values("mobilenet_v2", "mobilenet_v1", "darknet_tiny"));

}  // namespace
