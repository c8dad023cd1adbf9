// featvis_bench_crops: where the time of the crop stage of `featvis examples` goes, the
// path before issue 19 against the one in src/dataset_examples/crops.cpp, and the
// thumbnail encoders compared on the same crops (docs/PERFORMANCE.md).
//
//   featvis examples mobilenet_v2 --images DIR --layers ... --no-crops --out EX
//   featvis_bench_crops EX [--model NAME] [--threads N] [--photos P] [--size PX] [--rounds R]
//
// EX           an examples directory whose index.json (any run, crops or not) names the boxes.
// --photos     the first P photos of the index that have crops (default: all).
// --rounds     old/new rounds, interleaved (default 3); medians are printed.
// Output: one table per path, seconds per stage (summed over threads) and per crop.
//   old    one thread: per crop, the box cut from the decoded view as a float tensor,
//          resized alone through preprocess_image, stb_image_write's JPEG (quality 85),
//          write to a temporary file + rename (folders made first, in the wall time). "+fsync" adds an fsync per file, measured
//          on the first 500 crops only (what a sync per file would cost).
//   new    write_crops: distinct (photo, box) pairs, each resized by image::Rgb8Resizer,
//          libjpeg-turbo, plain writes, photos spread over --threads threads.
// Then the encoders on the new thumbnails of up to 100 photos: ms per crop and bytes.
#include <featvis/dataset_examples/crops.h>
#include <featvis/dataset_examples/index.h>
#include <featvis/image/image.h>
#include <featvis/image/jpeg.h>
#include <featvis/model/model.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/configure_process.h>
#include <featvis/util/error.h>

#include <ATen/Parallel.h>
#include <stb_image_write.h>
#include <webp/encode.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>

namespace {

namespace fs = std::filesystem;
namespace ex = featvis::dataset_examples;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point& t) {
  const auto now = Clock::now();
  const double s = std::chrono::duration<double>(now - t).count();
  t = now;
  return s;
}

struct Split {
  double decode = 0, resize = 0, encode = 0, write = 0, total = 0;
  int64_t crops = 0, encoded = 0, bytes = 0, files = 0;
};

void append(void* context, void* data, int size) { static_cast<std::string*>(context)->append(static_cast<char*>(data), size); }

std::string stb_jpeg(const at::Tensor& hwc, int quality) {
  std::string out;
  stbi_write_jpg_to_func(append, &out, static_cast<int>(hwc.size(1)), static_cast<int>(hwc.size(0)), 3,
                         hwc.data_ptr(), quality);
  return out;
}

// The crop path before issue 19 (crops.cpp at f75d364), stage by stage, on one thread.
at::Tensor old_thumbnail(const at::Tensor& levels, int64_t max_side) {
  const int64_t h = levels.size(1), w = levels.size(2);
  if (std::max(h, w) <= max_side) return levels / 255.0;
  const double scale = static_cast<double>(max_side) / std::max(h, w);
  featvis::model::Preprocessing pre;
  pre.crop = featvis::model::Preprocessing::Crop::kStretch;
  pre.height = static_cast<int>(std::max<int64_t>(1, std::lround(h * scale)));
  pre.width = static_cast<int>(std::max<int64_t>(1, std::lround(w * scale)));
  pre.mean = {0.f, 0.f, 0.f};
  pre.std = {255.f, 255.f, 255.f};
  return featvis::image::preprocess_image(levels.round().clamp(0, 255).to(at::kByte).permute({1, 2, 0}).contiguous(), pre);
}

featvis::model::Preprocessing view_of(const featvis::model::Preprocessing& card) {
  featvis::model::Preprocessing view = card;
  view.mean = {0.f, 0.f, 0.f};
  view.std = {1.f, 1.f, 1.f};
  view.bgr = false;
  return view;
}

Split old_path(const std::string& out, const ex::ExamplesIndex& index, const featvis::model::Preprocessing& card,
               const std::map<int64_t, std::vector<std::array<int64_t, 4>>>& by_image,
               const std::map<int64_t, std::vector<std::string>>& crop_of, int64_t size, bool fsync_each) {
  Split s;
  const featvis::model::Preprocessing view = view_of(card);
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const auto start = Clock::now();
  for (const auto& [image, crops] : crop_of)
    for (const auto& c : crops) fs::create_directories(fs::path(out + "/" + c).parent_path());
  for (const auto& [image, boxes] : by_image) {
    size_t n = 0;
    auto t = Clock::now();
    const at::Tensor levels = featvis::image::load_network_input(index.images_root + "/" + index.images[image], view);
    s.decode += since(t);
    for (const auto& b : boxes) {
      const at::Tensor thumb = old_thumbnail(levels.slice(1, b[1], b[3]).slice(2, b[0], b[2]), size);
      const at::Tensor hwc = (thumb.clamp(0, 1) * 255.0).round().to(at::kByte).permute({1, 2, 0}).contiguous();
      s.resize += since(t);
      const std::string jpg = stb_jpeg(hwc, 85);
      s.encode += since(t);
      const std::string path = out + "/" + crop_of.at(image)[n++];
      if (fsync_each) {
        const std::string tmp = path + ".tmp";
        const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || ::write(fd, jpg.data(), jpg.size()) != static_cast<ssize_t>(jpg.size()) || ::fsync(fd) != 0)
          throw featvis::Error("cannot write " + tmp);
        ::close(fd);
        fs::rename(tmp, path);
      } else {
        featvis::write_file_atomically(path, jpg);
      }
      s.write += since(t);
      s.bytes += static_cast<int64_t>(jpg.size());
      ++s.crops;
      if (fsync_each && s.crops >= 500) break;
    }
    if (fsync_each && s.crops >= 500) break;
  }
  s.encoded = s.files = s.crops;
  s.total = std::chrono::duration<double>(Clock::now() - start).count();
  at::set_num_threads(threads);
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

void print_split(const char* name, const std::vector<Split>& rounds) {
  auto med = [&](double Split::*f) {
    std::vector<double> v;
    for (const auto& r : rounds) v.push_back(r.*f);
    return median(v);
  };
  const Split& r = rounds.front();
  const double total = med(&Split::total);
  std::printf("%-18s crops %7lld  files %7lld  encoded %7lld  wall %8.2f s  %7.3f ms/crop | decode %7.2f  resize %7.2f  encode %7.2f  write %7.2f  (s, summed over threads) | %5.0f B/encoded crop\n",
              name, static_cast<long long>(r.crops), static_cast<long long>(r.files), static_cast<long long>(r.encoded), total, 1000 * total / r.crops,
              med(&Split::decode), med(&Split::resize), med(&Split::encode), med(&Split::write),
              static_cast<double>(r.bytes) / std::max<int64_t>(1, r.encoded));
}

}  // namespace

int main(int argc, char** argv) {
  featvis::configure_process();
  try {
    std::string dir, model_name = "mobilenet_v2";
    int threads = 2, rounds = 3;
    int64_t photos = -1, size = 128;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&] {
        if (i + 1 >= argc) throw featvis::Error(a + " needs a value");
        return std::string(argv[++i]);
      };
      if (a == "--model") model_name = value();
      else if (a == "--threads") threads = std::stoi(value());
      else if (a == "--photos") photos = std::stoll(value());
      else if (a == "--size") size = std::stoll(value());
      else if (a == "--rounds") rounds = std::stoi(value());
      else if (a[0] != '-' && dir.empty()) dir = a;
      else throw featvis::Error("unknown argument '" + a + "'");
    }
    if (dir.empty()) throw featvis::Error("usage: featvis_bench_crops EXAMPLES_DIR [--threads N] [--photos P] [--size PX] [--rounds R]");
    at::set_num_threads(threads);
    const featvis::model::Model model = featvis::model::load_model(model_name);
    ex::ExamplesIndex index = ex::read_examples_index(dir + "/index.json");
    // Keep the first `photos` photos with crops; name the crops as make_examples_index does.
    std::map<int64_t, std::vector<std::array<int64_t, 4>>> by_image;
    std::map<int64_t, std::vector<std::string>> crop_of;
    for (auto& layer : index.layers) {
      for (auto& unit : layer.units) {
        std::vector<ex::ExampleEntry> kept;
        for (size_t r = 0; r < unit.top_max.size(); ++r) {
          ex::ExampleEntry e = unit.top_max[r];
          if (photos >= 0 && e.image >= photos) continue;
          e.crop = ex::crop_path(e.image, e.box);
          by_image[e.image].push_back(e.box);
          // The old layout: a file per entry.
          crop_of[e.image].push_back("crops/" + ex::layer_slug(layer.name) + "/" + std::to_string(unit.unit) + "/" +
                                     std::to_string(r) + ".jpg");
          kept.push_back(e);
        }
        unit.top_max = kept;
      }
    }
    const std::string work = (fs::temp_directory_path() / ("featvis_bench_crops." + std::to_string(::getpid()))).string();
    std::printf("%zu photos, threads %d, size %lld, %d rounds; load %s", by_image.size(), threads,
                static_cast<long long>(size), rounds, featvis::read_file("/proc/loadavg").c_str());
    std::vector<Split> olds, news;
    ex::CropOptions options;
    options.size = size;
    options.threads = threads;
    for (int round = 0; round < rounds; ++round) {
      fs::remove_all(work);
      fs::create_directories(work + "/old");
      olds.push_back(old_path(work + "/old", index, model.card.preprocessing, by_image, crop_of, size, false));
      const ex::CropStats c = ex::write_crops(work + "/new", index, model.card.preprocessing, options);
      news.push_back(Split{c.decode_seconds, c.resize_seconds, c.encode_seconds, c.write_seconds, c.seconds, c.crops,
                           c.encoded, c.bytes, c.files});
    }
    print_split("old (1 thread)", olds);
    print_split("new", news);
    std::printf("wall old / new: %.2fx\n", median([&] { std::vector<double> v; for (auto& s : olds) v.push_back(s.total); return v; }()) /
                                              median([&] { std::vector<double> v; for (auto& s : news) v.push_back(s.total); return v; }()));
    fs::remove_all(work);
    fs::create_directories(work + "/old");
    print_split("old +fsync (500)", {old_path(work + "/old", index, model.card.preprocessing, by_image, crop_of, size, true)});

    // Encoders on the same thumbnails (new cuts of the first 100 photos), one thread.
    at::set_num_threads(1);
    std::vector<at::Tensor> thumbs;
    int taken = 0;
    for (const auto& [image, boxes] : by_image) {
      if (taken++ >= 100) break;
      const at::Tensor hwc = featvis::image::load_network_input(index.images_root + "/" + index.images[image], view_of(model.card.preprocessing))
                                 .round().clamp(0, 255).to(at::kByte).permute({1, 2, 0}).contiguous();
      std::vector<std::array<int64_t, 4>> distinct = boxes;
      std::sort(distinct.begin(), distinct.end());
      distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
      for (auto& t : ex::cut_thumbnails(hwc, distinct, size)) thumbs.push_back(t.contiguous());
    }
    featvis::image::JpegOptions standard_tables;
    standard_tables.optimize_huffman = false;
    featvis::image::JpegEncoder standard(standard_tables);
    const std::vector<std::pair<std::string, std::function<std::string(const at::Tensor&)>>> encoders{
        {"stb q85", [](const at::Tensor& t) { return stb_jpeg(t, 85); }},
        {"libjpeg-turbo q85, optimized Huffman, one compressor per image", [](const at::Tensor& t) {
           return featvis::image::encode_jpeg(t.data_ptr<uint8_t>(), static_cast<int>(t.size(1)), static_cast<int>(t.size(0)), 85);
         }},
        {"libjpeg-turbo q85, standard Huffman, one compressor (write_crops)", [&standard](const at::Tensor& t) {
           return standard.encode(t.data_ptr<uint8_t>(), static_cast<int>(t.size(1)), static_cast<int>(t.size(0)));
         }},
        {"webp q80 (m4)", [](const at::Tensor& t) {
           uint8_t* out = nullptr;
           const size_t n = WebPEncodeRGB(t.data_ptr<uint8_t>(), static_cast<int>(t.size(1)), static_cast<int>(t.size(0)),
                                          static_cast<int>(t.size(1)) * 3, 80, &out);
           std::string s(reinterpret_cast<char*>(out), n);
           WebPFree(out);
           return s;
         }}};
    std::printf("encoders on %zu thumbnails of %d photos, 1 thread:\n", thumbs.size(), std::min(taken, 100));
    for (const auto& [name, encode] : encoders) {
      std::vector<double> times;
      size_t bytes = 0;
      for (int round = 0; round < 3; ++round) {
        auto t = Clock::now();
        bytes = 0;
        for (const auto& th : thumbs) bytes += encode(th).size();
        times.push_back(since(t));
      }
      std::printf("  %-66s %7.3f ms/crop  %6.0f B/crop\n", name.c_str(), 1000 * median(times) / thumbs.size(),
                  static_cast<double>(bytes) / thumbs.size());
    }
    fs::remove_all(work);
  } catch (const std::exception& e) {
    std::cerr << "featvis_bench_crops: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
