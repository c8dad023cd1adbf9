#pragma once
// The K best images per unit, kept as three [units, K] tensors and merged with each batch
// by one sort per batch, so 1000 units x K cost about as much as one unit. Memory is
// K entries per unit however many images pass through.
#include <ATen/ATen.h>

#include <cstdint>

namespace featvis::dataset_examples {

class TopK {
 public:
  // `largest`: keep the highest scores (else the lowest). Empty slots have image -1.
  TopK(int64_t units, int64_t k, bool largest, const at::TensorOptions& options = {});
  // Rebuilt from saved tensors (a checkpoint); throws featvis::Error if their shapes differ.
  TopK(at::Tensor scores, at::Tensor images, at::Tensor positions, bool largest);

  // scores [N, units] float; images [N] int64 (ascending, all above those seen before);
  // positions [N, units] int64 (flattened y*W+x, or -1 when units have no position).
  // Ties keep the earlier image, so the result does not depend on how images are batched.
  void add(const at::Tensor& scores, const at::Tensor& images, const at::Tensor& positions);

  int64_t units() const { return scores_.size(0); }
  int64_t k() const { return scores_.size(1); }
  bool largest() const { return largest_; }
  // [units, K], best first.
  const at::Tensor& scores() const { return scores_; }
  const at::Tensor& images() const { return images_; }
  const at::Tensor& positions() const { return positions_; }

 private:
  void add_on_cpu(const at::Tensor& scores, const at::Tensor& images, const at::Tensor& positions);
  at::Tensor scores_, images_, positions_;
  bool largest_;
};

}  // namespace featvis::dataset_examples
