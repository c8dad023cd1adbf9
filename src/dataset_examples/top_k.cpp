#include <featvis/dataset_examples/top_k.h>
#include <featvis/util/error.h>

#include <limits>

namespace featvis::dataset_examples {

TopK::TopK(int64_t units, int64_t k, bool largest, const at::TensorOptions& options) : largest_(largest) {
  if (units < 1 || k < 1) throw Error("top-k state needs at least one unit and k >= 1");
  const double empty = largest ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  scores_ = at::full({units, k}, empty, options.dtype(at::kFloat));
  images_ = at::full({units, k}, -1, options.dtype(at::kLong));
  positions_ = at::full({units, k}, -1, options.dtype(at::kLong));
}

TopK::TopK(at::Tensor scores, at::Tensor images, at::Tensor positions, bool largest)
    : scores_(std::move(scores)), images_(std::move(images)), positions_(std::move(positions)), largest_(largest) {
  if (scores_.dim() != 2 || !images_.sizes().equals(scores_.sizes()) || !positions_.sizes().equals(scores_.sizes()))
    throw Error("top-k state: scores, images and positions differ in shape");
}

void TopK::add(const at::Tensor& scores, const at::Tensor& images, const at::Tensor& positions) {
  const int64_t n = scores.size(0);
  if (n == 0) return;
  if (scores.dim() != 2 || scores.size(1) != units())
    throw Error("top-k state: batch scores have " + std::to_string(scores.size(-1)) + " units, state has " +
                std::to_string(units()));
  // Candidates per unit: the K kept (earlier images) then the batch in image order, so a
  // stable sort breaks ties towards the earlier image.
  const at::Tensor all_scores = at::cat({scores_, scores.t().to(scores_.options())}, 1);
  const at::Tensor all_images =
      at::cat({images_, images.to(images_.options()).unsqueeze(0).expand({units(), n})}, 1);
  const at::Tensor all_positions = at::cat({positions_, positions.t().to(positions_.options())}, 1);
  const at::Tensor order = std::get<1>(at::sort(all_scores, /*stable=*/true, /*dim=*/1, /*descending=*/largest_))
                               .narrow(1, 0, k());
  scores_ = all_scores.gather(1, order);
  images_ = all_images.gather(1, order);
  positions_ = all_positions.gather(1, order);
}

}  // namespace featvis::dataset_examples
