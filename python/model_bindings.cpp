// featvis.Model: a loaded model (featvis::load_model) with what `featvis layers`,
// `classify` and `activations` give, as Python values.
#include "bindings.h"
#include "image_batch.h"
#include "numpy_tensor.h"

#include <featvis/graph/layer_name.h>
#include <featvis/inference/classify.h>
#include <featvis/inference/layer_info.h>
#include <featvis/model/model.h>
#include <featvis/util/error.h>

#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <vector>

namespace featvis::python {

namespace py = pybind11;

namespace {

at::Device parse_device(const std::string& device_name) {
  at::Device device(at::kCPU);
  try {
    device = at::Device(device_name);
  } catch (const std::exception&) {
    throw Error("device '" + device_name + "' is not a device (use cpu or cuda[:N])");
  }
  if (device.is_cuda() && !at::hasCUDA()) throw Error("device " + device_name + ": LibTorch has no CUDA here");
  return device;
}

void move_to(model::Model& model, const std::string& device_name) {
  const at::Device device = parse_device(device_name);
  if (!device.is_cpu()) model.graph.to(device);
}

std::shared_ptr<model::Model> open(const std::string& ref, const std::string& device_name) {
  parse_device(device_name);  // a bad device fails before the load
  auto model = std::make_shared<model::Model>(model::load_model(ref));
  move_to(*model, device_name);
  return model;
}

// torch.onnx.export of `module` into memory, loaded as a featvis model. The module is
// exported in eval mode with BatchNorm kept as its own node (as the parity fixtures are),
// so featvis repeats PyTorch's arithmetic; its own mode is restored afterwards.
std::shared_ptr<model::Model> from_torch(const py::object& module, const py::object& example_input, const std::string& name,
                                  const py::object& normalize, const std::optional<std::vector<std::string>>& labels,
                                  int opset, const std::string& device_name) {
  py::module_ torch;
  try {
    torch = py::module_::import("torch");
  } catch (const py::error_already_set&) {
    throw Error("Model.from_torch needs PyTorch (python3-torch)");
  }
  const py::module_ onnx = py::module_::import("torch.onnx");
  if (!py::isinstance(module, py::object(torch.attr("nn").attr("Module")))) {
    throw Error("from_torch: module must be a torch.nn.Module, not " + std::string(py::str(module.get_type().attr("__name__"))));
  }
  if (!py::isinstance(example_input, py::object(torch.attr("Tensor"))) || example_input.attr("dim")().cast<int>() != 4 ||
      example_input.attr("shape").attr("__getitem__")(1).cast<int64_t>() != 3) {
    throw Error("from_torch: example_input must be a torch tensor (N, 3, H, W)");
  }
  py::object buffer = py::module_::import("io").attr("BytesIO")();
  const bool was_training = module.attr("training").cast<bool>();
  module.attr("eval")();
  py::object no_grad = torch.attr("no_grad")();
  no_grad.attr("__enter__")();
  try {
    onnx.attr("export")(module, example_input.attr("detach")().attr("cpu")(), buffer,
                                      py::arg("opset_version") = opset, py::arg("input_names") = std::vector<std::string>{"input"},
                                      py::arg("output_names") = std::vector<std::string>{"logits"},
                                      py::arg("do_constant_folding") = false,
                                      py::arg("training") = py::object(onnx.attr("TrainingMode").attr("PRESERVE")));
  } catch (py::error_already_set& e) {
    no_grad.attr("__exit__")(py::none(), py::none(), py::none());
    module.attr("train")(was_training);
    // featvis errors are one line: the first of PyTorch's message.
    const std::string message = py::str(e.value());
    throw Error("from_torch: torch.onnx.export failed: " + message.substr(0, message.find('\n')));
  }
  no_grad.attr("__exit__")(py::none(), py::none(), py::none());
  module.attr("train")(was_training);

  model::ModelCard card;
  card.name = name.empty() ? std::string(py::str(module.get_type().attr("__name__"))) : name;
  card.description = "exported from PyTorch by featvis.Model.from_torch";
  card.input = "input";
  card.output = "logits";
  model::Preprocessing& pre = card.preprocessing;
  pre.height = example_input.attr("shape").attr("__getitem__")(2).cast<int>();
  pre.width = example_input.attr("shape").attr("__getitem__")(3).cast<int>();
  pre.resize = std::max(pre.width, pre.height) * 8 / 7;  // the usual 256/224 ImageNet ratio
  if (!normalize.is_none()) {
    // torchvision's Normalize(mean, std) on [0,1] pixels, in the card's 0..255 terms.
    const auto [mean, deviation] = normalize.cast<std::pair<std::array<float, 3>, std::array<float, 3>>>();
    for (size_t c = 0; c < 3; ++c) {
      pre.mean[c] = 255.f * mean[c];
      pre.std[c] = 255.f * deviation[c];
    }
  }
  if (labels) {
    card.labels = *labels;
    card.num_classes = static_cast<int64_t>(labels->size());
  }
  const std::string bytes = buffer.attr("getvalue")().cast<std::string>();
  auto model = std::make_shared<model::Model>(model::model_from_onnx_bytes(bytes, card, "torch " + card.name));
  move_to(*model, device_name);
  return model;
}

py::list layers(const model::Model& model) {
  py::list out;
  for (const inference::LayerInfo& info : inference::describe_layers(model)) {
    out.append(py::dict(py::arg("name") = info.name, py::arg("op") = info.op,
                        py::arg("shape") = py::tuple(py::cast(info.shape)), py::arg("units") = info.units,
                        py::arg("role") = info.role));
  }
  return out;
}

py::dict card(const model::Model& model) {
  const model::ModelCard& c = model.card;
  py::list card_layers;
  for (const model::CardLayer& l : c.layers) {
    card_layers.append(py::dict(py::arg("name") = l.name, py::arg("title") = l.title,
                                py::arg("visualize") = l.visualization_tensor()));
  }
  return py::dict(py::arg("name") = c.name, py::arg("description") = c.description,
                  py::arg("file") = model.onnx_path, py::arg("input") = c.input, py::arg("output") = c.output,
                  py::arg("input_size") = py::make_tuple(c.preprocessing.height, c.preprocessing.width),
                  py::arg("classes") = c.num_classes, py::arg("labels") = c.labels.size(),
                  py::arg("layers") = card_layers);
}

py::list classify_images(const model::Model& model, const py::handle& images, int top) {
  const at::Tensor batch = network_batch(model, images);
  py::list out;
  for (const auto& predictions : inference::classify(model, batch, top)) {
    py::list per_image;
    for (const inference::Prediction& p : predictions) {
      per_image.append(py::dict(py::arg("index") = p.index, py::arg("label") = p.label, py::arg("logit") = p.logit,
                                py::arg("probability") = p.probability));
    }
    out.append(per_image);
  }
  return out;
}

// Keys are the names as given (short names included); values are [N, ...] arrays.
py::dict activations(const model::Model& model, const py::handle& images, const py::handle& layer_names) {
  std::vector<std::string> given;
  if (py::isinstance<py::str>(layer_names)) {
    given.push_back(layer_names.cast<std::string>());
  } else {
    given = layer_names.cast<std::vector<std::string>>();
  }
  if (given.empty()) throw Error("activations: no layers given");
  const std::vector<std::string> names = graph::resolve_layers(model.graph, given);
  const at::Tensor batch = network_batch(model, images);
  c10::InferenceMode guard;
  const graph::TensorMap result = model.graph.run(batch, names);
  py::dict out;
  for (size_t i = 0; i < given.size(); ++i) out[py::str(given[i])] = numpy_from_tensor(result.at(names[i]));
  return out;
}

}  // namespace

void bind_model(py::module_& m) {
  py::class_<model::Model, std::shared_ptr<model::Model>>(m, "Model",
                                            "A model by card name (mobilenet_v2), .onnx path or card path, "
                                            "found on the model search path as by the CLI.")
      .def(py::init(&open), py::arg("name_or_path"), py::arg("device") = "cpu")
      .def_static("from_torch", &from_torch, py::arg("module"), py::arg("example_input"), py::kw_only(),
                  py::arg("name") = "",
                  py::arg("normalize") = py::make_tuple(py::make_tuple(0.485, 0.456, 0.406), py::make_tuple(0.229, 0.224, 0.225)),
                  py::arg("labels") = py::none(), py::arg("opset") = 13, py::arg("device") = "cpu",
                  "A torch.nn.Module as a featvis model: exported to ONNX in memory (torch.onnx, eval mode) and "
                  "loaded. example_input: a (N, 3, H, W) tensor; H x W becomes the input size. normalize: the "
                  "(mean, std) the module expects on [0, 1] pixels (torchvision's ImageNet values by default; None: "
                  "[0, 1] pixels as they are). labels: class names, optional.")
      .def_property_readonly("name", [](const model::Model& model) { return model.card.name; })
      .def_property_readonly("card", &card, "The model card as a dict.")
      .def("layers", &layers,
           "Every addressable layer: dicts with name, op, shape (batch of one), units, role (transformer tokens).")
      .def("resolve", [](const model::Model& model, const std::string& name) { return graph::resolve_layer(model.graph, name); },
           py::arg("layer"), "The full name of a layer given by a short name (the end of its name).")
      .def_property_readonly("labels", [](const model::Model& model) { return model.card.labels; },
                             "Class names, index i = class i (empty when the card has none).")
      .def("crop",
           [](const model::Model& model, const py::handle& images) {
             return numpy_from_tensor(images01(model, images).permute({0, 2, 3, 1}));
           },
           py::arg("images"),
           "The images as the network sees them, before the card's pixel scaling: the card's crop of a photo, "
           "(N, H, W, 3) float32 in [0, 1].")
      .def("classify", &classify_images, py::arg("images"), py::arg("top") = 5,
           "Top predictions per image: lists of dicts with index, label, logit, probability.")
      .def("activations", &activations, py::arg("images"), py::arg("layers"),
           "Activations of the named layers (full or short names) as {name: array [N, ...]}.")
      .def("__repr__", [](const model::Model& model) { return "featvis.Model('" + model.card.name + "')"; });
}

}  // namespace featvis::python
