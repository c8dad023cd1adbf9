// Graph: input [N,3,28,28] -> (Conv 3x3 pad 1 "convK/preact" -> Relu "convK" -> MaxPool 2
// "poolK") for K = 1..3 -> Flatten "flatten" -> Gemm "fc1/preact" -> Relu "fc1" -> Gemm
// "logits". Tensor names are the layer names users type.
#include "onnx_export.h"

#include <featvis/util/check.h>

#include <onnx/onnx_pb.h>

#include <vector>

namespace featvis::train {
namespace {

void add_weight(onnx::GraphProto* g, const std::string& name, const at::Tensor& value) {
  const at::Tensor t = value.detach().to(at::kCPU, at::kFloat).contiguous();
  onnx::TensorProto* p = g->add_initializer();
  p->set_name(name);
  p->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : t.sizes()) p->add_dims(d);
  p->set_raw_data(std::string(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()) * sizeof(float)));
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, const std::vector<std::string>& in,
                          const std::string& out) {
  onnx::NodeProto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(out);
  for (const auto& i : in) n->add_input(i);
  n->add_output(out);
  return n;
}

void set_ints(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& values) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto v : values) a->add_ints(v);
}

void set_int(onnx::NodeProto* n, const std::string& name, int64_t value) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

void set_float_tensor_type(onnx::ValueInfoProto* v, const std::vector<std::string>& dims) {
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (const auto& d : dims) {
    auto* dim = tt->mutable_shape()->add_dim();
    if (d == "N") dim->set_dim_param(d); else dim->set_dim_value(std::stoll(d));
  }
}

}  // namespace

std::string fashion_cnn_onnx(const std::map<std::string, at::Tensor>& weights) {
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.set_producer_name("featvis train-fashion-mnist");
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("fashion_cnn");
  auto* input = g->add_input();
  input->set_name("input");
  set_float_tensor_type(input, {"N", "3", "28", "28"});
  for (const auto& [name, value] : weights) add_weight(g, name, value);
  auto need = [&](const std::string& name) {
    FEATVIS_CHECK(weights.count(name), "fashion CNN export: no weight '", name, "'");
    return name;
  };
  std::string x = "input";
  for (int k = 1; k <= 3; ++k) {
    const std::string conv = "conv" + std::to_string(k);
    auto* c = add_node(g, "Conv", {x, need(conv + ".weight"), need(conv + ".bias")}, conv + "/preact");
    set_ints(c, "kernel_shape", {3, 3});
    set_ints(c, "pads", {1, 1, 1, 1});
    add_node(g, "Relu", {conv + "/preact"}, conv);
    auto* p = add_node(g, "MaxPool", {conv}, "pool" + std::to_string(k));
    set_ints(p, "kernel_shape", {2, 2});
    set_ints(p, "strides", {2, 2});
    x = "pool" + std::to_string(k);
  }
  set_int(add_node(g, "Flatten", {x}, "flatten"), "axis", 1);
  set_int(add_node(g, "Gemm", {"flatten", need("fc1.weight"), need("fc1.bias")}, "fc1/preact"), "transB", 1);
  add_node(g, "Relu", {"fc1/preact"}, "fc1");
  set_int(add_node(g, "Gemm", {"fc1", need("fc2.weight"), need("fc2.bias")}, "logits"), "transB", 1);
  auto* out = g->add_output();
  out->set_name("logits");
  set_float_tensor_type(out, {"N", std::to_string(weights.at("fc2.bias").size(0))});
  std::string bytes;
  FEATVIS_CHECK(model.SerializeToString(&bytes), "fashion CNN export: cannot serialize the ONNX model");
  return bytes;
}

}  // namespace featvis::train
