#include <featvis/graph/plane_stats.h>
#include <featvis/util/cpu_features.h>

#include <cstring>
#include <limits>

// Wide vectors pass between the inline helpers only, never across this file's interface.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace featvis::graph {
namespace {

using Kind = PlaneActivation::Kind;

// Lanes of W floats with GCC's vector extensions: any target gets its own instructions,
// and the x86-64 entry points below compile the same loop for wider registers.
template <int W>
struct Lanes {
  typedef float F __attribute__((vector_size(4 * W)));
  typedef int32_t I __attribute__((vector_size(4 * W)));
};

// oneDNN's eltwise formulas (relu_fwd, clip_v2_fwd), for one float or a vector of them.
template <Kind A, typename T>
__attribute__((always_inline)) inline T activate(T v, T alpha, T beta) {
  if constexpr (A == Kind::kRelu) {
    return v > T{} ? v : v * alpha;
  } else {
    const T s = v > alpha ? v : alpha;
    return s > beta ? beta : s;
  }
}

template <int B, Kind A>
void scalar_stats(const float* plane, int64_t height, int64_t width, int64_t row_stride, int64_t pixel_stride,
                  double* total, float* best, int64_t* where, const PlaneActivation& act) {
  for (int l = 0; l < B; ++l) {
    float max = -std::numeric_limits<float>::infinity();
    int64_t at = 0;
    double sum = 0.0;
    for (int64_t y = 0; y < height; ++y) {
      float row = 0.f;
      for (int64_t x = 0; x < width; ++x) {
        const int64_t i = y * row_stride + x * pixel_stride + l;
        const float v = plane[i];
        row += v;
        if (v > max) {
          max = v;
          at = y * width + x;
        }
        if constexpr (A != Kind::kNone) act.out[i] = activate<A>(v, act.alpha, act.beta);
      }
      sum += row;
    }
    total[l] = sum;
    best[l] = max;
    where[l] = at;
  }
}

template <int B, int W, Kind A>
__attribute__((always_inline)) inline void vector_stats(const float* plane, int64_t height, int64_t width,
                                                         int64_t row_stride, int64_t pixel_stride, double* total,
                                                         float* best, int64_t* where, const PlaneActivation& act) {
  using F = typename Lanes<W>::F;
  using I = typename Lanes<W>::I;
  constexpr int V = B / W;
  F max[V];
  I at[V];
  double sum[B] = {};
  for (int v = 0; v < V; ++v) {
    max[v] = F{} - std::numeric_limits<float>::infinity();
    at[v] = I{};
  }
  const F alpha = F{} + act.alpha, beta = F{} + act.beta;
  for (int64_t y = 0; y < height; ++y) {
    F row[V] = {};
    const float* p = plane + y * row_stride;
    for (int64_t x = 0; x < width; ++x, p += pixel_stride) {
      const I index = I{} + static_cast<int32_t>(y * width + x);
      for (int v = 0; v < V; ++v) {
        F value;
        std::memcpy(&value, p + W * v, sizeof value);
        row[v] += value;
        const I above = value > max[v];
        max[v] = above ? value : max[v];
        at[v] = above ? index : at[v];
        if constexpr (A != Kind::kNone) {
          const F out = activate<A>(value, alpha, beta);
          std::memcpy(act.out + (p - plane) + W * v, &out, sizeof out);
        }
      }
    }
    for (int v = 0; v < V; ++v)
      for (int l = 0; l < W; ++l) sum[W * v + l] += row[v][l];
  }
  for (int v = 0; v < V; ++v)
    for (int l = 0; l < W; ++l) {
      total[W * v + l] = sum[W * v + l];
      best[W * v + l] = max[v][l];
      where[W * v + l] = at[v][l];
    }
}

#define FEATVIS_PLANE_STATS_ARGS                                                                               \
  const float *plane, int64_t height, int64_t width, int64_t row_stride, int64_t pixel_stride, double *total, \
      float *best, int64_t *where, const PlaneActivation &act
#define FEATVIS_PLANE_STATS_PASS plane, height, width, row_stride, pixel_stride, total, best, where, act

// The activation as a template argument: no branch in the inner loop.
template <template <int, Kind> class Run, int B>
void with_activation(FEATVIS_PLANE_STATS_ARGS) {
  switch (act.kind) {
    case Kind::kNone: Run<B, Kind::kNone>::go(FEATVIS_PLANE_STATS_PASS); break;
    case Kind::kRelu: Run<B, Kind::kRelu>::go(FEATVIS_PLANE_STATS_PASS); break;
    case Kind::kClip: Run<B, Kind::kClip>::go(FEATVIS_PLANE_STATS_PASS); break;
  }
}

template <int B, Kind A>
struct Scalar {
  static void go(FEATVIS_PLANE_STATS_ARGS) { scalar_stats<B, A>(FEATVIS_PLANE_STATS_PASS); }
};
template <int B, Kind A>
struct Sse {
  static void go(FEATVIS_PLANE_STATS_ARGS) { vector_stats<B, 4, A>(FEATVIS_PLANE_STATS_PASS); }
};

#if FEATVIS_X86_TARGETS
// The statistics read every recorded activation once: a tenth of the scan's time in 4-lane
// SSE2. A 16-channel block is one AVX-512 register, two AVX2 ones.
template <int B, Kind A>
__attribute__((target("avx2"))) void stats_avx2(FEATVIS_PLANE_STATS_ARGS) {
  vector_stats<B, 8, A>(FEATVIS_PLANE_STATS_PASS);
}
template <Kind A>
__attribute__((target("avx512f"))) void stats_avx512(FEATVIS_PLANE_STATS_ARGS) {
  vector_stats<16, 16, A>(FEATVIS_PLANE_STATS_PASS);
}
template <int B, Kind A>
struct Avx2 {
  static void go(FEATVIS_PLANE_STATS_ARGS) { stats_avx2<B, A>(FEATVIS_PLANE_STATS_PASS); }
};
template <int B, Kind A>
struct Avx512 {
  static void go(FEATVIS_PLANE_STATS_ARGS) { stats_avx512<A>(FEATVIS_PLANE_STATS_PASS); }
};
#endif

}  // namespace

bool plane_stats_in_lanes(int lanes, int block, FEATVIS_PLANE_STATS_ARGS) {
  if (block != 1 && block != 8 && block != 16) return false;
  if (lanes == 1) {
    if (block == 16) with_activation<Scalar, 16>(FEATVIS_PLANE_STATS_PASS);
    else if (block == 8) with_activation<Scalar, 8>(FEATVIS_PLANE_STATS_PASS);
    else with_activation<Scalar, 1>(FEATVIS_PLANE_STATS_PASS);
    return true;
  }
  if (block == 1) return false;
  if (lanes == 4) {
    if (block == 16) with_activation<Sse, 16>(FEATVIS_PLANE_STATS_PASS);
    else with_activation<Sse, 8>(FEATVIS_PLANE_STATS_PASS);
    return true;
  }
#if FEATVIS_X86_TARGETS
  if (lanes == 8 && cpu_has_avx2()) {
    if (block == 16) with_activation<Avx2, 16>(FEATVIS_PLANE_STATS_PASS);
    else with_activation<Avx2, 8>(FEATVIS_PLANE_STATS_PASS);
    return true;
  }
  if (lanes == 16 && block == 16 && cpu_has_avx512f()) {
    with_activation<Avx512, 16>(FEATVIS_PLANE_STATS_PASS);
    return true;
  }
#endif
  return false;
}

void plane_stats(int block, FEATVIS_PLANE_STATS_ARGS) {
  for (int lanes : {16, 8, 4, 1})
    if (plane_stats_in_lanes(lanes, block, FEATVIS_PLANE_STATS_PASS)) return;
}

}  // namespace featvis::graph
