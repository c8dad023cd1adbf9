// The claim behind feature visualization: optimization finds inputs that excite a unit
// far more than any real photo does. For early, middle and late layers of the real
// MobileNetV2, take the channels that the 1000 sample photos excite most (by channel
// mean, the channel objective) and check that a short default render of each beats the
// best photo. Prints the table that goes into the issue note.
#include "support/test_support.h"

#include <featvis/image/image.h>
#include <featvis/model/model.h>
#include <featvis/objective/kinds.h>
#include <featvis/render/render.h>
#include <featvis/render/transform/standard.h>

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>

namespace {

namespace render = featvis::render;
namespace fs = std::filesystem;

// Pre-activations (the conv output before ReLU6), as Lucid renders "_pre_relu" layers:
// after the ReLU6 a channel mean can never pass 6, and the best photos reach 5.9.
const std::string kEarly = "MobileNetV2/expanded_conv_2/expand/preact";  // 112x112
const std::vector<std::string> kLayers = {
    kEarly,
    "MobileNetV2/expanded_conv_5/expand/preact",   // middle: 28x28
    "MobileNetV2/expanded_conv_12/expand/preact",  // middle-late: 14x14
    "MobileNetV2/Conv2d_18_1/preact",              // last conv before pooling: 7x7
};

// Per layer of kLayers: the maximum over the photos of each channel's mean activation, [C].
std::vector<at::Tensor> dataset_channel_max(const featvis::model::Model& model, const std::vector<std::string>& photos) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> best(kLayers.size());
  constexpr size_t kBatch = 20;
  for (size_t begin = 0; begin < photos.size(); begin += kBatch) {
    std::vector<at::Tensor> inputs;
    for (size_t i = begin; i < std::min(photos.size(), begin + kBatch); ++i)
      inputs.push_back(featvis::image::load_network_input(photos[i], model.card.preprocessing));
    const featvis::graph::TensorMap out = model.graph.run(at::stack(inputs), kLayers);
    for (size_t l = 0; l < kLayers.size(); ++l) {
      const at::Tensor batch_max = std::get<0>(out.at(kLayers[l]).mean({2, 3}).max(0));
      best[l] = best[l].defined() ? at::maximum(best[l], batch_max) : batch_max;
    }
  }
  return best;
}

class RenderVsDataset : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string images = featvis::testing::sample_images_dir();
    if (featvis::testing::find_model_file("mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx").empty() || images.empty())
      return;
    model_ = std::make_unique<featvis::model::Model>(featvis::model::load_model("mobilenet_v2"));
    std::vector<std::string> photos;
    for (const auto& entry : fs::directory_iterator(images))
      if (entry.path().extension() == ".JPEG") photos.push_back(entry.path().string());
    std::sort(photos.begin(), photos.end());
    photo_count_ = photos.size();
    dataset_max_ = dataset_channel_max(*model_, photos);
  }
  static void TearDownTestSuite() { model_.reset(); }

  // Renders, in one batch, the `per_layer` channels of each layer that the photos excite
  // most (the hardest ones to beat) and checks each render against the best photo.
  static void check(const std::vector<std::string>& layers, int64_t per_layer, int64_t steps) {
    ASSERT_EQ(photo_count_, 1000u);
    std::vector<featvis::objective::Objective> items;
    std::vector<std::pair<size_t, int64_t>> targets;  // (index in kLayers, channel)
    for (const std::string& layer : layers) {
      const size_t l = std::find(kLayers.begin(), kLayers.end(), layer) - kLayers.begin();
      const at::Tensor top = std::get<1>(dataset_max_[l].topk(per_layer));
      for (int64_t k = 0; k < per_layer; ++k) {
        targets.emplace_back(l, top[k].item<int64_t>());
        items.push_back(featvis::objective::channel(layer, targets.back().second));
      }
    }
    featvis::render::param::ImageParamOptions image;  // Lucid's default: FFT, decorrelated, sigmoid
    image.batch = static_cast<int64_t>(items.size());
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(0);
    featvis::render::param::ImageParam param(image, generator);
    render::RenderOptions options;
    options.steps = steps;
    const render::RenderResult result = render::render(*model_, featvis::objective::per_item(items), param,
                                                       featvis::render::transform::standard(), options, generator);

    std::cout << "layer                                       channel  best photo  render@0  render@" << steps
              << "  ratio\n";
    for (size_t i = 0; i < targets.size(); ++i) {
      const auto [l, c] = targets[i];
      const double photo = dataset_max_[l][c].item<double>();
      const double rendered = result.final_values()[i];
      std::cout << std::left << std::setw(44) << kLayers[l] << std::right << std::setw(8) << c << std::fixed
                << std::setprecision(3) << std::setw(12) << photo << std::setw(10) << result.initial_values()[i]
                << std::setw(12) << rendered << std::setw(7) << std::setprecision(2) << rendered / photo << "\n";
      // Margin (issue 9): the smallest ratio measured is 1.20 (early layer; 1.91 for the
      // others) at 1 and 2 threads on an AVX-512 Xeon. Rounding moves a render's final
      // value by about 1% between thread counts and instruction sets (docs/NUMERICS.md).
      EXPECT_GT(rendered, photo) << kLayers[l] << ":" << c;
    }
    std::cout << "render: " << steps << " steps at 224, batch " << items.size() << ", " << result.ms_per_step
              << " ms/step\n";
  }

  static std::unique_ptr<featvis::model::Model> model_;
  static std::vector<at::Tensor> dataset_max_;
  static size_t photo_count_;
};
std::unique_ptr<featvis::model::Model> RenderVsDataset::model_;
std::vector<at::Tensor> RenderVsDataset::dataset_max_;
size_t RenderVsDataset::photo_count_ = 0;

// Middle and late layers get there fast.
TEST_F(RenderVsDataset, MiddleAndLateChannelsBeatTheBestPhotoIn128Steps) {
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  FEATVIS_REQUIRE_IMAGES(images);
  check({kLayers[1], kLayers[2], kLayers[3]}, 2, 128);
}

// The early layer's best photos are near-uniform colour fields covering the whole
// 112x112 map; through the sigmoid-squashed spectrum that takes Lucid's full 512 steps.
TEST_F(RenderVsDataset, EarlyChannelsBeatTheBestPhotoIn512Steps) {
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  FEATVIS_REQUIRE_IMAGES(images);
  check({kEarly}, 2, 512);
}

}  // namespace
