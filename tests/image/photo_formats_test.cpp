// JPEG, WebP and TIFF decoding, and JPEGs turned upright by their EXIF orientation: pixels
// written by the reference encoders come back where they were written.
#include "support/onnx_builder.h"
#include "support/photo_files.h"
#include "support/test_support.h"

#include <featvis/image/image.h>
#include <featvis/util/atomic_file.h>

namespace {

using featvis::testing::temp_dir;
using featvis::testing::write_bytes;

// A 16x24 (HxW) grey photo with a red 8x8 block in its top-left corner and a blue one in
// its top-right: every rotation and mirror puts them somewhere else. Flat 8x8 blocks
// aligned to the JPEG grid survive compression nearly unchanged.
at::Tensor marked_photo() {
  at::Tensor p = at::full({16, 24, 3}, 128, at::kByte);
  p.slice(0, 0, 8).slice(1, 0, 8).copy_(at::tensor({230, 20, 20}, at::kByte));
  p.slice(0, 0, 8).slice(1, 16, 24).copy_(at::tensor({20, 20, 230}, at::kByte));
  return p;
}

// The colour of the 8x8 block at block row r, block column c: 'r', 'b' or 'g'(rey).
char block(const at::Tensor& hwc, int64_t r, int64_t c) {
  const at::Tensor mean = hwc.slice(0, 8 * r, 8 * r + 8).slice(1, 8 * c, 8 * c + 8).to(at::kFloat).mean(at::IntArrayRef{0, 1});
  const float red = mean[0].item<float>(), blue = mean[2].item<float>();
  return red > 180 ? 'r' : blue > 180 ? 'b' : 'g';
}

std::string jpeg_of(const at::Tensor& hwc) {
  const std::string path = temp_dir() + "/plain.jpg";
  featvis::image::save_jpeg(path, hwc.permute({2, 0, 1}).to(at::kFloat) / 255.0, 100);
  return featvis::read_file(path);
}

TEST(PhotoFormats, LosslessWebpKeepsPixels) {
  const std::string path = temp_dir() + "/p.webp";
  write_bytes(path, featvis::testing::encode_webp_lossless(marked_photo()));
  EXPECT_TRUE(at::equal(featvis::image::load_image_rgb8(path), marked_photo()));
}

TEST(PhotoFormats, TiffKeepsPixelsPlainAndLzw) {
  for (const bool lzw : {false, true}) {
    const std::string path = temp_dir() + "/p.tif";
    write_bytes(path, featvis::testing::encode_tiff(marked_photo(), lzw));
    EXPECT_TRUE(at::equal(featvis::image::load_image_rgb8(path), marked_photo())) << "lzw " << lzw;
  }
}

TEST(PhotoFormats, CorruptWebpAndTiffAreOneClearError) {
  const std::string webp = temp_dir() + "/cut.webp", tiff = temp_dir() + "/cut.tiff";
  write_bytes(webp, featvis::testing::encode_webp_lossless(marked_photo()).substr(0, 30));
  write_bytes(tiff, featvis::testing::encode_tiff(marked_photo()).substr(0, 40));
  EXPECT_NE(featvis::testing::error_of([&] { featvis::image::load_image_rgb8(webp); }).find("cannot read image '" + webp),
            std::string::npos);
  EXPECT_NE(featvis::testing::error_of([&] { featvis::image::load_image_rgb8(tiff); }).find("cannot read image '" + tiff),
            std::string::npos);
}

// A smooth photo through the JPEG decoder (libjpeg-turbo): every level within a few of
// what was encoded at quality 100, so rows, channels and colour conversion are in place.
at::Tensor smooth_photo() {
  const at::Tensor y = at::arange(48, at::kFloat).view({48, 1, 1}), x = at::arange(64, at::kFloat).view({1, 64, 1});
  const at::Tensor c = at::arange(3, at::kFloat).view({1, 1, 3});
  return (40 + 3 * y + 2 * x + 30 * c).clamp(0, 255).to(at::kByte);
}

TEST(PhotoFormats, JpegKeepsPixelsWithinCompressionError) {
  const at::Tensor photo = smooth_photo();
  const std::string path = temp_dir() + "/smooth.jpg";
  write_bytes(path, jpeg_of(photo));
  const at::Tensor back = featvis::image::load_image_rgb8(path);
  ASSERT_EQ(back.sizes(), photo.sizes());
  EXPECT_LE((back.to(at::kInt) - photo.to(at::kInt)).abs().max().item<int>(), 3);
}

// A JPEG cut short is an error, not a photo padded with grey; bytes that are no JPEG
// after the start marker are one, too.
TEST(PhotoFormats, CutOrCorruptJpegIsOneClearError) {
  const std::string plain = jpeg_of(smooth_photo());
  const std::string cut = temp_dir() + "/cut.jpg", corrupt = temp_dir() + "/corrupt.jpg";
  write_bytes(cut, plain.substr(0, plain.size() - 40));  // into the last rows' data
  write_bytes(corrupt, plain.substr(0, 3) + std::string(200, '\x42'));
  const std::string cut_error = featvis::testing::error_of([&] { featvis::image::load_image_rgb8(cut); });
  EXPECT_NE(cut_error.find("cannot read image '" + cut + "': truncated JPEG"), std::string::npos) << cut_error;
  const std::string corrupt_error = featvis::testing::error_of([&] { featvis::image::load_image_rgb8(corrupt); });
  EXPECT_NE(corrupt_error.find("cannot read image '" + corrupt + "': corrupt JPEG"), std::string::npos) << corrupt_error;
}

TEST(PhotoFormats, ExifOrientationTurnsJpegsUpright) {
  const std::string plain = jpeg_of(marked_photo());
  // Block layout (rows of block columns) after each orientation of the 2x3-block photo
  // [r g b / g g g]: what a viewer shows.
  const std::vector<std::tuple<int, bool, std::vector<std::string>>> cases = {
      {1, false, {"rgb", "ggg"}},
      {3, false, {"ggg", "bgr"}},     // upside down: red bottom-right
      {3, true, {"ggg", "bgr"}},      // the same in big-endian Exif
      {6, false, {"gr", "gg", "gb"}},  // turned 90 degrees clockwise: red top-right
      {6, true, {"gr", "gg", "gb"}},
      {8, false, {"bg", "gg", "rg"}},  // counter-clockwise: red bottom-left
      {2, false, {"bgr", "ggg"}},     // mirrored
  };
  for (const auto& [orientation, big_endian, layout] : cases) {
    const std::string path = temp_dir() + "/exif.jpg";
    write_bytes(path, featvis::testing::with_exif_orientation(plain, orientation, big_endian));
    const at::Tensor photo = featvis::image::load_image_rgb8(path);
    ASSERT_EQ(photo.size(0), 8 * static_cast<int64_t>(layout.size())) << orientation;
    ASSERT_EQ(photo.size(1), 8 * static_cast<int64_t>(layout[0].size())) << orientation;
    for (size_t r = 0; r < layout.size(); ++r)
      for (size_t c = 0; c < layout[r].size(); ++c)
        EXPECT_EQ(block(photo, r, c), layout[r][c]) << "orientation " << orientation << " block " << r << "," << c;
  }
}

}  // namespace
