#include <featvis/image/image.h>
#include <featvis/microscope/lens.h>
#include <featvis/microscope/site_path.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <filesystem>

namespace featvis::microscope {

namespace fs = std::filesystem;

// Measured on darknet_tiny renders (docs/PERFORMANCE.md, "Microscope site size"): WebP
// quality 90 keeps the renders' fine texture; thumbnails are small and many.
constexpr float kWebpQuality = 90;
constexpr int kThumbQuality = 88;

std::string unit_dir(const std::string& model_dir, const std::string& layer_slug, int64_t unit) {
  return (fs::path(model_dir) / layer_slug / std::to_string(unit)).string();
}

void make_dirs(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    throw Error("cannot create directory '" + dir + "': " + (ec ? ec.message() : "not a directory"));
  }
}

ImagePair save_image_pair(const std::string& dir, const std::string& stem, const at::Tensor& chw01,
                          const RenderSettings& settings) {
  const bool png = settings.image_format == "png";
  ImagePair pair{stem + (png ? ".png" : ".webp"), stem + ".jpg"};
  if (png) image::save_png((fs::path(dir) / pair.image).string(), chw01);
  else image::save_webp((fs::path(dir) / pair.image).string(), chw01, kWebpQuality);
  const int64_t thumb = settings.thumb;
  at::Tensor small = chw01.detach().to(at::kFloat);
  const int64_t h = small.size(1), w = small.size(2), longest = std::max(h, w);
  if (thumb > 0 && longest > thumb) {
    const int64_t th = std::max<int64_t>(1, h * thumb / longest), tw = std::max<int64_t>(1, w * thumb / longest);
    small = at::adaptive_avg_pool2d(small.unsqueeze(0), {th, tw}).squeeze(0);
  }
  image::save_jpeg((fs::path(dir) / pair.thumb).string(), small, kThumbQuality);
  return pair;
}

}  // namespace featvis::microscope
