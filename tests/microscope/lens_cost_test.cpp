// What --dry-run times for each render lens: the units' channels alone for the channel and
// neuron lenses (objective::evaluate cuts the layer to them), the whole layer for the lenses
// whose renders read it whole.
#include "objective/test_models.h"

#include <featvis/microscope/lens.h>

#include <gtest/gtest.h>

namespace {

namespace fm = featvis::microscope;

TEST(LensCost, LensesThatReadTheWholeLayerSaySo) {
  EXPECT_FALSE(fm::channel_lens()->reads_whole_layer());
  EXPECT_FALSE(fm::neuron_lens()->reads_whole_layer());
  EXPECT_TRUE(fm::diversity_lens(2)->reads_whole_layer()) << "its Gram matrices read every channel";
  EXPECT_TRUE(fm::deepdream_lens({})->reads_whole_layer());
}

TEST(LensCost, BothKindsOfStepAreTimedOnARealRender) {
  const featvis::model::Model model = featvis::testing::tiny_model(8);
  fm::RenderSettings settings;
  settings.steps = 4;
  settings.size = 8;
  const fm::LensContext ctx{model, settings, ""};
  fm::LayerPlan layer;
  layer.name = layer.tensor = "block2";
  layer.channels = 6;
  for (bool whole : {false, true}) EXPECT_GT(fm::time_image_step(ctx, layer, 2, whole), 0) << whole;
}

}  // namespace
