// featvis' resize and photo preprocessing against Pillow and torchvision themselves
// (tests/image/pillow_reference.py, Debian's python3-pil and python3-torchvision, which
// scripts/setup.sh installs): the same bytes, on synthetic images of awkward sizes and
// on real photos. The real photos also check the JPEG decoder against Pillow's.
#include "support/test_support.h"

#include <featvis/image/image.h>
#include <featvis/image/pil_resize.h>
#include <featvis/io/npy.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <algorithm>
#include <array>
#include <fstream>

namespace {

using featvis::testing::temp_dir;

// Runs the reference script on `cases` (each with an "out" path filled in here) and
// returns each case's result as [H, W, 3] uint8.
std::vector<at::Tensor> pillow(nlohmann::json cases) {
  const std::string dir = temp_dir();
  for (size_t i = 0; i < cases.size(); ++i) cases[i]["out"] = dir + "/out" + std::to_string(i) + ".npy";
  std::ofstream(dir + "/cases.json") << cases.dump();
  // Debian's python3, with its python3-pil, -numpy and -torchvision (not a pyenv shim).
  const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const std::string command = python + " '" + featvis::testing::source_dir() + "/tests/image/pillow_reference.py' '" +
                              dir + "/cases.json'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::vector<at::Tensor> out;
  for (const auto& c : cases) out.push_back(featvis::io::load_npy(c["out"].get<std::string>()).to(at::kByte));
  return out;
}

std::string input_npy(const at::Tensor& hwc, int i) {
  const std::string path = temp_dir() + "/in" + std::to_string(i) + ".npy";
  featvis::io::save_npy(path, hwc.to(at::kFloat));
  return path;
}

std::string mismatch(const at::Tensor& mine, const at::Tensor& theirs) {
  if (mine.sizes() != theirs.sizes()) return "sizes differ";
  const at::Tensor diff = (mine.to(at::kInt) - theirs.to(at::kInt)).abs();
  return std::to_string(diff.gt(0).sum().item<int64_t>()) + " of " + std::to_string(diff.numel()) +
         " levels differ, by up to " + std::to_string(diff.max().item<int>());
}

TEST(PilResize, IsPillowsBilinearByteForByte) {
  at::manual_seed(3);
  struct Case {
    int64_t in_h, in_w, out_h, out_w;
    std::array<float, 4> box;
  };
  const std::vector<Case> cases = {
      {375, 500, 256, 341, {0, 0, -1, -1}},    // a photo to the Resize(256) size
      {333, 500, 256, 384, {0, 0, -1, -1}},
      {37, 53, 224, 224, {0, 0, -1, -1}},      // enlarged, stretched
      {300, 17, 90, 17, {0, 0, -1, -1}},       // one axis unchanged: Pillow skips its pass
      {500, 375, 224, 224, {20.5f, 62.25f, 348.625f, 390.875f}},  // a float box
      {64, 64, 7, 5, {0, 0, -1, -1}},          // a reduction of 9x and 13x
  };
  nlohmann::json json = nlohmann::json::array();
  std::vector<at::Tensor> inputs;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    inputs.push_back(at::randint(0, 256, {c.in_h, c.in_w, 3}, at::kLong).to(at::kByte));
    nlohmann::json j = {{"in", input_npy(inputs.back(), static_cast<int>(i))}, {"size", {c.out_w, c.out_h}}};
    if (c.box[2] > 0) j["box"] = c.box;
    json.push_back(j);
  }
  const auto theirs = pillow(json);
  for (size_t i = 0; i < cases.size(); ++i) {
    featvis::image::PilResizeOptions options;
    options.box = cases[i].box;
    const at::Tensor mine = featvis::image::pil_resize(inputs[i], cases[i].out_h, cases[i].out_w, options);
    EXPECT_TRUE(at::equal(mine, theirs[i])) << "case " << i << ": " << mismatch(mine, theirs[i]);
    // Computing only a crop gives the crop's bytes.
    options.crop_top = cases[i].out_h / 3, options.crop_left = cases[i].out_w / 4;
    options.crop_height = cases[i].out_h - options.crop_top, options.crop_width = cases[i].out_w / 2 + 1;
    const at::Tensor crop = featvis::image::pil_resize(inputs[i], cases[i].out_h, cases[i].out_w, options);
    EXPECT_TRUE(at::equal(crop, mine.slice(0, options.crop_top, options.crop_top + options.crop_height)
                                    .slice(1, options.crop_left, options.crop_left + options.crop_width)))
        << "case " << i;
  }
}

// The cards' two pipelines on real photos, decoded by featvis, against Pillow's decode
// with torchvision's Resize + CenterCrop, and against Pillow's box for the central crop.
TEST(PilResize, PhotoPreprocessingIsPillowsAndTorchvisionsOnRealPhotos) {
  FEATVIS_REQUIRE_IMAGES(images);
  std::vector<std::string> photos;
  for (const auto& e : std::filesystem::directory_iterator(images))
    if (featvis::image::is_photo_file_name(e.path().string())) photos.push_back(e.path().string());
  std::sort(photos.begin(), photos.end());
  ASSERT_GE(photos.size(), 40u);
  photos.resize(40);
  nlohmann::json json = nlohmann::json::array();
  for (size_t i = 0; i < photos.size(); ++i) {
    if (i % 2 == 0)
      json.push_back({{"photo", photos[i]}, {"pipeline", "resize_crop"}, {"resize", 256}, {"crop", {224, 224}}});
    else
      json.push_back({{"photo", photos[i]}, {"pipeline", "central"}, {"fraction", 0.875}, {"size", {224, 224}}});
  }
  const auto theirs = pillow(json);
  featvis::model::Preprocessing pre;
  pre.height = pre.width = 224;
  pre.resize = 256;
  pre.central_fraction = 0.875;
  pre.mean = {0.f, 0.f, 0.f};
  pre.std = {1.f, 1.f, 1.f};
  for (size_t i = 0; i < photos.size(); ++i) {
    pre.crop = i % 2 == 0 ? featvis::model::Preprocessing::Crop::kResizeCrop
                          : featvis::model::Preprocessing::Crop::kCentralFraction;
    const at::Tensor mine = featvis::image::load_network_input(photos[i], pre).permute({1, 2, 0}).to(at::kByte);
    EXPECT_TRUE(at::equal(mine, theirs[i])) << photos[i] << ": " << mismatch(mine, theirs[i]);
  }
}

}  // namespace
