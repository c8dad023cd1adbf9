#pragma once
// WebP bytes of 8-bit RGB pixels, by libwebp: the Microscope's full-size renders. Lossy
// WebP keeps the fine texture of feature visualizations at a fraction of a PNG's size
// (docs/PERFORMANCE.md); the encoder is single-threaded and deterministic, so equal pixels
// give equal bytes (a sharded site equals a one-process one).
#include <cstdint>
#include <string>

namespace featvis::image {

// `rgb`: height rows of width x 3 bytes, no padding. quality 0-100 (lossy). Throws
// featvis::Error for an empty image, a bad quality or an encoder failure.
std::string encode_webp(const uint8_t* rgb, int width, int height, float quality = 90);

}  // namespace featvis::image
