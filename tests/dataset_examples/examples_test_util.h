#pragma once
// Shared by the dataset-examples tests: the tiny two-conv model (8x8 input, stretched)
// and a folder of small random photos in nested folders.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/image/image.h>
#include <featvis/model/model.h>

#include <filesystem>
#include <string>

namespace featvis::testing {

// A folder of small random photos in nested folders, with names in mixed case.
inline std::string synthetic_photos(int count) {
  namespace fs = std::filesystem;
  const std::string dir = temp_dir();
  at::manual_seed(7);
  for (int i = 0; i < count; ++i) {
    const fs::path sub = fs::path(dir) / (i % 2 ? "b" : "a") / (i % 3 ? "" : "deep");
    fs::create_directories(sub);
    const int64_t h = 10 + i % 5, w = 12 + i % 4;  // any sizes: stretched to 8x8
    image::save_png((sub / ("img" + std::to_string(i) + (i % 4 ? ".png" : ".PNG"))).string(), at::rand({3, h, w}));
  }
  write_bytes(dir + "/notes.txt", "not a photo");
  return dir;
}

inline model::Model tiny_examples_model() {
  const std::string dir = temp_dir();
  write_bytes(dir + "/tiny.onnx", tiny_two_conv_onnx(3, 8));
  write_bytes(dir + "/tiny.card.json", tiny_classifier_card());
  return model::load_model(dir + "/tiny.onnx");
}

}  // namespace featvis::testing
