#pragma once
// JPEG bytes of 8-bit RGB pixels, by libjpeg-turbo (SIMD colour conversion and DCT):
// what save_jpeg writes and what the dataset-example crops are. Baseline, 4:2:0 chroma.
// Huffman tables optimized per image make a file about 12% smaller, but cost a second
// entropy pass and building the tables, about 3x the encode time of a 128 px thumbnail
// (docs/PERFORMANCE.md, "The crop stage"): save_jpeg optimizes them, the tens of thousands
// of crops of `featvis examples` use the standard tables.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace featvis::image {

struct JpegOptions {
  int quality = 85;               // 1-100
  bool optimize_huffman = true;   // per-image Huffman tables: smaller files, slower
};

// Encodes many images with one libjpeg compressor, so its set-up is paid once. Not
// thread-safe: one per thread.
class JpegEncoder {
 public:
  explicit JpegEncoder(const JpegOptions& options = {});  // throws featvis::Error for a bad quality
  ~JpegEncoder();
  JpegEncoder(const JpegEncoder&) = delete;
  JpegEncoder& operator=(const JpegEncoder&) = delete;

  // `rgb`: height rows of width x 3 bytes, `stride` bytes apart (0: packed, width x 3; a
  // box inside a larger image needs no copy). Throws featvis::Error for an empty image.
  std::string encode(const uint8_t* rgb, int width, int height, int stride = 0);
  // The same bytes in the encoder's own buffer, valid until its next call: no allocation
  // or copy per image once the buffer has grown to the largest.
  std::string_view encode_view(const uint8_t* rgb, int width, int height, int stride = 0);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// One image with a compressor of its own.
std::string encode_jpeg(const uint8_t* rgb, int width, int height, int quality = 85);

}  // namespace featvis::image
