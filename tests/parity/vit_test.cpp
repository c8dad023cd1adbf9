// A vision transformer as a first-class model, on the vit_tiny parity fixture (a
// torchvision VisionTransformer, 64x64 input, 16x16 patches: 1 class + 4x4 patch tokens,
// exported with a symbolic batch): its token tensors list their channels as units, a
// channel objective reads the patch tokens, a render of an MLP neuron raises it with the
// gradient reaching the image, and Grad-CAM reads the token grid.
#include "support/test_support.h"

#include <featvis/attribution/attribution.h>
#include <featvis/graph/token_grid.h>
#include <featvis/image/image.h>
#include <featvis/inference/layer_info.h>
#include <featvis/model/model.h>
#include <featvis/objective/evaluate.h>
#include <featvis/objective/kinds.h>
#include <featvis/render/recipe.h>
#include <featvis/util/error.h>

#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/autograd.h>

#include <fstream>

#include <filesystem>
#include <map>

namespace {

namespace fs = std::filesystem;
using namespace featvis;

const char* kMlp = "/model/encoder/layers/encoder_layer_1/mlp/mlp.1/Mul_1_output_0";  // GELU output, 128 units

model::Model vit_tiny() {
  const std::string path = featvis::testing::fixtures_dir() + "/parity/vit_tiny.onnx";
  if (!fs::is_regular_file(path)) throw featvis::Error("parity fixture '" + path + "' is missing (CTest fixture parity_fixtures)");
  return model::load_model(path);
}

TEST(VisionTransformer, TokenTensorsListTheirChannelsAsUnits) {
  const model::Model model = vit_tiny();
  std::map<std::string, inference::LayerInfo> layers;
  for (inference::LayerInfo& info : inference::describe_layers(model)) layers[info.name] = info;
  ASSERT_TRUE(layers.count(kMlp));
  EXPECT_EQ(layers[kMlp].shape, (std::vector<int64_t>{1, 17, 128}));
  EXPECT_EQ(layers[kMlp].units, 128);
  EXPECT_EQ(layers[kMlp].role, "MLP hidden 1+4x4");
  // The residual stream, the attention output and the class token are named too.
  EXPECT_EQ(layers["/model/encoder/layers/encoder_layer_1/Add_output_0"].role, "tokens 1+4x4");
  EXPECT_EQ(layers["/model/encoder/layers/encoder_layer_1/self_attention/Transpose_6_output_0"].role, "tokens 1+4x4");
  EXPECT_EQ(layers["/model/Gather_4_output_0"].role, "class token");
  EXPECT_EQ(layers["/model/Gather_4_output_0"].units, 64);
  EXPECT_EQ(layers["logits"].role, "");
  const auto grid = graph::token_grid({1, 17, 128});
  ASSERT_TRUE(grid.has_value());
  EXPECT_EQ(grid->class_tokens, 1);
  EXPECT_EQ(grid->height, 4);
  EXPECT_FALSE(graph::token_grid({1, 768, 196}).has_value());  // [N,C,L]: 768 is no grid
  EXPECT_FALSE(graph::token_grid({197, 1, 768}).has_value());  // sequence-first attention input
}

// The channel objective is the mean of that channel over the 16 patch tokens (the class
// token left out), and its gradient reaches the image.
TEST(VisionTransformer, ChannelObjectiveReadsThePatchTokensAndItsGradientReachesTheImage) {
  const model::Model model = vit_tiny();
  at::manual_seed(4);
  const at::Tensor image = at::rand({1, 3, 64, 64}).requires_grad_(true);
  const objective::Objective unit = objective::channel(kMlp, 5);
  at::AutoGradMode grad_mode(true);
  const objective::Evaluation e = objective::evaluate(model, unit, image);
  const at::Tensor tokens = e.activations.at(kMlp);
  EXPECT_NEAR(e.values.item<double>(), tokens[0].slice(0, 1).select(1, 5).mean().item<double>(), 1e-6);
  const at::Tensor grad = torch::autograd::grad({e.values.sum()}, {image})[0];
  EXPECT_TRUE(at::isfinite(grad).all().item<bool>());
  // Every pixel lies in a patch that feeds every token through attention.
  EXPECT_GT(grad.ne(0).to(at::kFloat).mean().item<double>(), 0.9);
}

// A render of the MLP neuron: the transforms end in a crop back to 64x64, because the
// ViT's position embedding fixes the number of patches.
TEST(VisionTransformer, RenderRaisesAnMlpNeuron) {
  const model::Model model = vit_tiny();
  render::Recipe recipe;
  recipe.steps = 32;
  recipe.transforms = "pad(8),jitter(4),scale(0.9,1.1),rotate(-10,10),crop(0.9,64)";
  const objective::Objective unit = objective::channel(kMlp, 5);
  const render::RenderResult r = render::prepare(recipe, model, unit).run(model, unit);
  ASSERT_EQ(r.images.sizes(), (std::vector<int64_t>{1, 3, 64, 64}));
  std::printf("[ vit      ] %s:5 from %.4f to %.4f in 32 steps\n", kMlp, r.initial_values()[0], r.final_values()[0]);
  // Measured -0.0956 -> -0.0781 (1 thread); the GELU unit starts near its minimum.
  EXPECT_GT(r.final_values()[0], r.initial_values()[0] + 0.005);
}

// Grad-CAM's default layer on a ViT is a token tensor of the last block's input side, read
// as its 4x4 patch grid; the map is not empty.
TEST(VisionTransformer, GradCamUsesTheTokenGrid) {
  const model::Model model = vit_tiny();
  at::manual_seed(5);
  const at::Tensor image = at::rand({3, 64, 64});
  attribution::AttributionOptions o;
  o.method = attribution::Method::kGradCam;
  const attribution::Attribution a = attribution::attribute(model, objective::logit("logits", 3), image, o);
  std::printf("[ vit      ] Grad-CAM layer %s\n", a.layer.c_str());
  EXPECT_NE(a.layer.find("encoder_layer_1/"), std::string::npos) << a.layer;
  EXPECT_EQ(a.map.sizes(), (std::vector<int64_t>{64, 64}));
  EXPECT_GT(a.raw.abs().max().item<double>(), 0);
  // An explicit token layer is read the same way: the first block's MLP units.
  o.grad_cam.layer = "/model/encoder/layers/encoder_layer_0/mlp/mlp.1/Mul_1_output_0";
  EXPECT_GT(attribution::attribute(model, objective::logit("logits", 3), image, o).raw.abs().max().item<double>(), 0);
}

// `featvis examples` on a ViT's MLP units: 128 units on the 4x4 patch grid, fields the
// whole input, and each top score is the channel objective on that photo.
TEST(VisionTransformer, DatasetExamplesRankTokenUnits) {
  const model::Model model = vit_tiny();
  const std::string dir = featvis::testing::temp_dir();
  fs::create_directories(dir + "/photos");
  for (int i = 0; i < 4; ++i) {
    at::manual_seed(20 + i);
    image::save_png(dir + "/photos/p" + std::to_string(i) + ".png", at::rand({3, 64, 64}));
  }
  const auto r = featvis::testing::run_featvis({"examples", model.onnx_path, "--images", dir + "/photos", "--layers",
                                                kMlp, "--top", "2", "--out", dir + "/ex", "--no-crops"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json index;
  std::ifstream(dir + "/ex/index.json") >> index;
  const auto& layer = index["layers"][0];
  EXPECT_EQ(layer["shape"], nlohmann::json({1, 128, 4, 4}));
  ASSERT_EQ(layer["units"].size(), 128u);
  const auto& best = layer["units"][5]["top_mean"][0];
  const std::string photo = dir + "/photos/" + index["images"][best["image"].get<int>()].get<std::string>();
  const at::Tensor image = image::load_image01(photo, model.card.preprocessing);
  const double value = objective::values(model, objective::channel(kMlp, 5), image.unsqueeze(0))[0];
  EXPECT_NEAR(best["score"].get<double>(), value, 1e-5) << photo;
}

}  // namespace
