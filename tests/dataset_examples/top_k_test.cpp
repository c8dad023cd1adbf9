// The per-unit top-K state against a brute-force sort of everything seen, for any
// batching, with ties broken towards the earlier image.
#include <featvis/dataset_examples/top_k.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace {

// Brute force: for each unit, all (score, image) pairs sorted, best first, earlier image on ties.
std::vector<std::vector<std::pair<float, int64_t>>> brute_force(const at::Tensor& scores, int64_t k, bool largest) {
  std::vector<std::vector<std::pair<float, int64_t>>> out(static_cast<size_t>(scores.size(1)));
  for (int64_t u = 0; u < scores.size(1); ++u) {
    auto& list = out[static_cast<size_t>(u)];
    for (int64_t i = 0; i < scores.size(0); ++i) list.emplace_back(scores[i][u].item<float>(), i);
    std::stable_sort(list.begin(), list.end(), [&](const auto& a, const auto& b) {
      return largest ? a.first > b.first : a.first < b.first;
    });
    list.resize(std::min<size_t>(list.size(), static_cast<size_t>(k)));
  }
  return out;
}

void expect_matches(const featvis::dataset_examples::TopK& state, const at::Tensor& all, int64_t k, bool largest) {
  const auto want = brute_force(all, k, largest);
  for (int64_t u = 0; u < state.units(); ++u) {
    const auto& list = want[static_cast<size_t>(u)];
    for (int64_t r = 0; r < k; ++r) {
      if (r < static_cast<int64_t>(list.size())) {
        EXPECT_EQ(state.images()[u][r].item<int64_t>(), list[r].second) << "unit " << u << " rank " << r;
        EXPECT_EQ(state.scores()[u][r].item<float>(), list[r].first) << "unit " << u << " rank " << r;
        // The position travels with its image.
        EXPECT_EQ(state.positions()[u][r].item<int64_t>(), list[r].second * 100 + u);
      } else {
        EXPECT_EQ(state.images()[u][r].item<int64_t>(), -1) << "empty slot";
      }
    }
  }
}

void feed(featvis::dataset_examples::TopK& state, const at::Tensor& all, int64_t batch) {
  for (int64_t begin = 0; begin < all.size(0); begin += batch) {
    const int64_t n = std::min(batch, all.size(0) - begin);
    const at::Tensor images = at::arange(begin, begin + n, at::kLong);
    const at::Tensor positions = images.unsqueeze(1) * 100 + at::arange(all.size(1), at::kLong).unsqueeze(0);
    state.add(all.narrow(0, begin, n), images, positions);
  }
}

TEST(TopK, MatchesBruteForceForAnyBatching) {
  at::manual_seed(1);
  const at::Tensor all = at::randn({50, 7});
  for (bool largest : {true, false})
    for (int64_t batch : {1, 3, 16, 50}) {
      SCOPED_TRACE("largest " + std::to_string(largest) + " batch " + std::to_string(batch));
      featvis::dataset_examples::TopK state(7, 5, largest);
      feed(state, all, batch);
      expect_matches(state, all, 5, largest);
    }
}

TEST(TopK, TiesKeepTheEarlierImage) {
  // Scores rounded to few values: many ties; the answer must not depend on batching.
  at::manual_seed(2);
  const at::Tensor all = at::randint(0, 3, {40, 4}).to(at::kFloat);
  for (int64_t batch : {1, 7, 40}) {
    featvis::dataset_examples::TopK state(4, 6, true);
    feed(state, all, batch);
    expect_matches(state, all, 6, true);
  }
}

TEST(TopK, FewerImagesThanKLeaveEmptySlots) {
  const at::Tensor all = at::tensor({1.f, 3.f, 2.f}).view({3, 1});
  featvis::dataset_examples::TopK state(1, 5, true);
  feed(state, all, 2);
  expect_matches(state, all, 5, true);
}

TEST(TopK, StateStaysKPerUnitHoweverManyImages) {
  featvis::dataset_examples::TopK state(1000, 9, true);
  const int64_t bytes = state.scores().nbytes() + state.images().nbytes() + state.positions().nbytes();
  for (int64_t b = 0; b < 20; ++b) {
    const at::Tensor images = at::arange(b * 64, (b + 1) * 64, at::kLong);
    state.add(at::randn({64, 1000}), images, at::zeros({64, 1000}, at::kLong));
  }
  EXPECT_EQ(state.scores().sizes(), (std::vector<int64_t>{1000, 9}));
  EXPECT_EQ(state.scores().nbytes() + state.images().nbytes() + state.positions().nbytes(), bytes);
}

}  // namespace
