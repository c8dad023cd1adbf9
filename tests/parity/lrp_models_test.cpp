// LRP on the transformers and gated CNNs among the parity fixtures (random-weight
// torchvision exports made at test time; each case skips when its file is absent): it
// runs, returns the image's shape, and its conservation error is reported and bounded.
// What loses relevance, per model (figures in docs/notes/NOTES-lrp2.md):
// * vit_tiny: the class token (a constant, Concat'ed to the patches) and the position
//   embedding (a constant Add) keep the relevance that reaches them; nothing else does
//   (LayerNorm, attention and GELU conserve, and torchvision's Linear biases start at ~0).
// * swin_t: no class token; only biases and the final LayerNorm's shift absorb (~1e-4).
// * mobilenet_v3_small, efficientnet_b0: the randomized BatchNorms, folded into the convs,
//   give every unit a bias that absorbs its share; with biases ignored, z+ still drops the
//   relevance of units whose output was all bias (depthwise convs on ReLU zeros).
#include "support/test_support.h"

#include <featvis/attribution/attribution.h>
#include <featvis/model/model.h>
#include <featvis/objective/evaluate.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

namespace {

namespace fs = std::filesystem;
using namespace featvis;

std::optional<model::Model> fixture(const std::string& name) {
  const std::string path = featvis::testing::fixtures_dir() + "/parity/" + name + ".onnx";
  if (!fs::is_regular_file(path)) return std::nullopt;
  return model::load_model(path);
}

attribution::Attribution lrp(const model::Model& model, const at::Tensor& image, const std::string& composite,
                             bool ignore_bias) {
  attribution::AttributionOptions o;
  o.method = attribution::Method::kLrp;
  o.lrp.composite = composite;
  o.lrp.ignore_bias = ignore_bias;
  return attribution::attribute(model, attribution::top1_target(model, image), image, o);
}

at::Tensor photo_like(const model::Model& model, uint64_t seed) {
  at::manual_seed(seed);
  const auto& pre = model.card.preprocessing;
  return at::rand({3, pre.height, pre.width});
}

struct Case {
  const char* fixture;
  const char* composite;
  bool ignore_bias;
  double bound;  // on the relative conservation error; measured values in docs/notes/NOTES-lrp2.md
};

TEST(LrpOnTorchvision, TransformersAndGatedCnnsKeepTheImageShapeAndBoundedConservation) {
  const Case cases[] = {
      {"vit_tiny", "epsilon-plus", false, 0.15},        {"vit_tiny", "epsilon-plus", true, 0.15},
      {"vit_tiny_opset17", "epsilon-plus", false, 0.15}, {"swin_t", "epsilon-plus", false, 1e-3},
      {"mobilenet_v3_small", "epsilon-plus", false, 1.0}, {"mobilenet_v3_small", "epsilon-gamma-box", true, 0.8},
      {"efficientnet_b0", "epsilon-plus", false, 1.0},   {"efficientnet_b0", "epsilon-gamma-box", true, 0.02},
  };
  int ran = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.fixture) + " " + c.composite + (c.ignore_bias ? " ignore-bias" : ""));
    const auto model = fixture(c.fixture);
    if (!model) {
      std::printf("[ lrp      ] %s: no fixture, skipped\n", c.fixture);
      continue;
    }
    const at::Tensor image = photo_like(*model, 3);
    const attribution::Attribution a = lrp(*model, image, c.composite, c.ignore_bias);
    ASSERT_TRUE(a.conservation.has_value());
    EXPECT_EQ(a.raw.sizes(), image.sizes());
    EXPECT_EQ(a.map.sizes(), image.sizes().slice(1));
    EXPECT_TRUE(at::isfinite(a.raw).all().item<bool>());
    const auto& k = *a.conservation;
    std::printf("[ lrp      ] %-19s %-17s%s target %.5f relevance %.5f error %.3g\n", c.fixture, c.composite,
                c.ignore_bias ? " ignore-bias" : "            ", k.target_value, k.relevance_sum, k.relative_error);
    EXPECT_LE(k.relative_error, c.bound);
    EXPECT_GT(a.raw.abs().max().item<double>(), 0);
    ++ran;
  }
  if (ran == 0) GTEST_SKIP() << "no parity fixtures (make_parity_fixtures.py)";
}

// The LN-rule written node by node (opset 13's decomposed LayerNorm) and as one
// LayerNormalization node (opset 17) give the same map on the same ViT.
TEST(LrpOnTorchvision, VitMapIsTheSameWithLayerNormDecomposedOrFused) {
  const auto a13 = fixture("vit_tiny"), a17 = fixture("vit_tiny_opset17");
  if (!a13 || !a17) GTEST_SKIP() << "no vit_tiny fixtures";
  const at::Tensor image = photo_like(*a13, 4);
  const attribution::Attribution r13 = lrp(*a13, image, "epsilon-plus", false), r17 = lrp(*a17, image, "epsilon-plus", false);
  const double scale = r13.raw.abs().max().item<double>();
  const double diff = (r13.raw - r17.raw).abs().max().item<double>();
  std::printf("[ lrp      ] vit_tiny opset 13 vs 17: max |difference| %.3g of max |relevance| %.3g\n", diff, scale);
  EXPECT_LE(diff, 1e-4 * scale);
}

}  // namespace
