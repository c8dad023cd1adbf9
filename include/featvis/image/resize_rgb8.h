#pragma once
// Antialiased bilinear downscaling of 8-bit RGB images in plain loops: the filter of
// ATen's _upsample_bilinear2d_aa (PIL's triangle filter, support scaled with the
// reduction; weights and sums in float), without ATen's per-call set-up, which costs more
// than the arithmetic for thumbnail-sized images. The height pass comes first (ATen's
// comes second): it runs on whole rows, and the per-pixel width pass on fewer of them.
// On CPUs with AVX2 and FMA both passes run 8 floats at a time (two pixels in the width
// pass); elsewhere 4 (one pixel).
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace featvis::image {

// Resizes many images one after another without allocating: the filter weights of each
// (input, output) length and the intermediate rows are kept between calls. Not
// thread-safe: one per thread.
class Rgb8Resizer {
 public:
  // wide_vectors: the AVX2 loops where the CPU has them (false: the portable ones, which
  // the tests also check on AVX2 machines).
  explicit Rgb8Resizer(bool wide_vectors = true);

  // `src`: h rows of w RGB pixels, the rows `src_stride` bytes apart (a box inside a
  // larger image); `dst`: height rows of width pixels, packed. Rounded half to even and
  // clamped as preprocess_image rounds. Equal to ATen's _upsample_bilinear2d_aa up to float
  // rounding (the pass order, fused multiply-adds in ATen's build and in the AVX2 loops): a
  // level at a rounding tie can differ by 1 (tests/image/resize_rgb8_test.cpp).
  void resize(const uint8_t* src, int64_t h, int64_t w, int64_t src_stride, uint8_t* dst, int64_t height,
              int64_t width);

  // For each output index: the first input index and its weights (ATen's types: float,
  // with its double intermediates). Every output gets the same number of taps, the most
  // any needs, zero-weighted where it needs fewer, so the loops have a fixed length.
  struct Axis {
    int64_t taps = 0;
    std::vector<int64_t> first;
    std::vector<float> weights;  // output-major, `taps` per output
    std::vector<float> pairs;    // outputs 2k, 2k + 1: per tap, 4 x weight(2k), 4 x weight(2k + 1)
  };

 private:
  const Axis& axis(int64_t input_size, int64_t output_size);

  bool wide_;
  std::map<std::pair<int64_t, int64_t>, Axis> axes_;
  std::vector<float> rows_;  // the height pass's output, + padding read by the last pixel's 4th lane
  std::vector<float> line_;  // one output row in float before rounding (wide path)
};


}  // namespace featvis::image
