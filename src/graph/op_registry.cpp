#include <featvis/graph/op_registry.h>

#include <algorithm>
#include <map>

namespace featvis::graph {

// Each op family lives in its own file under ops/ and registers itself here. Explicit
// calls (not static initializers) because the engine is a static library.
void register_activation_ops();
void register_conv_ops();
void register_elementwise_ops();
void register_linear_ops();
void register_normalization_ops();
void register_pool_ops();
void register_shape_ops();

namespace {

std::map<std::string, OpFunction>& table() {
  static std::map<std::string, OpFunction> ops;
  return ops;
}

void register_all_once() {
  static const bool done = [] {
    register_activation_ops();
    register_conv_ops();
    register_elementwise_ops();
    register_linear_ops();
    register_normalization_ops();
    register_pool_ops();
    register_shape_ops();
    return true;
  }();
  (void)done;
}

}  // namespace

void register_op(const std::string& op_type, OpFunction fn) { table()[op_type] = std::move(fn); }

const OpFunction* find_op(const std::string& op_type) {
  register_all_once();
  auto it = table().find(op_type);
  return it == table().end() ? nullptr : &it->second;
}

std::vector<std::string> supported_ops() {
  register_all_once();
  std::vector<std::string> names;
  for (const auto& [name, fn] : table()) names.push_back(name);
  return names;
}

}  // namespace featvis::graph
