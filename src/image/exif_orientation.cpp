// EXIF orientation of JPEGs: phones store the sensor's pixels and a tag saying how to
// turn them upright; viewers apply it, so featvis must too.
#include "decoders.h"

#include <cstdint>

namespace featvis::image::detail {
namespace {

// Reads the orientation tag (0x0112) from IFD0 of the TIFF structure inside an Exif APP1.
int orientation_in_tiff(const std::string& b, size_t start, size_t end) {
  if (end - start < 8) return 1;
  const bool little = b.compare(start, 2, "II") == 0;
  if (!little && b.compare(start, 2, "MM") != 0) return 1;
  auto u16 = [&](size_t at) -> uint32_t {
    const auto lo = static_cast<uint8_t>(b[at]), hi = static_cast<uint8_t>(b[at + 1]);
    return little ? (lo | hi << 8) : (hi | lo << 8);
  };
  auto u32 = [&](size_t at) -> uint32_t { return little ? (u16(at) | u16(at + 2) << 16) : (u16(at) << 16 | u16(at + 2)); };
  const uint64_t ifd = start + static_cast<uint64_t>(u32(start + 4));
  if (ifd + 2 > end) return 1;
  const uint32_t entries = u16(ifd);
  for (uint32_t i = 0; i < entries; ++i) {
    const uint64_t entry = ifd + 2 + 12ull * i;
    if (entry + 12 > end) return 1;
    if (u16(entry) == 0x0112 && u16(entry + 2) == 3) {  // SHORT value, stored in the entry itself
      const uint32_t value = u16(entry + 8);
      return value >= 1 && value <= 8 ? static_cast<int>(value) : 1;
    }
  }
  return 1;
}

}  // namespace

int jpeg_exif_orientation(const std::string& b) {
  if (b.size() < 4 || static_cast<uint8_t>(b[0]) != 0xFF || static_cast<uint8_t>(b[1]) != 0xD8) return 1;
  size_t pos = 2;
  // Walk the marker segments before the image data (start of scan, 0xDA).
  while (pos + 4 <= b.size() && static_cast<uint8_t>(b[pos]) == 0xFF) {
    const auto marker = static_cast<uint8_t>(b[pos + 1]);
    if (marker == 0xDA || marker == 0xD9) break;
    const size_t length = static_cast<uint8_t>(b[pos + 2]) << 8 | static_cast<uint8_t>(b[pos + 3]);
    if (length < 2 || pos + 2 + length > b.size()) break;
    const size_t body = pos + 4, end = pos + 2 + length;
    if (marker == 0xE1 && end - body >= 6 && b.compare(body, 6, std::string("Exif\0\0", 6)) == 0) {
      return orientation_in_tiff(b, body + 6, end);
    }
    pos = end;
  }
  return 1;
}

at::Tensor apply_exif_orientation(const at::Tensor& hwc, int orientation) {
  switch (orientation) {
    case 2: return hwc.flip({1}).contiguous();                    // mirrored
    case 3: return hwc.flip({0, 1}).contiguous();                 // upside down
    case 4: return hwc.flip({0}).contiguous();                    // mirrored upside down
    case 5: return hwc.transpose(0, 1).contiguous();              // mirrored, turned
    case 6: return hwc.transpose(0, 1).flip({1}).contiguous();    // needs 90 degrees clockwise
    case 7: return hwc.transpose(0, 1).flip({0, 1}).contiguous(); // mirrored, turned the other way
    case 8: return hwc.transpose(0, 1).flip({0}).contiguous();    // needs 90 degrees counter-clockwise
    default: return hwc;
  }
}

}  // namespace featvis::image::detail
