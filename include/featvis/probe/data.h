#pragma once
// Labelled images for a linear probe: a folder with labels.csv (columns file, class_index;
// as ../shared/images/imagenet-samples) or an IDX image/label pair (gzip or not). Grey
// IDX images are fed as RGB through the card's crop and scaling like any photo.
#include <featvis/model/card.h>

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace featvis::probe {

class ProbeData {
 public:
  // `spec`: a folder holding labels.csv; an IDX images file whose labels file has the same
  // name with "images-idx3" replaced by "labels-idx1" (Fashion-MNIST's naming); or
  // "IMAGES,LABELS" IDX paths. `limit` > 0 keeps the first `limit` items. Throws
  // featvis::Error for missing or corrupt files, counts that differ, negative labels.
  static ProbeData open(const std::string& spec, int64_t limit = 0);

  int64_t size() const { return static_cast<int64_t>(labels_.size()); }
  const std::vector<int64_t>& labels() const { return labels_; }
  const std::string& spec() const { return spec_; }
  // Distinct labels, ascending.
  std::vector<int64_t> classes() const;

  // Items [begin, begin + count) as the network's [count, 3, H, W] input in [0, 1] RGB (the
  // card's crop, before its pixel scaling). A photo that cannot be read is an error.
  at::Tensor images01(int64_t begin, int64_t count, const model::Preprocessing& pre) const;

 private:
  std::string spec_;
  std::vector<int64_t> labels_;
  std::vector<std::string> paths_;  // folder form
  at::Tensor idx_images_;           // IDX form: [N, H, W] uint8
};

}  // namespace featvis::probe
