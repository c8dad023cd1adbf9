#pragma once
// The model the benchmarks run: MobileNetV2 from ../shared/models, looked up on featvis'
// own model search path (FEATVIS_MODEL_PATH, ./models, ../shared/models, ...).
#include <featvis/model/model.h>

#include <fstream>
#include <string>

namespace featvis::bench {

inline const char* kDefaultModel = "mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx";

inline bool is_file(const std::string& path) { return std::ifstream(path, std::ios::binary).good(); }

// Path of kDefaultModel, or "" with `searched` listing the directories looked in.
inline std::string find_default_model(std::string* searched) {
  for (const std::string& dir : model_search_path()) {
    *searched += (searched->empty() ? "" : ", ") + dir;
    if (is_file(dir + "/" + kDefaultModel)) return dir + "/" + kDefaultModel;
  }
  return "";
}

}  // namespace featvis::bench
