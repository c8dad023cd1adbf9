// The render recipe: presets, overrides, the batch an objective needs, and every
// setting checked in one place with the setting's library name.
#include "render/tiny_render_model.h"

#include <featvis/objective/kinds.h>
#include <featvis/render/recipe.h>
#include <featvis/util/error.h>

#include <gtest/gtest.h>

#include <string>

namespace {

using featvis::model::Model;
namespace objective = featvis::objective;
namespace render = featvis::render;

Model tiny_model() {
  Model m = featvis::testing::tiny_render_model();
  m.card.preprocessing.height = 12;
  m.card.preprocessing.width = 10;
  return m;
}

// The setting a recipe is rejected for, or "" when it is accepted.
std::string rejected_setting(const render::Recipe& recipe, const objective::Objective& o) {
  try {
    render::prepare(recipe, tiny_model(), o);
  } catch (const featvis::SettingError& e) {
    return e.setting();
  }
  return "";
}

TEST(RenderRecipe, PresetWithOverridesAndCardSize) {
  const objective::Objective o = objective::channel("conv1", 0);
  render::Recipe recipe;
  recipe.steps = 7;
  render::Prepared p = render::prepare(recipe, tiny_model(), o);
  EXPECT_EQ(p.preset.name, "lucid");
  EXPECT_EQ(p.image.height, 12);
  EXPECT_EQ(p.image.width, 10);
  EXPECT_EQ(p.image.batch, 1);
  EXPECT_EQ(p.image.space, featvis::render::param::Space::kFFT);
  EXPECT_EQ(p.transform_text, "standard");
  EXPECT_EQ(p.options.steps, 7);
  EXPECT_EQ(p.options.lr, 0.05);
  EXPECT_EQ(p.options.redirected_relu_steps, 16);

  recipe.preset = "naive";
  recipe.size = 16;
  recipe.lr = 0.25;
  recipe.transforms = "jitter(2)";
  p = render::prepare(recipe, tiny_model(), o);
  EXPECT_EQ(p.image.height, 16);
  EXPECT_EQ(p.image.width, 16);
  EXPECT_EQ(p.image.space, featvis::render::param::Space::kPixel);
  EXPECT_EQ(p.options.lr, 0.25);
  EXPECT_EQ(p.options.weight_decay, 1e-6);
  EXPECT_EQ(p.transform_text, "jitter(2)");
}

TEST(RenderRecipe, BatchFollowsTheObjective) {
  const objective::Objective three =
      objective::per_item({objective::channel("conv1", 0), objective::channel("conv1", 1), objective::channel("conv1", 2)});
  render::Recipe recipe;
  EXPECT_EQ(render::prepare(recipe, tiny_model(), three).image.batch, 3);
  recipe.batch = 2;
  EXPECT_EQ(rejected_setting(recipe, three), "batch");
  recipe.batch = 3;
  EXPECT_EQ(rejected_setting(recipe, three), "");
}

TEST(RenderRecipe, EverySettingIsCheckedByName) {
  const objective::Objective o = objective::channel("conv1", 0);
  auto with = [](auto change) {
    render::Recipe r;
    r.steps = 10;
    change(r);
    return r;
  };
  EXPECT_EQ(rejected_setting(with([](render::Recipe& r) { r.lr = 0; }), o), "lr");
  EXPECT_EQ(rejected_setting(with([](render::Recipe& r) { r.lr = 1e300; }), o), "lr");
  EXPECT_EQ(rejected_setting(with([](render::Recipe& r) { r.weight_decay = -1; }), o), "weight_decay");
  EXPECT_EQ(rejected_setting(with([](render::Recipe& r) { r.thresholds = {3, 11}; }), o), "thresholds");
  EXPECT_EQ(rejected_setting(with([](render::Recipe& r) { r.steps = -1; }), o), "steps");
  EXPECT_EQ(rejected_setting(with([](render::Recipe& r) { r.redirected_relu_steps = -1; }), o), "redirect_relu");
  EXPECT_EQ(rejected_setting(with([](render::Recipe& r) { r.transforms = "wobble(1)"; }), o), "transforms");
  EXPECT_EQ(rejected_setting(with([](render::Recipe&) {}), o), "");
}

TEST(RenderRecipe, RenderUsesTheSameChecks) {
  render::RenderOptions options;
  options.steps = 4;
  options.thresholds = {5};
  try {
    render::check_settings(options, 1, objective::channel("conv1", 0));
    FAIL() << "threshold 5 of 4 steps was accepted";
  } catch (const featvis::SettingError& e) {
    EXPECT_EQ(e.setting(), "thresholds");
    EXPECT_EQ(std::string(e.what()), "threshold 5 is outside 0..4 steps");
  }
}

}  // namespace
