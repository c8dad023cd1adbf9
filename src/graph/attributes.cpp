#include <featvis/graph/attributes.h>
#include <featvis/util/error.h>

namespace featvis::graph {
namespace {

template <typename T>
const T* find_as(const std::map<std::string, AttributeValue>& values, const std::string& name) {
  auto it = values.find(name);
  if (it == values.end()) return nullptr;
  const T* value = std::get_if<T>(&it->second);
  if (!value) throw Error("attribute '" + name + "' has an unexpected type");
  return value;
}

}  // namespace

int64_t Attributes::get_int(const std::string& name, int64_t fallback) const {
  const auto* v = find_as<int64_t>(values_, name);
  return v ? *v : fallback;
}

float Attributes::get_float(const std::string& name, float fallback) const {
  const auto* v = find_as<float>(values_, name);
  return v ? *v : fallback;
}

std::string Attributes::get_string(const std::string& name, const std::string& fallback) const {
  const auto* v = find_as<std::string>(values_, name);
  return v ? *v : fallback;
}

std::vector<int64_t> Attributes::get_ints(const std::string& name,
                                          std::vector<int64_t> fallback) const {
  const auto* v = find_as<std::vector<int64_t>>(values_, name);
  return v ? *v : fallback;
}

std::vector<float> Attributes::get_floats(const std::string& name,
                                          std::vector<float> fallback) const {
  const auto* v = find_as<std::vector<float>>(values_, name);
  return v ? *v : fallback;
}

at::Tensor Attributes::get_tensor(const std::string& name) const {
  const auto* v = find_as<at::Tensor>(values_, name);
  if (!v) throw Error("required tensor attribute '" + name + "' is missing");
  return *v;
}

std::vector<std::string> Attributes::names() const {
  std::vector<std::string> out;
  for (const auto& [name, value] : values_) out.push_back(name);
  return out;
}

}  // namespace featvis::graph
