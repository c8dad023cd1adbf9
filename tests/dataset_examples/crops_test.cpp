// The crop stage: thumbnails equal, within one level, to the path before issue 19 (each box
// resized alone), files that decode to them within JPEG's loss, the crop size, distinct
// boxes encoded once, the same bytes at 1 and 2 threads, bad options, --no-crops, and a
// failed crop stage that leaves no index naming a missing crop.
#include "examples_test_util.h"

#include <featvis/dataset_examples/crops.h>
#include <featvis/dataset_examples/examples_dir.h>
#include <featvis/dataset_examples/image_list.h>
#include <featvis/dataset_examples/index.h>
#include <featvis/image/image.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <filesystem>
#include <set>

namespace {

namespace fs = std::filesystem;
namespace ex = featvis::dataset_examples;
using Box = std::array<int64_t, 4>;
using featvis::testing::temp_dir;

// A photo with smooth shapes and fine texture (what JPEG meets in real photos), as PNG.
at::Tensor smooth_photo(int64_t h, int64_t w, int seed) {
  const at::Tensor y = at::linspace(0, 1, h).view({1, h, 1}), x = at::linspace(0, 1, w).view({1, 1, w});
  const at::Tensor phase = at::tensor({0.f, 2.f, 4.f}).view({3, 1, 1}) + seed;
  return (0.5 + 0.3 * at::sin(6 * x + 4 * y + phase) + 0.15 * at::cos(25 * x * y - phase)).clamp(0, 1);
}

// The network's view as the crop stage makes it: the card's crop in pixel levels.
at::Tensor view_of(const std::string& path, featvis::model::Preprocessing pre) {
  pre.mean = {0.f, 0.f, 0.f};
  pre.std = {1.f, 1.f, 1.f};
  return featvis::image::load_network_input(path, pre).round().clamp(0, 255).to(at::kByte).permute({1, 2, 0}).contiguous();
}

// The path before issue 19 (crops.cpp at f75d364): each box cut and resized on its own by
// ATen's antialiased bilinear kernel (what preprocess_image ran then), in [0, 1], back to
// levels as save_jpeg did.
at::Tensor old_thumbnail(const at::Tensor& hwc, const Box& b, int64_t max_side) {
  const at::Tensor crop = hwc.slice(0, b[1], b[3]).slice(1, b[0], b[2]).contiguous();
  const int64_t h = crop.size(0), w = crop.size(1);
  if (std::max(h, w) <= max_side) return crop;
  const double scale = static_cast<double>(max_side) / std::max(h, w);
  const int64_t th = std::max<int64_t>(1, std::lround(h * scale)), tw = std::max<int64_t>(1, std::lround(w * scale));
  const at::Tensor levels =
      at::_upsample_bilinear2d_aa(crop.permute({2, 0, 1}).unsqueeze(0).to(at::kFloat), {th, tw}, false).round().clamp(0, 255);
  return ((levels / 255.0).clamp(0, 1) * 255.0).round().to(at::kByte).squeeze(0).permute({1, 2, 0}).contiguous();
}

const std::vector<Box> kBoxes{
    {0, 0, 224, 224},     // a deep layer's whole input: resized
    {10, 20, 85, 95},     // two mid-layer fields of one size: one batch
    {100, 100, 175, 175},
    {0, 0, 3, 3},         // an early layer's field: kept as is
    {24, 0, 224, 150},    // clipped at the border: not square
    {0, 0, 224, 224},     // the same box again (another unit)
};

// Two smooth photos and an index naming every box of kBoxes in each, one unit per box.
struct HandIndex {
  std::string photos = temp_dir();
  featvis::model::Preprocessing card;  // resize 256, centre crop 224
  ex::ExamplesIndex index;
  HandIndex() {
    featvis::image::save_png(photos + "/a.png", smooth_photo(300, 260, 0));
    featvis::image::save_png(photos + "/b.png", smooth_photo(240, 320, 1));
    index.images_root = photos;
    index.images = {"a.png", "b.png"};
    index.top_k = 2;
    ex::LayerIndex layer;
    layer.name = "hand";
    for (size_t u = 0; u < kBoxes.size(); ++u) {
      ex::UnitExamples unit;
      unit.unit = static_cast<int64_t>(u);
      for (int64_t image = 0; image < 2; ++image) {
        ex::ExampleEntry e;
        e.image = image;
        e.box = kBoxes[u];
        e.crop = "crops/hand/" + std::to_string(u) + "/" + std::to_string(image) + ".jpg";
        unit.top_max.push_back(e);
      }
      layer.units.push_back(unit);
    }
    index.layers.push_back(layer);
  }
};

TEST(Crops, CutsEqualTheOldPathWithinOneLevel) {
  at::manual_seed(5);
  const at::Tensor noise = at::randint(0, 256, {224, 224, 3}, at::kByte);
  const at::Tensor smooth = (smooth_photo(224, 224, 2) * 255).round().to(at::kByte).permute({1, 2, 0}).contiguous();
  int64_t differing = 0, pixels = 0;
  for (const at::Tensor& image : {noise, smooth})
    for (int64_t size : {128, 32}) {
      const std::vector<at::Tensor> cuts = ex::cut_thumbnails(image, kBoxes, size);
      ASSERT_EQ(cuts.size(), kBoxes.size());
      for (size_t i = 0; i < kBoxes.size(); ++i) {
        const at::Tensor old = old_thumbnail(image, kBoxes[i], size);
        ASSERT_EQ(cuts[i].sizes(), old.sizes()) << "box " << i << " size " << size;
        // The same filter in float, passes in the other order (and ATen's build may fuse
        // multiply-adds), so a level at a rounding tie can move by one (measured: 40 of
        // 367,128 levels).
        const at::Tensor diff = (cuts[i].to(at::kInt) - old.to(at::kInt)).abs();
        EXPECT_LE(diff.max().item<int>(), 1) << "box " << i << " size " << size;
        differing += diff.gt(0).sum().item<int64_t>();
        pixels += diff.numel();
      }
    }
  std::printf("[ crops ] %lld of %lld levels differ from the old path by one\n", static_cast<long long>(differing),
              static_cast<long long>(pixels));
  EXPECT_LE(differing, pixels / 1000);
  EXPECT_NE(featvis::testing::error_of([&] { ex::cut_thumbnails(noise, {{0, 0, 225, 10}}, 128); }).find("outside the 224x224"),
            std::string::npos);
}

TEST(Crops, FilesDecodeToTheCutsWithinJpegLossAndDuplicatesAreEncodedOnce) {
  const HandIndex hand;
  const std::string out = temp_dir();
  const ex::CropStats stats = ex::write_crops(out, hand.index, hand.card);
  EXPECT_EQ(stats.photos, 2);
  EXPECT_EQ(stats.crops, 2 * static_cast<int64_t>(kBoxes.size()));
  EXPECT_EQ(stats.encoded, 2 * static_cast<int64_t>(kBoxes.size() - 1));  // the repeated box once per photo
  for (int64_t image = 0; image < 2; ++image) {
    const at::Tensor view = view_of(hand.photos + "/" + hand.index.images[image], hand.card);
    const std::vector<at::Tensor> cuts = ex::cut_thumbnails(view, kBoxes, 128);
    for (size_t u = 0; u < kBoxes.size(); ++u) {
      const std::string file = out + "/" + hand.index.layers[0].units[u].top_max[image].crop;
      const at::Tensor decoded = featvis::image::load_image_rgb8(file);
      ASSERT_EQ(decoded.sizes(), cuts[u].sizes()) << file;
      // Quality 85, 4:2:0: mean error measured 0.89-1.25 levels on these photos.
      const double error = (decoded.to(at::kFloat) - cuts[u].to(at::kFloat)).abs().mean().item<double>();
      EXPECT_LT(error, 3.0) << file;
    }
    // The repeated whole-input box: the same bytes in both files.
    EXPECT_EQ(featvis::read_file(out + "/crops/hand/0/" + std::to_string(image) + ".jpg"),
              featvis::read_file(out + "/crops/hand/5/" + std::to_string(image) + ".jpg"));
  }
}

TEST(Crops, CropSizeIsHonoured) {
  const HandIndex hand;
  const std::string out = temp_dir();
  ex::CropOptions options;
  options.size = 32;
  ex::write_crops(out, hand.index, hand.card, options);
  for (const auto& unit : hand.index.layers[0].units)
    for (const auto& e : unit.top_max) {
      const at::Tensor decoded = featvis::image::load_image_rgb8(out + "/" + e.crop);
      const int64_t h = e.box[3] - e.box[1], w = e.box[2] - e.box[0];
      EXPECT_EQ(std::max(decoded.size(0), decoded.size(1)), std::min<int64_t>(32, std::max(h, w))) << e.crop;
    }
  EXPECT_EQ(featvis::image::load_image_rgb8(out + "/crops/hand/4/0.jpg").sizes(), (at::IntArrayRef{24, 32, 3}));  // 150x200
}

TEST(Crops, OneAndTwoThreadsWriteTheSameBytes) {
  const HandIndex hand;
  const std::string one = temp_dir(), two = temp_dir();
  ex::CropOptions options;
  options.threads = 1;
  ex::write_crops(one, hand.index, hand.card, options);
  options.threads = 2;
  ex::write_crops(two, hand.index, hand.card, options);
  for (const auto& unit : hand.index.layers[0].units)
    for (const auto& e : unit.top_max) EXPECT_EQ(featvis::read_file(one + "/" + e.crop), featvis::read_file(two + "/" + e.crop));
}

TEST(Crops, BadOptionsNameTheSetting) {
  const HandIndex hand;
  const auto setting_of = [&](const ex::CropOptions& o) {
    try {
      ex::write_crops(temp_dir(), hand.index, hand.card, o);
    } catch (const featvis::SettingError& e) {
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
      return e.setting();
    }
    return std::string("(accepted)");
  };
  ex::CropOptions o;
  o.size = 4;
  EXPECT_EQ(setting_of(o), "crop_size");
  o.size = 2000;
  EXPECT_EQ(setting_of(o), "crop_size");
  o.size = 64;
  o.quality = 0;
  EXPECT_EQ(setting_of(o), "crop_quality");
  o.quality = 85;
  o.threads = -1;
  EXPECT_EQ(setting_of(o), "threads");
  o.threads = 0;
  o.keep_views_bytes = -1;
  EXPECT_EQ(setting_of(o), "keep_views_bytes");
  // An index written without crops has nothing to cut.
  ex::ExamplesIndex bare = hand.index;
  for (auto& u : bare.layers[0].units)
    for (auto& e : u.top_max) e.crop.clear();
  EXPECT_NE(featvis::testing::error_of([&] { ex::write_crops(temp_dir(), bare, hand.card); }).find("names no crop files"),
            std::string::npos);
}

TEST(Crops, FileWriterMakesFoldersAndMovesBetweenThem) {
  const fs::path root(temp_dir());
  featvis::FileWriter writer;
  // Back and forth between folders, one of them nested and not there yet.
  const std::vector<std::pair<std::string, std::string>> files = {
      {"a/1.jpg", "one"}, {"a/2.jpg", "two"}, {"b/c/3.jpg", "three"}, {"a/4.jpg", "four"}, {"b/c/1.jpg", "five"}};
  for (const auto& [name, bytes] : files) writer.write((root / name).string(), bytes);
  for (const auto& [name, bytes] : files) EXPECT_EQ(featvis::read_file((root / name).string()), bytes) << name;
  writer.write((root / "a/1.jpg").string(), "x");  // an existing file is replaced, not appended to
  EXPECT_EQ(featvis::read_file((root / "a/1.jpg").string()), "x");
  // A folder that cannot be made names itself, in one line.
  featvis::write_file((root / "plain").string(), "not a folder");
  const std::string error = featvis::testing::error_of([&] { writer.write((root / "plain/x.jpg").string(), "y"); });
  EXPECT_NE(error.find("plain"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

ex::ScanOptions tiny_scan() {
  ex::ScanOptions options;
  options.layers = {"conv1", "block 2:conv"};
  options.top_k = 6;  // every photo in every list
  options.batch_size = 1;
  options.progress = false;
  return options;
}

TEST(ExamplesDir, NoCropsWritesTheBoxesAndNoCropFiles) {
  const featvis::model::Model model = featvis::testing::tiny_examples_model();
  const std::string root = featvis::testing::synthetic_photos(6), out = temp_dir() + "/ex";
  ex::CropOptions crops;
  crops.write = false;
  const ex::ExamplesDirResult run = ex::build_examples_dir(model, root, out, tiny_scan(), crops);
  EXPECT_EQ(run.crops.crops, 0);
  const ex::ExamplesIndex index = ex::read_examples_index(out + "/index.json");
  size_t entries = 0, units = 0;
  for (const auto& layer : index.layers)
    for (const auto& unit : layer.units)
      for (const auto& e : unit.top_max) {
        ++entries;
        EXPECT_TRUE(e.crop.empty());
        EXPECT_TRUE(e.position.has_value());
        EXPECT_GT(e.box[2], e.box[0]);
        EXPECT_GT(e.box[3], e.box[1]);
      }
  for (const auto& layer : index.layers) units += layer.units.size();
  EXPECT_EQ(entries, units * 6);  // every unit holds all 6 photos
  EXPECT_NE(featvis::read_file(out + "/index.json").find("\"crop\": null"), std::string::npos);
  EXPECT_FALSE(fs::exists(out + "/crops"));
}

// The views the scan keeps give the same crops as photos decoded again.
TEST(ExamplesDir, CropsFromTheScansViewsEqualCropsFromDecodedPhotos) {
  const featvis::model::Model model = featvis::testing::tiny_examples_model();
  const std::string root = featvis::testing::synthetic_photos(6), out = temp_dir() + "/ex", again = temp_dir();
  const ex::ExamplesDirResult run = ex::build_examples_dir(model, root, out, tiny_scan());
  EXPECT_EQ(run.crops.photos, 6);
  EXPECT_EQ(run.crops.decoded, 0);
  const ex::CropStats decoded = ex::write_crops(again, run.index, model.card.preprocessing);
  EXPECT_EQ(decoded.decoded, 6);
  for (const auto& layer : run.index.layers)
    for (const auto& unit : layer.units)
      for (const auto& e : unit.top_max) EXPECT_EQ(featvis::read_file(out + "/" + e.crop), featvis::read_file(again + "/" + e.crop));
  // A budget of two views: the other photos are decoded again.
  ex::CropOptions two;
  two.keep_views_bytes = 2 * 3 * 8 * 8;
  EXPECT_EQ(ex::build_examples_dir(model, root, temp_dir(), tiny_scan(), two).crops.decoded, 4);
}

// A crop stage that fails half-way (a photo gone since the scan, as a crash would stop it)
// leaves no index, not even the one of an earlier run, whose crops are being rewritten.
TEST(ExamplesDir, AFailedCropStageLeavesNoIndexNamingAMissingCrop) {
  const featvis::model::Model model = featvis::testing::tiny_examples_model();
  const std::string root = featvis::testing::synthetic_photos(6), out = temp_dir() + "/ex";
  ex::build_examples_dir(model, root, out, tiny_scan());
  ASSERT_TRUE(fs::exists(out + "/index.json"));
  const std::vector<std::string> images = ex::list_images(root);
  const std::string gone = root + "/" + images[0], kept = featvis::read_file(gone);
  ex::ScanOptions options = tiny_scan();
  int batches = 0;
  options.stop_requested = [&] {
    if (++batches == 5) fs::remove(gone);  // after the scan has read it
    return false;
  };
  ex::CropOptions decode_again;  // keep no views, so that the crop stage reads the photos
  decode_again.keep_views_bytes = 0;
  EXPECT_NE(featvis::testing::error_of([&] { ex::build_examples_dir(model, root, out, options, decode_again); })
                .find("cannot read image"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(out + "/index.json"));
  // Once the photo is back, the same call finishes, and every crop the index names exists.
  featvis::testing::write_bytes(gone, kept);
  const ex::ExamplesDirResult run = ex::build_examples_dir(model, root, out, tiny_scan());
  EXPECT_GT(run.crops.crops, 0);
  for (const auto& layer : ex::read_examples_index(out + "/index.json").layers)
    for (const auto& unit : layer.units)
      for (const auto& e : unit.top_max) EXPECT_TRUE(fs::is_regular_file(out + "/" + e.crop)) << e.crop;
}

}  // namespace
