// Swin's stages are [N,H,W,C] channels-last maps, which the shape alone cannot tell from
// NCHW (1x14x14x384 reads as 14 channels of 14x384). On the swin_t parity fixture (a
// torchvision swin_t, random weights, 224x224, exported with a symbolic batch): the graph
// marks those tensors (Graph::channels_last: a LayerNorm over the last axis, and what
// elementwise ops and Linears connect to it), `featvis layers` lists their C channels,
// a channel objective reads the channel axis and its gradient spreads over the HxW grid,
// and Grad-CAM on a stage tensor is the hand computation on the permuted map.
#include "support/test_support.h"

#include <featvis/attribution/attribution.h>
#include <featvis/graph/token_grid.h>
#include <featvis/inference/layer_info.h>
#include <featvis/model/model.h>
#include <featvis/objective/evaluate.h>
#include <featvis/objective/kinds.h>
#include <featvis/objective/parse.h>
#include <featvis/util/error.h>

#include <torch/csrc/autograd/autograd.h>

#include <filesystem>
#include <map>

namespace {

namespace fs = std::filesystem;
using namespace featvis;

// Outputs of the fixture: layer_a = features.3 (stage 2, 28x28x192), layer_b = features.5
// (stage 3, 14x14x384).
model::Model swin(const std::string& name = "swin_t") {
  const std::string path = featvis::testing::fixtures_dir() + "/parity/" + name + ".onnx";
  if (!fs::is_regular_file(path)) throw featvis::Error("parity fixture '" + path + "' is missing (CTest fixture parity_fixtures)");
  return model::load_model(path);
}

TEST(SwinTransformer, StageTensorsAreChannelsLastAndListTheirChannelsAsUnits) {
  for (const std::string name : {"swin_t", "swin_t_opset17"}) {  // LayerNorm decomposed, and one node
    SCOPED_TRACE(name);
    const model::Model model = swin(name);
    std::map<std::string, inference::LayerInfo> layers;
    for (inference::LayerInfo& info : inference::describe_layers(model)) layers[info.name] = info;
    EXPECT_EQ(layers["layer_a"].shape, (std::vector<int64_t>{1, 28, 28, 192}));
    EXPECT_EQ(layers["layer_a"].units, 192);
    EXPECT_EQ(layers["layer_a"].role, "channels last 28x28");
    EXPECT_EQ(layers["layer_b"].units, 384);
    EXPECT_EQ(layers["layer_b"].role, "channels last 14x14");
    // The MLP hidden units of the first block: 4 x 96 channels on the 56x56 grid.
    const std::string mlp = "/model/features/features.1/features.1.0/mlp/mlp.1/Mul_1_output_0";
    ASSERT_TRUE(layers.count(mlp));
    EXPECT_EQ(layers[mlp].units, 384);
    EXPECT_EQ(layers[mlp].role, "channels last 56x56");
    // The patch embedding's conv output and the map handed to the average pool are NCHW.
    const std::string conv = "/model/features/features.0/features.0.0/Conv_output_0";
    EXPECT_EQ(layers[conv].units, 96);
    EXPECT_EQ(layers[conv].role, "");
    int nchw_7x7 = 0, windows_as_tokens = 0;
    for (const auto& [n, info] : layers) {
      if (info.shape == std::vector<int64_t>{1, 768, 7, 7}) nchw_7x7 += info.role.empty() && info.units == 768;
      // Attention windows [64, 49, C] are not one image's tokens.
      if (info.shape.size() == 3 && info.shape[0] != 1) windows_as_tokens += !info.role.empty();
    }
    EXPECT_GE(nchw_7x7, 1);
    EXPECT_EQ(windows_as_tokens, 0);
  }
}

// channel(layer_b, c) is the mean of layer_b[..., c] over the 14x14 grid: its gradient at
// the layer fills channel c at every position (read as NCHW it would be one row, h = c),
// and reaches the image. A neuron reads [0, y, x, c], and the parser knows 384 channels.
TEST(SwinTransformer, ChannelObjectiveReadsTheChannelAxisAndItsGradientSpreadsOverTheGrid) {
  const model::Model model = swin();
  at::manual_seed(6);
  const at::Tensor image = at::rand({1, 3, 224, 224}).requires_grad_(true);
  const int64_t c = 300;  // beyond 14: read as NCHW this channel would not exist
  at::AutoGradMode grad_mode(true);
  const objective::Evaluation e = objective::evaluate(model, objective::channel("layer_b", c), image);
  const at::Tensor act = e.activations.at("layer_b");
  ASSERT_EQ(act.sizes(), (std::vector<int64_t>{1, 14, 14, 384}));
  EXPECT_NEAR(e.values.item<double>(), act[0].select(2, c).mean().item<double>(), 1e-6);
  const auto grads = torch::autograd::grad({e.values.sum()}, {act, image});
  const at::Tensor on_layer = grads[0][0];  // [14, 14, 384]
  EXPECT_EQ(on_layer.select(2, c).ne(0).sum().item<int64_t>(), 14 * 14);
  EXPECT_EQ(on_layer.ne(0).sum().item<int64_t>(), 14 * 14);  // nothing in other channels
  EXPECT_GT(grads[1].ne(0).to(at::kFloat).mean().item<double>(), 0.9);

  const objective::Objective neuron = objective::neuron("layer_b", c, std::make_pair(int64_t{3}, int64_t{5}));
  at::NoGradGuard no_grad;
  EXPECT_NEAR(objective::evaluate(model, neuron, image).values.item<double>(), act[0][5][3][c].item<double>(), 1e-6);
  const objective::Objective parsed = objective::parse("layer_b:383", model);
  EXPECT_NEAR(objective::evaluate(model, parsed, image).values.item<double>(),
              act[0].select(2, 383).mean().item<double>(), 1e-6);
  EXPECT_NE(featvis::testing::error_of([&] { objective::parse("layer_b:384", model); }).find("has 384 channels"),
            std::string::npos);
}

// Grad-CAM on a Swin stage: the 14x14 map of the hand computation (channel weights = the
// mean gradient over the grid, on the permuted [1,384,14,14] map), upsampled to 224x224.
// The default layer is a channels-last Add (the residual stream side) and gives a map too.
TEST(SwinTransformer, GradCamReadsTheStageAsAnHxWMap) {
  const model::Model model = swin();
  at::manual_seed(7);
  const at::Tensor image = at::rand({3, 224, 224});
  const objective::Objective target = objective::logit("logits", 3);
  attribution::AttributionOptions o;
  o.method = attribution::Method::kGradCam;
  o.grad_cam.layer = "layer_b";
  const attribution::Attribution a = attribution::attribute(model, target, image, o);
  ASSERT_EQ(a.map.sizes(), (std::vector<int64_t>{224, 224}));

  at::AutoGradMode grad_mode(true);
  const at::Tensor x = image.unsqueeze(0).requires_grad_(true);
  const objective::Evaluation e = objective::evaluate(model, target, x, {"layer_b"});
  const at::Tensor act = e.activations.at("layer_b");
  const at::Tensor grad = torch::autograd::grad({e.values.sum()}, {act})[0];
  const at::Tensor A = act.detach().permute({0, 3, 1, 2}), G = grad.permute({0, 3, 1, 2});  // [1,384,14,14]
  const at::Tensor cam = (G.mean({2, 3}, true) * A).sum(1, true);
  const at::Tensor expected = at::upsample_bilinear2d(cam, {224, 224}, false)[0][0];
  EXPECT_TRUE(at::allclose(a.raw, expected, 1e-4, 1e-6 * expected.abs().max().item<double>()));
  // Not a map that is constant along rows or columns (what a 14-channel NCHW reading of
  // 14 rows would blur into).
  EXPECT_GT(cam.std().item<double>(), 0);
  EXPECT_GT(cam[0][0].std(0).mean().item<double>(), 0);
  EXPECT_GT(cam[0][0].std(1).mean().item<double>(), 0);

  o.grad_cam.layer.clear();
  const attribution::Attribution d = attribution::attribute(model, target, image, o);
  std::printf("[ swin     ] Grad-CAM default layer %s\n", d.layer.c_str());
  EXPECT_TRUE(model.graph.channels_last(d.layer)) << d.layer;
  EXPECT_EQ(d.map.sizes(), (std::vector<int64_t>{224, 224}));
  EXPECT_GT(d.raw.abs().max().item<double>(), 0);
}

}  // namespace
