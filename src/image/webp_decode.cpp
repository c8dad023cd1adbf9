// WebP photos (lossy and lossless) through libwebp.
#include "decoders.h"

#include <featvis/util/error.h>

#include <webp/decode.h>

namespace featvis::image::detail {

bool is_webp(const std::string& bytes) {
  return bytes.size() >= 12 && bytes.compare(0, 4, "RIFF") == 0 && bytes.compare(8, 4, "WEBP") == 0;
}

at::Tensor decode_webp(const std::string& bytes, const std::string& path) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  int width = 0, height = 0;
  if (!WebPGetInfo(data, bytes.size(), &width, &height)) {
    throw Error("cannot read image '" + path + "': corrupt WebP header");
  }
  at::Tensor rgb = at::empty({height, width, 3}, at::kByte);
  const int stride = width * 3;
  if (!WebPDecodeRGBInto(data, bytes.size(), rgb.data_ptr<uint8_t>(), static_cast<size_t>(stride) * height, stride)) {
    throw Error("cannot read image '" + path + "': corrupt or unsupported WebP data");
  }
  return rgb;
}

}  // namespace featvis::image::detail
