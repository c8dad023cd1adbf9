// The dataset scan: photo listing, index contents and crops on a synthetic model, resume
// after an interruption giving the same index as one uninterrupted scan, and the
// acceptance figure on the real photos (logits units find their own class).
#include "examples_test_util.h"

#include <featvis/dataset_examples/crops.h>
#include <featvis/dataset_examples/image_list.h>
#include <featvis/dataset_examples/index.h>
#include <featvis/dataset_examples/scan.h>
#include <featvis/image/image.h>
#include <featvis/inference/evaluate.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <filesystem>
#include <map>

namespace {

namespace fs = std::filesystem;
using featvis::testing::temp_dir;

using featvis::testing::synthetic_photos;

featvis::model::Model tiny_model() { return featvis::testing::tiny_examples_model(); }

std::string index_text(const featvis::model::Model& model, const std::string& root, const std::vector<std::string>& images,
                       const featvis::dataset_examples::ScanResult& scan) {
  const std::string out = temp_dir();
  featvis::dataset_examples::write_examples_index(out, featvis::dataset_examples::make_examples_index(model, root, images, scan));
  return featvis::read_file(out + "/index.json");
}

TEST(ImageList, RecursiveSortedCaseInsensitive) {
  const std::string dir = synthetic_photos(7);
  const auto images = featvis::dataset_examples::list_images(dir);
  ASSERT_EQ(images.size(), 7u);
  EXPECT_TRUE(std::is_sorted(images.begin(), images.end()));
  EXPECT_EQ(images[0], "a/deep/img0.PNG");
  for (const auto& i : images) EXPECT_EQ(i.find("notes"), std::string::npos);
  EXPECT_NE(featvis::testing::error_of([] { featvis::dataset_examples::list_images("/no/such/dir"); }).find("'/no/such/dir' does not exist"),
            std::string::npos);
  const std::string empty = temp_dir();
  EXPECT_NE(featvis::testing::error_of([&] { featvis::dataset_examples::list_images(empty); }).find("holds no .jpg"), std::string::npos);
}

TEST(ImageList, SymlinkedPhotosKeepTheirNamesInTheFolder) {
  const std::string photos = synthetic_photos(2);
  const std::string dir = temp_dir();
  const auto originals = featvis::dataset_examples::list_images(photos);
  std::filesystem::create_symlink(photos + "/" + originals[0], dir + "/linked.png");
  std::filesystem::create_directory_symlink(photos + "/a", dir + "/sub");
  const auto images = featvis::dataset_examples::list_images(dir + "/");
  ASSERT_FALSE(images.empty());
  EXPECT_EQ(images.back(), "sub/deep/img0.PNG");
  EXPECT_NE(std::find(images.begin(), images.end(), "linked.png"), images.end());
  for (const auto& i : images) EXPECT_EQ(i.find(".."), std::string::npos) << i;
}

TEST(Scan, IndexHoldsTopAndBottomPhotosWithBoxesAndCrops) {
  const featvis::model::Model model = tiny_model();
  const std::string root = synthetic_photos(11);
  const auto images = featvis::dataset_examples::list_images(root);
  featvis::dataset_examples::ScanOptions options;
  options.layers = {"conv1", "block 2:conv", "logits"};
  options.top_k = 4;
  options.batch_size = 3;
  options.progress = false;
  const featvis::dataset_examples::ScanResult scan = featvis::dataset_examples::scan_examples(model, root, images, options);
  EXPECT_EQ(scan.images_done, 11);
  EXPECT_EQ(scan.images_scanned, 11);
  const std::string out = temp_dir();
  const featvis::dataset_examples::ExamplesIndex built = featvis::dataset_examples::make_examples_index(model, root, images, scan);
  featvis::dataset_examples::write_crops(out, built, model.card.preprocessing);
  featvis::dataset_examples::write_examples_index(out, built);
  const featvis::dataset_examples::ExamplesIndex index = featvis::dataset_examples::read_examples_index(out + "/index.json");
  EXPECT_EQ(index.model, "tiny");
  EXPECT_EQ(index.images, images);
  EXPECT_EQ(index.top_k, 4);
  ASSERT_EQ(index.layers.size(), 3u);

  // Brute force over all photos for one unit of the 4x4 layer: channel means and maxima.
  std::vector<float> means, maxima;
  for (const auto& i : images) {
    const at::Tensor x = featvis::image::load_network_input(root + "/" + i, model.card.preprocessing).unsqueeze(0);
    const at::Tensor a = model.graph.run(x, {"block 2:conv"}).at("block 2:conv")[0][5];
    means.push_back(a.mean().item<float>());
    maxima.push_back(a.max().item<float>());
  }
  const featvis::dataset_examples::LayerIndex& l = index.layers[1];
  EXPECT_EQ(l.shape, (std::vector<int64_t>{1, 6, 4, 4}));
  EXPECT_EQ(l.field_size, (std::array<int64_t, 2>{5, 5}));
  EXPECT_EQ(l.field_stride, (std::array<int64_t, 2>{2, 2}));
  const featvis::dataset_examples::UnitExamples& u = l.units[5];
  ASSERT_EQ(u.top_mean.size(), 4u);
  ASSERT_EQ(u.bottom_mean.size(), 4u);
  ASSERT_EQ(u.top_max.size(), 4u);
  const auto best = std::max_element(means.begin(), means.end()) - means.begin();
  const auto worst = std::min_element(means.begin(), means.end()) - means.begin();
  EXPECT_EQ(u.top_mean[0].image, best);
  EXPECT_EQ(u.bottom_mean[0].image, worst);
  EXPECT_NEAR(u.top_mean[0].score, means[best], 1e-5);
  EXPECT_NEAR(u.top_max[0].score, *std::max_element(maxima.begin(), maxima.end()), 1e-5);
  for (size_t r = 1; r < 4; ++r) {
    EXPECT_GE(u.top_mean[r - 1].score, u.top_mean[r].score);
    EXPECT_LE(u.bottom_mean[r - 1].score, u.bottom_mean[r].score);
  }
  for (const auto& e : u.top_max) {
    ASSERT_TRUE(e.position.has_value());
    const auto [y, x] = *e.position;
    // Field 5 at stride 2, first pixel -2, clipped to the 8x8 input.
    const std::array<int64_t, 4> box{std::max<int64_t>(0, x * 2 - 2), std::max<int64_t>(0, y * 2 - 2),
                                     std::min<int64_t>(8, x * 2 + 3), std::min<int64_t>(8, y * 2 + 3)};
    EXPECT_EQ(e.box, box);
    const at::Tensor crop = featvis::image::load_image_rgb8(out + "/" + e.crop);
    EXPECT_EQ(crop.size(0), box[3] - box[1]);
    EXPECT_EQ(crop.size(1), box[2] - box[0]);
  }
  // One file per photo and box: a crop is named by them.
  const auto& b = u.top_max[0].box;
  EXPECT_EQ(u.top_max[0].crop, "crops/" + std::to_string(u.top_max[0].image) + "/" + std::to_string(b[0]) + "-" +
                                   std::to_string(b[1]) + "-" + std::to_string(b[2]) + "-" + std::to_string(b[3]) + ".jpg");
  // [N, C] layers: no position, the whole input.
  const featvis::dataset_examples::ExampleEntry& logit = index.layers[2].units[0].top_max[0];
  EXPECT_FALSE(logit.position.has_value());
  EXPECT_EQ(logit.box, (std::array<int64_t, 4>{0, 0, 8, 8}));
}

TEST(Scan, BadOptionsAndLayersAreOneLineErrors) {
  const featvis::model::Model model = tiny_model();
  const std::string root = synthetic_photos(2);
  const auto images = featvis::dataset_examples::list_images(root);
  featvis::dataset_examples::ScanOptions options;
  options.progress = false;
  options.layers = {"conv1"};
  options.top_k = 0;
  // The library names the setting; the CLI puts the flag in front (tests/cli).
  try {
    featvis::dataset_examples::scan_examples(model, root, images, options);
    ADD_FAILURE() << "top_k 0 was accepted";
  } catch (const featvis::SettingError& e) {
    EXPECT_EQ(e.setting(), "top");
    EXPECT_NE(std::string(e.what()).find("examples per unit must be at least 1"), std::string::npos) << e.what();
  }
  options.top_k = 3;
  options.layers = {"conv9"};
  EXPECT_NE(featvis::testing::error_of([&] { featvis::dataset_examples::scan_examples(model, root, images, options); })
                .find("unknown layer 'conv9'"),
            std::string::npos);
  options.layers = {"conv1", "logits", "conv1"};
  EXPECT_NE(featvis::testing::error_of([&] { featvis::dataset_examples::scan_examples(model, root, images, options); })
                .find("layer 'conv1' is named twice"),
            std::string::npos);
}

// Stops after `stop_after` batches (as Ctrl-C would), then resumes with a second scan.
featvis::dataset_examples::ScanResult interrupted_then_resumed(const featvis::model::Model& model, const std::string& root,
                                            const std::vector<std::string>& images, featvis::dataset_examples::ScanOptions options,
                                            int stop_after) {
  options.checkpoint_path = temp_dir() + "/checkpoint.cbor";
  int batches = 0;
  options.stop_requested = [&] { return ++batches >= stop_after; };
  const featvis::dataset_examples::ScanResult first = featvis::dataset_examples::scan_examples(model, root, images, options);
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(first.images_done, stop_after * options.batch_size);
  EXPECT_TRUE(fs::exists(options.checkpoint_path));
  options.stop_requested = nullptr;
  featvis::dataset_examples::ScanResult second = featvis::dataset_examples::scan_examples(model, root, images, options);
  EXPECT_FALSE(second.interrupted);
  EXPECT_EQ(second.resumed_from, stop_after * options.batch_size);
  EXPECT_EQ(second.images_scanned, static_cast<int64_t>(images.size()) - second.resumed_from);
  EXPECT_TRUE(second.note.empty()) << second.note;
  return second;
}

TEST(Scan, ResumedScanGivesTheSameIndexAsAnUninterruptedOne) {
  const featvis::model::Model model = tiny_model();
  const std::string root = synthetic_photos(13);
  const auto images = featvis::dataset_examples::list_images(root);
  featvis::dataset_examples::ScanOptions options;
  options.layers = {"conv1", "logits"};
  options.top_k = 3;
  options.batch_size = 2;
  options.checkpoint_every = 100;  // only the stop writes one
  options.progress = false;
  const std::string whole = index_text(model, root, images, featvis::dataset_examples::scan_examples(model, root, images, options));
  EXPECT_EQ(index_text(model, root, images, interrupted_then_resumed(model, root, images, options, 3)), whole);
}

TEST(Scan, CheckpointOfOtherSettingsIsNotUsed) {
  const featvis::model::Model model = tiny_model();
  const std::string root = synthetic_photos(6);
  const auto images = featvis::dataset_examples::list_images(root);
  featvis::dataset_examples::ScanOptions options;
  options.layers = {"conv1"};
  options.top_k = 2;
  options.batch_size = 2;
  options.progress = false;
  options.checkpoint_path = temp_dir() + "/checkpoint.cbor";
  options.stop_requested = [] { return true; };
  featvis::dataset_examples::scan_examples(model, root, images, options);
  options.stop_requested = nullptr;
  options.top_k = 3;
  const featvis::dataset_examples::ScanResult again = featvis::dataset_examples::scan_examples(model, root, images, options);
  EXPECT_EQ(again.resumed_from, 0);
  EXPECT_NE(again.note.find("other settings (top_k)"), std::string::npos) << again.note;
  EXPECT_EQ(again.images_scanned, 6);
}

TEST(Scan, RealPhotosResumeGivesTheSameIndex) {
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  FEATVIS_REQUIRE_IMAGES(samples);
  const featvis::model::Model model = featvis::model::load_model("mobilenet_v2");
  // A dozen real photos, linked (not copied) into nested folders.
  const std::string root = temp_dir();
  const auto all = featvis::dataset_examples::list_images(samples);
  for (size_t i = 0; i < 12; ++i) {
    const fs::path sub = fs::path(root) / (i < 6 ? "first" : "second");
    fs::create_directories(sub);
    fs::create_symlink(fs::path(samples) / all[i * 80], sub / all[i * 80]);
  }
  const auto images = featvis::dataset_examples::list_images(root);
  ASSERT_EQ(images.size(), 12u);
  featvis::dataset_examples::ScanOptions options;
  options.layers = {"MobileNetV2/expanded_conv_8/expand", "logits"};
  options.top_k = 4;
  options.batch_size = 4;
  options.progress = false;
  const std::string whole = index_text(model, root, images, featvis::dataset_examples::scan_examples(model, root, images, options));
  EXPECT_EQ(index_text(model, root, images, interrupted_then_resumed(model, root, images, options, 1)), whole);
  // Boxes of a mid layer have the size of its field (75 px) where not clipped.
  const auto index = featvis::dataset_examples::read_examples_index([&] {
    const std::string out = temp_dir();
    featvis::dataset_examples::write_examples_index(out, featvis::dataset_examples::make_examples_index(model, root, images,
                                                                     featvis::dataset_examples::scan_examples(model, root, images, options)));
    return out + "/index.json";
  }());
  int interior = 0;
  for (const auto& u : index.layers[0].units)
    for (const auto& e : u.top_max) {
      EXPECT_LE(e.box[2] - e.box[0], 75);
      EXPECT_LE(e.box[3] - e.box[1], 75);
      if (e.box[0] > 0 && e.box[1] > 0 && e.box[2] < 224 && e.box[3] < 224) {
        ++interior;
        EXPECT_EQ(e.box[2] - e.box[0], 75);
        EXPECT_EQ(e.box[3] - e.box[1], 75);
      }
    }
  EXPECT_GT(interior, 0);
}

// Acceptance: over the 1000 sample photos (one per class) the top-1 example of each
// logits unit is the photo of that class for at least 85% of the classes.
TEST(ScanAcceptance, LogitsUnitsFindThePhotoOfTheirClass) {
  FEATVIS_REQUIRE_MODEL(path, "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx");
  FEATVIS_REQUIRE_IMAGES(samples);
  const featvis::model::Model model = featvis::model::load_model("mobilenet_v2");
  const auto images = featvis::dataset_examples::list_images(samples);
  ASSERT_EQ(images.size(), 1000u);
  std::map<std::string, int64_t> label_of;
  for (const auto& item : featvis::inference::read_labels_csv(samples + "/labels.csv", samples))
    label_of[fs::path(item.path).filename().string()] = item.label;
  featvis::dataset_examples::ScanOptions options;
  options.layers = {"logits"};
  options.top_k = 1;
  options.batch_size = 32;
  options.progress = false;
  const featvis::dataset_examples::ScanResult scan = featvis::dataset_examples::scan_examples(model, samples, images, options);
  ASSERT_TRUE(scan.skipped.empty());
  const at::Tensor top = scan.layers[0].top_mean.images().select(1, 0).contiguous();
  int matches = 0;
  for (int64_t c = 0; c < 1000; ++c) matches += label_of.at(images[top[c].item<int64_t>()]) == c;
  std::printf("[ examples ] mobilenet_v2 logits: top-1 example is the photo of the unit's class for %d of 1000 "
              "classes (%.1f%%); scan %.1f s, %.1f photos/s\n",
              matches, matches / 10.0, scan.seconds, 1000 / scan.seconds);
  EXPECT_GE(matches, 850);
}

}  // namespace
