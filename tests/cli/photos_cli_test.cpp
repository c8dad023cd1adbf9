// Photos as users have them, through the real binary: a folder given to `classify`, WebP
// and TIFF files, and phone JPEGs whose EXIF orientation says how to turn them upright.
#include "support/onnx_builder.h"
#include "support/photo_files.h"
#include "support/test_support.h"

#include <featvis/image/image.h>
#include <featvis/util/atomic_file.h>

#include <nlohmann/json.hpp>

#include <filesystem>

namespace {

using featvis::testing::CommandResult;
using featvis::testing::expect_one_line_error;
using featvis::testing::run_featvis;
using featvis::testing::write_bytes;

// classify --json, as {image path: top classes}.
nlohmann::json classified(const std::vector<std::string>& args) {
  std::vector<std::string> all = {"classify"};
  all.insert(all.end(), args.begin(), args.end());
  all.push_back("--json");
  const CommandResult r = run_featvis(all);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json by_image = nlohmann::json::object();
  if (r.exit_code != 0) return by_image;
  const nlohmann::json parsed = nlohmann::json::parse(r.out);
  for (const auto& item : parsed["results"]) by_image[item["image"].get<std::string>()] = item["top"];
  return by_image;
}

TEST(PhotosCli, ClassifyTakesAFolderOfPhotos) {
  featvis::testing::TinyModelDir ws;
  const std::string photos = ws.dir + "/photos";
  std::filesystem::create_directories(photos + "/more");
  at::manual_seed(3);
  const at::Tensor a = at::rand({3, 10, 12}), b = at::rand({3, 9, 9});
  featvis::image::save_png(photos + "/a.png", a);
  featvis::image::save_png(photos + "/more/b.png", b);
  write_bytes(photos + "/notes.txt", "not a photo: skipped by extension");
  // The folder classifies its photos (sorted, recursive) exactly as naming them does.
  const nlohmann::json from_folder = classified({ws.model, photos});
  const nlohmann::json named = classified({ws.model, photos + "/a.png", photos + "/more/b.png"});
  ASSERT_EQ(from_folder.size(), 2u) << from_folder.dump();
  EXPECT_EQ(from_folder, named);
  // Folders and files mix; the table names every photo.
  const CommandResult table = run_featvis({"classify", ws.model, photos, photos + "/a.png"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find(photos + "/more/b.png\n"), std::string::npos) << table.out;
  // A folder without photos says so.
  std::filesystem::create_directories(ws.dir + "/empty");
  expect_one_line_error(run_featvis({"classify", ws.model, ws.dir + "/empty"}), 1, {"empty", "holds no .jpg"});
}

// A real photo as lossless WebP and as TIFF (plain and LZW) classifies exactly as the PNG
// of the same pixels: same pixels in, same numbers out.
TEST(PhotosCli, WebpAndTiffPhotosClassifyAsThePng) {
  FEATVIS_REQUIRE_IMAGES(images);
  featvis::testing::TinyModelDir ws;
  const at::Tensor photo = featvis::image::load_image_rgb8(images + "/n01443537_goldfish.JPEG");
  featvis::image::save_png(ws.dir + "/goldfish.png", photo.permute({2, 0, 1}).to(at::kFloat) / 255.0);
  write_bytes(ws.dir + "/goldfish.webp", featvis::testing::encode_webp_lossless(photo));
  write_bytes(ws.dir + "/goldfish.tif", featvis::testing::encode_tiff(photo));
  write_bytes(ws.dir + "/goldfish-lzw.tiff", featvis::testing::encode_tiff(photo, true));
  for (const std::string other : {"/goldfish.webp", "/goldfish.tif", "/goldfish-lzw.tiff"}) {
    const nlohmann::json png = classified({ws.model, ws.dir + "/goldfish.png"});
    const nlohmann::json converted = classified({ws.model, ws.dir + other});
    ASSERT_EQ(converted.size(), 1u) << other;
    EXPECT_EQ(converted.begin().value(), png.begin().value()) << other;
  }
  write_bytes(ws.dir + "/cut.webp", featvis::testing::encode_webp_lossless(photo).substr(0, 64));
  expect_one_line_error(run_featvis({"classify", ws.model, ws.dir + "/cut.webp"}), 1, {"cut.webp", "WebP"});
}

// A real photo stored sideways with EXIF orientation 6 (or upside down with 3) classifies
// as the upright PNG of the same decoded pixels.
TEST(PhotosCli, ExifRotatedJpegIsTurnedUpright) {
  FEATVIS_REQUIRE_IMAGES(images);
  featvis::testing::TinyModelDir ws;
  const std::string sideways = ws.dir + "/sideways.jpg";
  featvis::image::save_jpeg(sideways, featvis::image::load_image_rgb8(images + "/n01443537_goldfish.JPEG")
                                   .permute({2, 0, 1}).to(at::kFloat).div(255.0), 95);
  const std::string jpeg = featvis::read_file(sideways);
  const at::Tensor stored = featvis::image::load_image_rgb8(sideways);  // no EXIF: as stored
  const std::vector<std::pair<int, at::Tensor>> cases = {
      {6, stored.transpose(0, 1).flip({1})},  // 90 degrees clockwise
      {3, stored.flip({0, 1})},               // 180 degrees
  };
  for (const auto& [orientation, upright] : cases) {
    const std::string rotated = ws.dir + "/exif" + std::to_string(orientation) + ".jpg";
    const std::string reference = ws.dir + "/upright" + std::to_string(orientation) + ".png";
    write_bytes(rotated, featvis::testing::with_exif_orientation(jpeg, orientation));
    featvis::image::save_png(reference, upright.permute({2, 0, 1}).to(at::kFloat) / 255.0);
    EXPECT_TRUE(at::equal(featvis::image::load_image_rgb8(rotated), upright)) << orientation;
    const nlohmann::json turned = classified({ws.model, rotated});
    const nlohmann::json expected = classified({ws.model, reference});
    ASSERT_EQ(turned.size(), 1u);
    EXPECT_EQ(turned.begin().value(), expected.begin().value()) << orientation;
  }
}

}  // namespace
