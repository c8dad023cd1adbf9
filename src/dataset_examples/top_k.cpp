#include <featvis/dataset_examples/top_k.h>
#include <featvis/util/error.h>

#include <ATen/Parallel.h>

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
  if (scores_.device().is_cpu() && scores.device().is_cpu()) {
    add_on_cpu(scores, images, positions);
    return;
  }
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

// The same merge as a loop: most candidates lose to the unit's K-th entry at one comparison,
// where the sort above costs a sort of K + N per unit (18,057 units x 3 rankings a batch in
// the examples scan). A candidate enters only if strictly better than an entry, after every
// entry at least as good: ties keep the earlier image, as the stable sort does. (NaN never
// enters.)
void TopK::add_on_cpu(const at::Tensor& scores, const at::Tensor& images, const at::Tensor& positions) {
  const int64_t n = scores.size(0), units = this->units(), k = this->k();
  // Updated in place, but tensors handed out by scores() etc. keep their values: a state
  // someone else still holds is copied first (copy on write; the scan holds none, and
  // copying 18,057 units x 3 rankings every batch cost a tenth of its merge time).
  const auto own = [](at::Tensor& t) {
    if (t.use_count() > 1 || !t.is_contiguous()) t = t.clone(at::MemoryFormat::Contiguous);
  };
  own(scores_);
  own(images_);
  own(positions_);
  const at::Tensor batch = scores.to(at::kFloat).contiguous();
  const at::Tensor where = positions.to(at::kLong).contiguous();
  const at::Tensor ids = images.to(at::kLong).contiguous();
  const float* in = batch.data_ptr<float>();
  const int64_t* in_where = where.data_ptr<int64_t>();
  const int64_t* in_ids = ids.data_ptr<int64_t>();
  float* kept = scores_.data_ptr<float>();
  int64_t* kept_images = images_.data_ptr<int64_t>();
  int64_t* kept_positions = positions_.data_ptr<int64_t>();
  const bool largest = largest_;
  at::parallel_for(0, units, 256, [&](int64_t begin, int64_t end) {
    for (int64_t u = begin; u < end; ++u) {
      float* s = kept + u * k;
      int64_t* im = kept_images + u * k;
      int64_t* po = kept_positions + u * k;
      for (int64_t i = 0; i < n; ++i) {
        const float v = in[i * units + u];
        if (!(largest ? v > s[k - 1] : v < s[k - 1])) continue;
        int64_t slot = k - 1;  // after every entry at least as good
        while (slot > 0 && (largest ? v > s[slot - 1] : v < s[slot - 1])) {
          s[slot] = s[slot - 1];
          im[slot] = im[slot - 1];
          po[slot] = po[slot - 1];
          --slot;
        }
        s[slot] = v;
        im[slot] = in_ids[i];
        po[slot] = in_where[i * units + u];
      }
    }
  });
}

}  // namespace featvis::dataset_examples
