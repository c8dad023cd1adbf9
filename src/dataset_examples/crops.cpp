#include <featvis/dataset_examples/crops.h>
#include <featvis/image/image.h>
#include <featvis/image/jpeg.h>
#include <featvis/image/resize_rgb8.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/check.h>
#include <featvis/util/progress.h>
#include <featvis/util/threads.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace featvis::dataset_examples {
namespace {

namespace fs = std::filesystem;
using Box = std::array<int64_t, 4>;  // x0, y0, x1, y1
using Clock = std::chrono::steady_clock;

// One photo's work: each distinct box once, with every file that shows it (units of
// deep layers often share a photo and a whole-input box). Names as the index has them,
// relative to the examples folder.
struct PhotoCrops {
  int64_t image = 0;
  std::vector<Box> boxes;
  std::vector<std::vector<const std::string*>> names;  // per box
};

std::vector<PhotoCrops> crops_by_photo(const ExamplesIndex& index, int64_t& entries) {
  std::map<int64_t, std::map<Box, std::vector<const std::string*>>> by_image;
  for (const auto& layer : index.layers)
    for (const auto& unit : layer.units)
      for (const auto& e : unit.top_max) {
        FEATVIS_CHECK(!e.crop.empty(), "the examples index names no crop files (it was written without crops)");
        std::vector<const std::string*>& names = by_image[e.image][e.box];
        if (std::none_of(names.begin(), names.end(), [&](const std::string* n) { return *n == e.crop; }))
          names.push_back(&e.crop);
        ++entries;
      }
  std::vector<PhotoCrops> photos;
  for (auto& [image, boxes] : by_image) {
    PhotoCrops p;
    p.image = image;
    for (auto& [box, names] : boxes) {
      p.boxes.push_back(box);
      p.names.push_back(std::move(names));
    }
    photos.push_back(std::move(p));
  }
  return photos;
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

namespace {

void check_box(const Box& box, int64_t height, int64_t width) {
  const auto [x0, y0, x1, y1] = box;
  FEATVIS_CHECK(x0 >= 0 && y0 >= 0 && x1 > x0 && y1 > y0 && y1 <= height && x1 <= width, "crop box [", x0, ", ", y0,
                ", ", x1, ", ", y1, "] is empty or outside the ", width, "x", height, " image");
}

// One thumbnail's pixels: the box itself inside the image when it is small enough (no
// copy: the encoder reads rows `stride` bytes apart), else its downscaled copy in `scratch`.
struct Thumbnail {
  const uint8_t* pixels = nullptr;
  int64_t width = 0, height = 0, stride = 0;
};

Thumbnail thumbnail(const at::Tensor& hwc, const Box& box, int64_t max_side, image::Rgb8Resizer& resizer,
                    std::vector<uint8_t>& scratch) {
  const auto [x0, y0, x1, y1] = box;
  const int64_t h = y1 - y0, w = x1 - x0, image_row = hwc.size(1) * 3;
  const uint8_t* corner = hwc.data_ptr<uint8_t>() + y0 * image_row + x0 * 3;
  if (std::max(h, w) <= max_side) return {corner, w, h, image_row};
  const double scale = static_cast<double>(max_side) / std::max(h, w);
  Thumbnail t;
  t.height = std::max<int64_t>(1, std::lround(h * scale));
  t.width = std::max<int64_t>(1, std::lround(w * scale));
  t.stride = t.width * 3;
  scratch.resize(static_cast<size_t>(t.height * t.stride));
  resizer.resize(corner, h, w, image_row, scratch.data(), t.height, t.width);
  t.pixels = scratch.data();
  return t;
}

}  // namespace

std::vector<at::Tensor> cut_thumbnails(const at::Tensor& hwc, const std::vector<Box>& boxes, int64_t max_side) {
  FEATVIS_CHECK(hwc.dim() == 3 && hwc.size(2) == 3 && hwc.scalar_type() == at::kByte,
                "cut_thumbnails expects an [H, W, 3] uint8 image");
  FEATVIS_CHECK(max_side >= 1, "thumbnail size must be at least 1 pixel");
  for (const Box& box : boxes) check_box(box, hwc.size(0), hwc.size(1));
  const at::Tensor image = hwc.contiguous();
  image::Rgb8Resizer resizer;
  std::vector<uint8_t> scratch;
  std::vector<at::Tensor> out;
  for (const Box& box : boxes) {
    const Thumbnail t = thumbnail(image, box, max_side, resizer, scratch);
    at::Tensor cut = at::empty({t.height, t.width, 3}, at::kByte);
    for (int64_t y = 0; y < t.height; ++y)
      std::memcpy(cut.data_ptr<uint8_t>() + y * t.width * 3, t.pixels + y * t.stride, static_cast<size_t>(t.width * 3));
    out.push_back(cut);
  }
  return out;
}

CropStats write_crops(const std::string& dir, const ExamplesIndex& index, const model::Preprocessing& card,
                      const CropOptions& options, const std::map<int64_t, at::Tensor>& views) {
  check_crop_options(options);
  CropStats stats;
  if (!options.write) return stats;
  const Clock::time_point start = Clock::now();
  const std::vector<PhotoCrops> photos = crops_by_photo(index, stats.crops);
  // The network's view of the photo in pixel levels: the card's crop, no scaling.
  model::Preprocessing view = card;
  view.mean = {0.f, 0.f, 0.f};
  view.std = {1.f, 1.f, 1.f};
  view.bgr = false;
  // Parallel over photos. The thumbnails are plain loops; only a photo decoded again runs
  // ATen ops, and those on one ATen thread each: forking ATen's team per op on tiny
  // tensors costs more than it saves (7x slower with 2 threads on a busy machine).
  const int threads = at::get_num_threads();
  const int workers = static_cast<int>(
      std::min<size_t>(std::max<size_t>(1, photos.size()), options.threads > 0 ? options.threads : threads));
  const bool decode_again = std::any_of(photos.begin(), photos.end(), [&](const PhotoCrops& p) { return !views.count(p.image); });
  struct Restore {
    int threads = 0;
    ~Restore() {
      if (threads > 0) use_threads(threads);
    }
  } restore;
  if (decode_again) restore.threads = use_threads(1);
  std::mutex mutex;  // guards the stats and the bar
  ProgressBar bar(static_cast<int64_t>(photos.size()), "crops", options.progress);
  int64_t done = 0;
  // One compressor and resizer per worker. Standard Huffman tables: per-image ones would
  // make the files 12% smaller at 3x the encode time (jpeg.h).
  image::JpegOptions jpeg_options;
  jpeg_options.quality = options.quality;
  jpeg_options.optimize_huffman = false;
  struct Worker {
    explicit Worker(const image::JpegOptions& o) : encoder(o) {}
    image::JpegEncoder encoder;
    image::Rgb8Resizer resizer;
    std::vector<uint8_t> scratch;  // one thumbnail
    FileWriter files;              // makes the photos' folders
  };
  std::deque<Worker> tools;  // not movable (the encoder)
  for (int w = 0; w < workers; ++w) tools.emplace_back(jpeg_options);
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
    FEATVIS_CHECK(hwc.dim() == 3 && hwc.size(2) == 3 && hwc.scalar_type() == at::kByte && hwc.is_contiguous(),
                  "the view of photo ", photo.image, " is not an [H, W, 3] uint8 image");
    for (const Box& box : photo.boxes) check_box(box, hwc.size(0), hwc.size(1));
    Worker& mine_tools = tools[static_cast<size_t>(worker)];
    for (size_t b = 0; b < photo.boxes.size(); ++b) {
      const Thumbnail thumb = thumbnail(hwc, photo.boxes[b], options.size, mine_tools.resizer, mine_tools.scratch);
      mine.resize_seconds += seconds_since(t);
      const std::string_view jpeg = mine_tools.encoder.encode_view(
          thumb.pixels, static_cast<int>(thumb.width), static_cast<int>(thumb.height), static_cast<int>(thumb.stride));
      mine.encode_seconds += seconds_since(t);
      for (const std::string* name : photo.names[b]) mine_tools.files.write(dir + "/" + *name, jpeg);
      mine.write_seconds += seconds_since(t);
      mine.bytes += static_cast<int64_t>(jpeg.size());
    }
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& names : photo.names) stats.files += static_cast<int64_t>(names.size());
    stats.encoded += static_cast<int64_t>(photo.boxes.size());
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
