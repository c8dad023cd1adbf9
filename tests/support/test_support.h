#pragma once
// Shared helpers for the test suites: finding the real models and photos in
// ../shared (skipping, not passing, when they are absent) and running the CLI.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

namespace featvis::model {
struct Model;
}

namespace featvis::testing {

// Full path of a model file on the model search path, or "" when absent.
std::string find_model_file(const std::string& file_name);

// ../shared/images/imagenet-samples (or $FEATVIS_IMAGES), or "" when absent.
std::string sample_images_dir();

// The first (by name) JPEG of the sample photos in `images_dir`, as `model`'s network
// input [1,3,224,224] (the card's scaling applied).
at::Tensor first_photo_input(const model::Model& model, const std::string& images_dir);

// ||a - b|| / ||b|| in L2 (b's norm floored at 1e-30): how far a result is from a reference.
double relative_l2(const at::Tensor& a, const at::Tensor& b);

// Directory where generated fixtures live (build/fixtures).
std::string fixtures_dir();
std::string source_dir();

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the featvis binary with arguments (no shell quoting needed).
CommandResult run_featvis(const std::vector<std::string>& args);

// The failure contract: exit code `exit_code`, exactly one line on stderr starting with
// "featvis: error:" and containing every fragment, no crash signal.
void expect_one_line_error(const CommandResult& r, int exit_code, const std::vector<std::string>& fragments);

// Path of the featvis binary under test (for tests that manage the process themselves).
std::string featvis_binary();

// The message of the featvis::Error that f throws, or "(no error)".
std::string error_of(const std::function<void()>& f);

// A fresh temporary directory removed at process exit.
std::string temp_dir();

}  // namespace featvis::testing

// Skips the current test with a message naming what is missing.
#define FEATVIS_REQUIRE_MODEL(var, file)                                              \
  const std::string var = ::featvis::testing::find_model_file(file);                  \
  if (var.empty()) GTEST_SKIP() << "real model '" << file                             \
                                << "' not found on FEATVIS_MODEL_PATH / ../shared/models"

#define FEATVIS_REQUIRE_IMAGES(var)                                                   \
  const std::string var = ::featvis::testing::sample_images_dir();                    \
  if (var.empty()) GTEST_SKIP() << "sample photos not found at ../shared/images/imagenet-samples"
