#include <featvis/dataset_examples/crops.h>
#include <featvis/image/image.h>
#include <featvis/util/error.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

namespace featvis::dataset_examples {
namespace {

namespace fs = std::filesystem;

struct Crop {
  std::array<int64_t, 4> box;  // x0, y0, x1, y1
  std::string path;
};

// [3, h, w] pixel levels 0..255 -> [3, h', w'] in [0, 1], longest side at most max_side,
// resized with the same antialiased filter as the network input.
at::Tensor thumbnail(const at::Tensor& levels, int max_side) {
  const int64_t h = levels.size(1), w = levels.size(2);
  if (std::max(h, w) <= max_side) return levels / 255.0;
  const double scale = static_cast<double>(max_side) / std::max(h, w);
  model::Preprocessing pre;
  pre.crop = model::Preprocessing::Crop::kStretch;
  pre.height = static_cast<int>(std::max<int64_t>(1, std::lround(h * scale)));
  pre.width = static_cast<int>(std::max<int64_t>(1, std::lround(w * scale)));
  pre.mean = {0.f, 0.f, 0.f};
  pre.std = {255.f, 255.f, 255.f};
  return image::preprocess_image(levels.round().clamp(0, 255).to(at::kByte).permute({1, 2, 0}).contiguous(), pre);
}

}  // namespace

void write_crops(const std::string& dir, const ExamplesIndex& index, const model::Preprocessing& card, int max_side) {
  if (max_side < 1) throw Error("thumbnail size must be at least 1 pixel");
  std::map<int64_t, std::vector<Crop>> by_image;
  std::set<fs::path> folders;
  for (const auto& layer : index.layers)
    for (const auto& unit : layer.units)
      for (const auto& e : unit.top_max) {
        by_image[e.image].push_back({e.box, (fs::path(dir) / e.crop).string()});
        folders.insert(fs::path(dir) / fs::path(e.crop).parent_path());
      }
  for (const auto& f : folders) {
    std::error_code ec;
    fs::create_directories(f, ec);
    if (ec) throw Error("cannot create folder '" + f.string() + "': " + ec.message());
  }
  // The network's view of the photo in pixel levels: the card's crop, no scaling.
  model::Preprocessing view = card;
  view.mean = {0.f, 0.f, 0.f};
  view.std = {1.f, 1.f, 1.f};
  view.bgr = false;
  // Crops are tiny tensors: forking ATen's thread team per op costs more than it saves
  // (7x slower with 2 threads on a busy machine), so this part runs on one thread.
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  struct Restore {
    int threads;
    ~Restore() { at::set_num_threads(threads); }
  } restore{threads};
  // One photo at a time, decoded once however many crops it gives.
  for (const auto& [image, crops] : by_image) {
    const std::string path = (fs::path(index.images_root) / index.images[static_cast<size_t>(image)]).string();
    const at::Tensor levels = image::load_network_input(path, view);
    for (const Crop& c : crops) {
      const auto [x0, y0, x1, y1] = c.box;
      if (x1 <= x0 || y1 <= y0) throw Error("empty crop box for '" + c.path + "'");
      image::save_jpeg(c.path, thumbnail(levels.slice(1, y0, y1).slice(2, x0, x1), max_side));
    }
  }
}

}  // namespace featvis::dataset_examples
