#pragma once
// Antialiased bilinear downscaling of 8-bit RGB images in plain loops: the filter of
// ATen's _upsample_bilinear2d_aa (PIL's triangle filter, support scaled with the
// reduction; weights and sums in float), without ATen's per-call set-up, which costs more
// than the arithmetic for thumbnail-sized images. The height pass comes first (ATen's
// comes second): it runs on whole rows, and the per-pixel width pass on fewer of them.
// Three loop sets, picked by what the CPU has:
// - AVX-512: the height pass 16 floats at a time, written as three colour planes, so the
//   width pass computes 16 output pixels of a plane at once, each tap's inputs picked
//   from two loaded vectors by one permute (when every 16 outputs' taps lie within 32
//   inputs: downscales up to about 1.8x, or 3.4x in groups of 8; larger ones take AVX2);
// - AVX2 and FMA: 8 floats at a time, two pixels per vector in the width pass;
// - portable: 4 floats (one pixel).
// The AVX-512 and AVX2 loops add the same products in the same order with the same fused
// multiply-adds, so their bytes are equal.
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
  enum class Loops { kPortable, kAvx2, kAvx512 };

  // The widest loops the CPU has, up to `widest` (narrower ones are for the tests, which
  // check every set the machine can run).
  explicit Rgb8Resizer(Loops widest = Loops::kAvx512);
  Loops loops() const { return loops_; }

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
    // The AVX-512 width pass (made by AVX-512 resizers only): outputs in groups of `group`
    // (16 or 8; 0: the taps of some group span more than 32 inputs, or none made), per group the first input loaded, and per tap 16
    // lanes of input indices relative to it and of weights (lanes past the group or the
    // last output: index 0, weight 0).
    int64_t group = 0;
    std::vector<int32_t> group_base;
    std::vector<int32_t> group_index;
    std::vector<float> group_weights;
  };

 private:
  const Axis& axis(int64_t input_size, int64_t output_size);

  void resize_avx512(const uint8_t* src, int64_t src_stride, const Axis& down, const Axis& across, int64_t w,
                     uint8_t* dst, int64_t height, int64_t width);

  Loops loops_;
  std::map<std::pair<int64_t, int64_t>, Axis> axes_;
  std::vector<float> rows_;  // the height pass's output, + padding read by the last pixel's 4th lane or the permutes
  std::vector<float> line_;  // one output row in float before rounding (AVX2, AVX-512)
};


}  // namespace featvis::image
