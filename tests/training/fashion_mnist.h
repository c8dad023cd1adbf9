#pragma once
// Where the tests find Fashion-MNIST: $FEATVIS_FASHION_MNIST, else Debian's
// dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist). Tests skip, not
// pass, when it is absent.
#include "support/test_support.h"

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

}  // namespace featvis::testing

#define FEATVIS_REQUIRE_FASHION_CNN(var)                                                     \
  const std::string var = ::featvis::testing::fashion_cnn_series_dir();                     \
  if (var.empty()) GTEST_SKIP() << "trained series not found: run the CTest fixture fashion_cnn_series " \
                                   "(needs Fashion-MNIST)"
