#pragma once
// JPEG bytes of 8-bit RGB pixels, by libjpeg-turbo (SIMD colour conversion and DCT):
// what save_jpeg writes and what the dataset-example crops are. Baseline, 4:2:0 chroma,
// Huffman tables optimized per image (about 8% smaller crops for 15% more encode time,
// docs/PERFORMANCE.md).
#include <cstdint>
#include <string>

namespace featvis::image {

// `rgb`: height rows of width x 3 bytes, no padding. quality 1-100. Throws featvis::Error
// for an empty image or a bad quality.
std::string encode_jpeg(const uint8_t* rgb, int width, int height, int quality = 85);

}  // namespace featvis::image
