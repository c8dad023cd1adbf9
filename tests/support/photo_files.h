#pragma once
// Photos in the formats featvis decodes beside stb's, written by the reference libraries
// (libwebp, libtiff), and JPEGs with a crafted EXIF orientation.
#include <ATen/ATen.h>

#include <string>

namespace featvis::testing {

// [H, W, 3] uint8 -> lossless WebP bytes (pixels survive exactly).
std::string encode_webp_lossless(const at::Tensor& hwc8);

// [H, W, 3] uint8 -> baseline RGB TIFF bytes (8 bits, chunky, strips), LZW-compressed if asked.
std::string encode_tiff(const at::Tensor& hwc8, bool lzw = false);

// The JPEG with an Exif APP1 segment (IFD0 with one Orientation entry, in the byte order
// chosen) inserted after its start-of-image marker.
std::string with_exif_orientation(const std::string& jpeg, int orientation, bool big_endian = false);

}  // namespace featvis::testing
