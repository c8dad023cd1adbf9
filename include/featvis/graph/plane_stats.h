#pragma once
// Per-channel statistics of one plane of interleaved channels: what the examples scan
// records of every unit (BlockedBackprop::channel_stats), read straight from oneDNN's
// nChw8c / nChw16c layouts.
#include <cstdint>

namespace featvis::graph {

// `plane` holds `block` channels per pixel (1, 8 or 16), pixel (y, x) at
// y * row_stride + x * pixel_stride floats. Per channel l < block: total[l] = the sum of
// its values (each row summed in float, the rows in double), best[l] = the maximum and
// where[l] = its first position y * width + x. The same numbers on every CPU: each lane
// is one channel summed in the same order, whatever the vector width the CPU runs.
void plane_stats(int block, const float* plane, int64_t height, int64_t width, int64_t row_stride,
                 int64_t pixel_stride, double* total, float* best, int64_t* where);

// The same in vectors of `lanes` floats (1, 4, 8 or 16; plane_stats picks the widest this CPU
// runs), for tests that compare them. False, and nothing written, where this CPU or block
// cannot use that width.
bool plane_stats_in_lanes(int lanes, int block, const float* plane, int64_t height, int64_t width,
                          int64_t row_stride, int64_t pixel_stride, double* total, float* best, int64_t* where);

}  // namespace featvis::graph
