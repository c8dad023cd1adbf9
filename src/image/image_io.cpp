// Decoding photos (JPEG by libjpeg-turbo, WebP, TIFF, picked by their first bytes;
// stb_image for the rest; JPEGs turned upright by their EXIF orientation) and writing
// PNGs with stb_image_write, JPEGs with libjpeg-turbo.
#include "decoders.h"

#include <featvis/image/image.h>
#include <featvis/image/jpeg.h>
#include <featvis/image/webp.h>
#include <featvis/image/png.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <stb_image.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>

namespace featvis::image {

bool is_photo_file_name(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".webp" || ext == ".tif" || ext == ".tiff";
}

at::Tensor load_image_rgb8(const std::string& path) {
  std::string bytes;
  try {
    bytes = read_file(path);
  } catch (const Error&) {
    throw Error("cannot read image '" + path + "': file missing or unreadable");
  }
  if (bytes.empty()) throw Error("cannot read image '" + path + "': file is empty");
  if (detail::is_webp(bytes)) return detail::decode_webp(bytes, path);
  if (detail::is_tiff(bytes)) return detail::decode_tiff(bytes, path);
  if (detail::is_jpeg(bytes)) {
    const at::Tensor rgb = detail::decode_jpeg(bytes, path);
    if (rgb.defined()) return detail::apply_exif_orientation(rgb, detail::jpeg_exif_orientation(bytes));
  }
  int width = 0, height = 0, channels = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                            static_cast<int>(bytes.size()), &width, &height, &channels, 3),
      stbi_image_free);
  if (!pixels) {
    throw Error("cannot read image '" + path + "': not a supported JPEG/PNG/WebP/TIFF/BMP/GIF image (" +
                stbi_failure_reason() + ")");
  }
  at::Tensor rgb = at::empty({height, width, 3}, at::kByte);
  std::memcpy(rgb.data_ptr(), pixels.get(), static_cast<size_t>(width) * height * 3);
  return detail::apply_exif_orientation(rgb, detail::jpeg_exif_orientation(bytes));
}

namespace {

// [3,H,W] or [1,H,W] in [0,1] -> contiguous [H,W,C] bytes on the CPU.
at::Tensor to_hwc8(const at::Tensor& chw01, const char* what) {
  if (chw01.dim() != 3 || (chw01.size(0) != 3 && chw01.size(0) != 1)) {
    throw Error(std::string(what) + " expects a [3,H,W] or [1,H,W] image");
  }
  return (chw01.detach().to(at::kCPU, at::kFloat).clamp(0, 1) * 255.0)
      .round()
      .to(at::kByte)
      .permute({1, 2, 0})
      .contiguous();
}

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), size);
}

}  // namespace

std::string encode_png(const at::Tensor& chw01) {
  const at::Tensor hwc = to_hwc8(chw01, "encode_png");
  const int h = static_cast<int>(hwc.size(0)), w = static_cast<int>(hwc.size(1));
  const int c = static_cast<int>(hwc.size(2));
  std::string png;
  if (!stbi_write_png_to_func(append_bytes, &png, w, h, c, hwc.data_ptr(), w * c)) {
    throw Error("cannot encode a " + std::to_string(w) + "x" + std::to_string(h) + " PNG");
  }
  return png;
}

void save_png(const std::string& path, const at::Tensor& chw01) {
  const std::string png = encode_png(chw01);
  write_file_atomically(path, png);
}

void save_jpeg(const std::string& path, const at::Tensor& chw01, int quality) {
  const at::Tensor hwc = to_hwc8(chw01, "save_jpeg");
  const int h = static_cast<int>(hwc.size(0)), w = static_cast<int>(hwc.size(1));
  const int c = static_cast<int>(hwc.size(2));
  const at::Tensor rgb = c == 3 ? hwc : hwc.expand({h, w, 3}).contiguous();
  write_file_atomically(path, encode_jpeg(rgb.data_ptr<uint8_t>(), w, h, quality));
}

void save_webp(const std::string& path, const at::Tensor& chw01, float quality) {
  const at::Tensor hwc = to_hwc8(chw01, "save_webp");
  const int h = static_cast<int>(hwc.size(0)), w = static_cast<int>(hwc.size(1));
  const at::Tensor rgb = hwc.size(2) == 3 ? hwc : hwc.expand({h, w, 3}).contiguous();
  write_file_atomically(path, encode_webp(rgb.data_ptr<uint8_t>(), w, h, quality));
}

}  // namespace featvis::image
