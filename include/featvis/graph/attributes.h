#pragma once
// ONNX node attributes decoded once at load time into plain C++ values, so that ops
// never touch protobuf while running.
#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace featvis::graph {

using AttributeValue = std::variant<int64_t, float, std::string, std::vector<int64_t>,
                                    std::vector<float>, at::Tensor>;

class Attributes {
 public:
  void set(const std::string& name, AttributeValue value) { values_[name] = std::move(value); }
  bool has(const std::string& name) const { return values_.count(name) != 0; }

  int64_t get_int(const std::string& name, int64_t fallback) const;
  float get_float(const std::string& name, float fallback) const;
  std::string get_string(const std::string& name, const std::string& fallback) const;
  std::vector<int64_t> get_ints(const std::string& name, std::vector<int64_t> fallback = {}) const;
  std::vector<float> get_floats(const std::string& name, std::vector<float> fallback = {}) const;
  at::Tensor get_tensor(const std::string& name) const;  // throws if missing

  // Names of all attributes, for error messages and introspection.
  std::vector<std::string> names() const;

 private:
  std::map<std::string, AttributeValue> values_;
};

}  // namespace featvis::graph
