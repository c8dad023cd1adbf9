#include "support/onnx_builder.h"
#include "support/test_support.h"

#include <onnx/onnx_pb.h>

#include <fstream>
#include <map>
#include <stdexcept>

namespace featvis::testing {
namespace {

void add_initializer(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t count = 1;
  for (int64_t d : dims) {
    t->add_dims(d);
    count *= d;
  }
  // Deterministic, varied values so outputs differ per class and channel.
  for (int64_t i = 0; i < count; ++i) t->add_float_data(static_cast<float>(((i * 37) % 17) - 8) / 16.0f);
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, std::vector<std::string> in,
                          std::vector<std::string> out, const std::string& name) {
  onnx::NodeProto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (auto& i : in) n->add_input(i);
  for (auto& o : out) n->add_output(o);
  return n;
}

void set_ints(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> values) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto v : values) a->add_ints(v);
}

// An opset-13 model whose graph has one float input "input" [1,3,size,size].
onnx::ModelProto model_with_image_input(const std::string& name, int size) {
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name(name);
  auto* input = g->add_input();
  input->set_name("input");
  auto* tt = input->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : {1, 3, size, size}) tt->mutable_shape()->add_dim()->set_dim_value(d);
  return model;
}

// Global average pool -> flatten -> Gemm (weights "fc.w", "fc.b", transB) -> "logits",
// after `features`; returns the serialized model.
std::string with_classifier_head(onnx::ModelProto& model, const std::string& features) {
  onnx::GraphProto* g = model.mutable_graph();
  add_node(g, "GlobalAveragePool", {features}, {"pool"}, "pool");
  add_node(g, "Flatten", {"pool"}, {"flat"}, "flatten");
  auto* gemm = add_node(g, "Gemm", {"flat", "fc.w", "fc.b"}, {"logits"}, "fc");
  auto* trans = gemm->add_attribute();
  trans->set_name("transB");
  trans->set_type(onnx::AttributeProto::INT);
  trans->set_i(1);
  add_float_output(g, "logits");
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw std::runtime_error("cannot serialize test model");
  return bytes;
}

}  // namespace

void add_float_output(onnx::GraphProto* graph, const std::string& name) {
  auto* out = graph->add_output();
  out->set_name(name);
  auto* tensor = out->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  tensor->mutable_shape();
}

std::string tiny_classifier_onnx(int classes, int size, const std::string& extra_op) {
  onnx::ModelProto model = model_with_image_input("tiny", size);
  onnx::GraphProto* g = model.mutable_graph();
  add_initializer(g, "conv1.w", {4, 3, 3, 3});
  add_initializer(g, "conv1.b", {4});
  add_initializer(g, "fc.w", {classes, 4});
  add_initializer(g, "fc.b", {classes});
  auto* conv = add_node(g, "Conv", {"input", "conv1.w", "conv1.b"}, {"conv1/preact"}, "conv1/Conv");
  set_ints(conv, "pads", {1, 1, 1, 1});
  set_ints(conv, "kernel_shape", {3, 3});
  add_node(g, "Relu", {"conv1/preact"}, {"conv1"}, "conv1/Relu");
  std::string last = "conv1";
  if (!extra_op.empty()) {
    add_node(g, extra_op, {last}, {"odd"}, "odd_node");
    last = "odd";
  }
  return with_classifier_head(model, last);
}

std::string tiny_two_conv_onnx(int classes, int size) {
  onnx::ModelProto model = model_with_image_input("tiny_two_conv", size);
  onnx::GraphProto* g = model.mutable_graph();
  add_initializer(g, "conv1.w", {4, 3, 3, 3});
  add_initializer(g, "conv1.b", {4});
  add_initializer(g, "conv2.w", {6, 4, 3, 3});
  add_initializer(g, "conv2.b", {6});
  add_initializer(g, "fc.w", {classes, 6});
  add_initializer(g, "fc.b", {classes});
  auto* conv1 = add_node(g, "Conv", {"input", "conv1.w", "conv1.b"}, {"conv1/preact"}, "conv1/Conv");
  set_ints(conv1, "pads", {1, 1, 1, 1});
  set_ints(conv1, "kernel_shape", {3, 3});
  add_node(g, "Relu", {"conv1/preact"}, {"conv1"}, "conv1/Relu");
  auto* conv2 = add_node(g, "Conv", {"conv1", "conv2.w", "conv2.b"}, {"block 2:conv"}, "conv2/Conv");
  set_ints(conv2, "pads", {1, 1, 1, 1});
  set_ints(conv2, "kernel_shape", {3, 3});
  set_ints(conv2, "strides", {2, 2});
  add_node(g, "Relu", {"block 2:conv"}, {"block2"}, "conv2/Relu");
  return with_classifier_head(model, "block2");
}

std::string onnx_from_nodes(const std::vector<TestNode>& nodes, int channels, int size) {
  onnx::ModelProto model = model_with_image_input("from_nodes", size);
  onnx::GraphProto* g = model.mutable_graph();
  g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(channels);
  std::map<std::string, int64_t> width{{"input", channels}};  // channels per tensor
  for (const TestNode& spec : nodes) {
    std::vector<std::string> inputs = spec.inputs;
    int64_t c = inputs.empty() ? channels : width[inputs[0]];
    if (spec.op == "Concat") {
      c = 0;
      for (const auto& i : inputs) c += width[i];
    }
    const int64_t in_channels = c;
    if (spec.op == "Conv") {
      std::vector<int64_t> kernel{1, 1};
      for (const auto& [name, values] : spec.ints)
        if (name == "kernel_shape") kernel = values;
      int64_t group = 1;
      for (const auto& [name, value] : spec.int_attrs)
        if (name == "group") group = value;
      if (spec.out_channels) c = spec.out_channels;
      add_initializer(g, spec.output + ".w", {c, in_channels / group, kernel[0], kernel[1]});
      inputs.push_back(spec.output + ".w");
      if (spec.bias) {
        add_initializer(g, spec.output + ".b", {c});
        inputs.push_back(spec.output + ".b");
      }
    }
    if (spec.op == "BatchNormalization") {
      for (const char* part : {".scale", ".bias", ".mean"}) {
        add_initializer(g, spec.output + part, {c});
        inputs.push_back(spec.output + part);
      }
      onnx::TensorProto* var = g->add_initializer();
      var->set_name(spec.output + ".var");
      var->set_data_type(onnx::TensorProto::FLOAT);
      var->add_dims(c);
      for (int64_t i = 0; i < c; ++i) var->add_float_data(0.5f + 0.25f * static_cast<float>(i % 5));
      inputs.push_back(var->name());
    }
    for (size_t b = 0; b < spec.clip_bounds.size(); ++b) {
      onnx::TensorProto* t = g->add_initializer();
      t->set_name(spec.output + (b == 0 ? ".min" : ".max"));
      t->set_data_type(onnx::TensorProto::FLOAT);
      t->add_float_data(spec.clip_bounds[b]);
      inputs.push_back(t->name());
    }
    onnx::NodeProto* n = add_node(g, spec.op, inputs, {spec.output}, spec.output + "/" + spec.op);
    for (const auto& [name, values] : spec.ints) set_ints(n, name, values);
    for (const auto& [name, value] : spec.int_attrs) {
      auto* a = n->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(value);
    }
    for (const auto& [name, value] : spec.strings) {
      auto* a = n->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::STRING);
      a->set_s(value);
    }
    width[spec.output] = c;
  }
  add_float_output(g, nodes.back().output);
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw std::runtime_error("cannot serialize test model");
  return bytes;
}

std::string tiny_classifier_card(const std::string& visualize) {
  return R"({
  "name": "tiny", "description": "synthetic test model", "file": "tiny.onnx",
  "input": "input", "output": "logits",
  "preprocessing": {"crop": "stretch", "width": 8, "height": 8,
                    "mean": [0, 0, 0], "std": [255, 255, 255], "channels": "rgb"},
  "layers": [{"name": "conv1", "title": "first conv")" +
         (visualize.empty() ? std::string() : R"(, "visualize": ")" + visualize + '"') + R"(}]
})";
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

TinyModelDir::TinyModelDir(bool two_conv)
    : dir(temp_dir()), model(dir + "/tiny.onnx"), card(dir + "/tiny.card.json") {
  write_bytes(model, two_conv ? tiny_two_conv_onnx(3, 8) : tiny_classifier_onnx(3, 8));
  write_bytes(card, tiny_classifier_card());
}

}  // namespace featvis::testing
