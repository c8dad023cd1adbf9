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

#include <memory>
#include <string>
#include <vector>

namespace featvis::python {

namespace py = pybind11;

namespace {

std::shared_ptr<model::Model> open(const std::string& ref, const std::string& device_name) {
  at::Device device(at::kCPU);
  try {
    device = at::Device(device_name);
  } catch (const std::exception&) {
    throw Error("device '" + device_name + "' is not a device (use cpu or cuda[:N])");
  }
  if (device.is_cuda() && !at::hasCUDA()) throw Error("device " + device_name + ": LibTorch has no CUDA here");
  auto model = std::make_shared<model::Model>(model::load_model(ref));
  if (!device.is_cpu()) model->graph.to(device);
  return model;
}

py::list layers(const model::Model& model) {
  py::list out;
  for (const inference::LayerInfo& info : inference::describe_layers(model)) {
    out.append(py::dict(py::arg("name") = info.name, py::arg("op") = info.op,
                        py::arg("shape") = py::tuple(py::cast(info.shape)), py::arg("units") = info.units));
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
      .def_property_readonly("name", [](const model::Model& model) { return model.card.name; })
      .def_property_readonly("card", &card, "The model card as a dict.")
      .def("layers", &layers, "Every addressable layer: dicts with name, op, shape (batch of one), units.")
      .def("resolve", [](const model::Model& model, const std::string& name) { return graph::resolve_layer(model.graph, name); },
           py::arg("layer"), "The full name of a layer given by a short name (the end of its name).")
      .def("classify", &classify_images, py::arg("images"), py::arg("top") = 5,
           "Top predictions per image: lists of dicts with index, label, logit, probability.")
      .def("activations", &activations, py::arg("images"), py::arg("layers"),
           "Activations of the named layers (full or short names) as {name: array [N, ...]}.")
      .def("__repr__", [](const model::Model& model) { return "featvis.Model('" + model.card.name + "')"; });
}

}  // namespace featvis::python
