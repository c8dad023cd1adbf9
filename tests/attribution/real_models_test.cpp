// Acceptance on the real models in ../shared (skipped when absent): IG completeness, the
// model-randomization sanity check, a pasted object, and every method on every model.
#include "support/test_support.h"

#include <featvis/attribution/attribution.h>
#include <featvis/attribution/sanity.h>
#include <featvis/image/image.h>
#include <featvis/model/model.h>

#include <ATen/Parallel.h>

#include <cstdio>

namespace featvis::attribution {
namespace {

const char* kMobileNetV2 = "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx";

at::Tensor photo(const std::string& dir, const std::string& file, const model::Model& model) {
  return image::load_image01(dir + "/" + file, model.card.preprocessing);
}

// Completeness at 128 steps (black baseline, the default adaptive trapezoid rule).
TEST(RealIntegratedGradients, CompletenessWithinTwoPercentAt128Steps) {
  FEATVIS_REQUIRE_MODEL(file, kMobileNetV2);
  FEATVIS_REQUIRE_IMAGES(images);
  const model::Model model = model::load_model("mobilenet_v2");
  AttributionOptions o;
  o.method = Method::kIntegratedGradients;
  o.integrated_gradients.steps = 128;
  for (const char* name : {"n01440764_tench.JPEG", "n02669723_academic_gown.JPEG", "n03791053_motor_scooter.JPEG"}) {
    const at::Tensor image = photo(images, name, model);
    const Attribution a = attribute(model, top1_target(model, image), image, o);
    const Completeness& c = *a.completeness;
    std::printf("[ IG       ] %s: sum %.4f, f(x)-f(black) %.4f, error %.2f%% (%.0f ms)\n", name, c.attribution_sum,
                c.target_difference, 100 * c.relative_error, a.ms);
    // Measured 0.12-0.19% at 1 and 2 threads: the error is the quadrature's; rounding adds
    // about 1e-6 of it. At 64 steps the tench's path gave 2.25% once the photo was
    // preprocessed as Pillow does (0.89-1.14% for the others): 64 intervals are too few for
    // a margin on every photo, so the bound is checked at 128.
    EXPECT_LT(c.relative_error, 0.02) << name;
  }
}

// Adebayo et al. 2018: re-randomize the top layers (cascading from the logits) and
// compare the maps of the original and the randomized model by rank correlation.
TEST(RealSanity, MapsChangeWhenTopLayersAreRandomized) {
  FEATVIS_REQUIRE_MODEL(file, kMobileNetV2);
  FEATVIS_REQUIRE_IMAGES(images);
  const model::Model model = model::load_model("mobilenet_v2");
  model::Model randomized = model;  // weights are shared until replaced
  const std::vector<std::string> layers = randomize_top_layers(randomized.graph, 3, 2018);
  ASSERT_EQ(layers.size(), 3u);
  std::printf("[ sanity   ] randomized %s, %s, %s\n", layers[0].c_str(), layers[1].c_str(), layers[2].c_str());
  const at::Tensor image = photo(images, "n01440764_tench.JPEG", model);
  const objective::Objective target = top1_target(model, image);
  for (Method m : {Method::kSaliency, Method::kIntegratedGradients, Method::kGradCam, Method::kGuidedBackprop,
                   Method::kLrp}) {
    AttributionOptions o;
    o.method = m;
    o.integrated_gradients.steps = 16;
    const Attribution before = attribute(model, target, image, o);
    const Attribution after = attribute(randomized, target, image, o);
    // Grad-CAM compares its signed map (ReLU'd maps can be all zero); the others |map|.
    const double r = m == Method::kGradCam ? spearman(before.raw, after.raw)
                                           : spearman(before.map.abs(), after.map.abs());
    std::printf("[ sanity   ] %-8s rank correlation original vs randomized: %.3f (of |map|: %.3f)\n",
                to_string(m).c_str(), r, spearman(before.map.abs(), after.map.abs()));
    // Measured 0.30 (saliency), 0.39 (IG), -0.79 (Grad-CAM) at 1 and 2 threads; a rank
    // correlation over 50,176 pixels moves by about 1e-3 when rounding reorders near ties.
    // The randomized weights come from a seeded Mersenne twister, the same everywhere.
    // Guided backprop and LRP (epsilon-plus: z+ chains) are reported only: both are known
    // to be nearly blind to the top layers (Adebayo et al. 2018; Sixt et al. 2020, "When
    // explanations lie"); measured 0.98 and 0.92.
    if (m != Method::kGuidedBackprop && m != Method::kLrp) EXPECT_LT(r, 0.5) << to_string(m);
  }
}

// A photo scaled to 112x112 pasted on a flat 224x224 background: Grad-CAM and occlusion
// should put most of their positive mass on the pasted object.
TEST(RealLocalization, GradCamOcclusionAndLrpMassFallsInsideThePastedPhoto) {
  FEATVIS_REQUIRE_MODEL(file, kMobileNetV2);
  FEATVIS_REQUIRE_IMAGES(images);
  const model::Model model = model::load_model("mobilenet_v2");
  const int64_t top = 24, left = 88, side = 112;
  for (const char* name : {"n01443537_goldfish.JPEG", "n02690373_airliner.JPEG"}) {
    at::Tensor canvas = at::empty({3, 224, 224});
    canvas[0].fill_(0.80);
    canvas[1].fill_(0.74);
    canvas[2].fill_(0.62);
    canvas.slice(1, top, top + side).slice(2, left, left + side).copy_(
        image::load_image01(images + "/" + name, model.card.preprocessing, side, side));
    const objective::Objective target = top1_target(model, canvas);
    for (Method m : {Method::kGradCam, Method::kOcclusion, Method::kLrp}) {
      AttributionOptions o;
      o.method = m;
      o.occlusion.window = 32;
      o.occlusion.stride = 16;
      const at::Tensor positive = attribute(model, target, canvas, o).map.clamp_min(0);
      const double inside =
          positive.slice(0, top, top + side).slice(1, left, left + side).sum().item<double>() /
          positive.sum().item<double>();
      std::printf("[ pasted   ] %s %s (%s): %.1f%% of the mass inside the box (25%% of the area)\n", name,
                  to_string(m).c_str(), target.description().c_str(), 100 * inside);
      // Measured 53.5% (airliner, occlusion) to 72.8%, LRP 97.1-97.4%, at 1 and 2 threads; the share is a
      // ratio of sums of logit differences, which rounding moves by about 1e-5.
      EXPECT_GT(inside, 0.5) << name << " " << to_string(m);
    }
  }
}

// LRP's conservation on a real network with BatchNorm-folded biases: the biases absorb
// relevance layer by layer, so the sum at the input is reported and bounded, not exact.
TEST(RealLrp, ConservationOnMobileNetV2IsReportedAndBounded) {
  FEATVIS_REQUIRE_MODEL(file, kMobileNetV2);
  FEATVIS_REQUIRE_IMAGES(images);
  const model::Model model = model::load_model("mobilenet_v2");
  for (const char* name : {"n01530575_brambling.JPEG"}) {  // three photos in docs/notes/NOTES-lrp.md; one here for CI time
    const at::Tensor image = photo(images, name, model);
    const objective::Objective target = top1_target(model, image);
    for (const std::string& composite : {"epsilon-plus", "epsilon-gamma-box"}) {
      for (bool ignore_bias : {false, true}) {
        AttributionOptions o;
        o.method = Method::kLrp;
        o.lrp.composite = composite;
        o.lrp.ignore_bias = ignore_bias;
        const Attribution a = attribute(model, target, image, o);
        const Conservation& c = *a.conservation;
        std::printf("[ lrp      ] %s %s%s: relevance sum %.5g of %s = %.4f, conservation error %.2f%% (%.0f ms)\n",
                    name, composite.c_str(), ignore_bias ? " (biases ignored)" : "", c.relevance_sum,
                    target.description().c_str(), c.target_value, 100 * c.relative_error, a.ms);
        EXPECT_TRUE(at::isfinite(a.raw).all().item<bool>());
        // z+ (and z^B) only ever move positive shares of positive relevance, so the sum
        // stays in [0, logit]: the error is at most 100% whatever the biases absorb.
        if (composite == "epsilon-plus") {
          EXPECT_GE(a.raw.min().item<double>(), 0) << name;
          EXPECT_GT(c.relevance_sum, 0) << name;
          EXPECT_LE(c.relevance_sum, c.target_value * (1 + 1e-6)) << name;
        }
        // Measured 70.1-75.3% on brambling, tench and motor scooter (1 and 2 threads); the
        // other three settings lose 99.8-100% to the folded biases (docs/notes/NOTES-lrp.md).
        if (composite == "epsilon-gamma-box" && ignore_bias) EXPECT_LT(c.relative_error, 0.95) << name;
      }
    }
  }
}

// Every method on every shared model, with small settings, gives a finite, non-trivial map.
TEST(RealModels, EveryMethodRunsOnAllThreeModels) {
  FEATVIS_REQUIRE_IMAGES(images);
  int models = 0;
  for (const auto& [card, file] : std::vector<std::pair<std::string, std::string>>{
           {"mobilenet_v2", kMobileNetV2},
           {"mobilenet_v1", "mobilenet_v1_1.0_224_quant_dequant.onnx"},
           {"darknet_tiny", "darknet_tiny_imagenet.onnx"}}) {
    if (testing::find_model_file(file).empty()) continue;
    ++models;
    const model::Model model = model::load_model(card);
    const at::Tensor image = photo(images, "n01530575_brambling.JPEG", model);
    const objective::Objective target = top1_target(model, image);
    for (const std::string& name : method_names()) {
      AttributionOptions o;
      o.method = parse_method(name);
      o.integrated_gradients.steps = 4;
      o.smoothgrad.samples = 2;
      o.occlusion.window = 112;
      o.occlusion.stride = 112;
      const Attribution a = attribute(model, target, image, o);
      EXPECT_EQ(a.map.sizes(), (std::vector<int64_t>{224, 224})) << card << " " << name;
      EXPECT_TRUE(at::isfinite(a.raw).all().item<bool>()) << card << " " << name;
      EXPECT_GT(a.map.abs().max().item<double>(), 0) << card << " " << name;
      if (!a.layer.empty()) std::printf("[ layer    ] %s: Grad-CAM on %s\n", card.c_str(), a.layer.c_str());
    }
  }
  if (models == 0) GTEST_SKIP() << "no shared model found";
}

}  // namespace
}  // namespace featvis::attribution
