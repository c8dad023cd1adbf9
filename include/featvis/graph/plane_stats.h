#pragma once
// Per-channel statistics of one plane of interleaved channels: what the examples scan
// records of every unit (BlockedBackprop::channel_stats), read straight from oneDNN's
// nChw8c / nChw16c layouts; optionally with the activation that follows a recorded
// convolution applied in the same pass, so that the tensor is read once for both.
#include <cstdint>

namespace featvis::graph {

// The activation written while the statistics are read: out = f(value) at the same
// position, where `out` has the plane's strides (it may be the plane itself). The
// formulas are oneDNN's eltwise ones, so the output has the same bits as its primitive:
//   kRelu: value > 0 ? value : value * alpha (ReLU, LeakyReLU)
//   kClip: min(max(value, alpha), beta) as clip_v2 computes it (Clip, ReLU6).
struct PlaneActivation {
  enum class Kind { kNone, kRelu, kClip };
  Kind kind = Kind::kNone;
  float alpha = 0.f, beta = 0.f;
  float* out = nullptr;
};

// `plane` holds `block` channels per pixel (1, 8 or 16), pixel (y, x) at
// y * row_stride + x * pixel_stride floats. Per channel l < block: total[l] = the sum of
// its values (each row summed in float, the rows in double), best[l] = the maximum and
// where[l] = its first position y * width + x. The same numbers on every CPU: each lane
// is one channel summed in the same order, whatever the vector width the CPU runs.
// The statistics are of the values before the activation.
void plane_stats(int block, const float* plane, int64_t height, int64_t width, int64_t row_stride,
                 int64_t pixel_stride, double* total, float* best, int64_t* where, const PlaneActivation& act = {});

// The same in vectors of `lanes` floats (1, 4, 8 or 16; plane_stats picks the widest this CPU
// runs), for tests that compare them. False, and nothing written, where this CPU or block
// cannot use that width.
bool plane_stats_in_lanes(int lanes, int block, const float* plane, int64_t height, int64_t width,
                          int64_t row_stride, int64_t pixel_stride, double* total, float* best, int64_t* where,
                          const PlaneActivation& act = {});

}  // namespace featvis::graph
