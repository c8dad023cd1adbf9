// Graph::run_inference: the frozen oneDNN program computes what Graph::run computes, on
// the three real models and real photos, and is only built where it pays and is right.
#include "support/test_support.h"

#include <featvis/dataset_examples/image_list.h>
#include <featvis/graph/frozen_forward.h>
#include <featvis/inference/classify.h>
#include <featvis/model/model.h>

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cstdio>

namespace {

using featvis::graph::TensorMap;

// Scale-free: max|a - b| / max|b|. Other kernels sum in another order: ~1e-6 here; a
// wrong op or a baked-in value is 1e-2 and more.
double relative_error(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.to(at::kDouble), y = b.to(at::kDouble);
  return (x - y).abs().max().item<double>() / y.abs().max().item<double>();
}
constexpr double kTolerance = 5e-4;

at::Tensor photos(const featvis::model::Model& model, size_t first, size_t count) {
  const std::string dir = featvis::testing::sample_images_dir();
  std::vector<std::string> files = featvis::dataset_examples::list_images(dir);
  std::sort(files.begin(), files.end());
  std::vector<std::string> paths;
  for (size_t i = first; i < first + count && i < files.size(); ++i) paths.push_back(dir + "/" + files[i]);
  return featvis::inference::load_batch(paths, model.card.preprocessing);
}

class RealModels : public ::testing::TestWithParam<std::string> {};

TEST_P(RealModels, FrozenProgramMatchesTheGraphOnPhotosAndLayers) {
  FEATVIS_REQUIRE_IMAGES(images);
  const featvis::model::Model model = featvis::model::load_model(GetParam());
  // The logits and two card layers (early, last), as the examples scan asks for them.
  std::vector<std::string> wanted{model.card.output, model.card.layers.front().name, model.card.layers.back().name};
  c10::InferenceMode guard;
  const at::Tensor first = photos(model, 0, 4), second = photos(model, 4, 4);
  // A single photo runs Graph::run. The first batch of a shape builds the program (traced
  // on zeros, checked on these photos) and returns its answer, as every later call does.
  model.graph.run_inference(first.narrow(0, 0, 1), wanted);
  EXPECT_EQ(model.graph.frozen_programs(), 0) << "a batch of one must not be frozen";
  const TensorMap built = model.graph.run_inference(first, wanted);
  ASSERT_EQ(model.graph.frozen_programs(), 1) << GetParam() << ": the program fell back to Graph::run";
  // Deterministic: the answer for a batch does not depend on whether it built the program.
  for (const auto& name : wanted) EXPECT_TRUE(at::equal(built.at(name), model.graph.run_inference(first, wanted).at(name)));
  const TensorMap frozen = model.graph.run_inference(second, wanted);
  const TensorMap eager = model.graph.run(second, wanted);
  for (const auto& name : wanted) {
    ASSERT_EQ(frozen.at(name).sizes(), eager.at(name).sizes()) << name;
    const double error = relative_error(frozen.at(name), eager.at(name));
    std::printf("[frozen] %-14s %-40s relative error %.2e\n", GetParam().c_str(), name.c_str(), error);
    EXPECT_LE(error, kTolerance) << GetParam() << " " << name;
  }
  const at::Tensor a = frozen.at(model.card.output).flatten(1), b = eager.at(model.card.output).flatten(1);
  EXPECT_TRUE(at::equal(a.argmax(1), b.argmax(1))) << "top-1 differs";
}

TEST_P(RealModels, ConvolutionsRunInTheBlockedLayout) {
  const featvis::model::Model model = featvis::model::load_model(GetParam());
  const featvis::graph::FrozenForward program(model.graph, at::zeros({2, 3, 224, 224}), {model.card.output});
  EXPECT_GT(program.blocked_convolutions(), 10) << "the oneDNN passes found no convolution chain";
}

INSTANTIATE_TEST_SUITE_P(frozen, RealModels, ::testing::Values("mobilenet_v2", "mobilenet_v1", "darknet_tiny"));

TEST(FrozenForward, ChangedWeightsDropThePrograms) {
  featvis::model::Model model = featvis::model::load_model("mobilenet_v2");
  const std::string out = model.card.output;
  c10::InferenceMode guard;
  const at::Tensor x = at::rand({2, 3, 224, 224}) * 2 - 1;
  model.graph.run_inference(x, {out});
  ASSERT_EQ(model.graph.frozen_programs(), 1);
  // Model randomization (attribution sanity check) re-draws weights: the program holds
  // the old ones as constants and must not be used again.
  std::string weight;
  for (const auto& node : model.graph.nodes())
    if (node.op_type == "Conv") weight = node.inputs[1];  // the last convolution
  ASSERT_FALSE(weight.empty());
  model.graph.set_weight(weight, at::randn(model.graph.weight(weight).sizes()));
  EXPECT_EQ(model.graph.frozen_programs(), 0);
  const at::Tensor after = model.graph.run_inference(x, {out}).at(out);
  EXPECT_LE(relative_error(after, model.graph.run(x, {out}).at(out)), kTolerance);
}

TEST(FrozenForward, AutogradAndUnknownLayersTakeGraphRun) {
  const featvis::model::Model model = featvis::model::load_model("mobilenet_v2");
  const std::string out = model.card.output;
  const at::Tensor x = (at::rand({2, 3, 224, 224}) * 2 - 1).requires_grad_(true);
  for (int i = 0; i < 3; ++i) {
    const at::Tensor y = model.graph.run_inference(x, {out}).at(out);
    EXPECT_TRUE(y.requires_grad()) << "a gradient request must reach Graph::run";
  }
  EXPECT_EQ(model.graph.frozen_programs(), 0);
  EXPECT_NE(featvis::testing::error_of([&] { model.graph.run_inference(x.detach(), {"no_such_layer"}); })
                .find("unknown layer 'no_such_layer'"),
            std::string::npos);
}

}  // namespace
