#include <featvis/probe/data.h>

#include <featvis/image/image.h>
#include <featvis/inference/evaluate.h>
#include <featvis/io/idx.h>
#include <featvis/util/check.h>

#include <filesystem>
#include <set>

namespace featvis::probe {
namespace {

namespace fs = std::filesystem;

// train-images-idx3-ubyte.gz -> train-labels-idx1-ubyte.gz
std::string labels_beside(const std::string& images) {
  const std::string name = fs::path(images).filename().string();
  const size_t at = name.find("images-idx3");
  FEATVIS_CHECK(at != std::string::npos, "'", images,
                "' is neither a folder with labels.csv nor an IDX images file named *images-idx3* "
                "(give IMAGES,LABELS for other names)");
  std::string labels = name;
  labels.replace(at, 11, "labels-idx1");
  return (fs::path(images).parent_path() / labels).string();
}

}  // namespace

ProbeData ProbeData::open(const std::string& spec, int64_t limit) {
  ProbeData d;
  d.spec_ = spec;
  if (fs::is_directory(spec)) {
    const std::string csv = (fs::path(spec) / "labels.csv").string();
    FEATVIS_CHECK(fs::is_regular_file(csv), "data folder '", spec, "' has no labels.csv (columns file, class_index)");
    for (const auto& item : inference::read_labels_csv(csv, spec)) {
      FEATVIS_CHECK(item.label >= 0, "'", csv, "': class_index ", item.label, " of '", item.path, "' is negative");
      d.paths_.push_back(item.path);
      d.labels_.push_back(item.label);
    }
  } else {
    const size_t comma = spec.find(',');
    const std::string images = comma == std::string::npos ? spec : spec.substr(0, comma);
    const std::string labels = comma == std::string::npos ? labels_beside(spec) : spec.substr(comma + 1);
    const io::IdxDataset idx = io::load_idx_dataset(images, labels);
    d.idx_images_ = idx.images;
    const at::Tensor l = idx.labels.contiguous();
    d.labels_.assign(l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + l.numel());
  }
  FEATVIS_CHECK(!d.labels_.empty(), "data '", spec, "' holds no images");
  if (limit > 0 && limit < d.size()) {
    d.labels_.resize(static_cast<size_t>(limit));
    if (!d.paths_.empty()) d.paths_.resize(static_cast<size_t>(limit));
    if (d.idx_images_.defined()) d.idx_images_ = d.idx_images_.narrow(0, 0, limit);
  }
  return d;
}

std::vector<int64_t> ProbeData::classes() const {
  const std::set<int64_t> s(labels_.begin(), labels_.end());
  return {s.begin(), s.end()};
}

at::Tensor ProbeData::images01(int64_t begin, int64_t count, const model::Preprocessing& pre) const {
  std::vector<at::Tensor> items;
  for (int64_t i = begin; i < begin + count; ++i) {
    if (idx_images_.defined()) {
      // Grey to RGB: three equal channels, then the card's crop as for a photo.
      const at::Tensor grey = idx_images_[i];
      items.push_back(image::preprocess_image01(grey.unsqueeze(2).expand({-1, -1, 3}), pre));
    } else {
      items.push_back(image::load_image01(paths_[static_cast<size_t>(i)], pre));
    }
  }
  return at::stack(items);
}

}  // namespace featvis::probe
