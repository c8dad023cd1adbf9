#include "direction_file.h"

#include <featvis/io/npy.h>
#include <featvis/util/error.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace featvis::objective {
namespace {

bool has_npy_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".npy";
}

at::Tensor read_text_vector(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read direction file '" + path + "'");
  std::vector<float> values;
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    line = line.substr(0, line.find('#'));
    for (char& c : line)
      if (c == ',') c = ' ';
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(word.c_str(), &end);
      if (end != word.c_str() + word.size() || errno == ERANGE || !std::isfinite(v)) {
        throw Error("direction file '" + path + "' line " + std::to_string(line_number) + ": '" + word +
                    "' is not a finite number");
      }
      values.push_back(static_cast<float>(v));
    }
  }
  return at::tensor(values, at::kFloat);
}

}  // namespace

at::Tensor read_direction_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw Error("direction file '" + path + "' not found");
  at::Tensor v = has_npy_extension(path) ? io::load_npy(path).to(at::kFloat).reshape({-1}) : read_text_vector(path);
  if (v.numel() == 0) throw Error("direction file '" + path + "' holds no numbers");
  if (!at::isfinite(v).all().item<bool>()) throw Error("direction file '" + path + "' holds NaN or infinite values");
  return v;
}

}  // namespace featvis::objective
