#pragma once
// The model the benchmarks run: MobileNetV2 from ../shared/models, looked up on featvis'
// own model search path (FEATVIS_MODEL_PATH, ./models, ../shared/models, ...).
#include <featvis/model/model.h>
#include <featvis/util/error.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace featvis::bench {

inline const char* kDefaultModel = "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx";

// The render benchmarks' three target layers of kDefaultModel: 112x112, 14x14, 7x7.
inline const char* kEarly = "MobileNetV2/expanded_conv_2/expand";
inline const char* kMiddle = "MobileNetV2/expanded_conv_8/expand";
inline const char* kLast = "MobileNetV2/Conv2d_18_1";

inline bool is_file(const std::string& path) { return std::ifstream(path, std::ios::binary).good(); }

// Path of kDefaultModel, or "" with `searched` listing the directories looked in.
inline std::string find_default_model(std::string* searched) {
  for (const std::string& dir : model::model_search_path()) {
    *searched += (searched->empty() ? "" : ", ") + dir;
    if (is_file(dir + "/" + kDefaultModel)) return dir + "/" + kDefaultModel;
  }
  return "";
}

// Takes our flags out of argv, leaving the rest for Google Benchmark. `handle(flag, value)`
// returns whether `flag` is ours; it calls value() to consume the flag's argument.
using FlagHandler = std::function<bool(const std::string& flag, const std::function<std::string()>& value)>;
inline void take_flags(int* argc, char** argv, const FlagHandler& handle) {
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < *argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= *argc) throw Error(flag + " needs a value");
      return argv[++i];
    };
    if (!handle(flag, value)) rest.push_back(argv[i]);
  }
  for (size_t i = 0; i < rest.size(); ++i) argv[i] = rest[i];
  *argc = static_cast<int>(rest.size());
}

// `model` if given, else $FEATVIS_BENCH_MODEL, else kDefaultModel on the search path;
// featvis::Error naming what was searched when there is none.
inline std::string resolve_model(std::string model) {
  if (model.empty())
    if (const char* env = std::getenv("FEATVIS_BENCH_MODEL")) model = env;
  if (model.empty()) {
    std::string searched;
    model = find_default_model(&searched);
    if (model.empty()) {
      throw Error(std::string("model file '") + kDefaultModel + "' not found; searched: " + searched +
                  ". Pass --model PATH or set FEATVIS_BENCH_MODEL.");
    }
  }
  if (!is_file(model)) throw Error("model file '" + model + "' does not exist");
  return model;
}

}  // namespace featvis::bench
