#include "support/test_support.h"

#include <featvis/image/image.h>
#include <featvis/image/network_input.h>
#include <featvis/model/model.h>
#include <featvis/util/error.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace featvis::testing {

std::string source_dir() { return FEATVIS_SOURCE_DIR; }
std::string fixtures_dir() { return FEATVIS_FIXTURES_DIR; }

std::string find_model_file(const std::string& file_name) {
  for (const auto& dir : model::model_search_path()) {
    const fs::path p = fs::path(dir) / file_name;
    if (fs::is_regular_file(p)) return p.string();
  }
  return "";
}

std::string sample_images_dir() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("FEATVIS_IMAGES")) candidates.emplace_back(env);
  candidates.emplace_back("../shared/images/imagenet-samples");
  candidates.push_back(fs::path(source_dir()) / "../shared/images/imagenet-samples");
  for (const auto& c : candidates)
    if (fs::is_regular_file(c / "labels.csv")) return fs::canonical(c).string();
  return "";
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "featvis-test-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  static std::vector<std::string> to_remove;
  static const bool registered = [] {
    std::atexit([] {
      for (const auto& d : to_remove) {
        std::error_code ec;
        fs::remove_all(d, ec);
      }
    });
    return true;
  }();
  (void)registered;
  to_remove.push_back(pattern);
  return pattern;
}

void expect_one_line_error(const CommandResult& r, int exit_code, const std::vector<std::string>& fragments) {
  EXPECT_EQ(r.exit_code, exit_code) << "stderr: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "stderr: " << r.err;
  EXPECT_EQ(r.err.rfind("featvis: error: ", 0), 0u) << "stderr: " << r.err;
  for (const auto& f : fragments) EXPECT_NE(r.err.find(f), std::string::npos) << "missing '" << f << "' in: " << r.err;
}

std::string featvis_binary() { return FEATVIS_BINARY; }

CommandResult run_featvis(const std::vector<std::string>& args) {
  const std::string dir = temp_dir();
  const std::string out_path = dir + "/stdout", err_path = dir + "/stderr";
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    std::string binary = FEATVIS_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!freopen(out_path.c_str(), "w", stdout) || !freopen(err_path.c_str(), "w", stderr)) _exit(127);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

double relative_l2(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).norm().item<double>() / std::max(b.norm().item<double>(), 1e-30);
}

at::Tensor first_photo_input(const model::Model& model, const std::string& images_dir) {
  std::string photo;
  for (const auto& entry : std::filesystem::directory_iterator(images_dir))
    if (entry.path().extension() == ".JPEG" && (photo.empty() || entry.path().string() < photo)) photo = entry.path().string();
  if (photo.empty()) throw std::runtime_error("no JPEG in " + images_dir);
  at::Tensor rgb = image::load_image01(photo, model.card.preprocessing, 224, 224);
  if (rgb.dim() == 3) rgb = rgb.unsqueeze(0);
  return image::network_input(rgb, model.card.preprocessing);
}

}  // namespace featvis::testing
