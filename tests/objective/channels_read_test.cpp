// Objectives that read a few channels say which (Objective::channels_read), combinations
// merge what they read, and evaluate() then computes only those channels: with the same
// values and image gradient as through the whole layer.
#include "objective/test_models.h"
#include "support/test_support.h"

#include <featvis/graph/blocked_backprop.h>
#include <featvis/objective/evaluate.h>
#include <featvis/objective/kinds.h>
#include <featvis/util/error.h>

#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace fo = featvis::objective;
using featvis::graph::GradientKernels;
using featvis::objective::Objective;

namespace {

using Reads = std::map<std::string, std::set<int64_t>>;

// The same objective, read whole: it declares no channels, so evaluate() computes them all.
Objective whole(const Objective& o) { return o.read_whole(); }

TEST(ChannelsRead, UnitKindsDeclareTheirChannelsAndCombinationsMergeThem) {
  EXPECT_EQ(fo::channel("L", 3).channels_read(), (Reads{{"L", {3}}}));
  EXPECT_EQ(fo::neuron("L", 4, std::pair<int64_t, int64_t>{1, 2}).channels_read(), (Reads{{"L", {4}}}));
  EXPECT_EQ((fo::channel("L", 3) + 2.0 * fo::neuron("L", 5)).channels_read(), (Reads{{"L", {3, 5}}}));
  EXPECT_EQ((-fo::channel("L", 3) - fo::channel("M", 1) * 0.5).channels_read(), (Reads{{"L", {3}}, {"M", {1}}}));
  EXPECT_EQ(fo::per_item({fo::channel("L", 7), fo::channel("L", 2), fo::channel("L", 7)}).channels_read(),
            (Reads{{"L", {2, 7}}}));
  EXPECT_EQ(fo::channel_interpolate("L", 1, "L", 6).channels_read(), (Reads{{"L", {1, 6}}}));
  // A kind that reads the whole layer wins: diversity, DeepDream.
  EXPECT_EQ((fo::channel("L", 3) - fo::diversity("L")).channels_read(), Reads{});
  EXPECT_EQ((fo::channel("L", 3) + fo::deepdream("M")).channels_read(), (Reads{{"L", {3}}}));
  EXPECT_EQ(fo::per_item({fo::channel("L", 1), fo::deepdream("L")}).channels_read(), Reads{});
  EXPECT_EQ(whole(fo::channel("L", 3)).channels_read(), Reads{});
}

TEST(ChannelsRead, UnitsOfALayerComputedInPartAreReadWhereTheyAre) {
  // Channels 1 and 3 of a 6-channel layer, computed alone: the tensor holds them in order.
  const at::Tensor part = at::arange(2 * 2 * 4, at::kFloat).reshape({1, 2, 2, 4});
  const featvis::graph::TensorMap acts{{"L", part}};
  const std::map<std::string, fo::ChannelSubset> subsets{{"L", fo::ChannelSubset{6, {1, 3}}}};
  const at::Tensor image;
  const fo::ObjectiveInput input{acts, image, nullptr, nullptr, &subsets};
  EXPECT_DOUBLE_EQ(fo::channel("L", 3)(input)[0].item<double>(), part[0][1].mean().item<double>());
  EXPECT_DOUBLE_EQ(fo::neuron("L", 1, std::pair<int64_t, int64_t>{2, 1})(input)[0].item<double>(),
                   part[0][0][1][2].item<double>());
  EXPECT_THROW(fo::channel("L", 2)(input), featvis::Error) << "not computed";
  EXPECT_THROW(fo::channel("L", 6)(input), featvis::Error) << "out of range for the whole layer";
  // Without subsets the tensor is the whole layer: channel 1 is its second.
  EXPECT_DOUBLE_EQ(fo::channel("L", 1)({acts, image})[0].item<double>(), part[0][1].mean().item<double>());
}

struct Result {
  at::Tensor values, gradient;
  bool cut = false;  // evaluate() computed the layer in part
};

Result evaluate_with_gradient(const featvis::model::Model& model, const Objective& objective, const at::Tensor& images) {
  const featvis::graph::GradientKernelsGuard kernels(GradientKernels::kBlocked);  // the render's
  const at::Tensor x = images.detach().clone().requires_grad_(true);
  const fo::Evaluation evaluation = fo::evaluate(model, objective, x);
  evaluation.values.sum().backward();
  return {evaluation.values.detach(), x.grad(), !evaluation.subsets.empty()};
}

void expect_cut_matches_whole(const featvis::model::Model& model, const Objective& objective, const at::Tensor& images,
                              bool cut, double gradient_bound) {
  const Result part = evaluate_with_gradient(model, objective, images);
  const Result all = evaluate_with_gradient(model, whole(objective), images);
  EXPECT_EQ(part.cut, cut) << objective.description();
  EXPECT_FALSE(all.cut);
  EXPECT_LE(featvis::testing::relative_l2(part.values, all.values), 1e-5) << objective.description();
  const double g = featvis::testing::relative_l2(part.gradient, all.gradient);
  if (gradient_bound > 1e-5) std::cout << objective.description() << ": gradient relative L2 " << g << "\n";
  EXPECT_LE(g, gradient_bound) << objective.description();
}

TEST(ChannelsRead, EvaluateComputesOnlyTheChannelsReadOnATinyNetwork) {
  const featvis::model::Model model = featvis::testing::tiny_model(8);
  at::manual_seed(3);
  const at::Tensor one = at::rand({1, 3, 8, 8}), two = at::rand({2, 3, 8, 8});
  expect_cut_matches_whole(model, fo::channel("block2", 1), one, true, 1e-5);
  expect_cut_matches_whole(model, fo::neuron("block2", 2, std::pair<int64_t, int64_t>{1, 3}), one, true, 1e-5);
  expect_cut_matches_whole(model, 3.0 * fo::channel("block 2:conv", 5) - fo::neuron("block 2:conv", 0), one, true, 1e-5);
  expect_cut_matches_whole(model, fo::per_item({fo::channel("block2", 0), fo::channel("block2", 4)}), two, true, 1e-5);
  // Not cut: more than half the channels, the whole layer read, or two layers.
  expect_cut_matches_whole(model, fo::per_item({fo::channel("block2", 0), fo::channel("block2", 1),
                                                fo::channel("block2", 2), fo::channel("block2", 3)}),
                           at::rand({4, 3, 8, 8}), false, 1e-5);
  expect_cut_matches_whole(model, fo::channel("block2", 1) + fo::deepdream("block2"), one, false, 1e-5);
  expect_cut_matches_whole(model, fo::channel("block2", 1) + fo::channel("conv1", 1), one, false, 1e-5);
  // A caller that asks for the layer too (Grad-CAM) gets it whole.
  const fo::Evaluation asked = fo::evaluate(model, fo::channel("block2", 1), one, {"block2"});
  EXPECT_TRUE(asked.subsets.empty());
  EXPECT_EQ(asked.activations.at("block2").size(1), 6);
  // An out-of-range unit is still the objective's own error.
  EXPECT_THROW(fo::evaluate(model, fo::channel("block2", 6), one), featvis::Error);
}

// MobileNetV2, a Microscope batch of four units of an early expand and a depthwise layer.
TEST(ChannelsRead, EvaluateComputesOnlyTheChannelsReadOnMobileNetV2) {
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  const featvis::model::Model model = featvis::model::load_model("mobilenet_v2");
  at::manual_seed(5);
  const at::Tensor images = at::rand({4, 3, 224, 224});
  for (const std::string layer : {"MobileNetV2/expanded_conv_2/expand", "MobileNetV2/expanded_conv_6/depthwise"}) {
    std::vector<Objective> units;
    for (int64_t c : {9, 2, 40, 71}) units.push_back(fo::channel(layer, c));
    expect_cut_matches_whole(model, fo::per_item(units), images, true, 1e-3);
  }
}

}  // namespace
