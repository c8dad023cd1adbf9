#include <featvis/util/did_you_mean.h>
#include <featvis/util/edit_distance.h>

#include <algorithm>
#include <numeric>

namespace featvis {

std::vector<size_t> did_you_mean(const std::string& wanted, const std::vector<std::string>& candidates,
                                 size_t count) {
  std::vector<size_t> distance(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) {
    const bool contains = !wanted.empty() && candidates[i].find(wanted) != std::string::npos;
    distance[i] = contains ? 0 : edit_distance(wanted, candidates[i]);
  }
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return distance[a] < distance[b]; });
  order.resize(std::min(count, order.size()));
  return order;
}

}  // namespace featvis
