#include <featvis/dataset_examples/crops.h>
#include <featvis/image/image.h>
#include <featvis/image/jpeg.h>
#include <featvis/image/resize_rgb8.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/check.h>
#include <featvis/util/progress.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace featvis::dataset_examples {
namespace {

namespace fs = std::filesystem;
using Box = std::array<int64_t, 4>;  // x0, y0, x1, y1
using Clock = std::chrono::steady_clock;

// One photo's work: each distinct box once, with every file that shows it (units of
// deep layers often share a photo and a whole-input box).
struct PhotoCrops {
  int64_t image = 0;
  std::vector<Box> boxes;
  std::vector<std::vector<std::string>> paths;  // per box
};

std::vector<PhotoCrops> crops_by_photo(const std::string& dir, const ExamplesIndex& index, int64_t& entries) {
  std::map<int64_t, std::map<Box, std::vector<std::string>>> by_image;
  for (const auto& layer : index.layers)
    for (const auto& unit : layer.units)
      for (const auto& e : unit.top_max) {
        FEATVIS_CHECK(!e.crop.empty(), "the examples index names no crop files (it was written without crops)");
        std::vector<std::string>& paths = by_image[e.image][e.box];
        const std::string path = (fs::path(dir) / e.crop).string();
        if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
        ++entries;
      }
  std::vector<PhotoCrops> photos;
  for (auto& [image, boxes] : by_image) {
    PhotoCrops p;
    p.image = image;
    for (auto& [box, paths] : boxes) {
      p.boxes.push_back(box);
      p.paths.push_back(std::move(paths));
    }
    photos.push_back(std::move(p));
  }
  return photos;
}

void make_folders(const std::vector<PhotoCrops>& photos) {
  std::set<fs::path> folders;
  for (const auto& p : photos)
    for (const auto& paths : p.paths)
      for (const auto& path : paths) folders.insert(fs::path(path).parent_path());
  for (const auto& f : folders) {
    std::error_code ec;
    fs::create_directories(f, ec);
    if (ec) throw Error("cannot create folder '" + f.string() + "': " + ec.message());
  }
}

// Runs work(i, worker) for i in [0, count) on `threads` threads (worker: 0 to threads - 1,
// for per-thread state); the first error stops the rest and is rethrown here.
template <typename Work>
void for_each_on_threads(size_t count, int threads, const Work& work) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&](int me) {
    for (size_t i; !failed && (i = next++) < count;) {
      try {
        work(i, me);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker, t);
  worker(0);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

double seconds_since(Clock::time_point& t) {
  const Clock::time_point now = Clock::now();
  const double s = std::chrono::duration<double>(now - t).count();
  t = now;
  return s;
}

}  // namespace

void check_crop_options(const CropOptions& options) {
  FEATVIS_CHECK_SETTING(options.size >= 8 && options.size <= 1024, "crop_size",
                        "the longest side of a crop must be 8-1024 pixels, not ", options.size);
  FEATVIS_CHECK_SETTING(options.quality >= 1 && options.quality <= 100, "crop_quality",
                        "JPEG quality must be 1-100, not ", options.quality);
  FEATVIS_CHECK_SETTING(options.threads >= 0, "threads", "thread count must not be negative");
  FEATVIS_CHECK_SETTING(options.keep_views_bytes >= 0, "keep_views_bytes", "bytes to keep must not be negative");
}

std::vector<at::Tensor> cut_thumbnails(const at::Tensor& hwc, const std::vector<Box>& boxes, int64_t max_side) {
  FEATVIS_CHECK(hwc.dim() == 3 && hwc.size(2) == 3 && hwc.scalar_type() == at::kByte,
                "cut_thumbnails expects an [H, W, 3] uint8 image");
  FEATVIS_CHECK(max_side >= 1, "thumbnail size must be at least 1 pixel");
  std::map<std::pair<int64_t, int64_t>, std::vector<size_t>> by_size;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const auto [x0, y0, x1, y1] = boxes[i];
    FEATVIS_CHECK(x0 >= 0 && y0 >= 0 && x1 > x0 && y1 > y0 && y1 <= hwc.size(0) && x1 <= hwc.size(1), "crop box [",
                  x0, ", ", y0, ", ", x1, ", ", y1, "] is empty or outside the ", hwc.size(1), "x", hwc.size(0), " image");
    by_size[{y1 - y0, x1 - x0}].push_back(i);
  }
  std::vector<at::Tensor> out(boxes.size());
  const at::Tensor image = hwc.contiguous();
  const uint8_t* pixels = image.data_ptr<uint8_t>();
  const int64_t image_row = image.size(1) * 3;
  for (const auto& [hw, items] : by_size) {
    const auto [h, w] = hw;
    // The boxes of this size side by side, copied row by row (no tensor per box).
    at::Tensor batch = at::empty({static_cast<int64_t>(items.size()), h, w, 3}, at::kByte);
    uint8_t* to = batch.data_ptr<uint8_t>();
    for (size_t i : items)
      for (int64_t y = boxes[i][1]; y < boxes[i][3]; ++y, to += w * 3)
        std::memcpy(to, pixels + y * image_row + boxes[i][0] * 3, static_cast<size_t>(w * 3));
    if (std::max(h, w) > max_side) {
      const double scale = static_cast<double>(max_side) / std::max(h, w);
      const int64_t th = std::max<int64_t>(1, std::lround(h * scale)), tw = std::max<int64_t>(1, std::lround(w * scale));
      batch = image::resize_rgb8_aa(batch, th, tw);
    }
    for (size_t n = 0; n < items.size(); ++n) out[items[n]] = batch[static_cast<int64_t>(n)];
  }
  return out;
}

CropStats write_crops(const std::string& dir, const ExamplesIndex& index, const model::Preprocessing& card,
                      const CropOptions& options, const std::map<int64_t, at::Tensor>& views) {
  check_crop_options(options);
  CropStats stats;
  if (!options.write) return stats;
  const Clock::time_point start = Clock::now();
  const std::vector<PhotoCrops> photos = crops_by_photo(dir, index, stats.crops);
  make_folders(photos);
  // The network's view of the photo in pixel levels: the card's crop, no scaling.
  model::Preprocessing view = card;
  view.mean = {0.f, 0.f, 0.f};
  view.std = {1.f, 1.f, 1.f};
  view.bgr = false;
  // Parallel over photos, one ATen thread each: crops are tiny tensors, and forking ATen's
  // team per op costs more than it saves (7x slower with 2 threads on a busy machine).
  const int threads = at::get_num_threads();
  const int workers = static_cast<int>(
      std::min<size_t>(std::max<size_t>(1, photos.size()), options.threads > 0 ? options.threads : threads));
  at::set_num_threads(1);
  struct Restore {
    int threads;
    ~Restore() { at::set_num_threads(threads); }
  } restore{threads};
  std::mutex mutex;  // guards the stats and the bar
  ProgressBar bar(static_cast<int64_t>(photos.size()), "crops", options.progress);
  int64_t done = 0;
  // One compressor per worker. Standard Huffman tables: per-image ones would make the
  // files 12% smaller at 3x the encode time (jpeg.h).
  image::JpegOptions jpeg_options;
  jpeg_options.quality = options.quality;
  jpeg_options.optimize_huffman = false;
  std::vector<std::unique_ptr<image::JpegEncoder>> encoders;
  for (int w = 0; w < workers; ++w) encoders.push_back(std::make_unique<image::JpegEncoder>(jpeg_options));
  for_each_on_threads(photos.size(), workers, [&](size_t p, int worker) {
    const PhotoCrops& photo = photos[p];
    CropStats mine;
    Clock::time_point t = Clock::now();
    const auto kept = views.find(photo.image);
    at::Tensor hwc;
    if (kept != views.end()) {
      hwc = kept->second;
    } else {
      const std::string path = (fs::path(index.images_root) / index.images.at(static_cast<size_t>(photo.image))).string();
      hwc = image::load_network_input(path, view).round().clamp(0, 255).to(at::kByte).permute({1, 2, 0}).contiguous();
      mine.decoded = 1;
    }
    mine.decode_seconds = seconds_since(t);
    const std::vector<at::Tensor> thumbs = cut_thumbnails(hwc, photo.boxes, options.size);
    mine.resize_seconds = seconds_since(t);
    for (size_t b = 0; b < thumbs.size(); ++b) {
      const at::Tensor& thumb = thumbs[b];
      const std::string jpeg = encoders[static_cast<size_t>(worker)]->encode(
          thumb.data_ptr<uint8_t>(), static_cast<int>(thumb.size(1)), static_cast<int>(thumb.size(0)));
      mine.encode_seconds += seconds_since(t);
      for (const std::string& file : photo.paths[b]) write_file(file, jpeg);
      mine.write_seconds += seconds_since(t);
      mine.bytes += static_cast<int64_t>(jpeg.size());
    }
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& paths : photo.paths) stats.files += static_cast<int64_t>(paths.size());
    stats.encoded += static_cast<int64_t>(thumbs.size());
    stats.decoded += mine.decoded;
    stats.bytes += mine.bytes;
    stats.decode_seconds += mine.decode_seconds;
    stats.resize_seconds += mine.resize_seconds;
    stats.encode_seconds += mine.encode_seconds;
    stats.write_seconds += mine.write_seconds;
    bar.update(++done);
  });
  bar.finish();
  stats.photos = static_cast<int64_t>(photos.size());
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return stats;
}

}  // namespace featvis::dataset_examples
