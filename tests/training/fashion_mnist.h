#pragma once
// Where the tests find Fashion-MNIST: $FEATVIS_FASHION_MNIST, else Debian's
// dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist). Tests skip, not
// pass, when it is absent.
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
