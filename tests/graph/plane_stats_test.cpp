// The examples scan's per-channel statistics agree, to the bit, at every vector width this
// CPU runs (4-lane SSE2 everywhere; 8-lane AVX2 and 16-lane AVX-512 where present), and with
// plain per-channel loops.
#include <featvis/graph/plane_stats.h>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdio>

namespace {

TEST(PlaneStats, EveryVectorWidthGivesTheSameNumbers) {
  at::manual_seed(11);
  const int64_t height = 13, width = 17;
  for (int block : {8, 16}) {
    // Levels on a coarse grid so maxima tie: the first position must win at every width.
    const at::Tensor plane = (at::randint(0, 7, {height, width, block}, at::kFloat) * 0.25 - 0.6).contiguous();
    const float* p = plane.data_ptr<float>();
    double total1[16], total[16];
    float best1[16], best[16];
    int64_t where1[16], where[16];
    ASSERT_TRUE(featvis::graph::plane_stats_in_lanes(1, block, p, height, width, width * block, block, total1, best1, where1));
    // Against ATen per channel: the maximum, its first position, the mean.
    const at::Tensor flat = plane.view({height * width, block});
    for (int l = 0; l < block; ++l) {
      const at::Tensor channel = flat.select(1, l);
      EXPECT_EQ(best1[l], channel.max().item<float>());
      EXPECT_EQ(where1[l], channel.eq(channel.max()).nonzero()[0][0].item<int64_t>());
      EXPECT_NEAR(total1[l], channel.to(at::kDouble).sum().item<double>(), 1e-4);
    }
    int widths = 0;
    for (int lanes : {4, 8, 16}) {
      if (!featvis::graph::plane_stats_in_lanes(lanes, block, p, height, width, width * block, block, total, best, where))
        continue;
      ++widths;
      for (int l = 0; l < block; ++l) {
        EXPECT_EQ(total[l], total1[l]) << lanes << " lanes, channel " << l;
        EXPECT_EQ(best[l], best1[l]) << lanes << " lanes, channel " << l;
        EXPECT_EQ(where[l], where1[l]) << lanes << " lanes, channel " << l;
      }
    }
    std::printf("[ plane stats ] block %d: %d vector widths on this CPU agree with the loops\n", block, widths);
    EXPECT_GE(widths, 1);  // SSE2 at least
  }
}

}  // namespace
