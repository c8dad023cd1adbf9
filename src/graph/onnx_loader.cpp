// ONNX protobuf -> featvis::Graph. Everything that can be checked without running is
// checked here, so a bad model fails at load time with the node and op named.
#include <featvis/graph/graph.h>
#include <featvis/graph/op_registry.h>
#include <featvis/graph/token_grid.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

namespace featvis::graph {
namespace {

namespace fs = std::filesystem;

at::ScalarType element_type(int type, const std::string& name) {
  switch (type) {
    case onnx::TensorProto::FLOAT: return at::kFloat;
    case onnx::TensorProto::DOUBLE: return at::kDouble;
    case onnx::TensorProto::FLOAT16: return at::kHalf;
    case onnx::TensorProto::INT64: return at::kLong;
    case onnx::TensorProto::INT32: return at::kInt;
    case onnx::TensorProto::INT16: return at::kShort;
    case onnx::TensorProto::INT8: return at::kChar;
    case onnx::TensorProto::UINT8: return at::kByte;
    case onnx::TensorProto::BOOL: return at::kBool;
    default:
      throw Error("tensor '" + name + "' has unsupported element type " + std::to_string(type));
  }
}

// Typed repeated fields (float_data, int64_data, ...) copied into a tensor.
template <typename Field>
at::Tensor from_field(const Field& field, at::ScalarType stored, const std::vector<int64_t>& dims) {
  using T = typename Field::value_type;
  at::Tensor t = at::empty({static_cast<int64_t>(field.size())}, c10::CppTypeToScalarType<T>::value);
  if (field.size()) std::memcpy(t.data_ptr(), field.data(), field.size() * sizeof(T));
  return t.to(stored).reshape(dims);
}

// A model over protobuf's 2 GB limit keeps its weights beside the file (ONNX external
// data; torch.onnx writes vit_h_14 and regnet_y_128gf so): "location" relative to the
// model's folder, optional "offset" and "length" in bytes.
at::Tensor read_external(const onnx::TensorProto& proto, at::ScalarType type, const std::vector<int64_t>& dims,
                         size_t bytes, const std::string& model_path) {
  const std::string& name = proto.name();
  if (model_path.empty()) {
    throw Error("tensor '" + name + "' stores its data in an external file; load the model from its file, "
                "beside which the data is found");
  }
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& entry : proto.external_data()) {
    try {
      if (entry.key() == "location") location = entry.value();
      if (entry.key() == "offset") offset = std::stoll(entry.value());
      if (entry.key() == "length") length = std::stoll(entry.value());
    } catch (const std::exception&) {
      throw Error("tensor '" + name + "' has external data " + entry.key() + " '" + entry.value() +
                  "', not a number");
    }
  }
  const fs::path relative(location);
  const bool outside = relative.is_absolute() ||
                       std::any_of(relative.begin(), relative.end(), [](const fs::path& p) { return p == ".."; });
  if (location.empty() || outside) {
    throw Error("tensor '" + name + "' has external data location '" + location +
                "'; ONNX requires a file inside the model's folder");
  }
  const fs::path file = fs::path(model_path).parent_path() / relative;
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  std::ifstream in(file, std::ios::binary);
  if (ec || !in) throw Error("tensor '" + name + "': cannot read its external data file '" + file.string() + "'");
  if ((length >= 0 && static_cast<size_t>(length) != bytes) || offset < 0 ||
      static_cast<uintmax_t>(offset) + bytes > size) {
    throw Error("tensor '" + name + "': external data file '" + file.string() + "' holds " + std::to_string(size) +
                " bytes, the tensor needs " + std::to_string(bytes) + " from offset " + std::to_string(offset) +
                (length >= 0 ? " (length " + std::to_string(length) + ")" : "") + " (truncated or corrupt file?)");
  }
  at::Tensor t = at::empty(dims, type);
  in.seekg(offset);
  if (bytes && !in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(bytes))) {
    throw Error("tensor '" + name + "': reading external data file '" + file.string() + "' failed");
  }
  return t;
}

at::Tensor to_tensor(const onnx::TensorProto& proto, const std::string& model_path) {
  const std::string& name = proto.name();
  const at::ScalarType type = element_type(proto.data_type(), name);
  std::vector<int64_t> dims(proto.dims().begin(), proto.dims().end());
  int64_t count = 1;
  for (int64_t d : dims) {
    if (d < 0) throw Error("tensor '" + name + "' has a negative dimension");
    count *= d;
  }
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    return read_external(proto, type, dims, static_cast<size_t>(count) * c10::elementSize(type), model_path);
  }
  at::Tensor t;
  if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();
    const size_t expected = static_cast<size_t>(count) * c10::elementSize(type);
    if (raw.size() != expected) {
      throw Error("tensor '" + name + "' holds " + std::to_string(raw.size()) + " bytes, expected " +
                  std::to_string(expected) + " (truncated or corrupt file?)");
    }
    t = at::empty(dims, type);
    if (expected) std::memcpy(t.data_ptr(), raw.data(), expected);
    return t;
  }
  switch (proto.data_type()) {
    case onnx::TensorProto::FLOAT: t = from_field(proto.float_data(), type, {-1}); break;
    case onnx::TensorProto::DOUBLE: t = from_field(proto.double_data(), type, {-1}); break;
    case onnx::TensorProto::INT64: t = from_field(proto.int64_data(), type, {-1}); break;
    default: t = from_field(proto.int32_data(), type, {-1}); break;  // int32 and smaller, bool, fp16 bits
  }
  if (proto.data_type() == onnx::TensorProto::FLOAT16) {
    throw Error("tensor '" + name + "' stores float16 in int32_data, which is not supported");
  }
  if (t.numel() != count) {
    throw Error("tensor '" + name + "' holds " + std::to_string(t.numel()) + " values, expected " +
                std::to_string(count));
  }
  return t.reshape(dims);
}

Attributes to_attributes(const onnx::NodeProto& node, const std::string& model_path) {
  Attributes attributes;
  for (const auto& a : node.attribute()) {
    switch (a.type()) {
      case onnx::AttributeProto::INT: attributes.set(a.name(), static_cast<int64_t>(a.i())); break;
      case onnx::AttributeProto::FLOAT: attributes.set(a.name(), a.f()); break;
      case onnx::AttributeProto::STRING: attributes.set(a.name(), a.s()); break;
      case onnx::AttributeProto::TENSOR: attributes.set(a.name(), to_tensor(a.t(), model_path)); break;
      case onnx::AttributeProto::INTS:
        attributes.set(a.name(), std::vector<int64_t>(a.ints().begin(), a.ints().end()));
        break;
      case onnx::AttributeProto::FLOATS:
        attributes.set(a.name(), std::vector<float>(a.floats().begin(), a.floats().end()));
        break;
      default:
        // Graph-valued and string-list attributes belong to ops featvis does not run;
        // the unsupported-op check names those.
        break;
    }
  }
  return attributes;
}

// Exporters before opset 14 write hardswish as Mul(x, HardSigmoid(x; 1/6, 0.5)). Running
// it as one hardswish (PyTorch's kernel) is faster and rounds like PyTorch does, so
// gradients agree where a unit sits on the +-3 kink. The HardSigmoid node stays
// addressable; the planner skips it unless it is asked for.
void fuse_hardswish(std::vector<Node>& nodes, const std::unordered_map<std::string, size_t>& producer) {
  for (Node& mul : nodes) {
    if (mul.op_type != "Mul" || mul.inputs.size() != 2) continue;
    for (int side = 0; side < 2; ++side) {
      auto it = producer.find(mul.inputs[side]);
      if (it == producer.end()) continue;
      const Node& hs = nodes[it->second];
      const bool pytorch_hardsigmoid = hs.op_type == "HardSigmoid" && hs.inputs.size() == 1 &&
                                       std::abs(hs.attributes.get_float("alpha", 0.2f) - 1.0f / 6.0f) < 1e-7f &&
                                       hs.attributes.get_float("beta", 0.5f) == 0.5f;
      if (!pytorch_hardsigmoid || hs.inputs[0] != mul.inputs[1 - side]) continue;
      mul.op_type = "HardSwish";
      mul.inputs = {hs.inputs[0]};
      mul.attributes = Attributes();
      break;
    }
  }
}

int64_t default_opset(const onnx::ModelProto& model) {
  for (const auto& o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx") return o.version();
  return kDefaultOpset;
}

// The ONNX library's own validation (IR version, opset imports, each node against its
// op's schema, value infos), as one line naming the file. It runs after featvis's checks,
// which name unsupported ops and broken tensors more precisely.
// With external data the checker must know the model's folder, which only its by-path
// form learns (it re-reads the file; the weights stay beside it).
void check_with_onnx(const onnx::ModelProto& model, const std::string& origin, bool external,
                     const std::string& model_path) {
  try {
    if (external) {
      onnx::checker::check_model(model_path);
    } else {
      onnx::checker::check_model(model);
    }
  } catch (const onnx::checker::ValidationError& e) {
    std::string what = e.what();  // "<message>\n\n==> Context: <where>", possibly multi-line
    const std::string context = "==> Context: ";
    if (const size_t at = what.find(context); at != std::string::npos) what.replace(at, context.size(), "in ");
    std::string line;
    for (char c : what) {
      if (c == '\n' || c == '\r') c = ' ';
      if (c != ' ' || (!line.empty() && line.back() != ' ')) line += c;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    throw Error("'" + origin + "' is not a valid ONNX model: " + line);
  }
}

// ONNX requires nodes in topological order: every input of a node is the graph input, an
// initializer, an omitted optional input ("") or an output of an earlier node. One pass
// checks it, naming the first node that breaks the rule.
void check_topological_order(const std::vector<Node>& nodes, const std::unordered_map<std::string, size_t>& producer,
                             std::unordered_set<std::string> available, const std::string& origin) {
  available.insert("");
  for (const Node& node : nodes) {
    for (const auto& in : node.inputs) {
      if (available.count(in)) continue;
      auto later = producer.find(in);
      if (later == producer.end()) {
        throw Error("'" + origin + "': node '" + node.name + "' reads tensor '" + in + "', which nothing produces");
      }
      throw Error("'" + origin + "': node '" + node.name + "' reads tensor '" + in + "' before node '" +
                  nodes[later->second].name + "' produces it (ONNX requires nodes in topological order)");
    }
    for (const auto& out : node.outputs) available.insert(out);
  }
}

}  // namespace

Graph Graph::load_onnx(const std::string& path) {
  std::string bytes;
  try {
    bytes = read_file(path);
  } catch (const Error&) {
    throw Error("cannot read model file '" + path + "' (missing or unreadable)");
  }
  return load_onnx_bytes(bytes, path, path);
}

Graph Graph::load_onnx_bytes(const std::string& bytes, const std::string& origin, const std::string& model_path) {
  onnx::ModelProto model;
  if (bytes.empty() || !model.ParseFromString(bytes)) {
    throw Error("'" + origin + "' is not a valid ONNX model (truncated or corrupt protobuf)");
  }
  if (!model.has_graph() || model.graph().node_size() == 0) {
    throw Error("'" + origin + "' is not a valid ONNX model (no graph nodes)");
  }
  const onnx::GraphProto& g = model.graph();
  const int64_t opset = default_opset(model);

  Graph graph;
  graph.origin_ = origin;
  try {
    for (const auto& init : g.initializer()) graph.weights_[init.name()] = to_tensor(init, model_path);
  } catch (const Error& e) {
    throw Error("'" + origin + "': " + e.what());
  }
  for (const auto& vi : g.input()) {
    if (graph.weights_.count(vi.name())) continue;  // old exporters list weights as inputs
    GraphInput in{vi.name(), {}};
    if (vi.type().has_tensor_type()) {
      for (const auto& d : vi.type().tensor_type().shape().dim())
        in.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
    }
    graph.inputs_.push_back(std::move(in));
  }
  if (graph.inputs_.size() != 1) {
    throw Error("'" + origin + "' has " + std::to_string(graph.inputs_.size()) +
                " graph inputs; featvis needs exactly one image input");
  }
  for (const auto& out : g.output()) graph.outputs_.push_back(out.name());

  // Nodes, validated against the op registry, in the file's (topological) order.
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& np = g.node(i);
    Node node;
    node.op_type = np.op_type();
    node.name = np.name().empty() ? np.op_type() + "_" + std::to_string(i) : np.name();
    node.opset = opset;
    if (!np.domain().empty() && np.domain() != "ai.onnx") {
      throw Error("'" + origin + "': node '" + node.name + "' uses op '" + np.op_type() +
                  "' from domain '" + np.domain() + "', which featvis does not support");
    }
    if (!find_op(node.op_type)) {
      throw Error("'" + origin + "': unsupported ONNX op '" + node.op_type + "' at node '" +
                  node.name + "'");
    }
    node.inputs.assign(np.input().begin(), np.input().end());
    node.outputs.assign(np.output().begin(), np.output().end());
    try {
      node.attributes = to_attributes(np, model_path);
    } catch (const Error& e) {
      throw Error("'" + origin + "': node '" + node.name + "': " + e.what());
    }
    graph.nodes_.push_back(std::move(node));
  }

  for (size_t i = 0; i < graph.nodes_.size(); ++i)
    for (const auto& out : graph.nodes_[i].outputs)
      if (!out.empty()) graph.producer_[out] = i;
  std::unordered_set<std::string> available{graph.inputs_[0].name};
  for (const auto& [name, t] : graph.weights_) available.insert(name);
  check_topological_order(graph.nodes_, graph.producer_, std::move(available), origin);
  fuse_hardswish(graph.nodes_, graph.producer_);
  graph.channels_last_ = channels_last_tensors(graph);
  for (const auto& out : graph.outputs_) {
    if (!graph.has_tensor(out)) throw Error("'" + origin + "': graph output '" + out + "' is never produced");
  }
  const bool external = std::any_of(g.initializer().begin(), g.initializer().end(), [](const onnx::TensorProto& t) {
    return t.data_location() == onnx::TensorProto::EXTERNAL;
  });
  check_with_onnx(model, origin, external, model_path);
  return graph;
}

}  // namespace featvis::graph
