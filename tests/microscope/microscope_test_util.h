#pragma once
// Shared by the microscope tests: a tiny two-layer model, a synthetic `featvis examples`
// index with real JPEG crops, and site inspection helpers.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/image/image.h>
#include <featvis/util/atomic_file.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace featvis::testing {

namespace fs = std::filesystem;

// tiny.onnx (layers "conv1" 4 ch and "block 2:conv" / "block2" 6 ch) with the tiny card.
struct TinyWorkspace : TinyModelDir {
  std::string examples = dir + "/examples";
  std::string photos = dir + "/photos";
  TinyWorkspace() : TinyModelDir(/*two_conv=*/true) {
    write_examples();
  }
  // The contract format: two photos, conv1 units 0-2 with two top_max crops each.
  void write_examples() const {
    fs::create_directories(photos + "/cls");
    fs::create_directories(examples + "/crops/conv1");
    std::vector<std::string> images{"cls/a.png", "cls/b.png"};
    for (size_t i = 0; i < images.size(); ++i) {
      image::save_png(photos + "/" + images[i], at::rand({3, 20, 24}, at::TensorOptions().dtype(at::kFloat)) * 0.5 + 0.25 * i);
    }
    nlohmann::json units = nlohmann::json::array();
    for (int u = 0; u < 3; ++u) {
      nlohmann::json top = nlohmann::json::array();
      for (int k = 0; k < 2; ++k) {
        const std::string crop = "crops/conv1/" + std::to_string(u) + "/" + std::to_string(k) + ".jpg";
        fs::create_directories(fs::path(examples + "/" + crop).parent_path());
        image::save_jpeg(examples + "/" + crop, at::rand({3, 6, 6}));
        top.push_back({{"image", k}, {"score", 2.0 - k}, {"position", {1, 1}}, {"box", {0, 0, 6, 6}}, {"crop", crop}});
      }
      units.push_back({{"unit", u},
                       {"top_mean", {{{"image", 1}, {"score", 0.5}}}},
                       {"bottom_mean", {{{"image", 0}, {"score", 0.1}}}},
                       {"top_max", top}});
    }
    const nlohmann::json index{{"format", "featvis-examples/1"},
                               {"model", "tiny"},
                               {"images_root", photos},
                               {"images", images},
                               {"top_k", 2},
                               {"input_size", {8, 8}},
                               {"layers",
                                {{{"name", "conv1"},
                                  {"shape", {1, 4, 8, 8}},
                                  {"receptive_field", {{"size", {3, 3}}, {"stride", {1, 1}}, {"offset", {0.5, 0.5}}}},
                                  {"units", units}}}}};
    write_file_atomically(examples + "/index.json", index.dump(2));
  }
};

inline nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_file(path)); }

// Every regular file under dir, relative, sorted.
inline std::set<std::string> files_under(const std::string& dir) {
  std::set<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) files.insert(fs::relative(e.path(), dir).string());
  return files;
}

// "" when both trees hold the same files with the same bytes, else the first difference.
inline std::string tree_difference(const std::string& a, const std::string& b) {
  const std::set<std::string> fa = files_under(a), fb = files_under(b);
  for (const auto& f : fa)
    if (!fb.count(f)) return "only in " + a + ": " + f;
  for (const auto& f : fb)
    if (!fa.count(f)) return "only in " + b + ": " + f;
  for (const auto& f : fa)
    if (featvis::read_file(a + "/" + f) != featvis::read_file(b + "/" + f)) return "bytes differ: " + f;
  return "";
}

// Every image decodes and every JSON parses; returns the first failure or "".
inline std::string unreadable_file(const std::string& dir) {
  for (const auto& f : files_under(dir)) {
    const std::string path = dir + "/" + f;
    const std::string ext = fs::path(f).extension().string();
    try {
      if (ext == ".png" || ext == ".jpg" || ext == ".webp") image::load_image_rgb8(path);
      if (ext == ".json" && !nlohmann::json::accept(read_file(path))) return path + " (not JSON)";
      if (ext == ".html" && read_file(path).find("</html>") == std::string::npos) return path + " (truncated html)";
    } catch (const std::exception& e) {
      return path + " (" + e.what() + ")";
    }
  }
  return "";
}

}  // namespace featvis::testing
