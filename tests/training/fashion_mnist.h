#pragma once
// Where the tests find Fashion-MNIST: $FEATVIS_FASHION_MNIST, else Debian's
// dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist). Tests skip, not
// pass, when it is absent.
#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <featvis/image/image.h>
#include <featvis/io/idx.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace featvis::testing {

inline std::string fashion_mnist_dir() {
  for (const char* dir : {static_cast<const char*>(std::getenv("FEATVIS_FASHION_MNIST")), "/usr/share/datasets/fashion-mnist"}) {
    if (dir && std::filesystem::exists(std::string(dir) + "/t10k-images-idx3-ubyte.gz")) return dir;
  }
  return "";
}

}  // namespace featvis::testing

#define FEATVIS_REQUIRE_FASHION_MNIST(var)                                  \
  const std::string var = ::featvis::testing::fashion_mnist_dir();          \
  if (var.empty()) GTEST_SKIP() << "Fashion-MNIST not found (apt install dataset-fashion-mnist)"

namespace featvis::testing {

// The series the fashion_cnn_series CTest fixture trained into the build tree, or "".
inline std::string fashion_cnn_series_dir() {
  const std::string dir = ::featvis::testing::fixtures_dir() + "/fashion_cnn";
  return std::filesystem::exists(dir + "/training.json") ? dir : "";
}

// The first n Fashion-MNIST test images as grey PNG files (what `--images` reads), in a
// fresh temporary folder.
inline std::string fashion_png_folder(const std::string& data, int64_t n) {
  const std::string dir = temp_dir() + "/fm-png";
  std::filesystem::create_directories(dir);
  const at::Tensor images = io::load_idx(data + "/t10k-images-idx3-ubyte.gz").narrow(0, 0, n);
  for (int64_t i = 0; i < n; ++i) {
    const at::Tensor grey = images[i].to(at::kFloat).div(255).unsqueeze(0).expand({3, -1, -1});
    image::save_png(dir + "/" + std::to_string(1000 + i) + ".png", grey);
  }
  return dir;
}

// A folder "series" of two checkpoints of different architectures (the tiny classifier
// with 3 and with 5 channels: weight 'fc.w' differs), with the tiny card.
inline std::string two_architecture_series() {
  const TinyModelDir tiny;  // its card is copied
  const std::string dir = temp_dir() + "/mixed";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(tiny.card, dir + "/tiny.card.json");
  write_bytes(dir + "/s-1.onnx", tiny_classifier_onnx(3, 8));
  write_bytes(dir + "/s-2.onnx", tiny_classifier_onnx(5, 8));
  return dir;
}

}  // namespace featvis::testing

#define FEATVIS_REQUIRE_FASHION_CNN(var)                                                     \
  const std::string var = ::featvis::testing::fashion_cnn_series_dir();                     \
  if (var.empty()) GTEST_SKIP() << "trained series not found: run the CTest fixture fashion_cnn_series " \
                                   "(needs Fashion-MNIST)"
