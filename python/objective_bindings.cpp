// featvis.Objective and featvis.objective: the C++ objective kinds and algebra
// (objective/kinds.h, objective.h) and the text form (objective/parse.h).
#include "bindings.h"
#include "numpy_tensor.h"
#include "py_objective.h"

#include <featvis/graph/layer_name.h>
#include <featvis/image/image.h>
#include <featvis/model/model.h>
#include <featvis/objective/kind_table.h>
#include <featvis/objective/kinds.h>
#include <featvis/objective/parse.h>
#include <featvis/util/error.h>

#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace featvis::python {

namespace py = pybind11;
namespace fo = featvis::objective;

namespace {

using Position = std::optional<std::pair<int64_t, int64_t>>;

// x and y are given together or not at all (then the layer's centre).
Position position(std::optional<int64_t> x, std::optional<int64_t> y) {
  if (x.has_value() != y.has_value()) throw Error("give both x and y, or neither (the centre)");
  if (!x) return std::nullopt;
  return std::make_pair(*x, *y);
}

}  // namespace

void bind_objective(py::module_& m) {
  py::class_<PyObjective>(m, "Objective",
                          "What a render maximizes: featvis.objective kinds combined with + - * and | "
                          "(one objective per batch item). Layer names may be short (the end of a name), "
                          "resolved when it is rendered; str() shows them as given.")
      .def_property_readonly("description", [](const PyObjective& o) { return o.objective.description(); })
      .def_property_readonly("layers", [](const PyObjective& o) { return o.objective.layers(); })
      .def_property_readonly("batch_size", [](const PyObjective& o) { return o.objective.batch_size(); },
                             "The batch size it needs (0 = any).")
      .def("__str__", [](const PyObjective& o) { return o.objective.description(); })
      .def("__repr__", [](const PyObjective& o) { return "featvis.Objective('" + o.objective.description() + "')"; })
      .def("bind", [](const PyObjective& o, const model::Model& model) { return PyObjective::fixed(o.bind(model.graph)); },
           py::arg("model"), "The same objective with its layer names resolved in the model.")
      .def("__add__", [](const PyObjective& a, const PyObjective& b) { return a + b; })
      .def("__sub__", [](const PyObjective& a, const PyObjective& b) { return a - b; })
      .def("__mul__", [](const PyObjective& a, double s) { return a * s; })
      .def("__rmul__", [](const PyObjective& a, double s) { return s * a; })
      .def("__neg__", [](const PyObjective& a) { return -a; })
      .def("__or__", [](const PyObjective& a, const PyObjective& b) { return a | b; });

  py::module_ o = m.def_submodule("objective", "Objective kinds (Lucid's names), as in `featvis objectives`.");
  // Kinds that read one layer resolve it when bound; penalties read none.
  using L = const std::string&;
  o.def("channel", [](L layer, int64_t c) { return PyObjective::on_layer(layer, [c](L l) { return fo::channel(l, c); }); },
        py::arg("layer"), py::arg("channel"), "Channel mean over all positions.");
  o.def("neuron",
        [](L layer, int64_t c, std::optional<int64_t> x, std::optional<int64_t> y) {
          return PyObjective::on_layer(layer, [c, xy = position(x, y)](L l) { return fo::neuron(l, c, xy); });
        },
        py::arg("layer"), py::arg("channel"), py::arg("x") = py::none(), py::arg("y") = py::none(),
        "One neuron: channel at column x, row y (default: the centre).");
  o.def("deepdream", [](L layer) { return PyObjective::on_layer(layer, [](L l) { return fo::deepdream(l); }); },
        py::arg("layer"), "Mean of squared activations of the whole layer.");
  o.def("logit", [](L output, int64_t k) { return PyObjective::on_layer(output, [k](L l) { return fo::logit(l, k); }); },
        py::arg("output"), py::arg("k"), "Class k's score in `output` (model.card['output']).");
  o.def("probability",
        [](L output, int64_t k) { return PyObjective::on_layer(output, [k](L l) { return fo::probability(l, k); }); },
        py::arg("output"), py::arg("k"), "Class k's softmax probability over `output`.");
  o.def("direction",
        [](L layer, const py::array& vector, bool cosine) {
          return PyObjective::on_layer(layer, [v = tensor_from_numpy(vector), cosine](L l) {
            return fo::direction(l, v, cosine);
          });
        },
        py::arg("layer"), py::arg("vector"), py::arg("cosine") = true,
        "A direction in channel space (one value per channel), mean over positions.");
  o.def("direction_neuron",
        [](L layer, const py::array& vector, std::optional<int64_t> x, std::optional<int64_t> y, bool cosine) {
          return PyObjective::on_layer(layer, [v = tensor_from_numpy(vector), xy = position(x, y), cosine](L l) {
            return fo::direction_neuron(l, v, xy, cosine);
          });
        },
        py::arg("layer"), py::arg("vector"), py::arg("x") = py::none(), py::arg("y") = py::none(),
        py::arg("cosine") = true, "A direction at one position (default: the centre).");
  o.def("diversity", [](L layer) { return PyObjective::on_layer(layer, [](L l) { return fo::diversity(l); }); },
        py::arg("layer"), "Batch term: items' Gram matrices of `layer` unlike each other.");
  o.def("alignment",
        [](L layer, double decay) {
          return PyObjective::on_layer(layer, [decay](L l) { return fo::alignment(l, decay); });
        },
        py::arg("layer"), py::arg("decay_ratio") = 2.0, "Batch term: neighbouring items alike.");
  o.def("channel_interpolate",
        [](L l1, int64_t c1, L l2, int64_t c2) {
          return PyObjective{fo::channel_interpolate(l1, c1, l2, c2), [l1 = std::string(l1), c1, l2 = std::string(l2), c2](const graph::Graph& g) {
                               return fo::channel_interpolate(graph::resolve_layer(g, l1), c1, graph::resolve_layer(g, l2), c2);
                             }, {}};
        },
        py::arg("layer1"), py::arg("channel1"), py::arg("layer2"), py::arg("channel2"),
        "Item i maximizes a blend of two channels, from the first to the second.");
  o.def("l1", [](double constant) { return PyObjective::fixed(fo::l1(constant)); }, py::arg("constant") = 0.5);
  o.def("l2", [](double constant, double epsilon) { return PyObjective::fixed(fo::l2(constant, epsilon)); },
        py::arg("constant") = 0.5, py::arg("epsilon") = 1e-6);
  o.def("total_variation", [] { return PyObjective::fixed(fo::total_variation()); });
  o.def("blur", [] { return PyObjective::fixed(fo::blur()); });
  o.def(
      "distance",
      [](const std::string& photo) {
        // The whole photo (the text form reads the card's crop, which needs the model).
        const at::Tensor rgb = image::load_image_rgb8(photo).permute({2, 0, 1}).to(at::kFloat) / 255.0;
        return PyObjective::fixed(fo::distance(rgb, photo));
      },
      py::arg("photo"),
      "Penalty: RMS distance to a photo file, resized to the image (feature accentuation: start from the same "
      "photo).");
  o.def(
      "caricature",
      [](L layer, const std::string& photo, double power) {
        const at::Tensor rgb = image::load_image_rgb8(photo).permute({2, 0, 1}).to(at::kFloat) / 255.0;
        return PyObjective::on_layer(layer, [rgb, photo, power](L l) { return fo::caricature(l, rgb, photo, power); });
      },
      py::arg("layer"), py::arg("photo"), py::arg("power") = 1.0,
      "The layer's activations matched to a photo file's (whole photo, resized to the image): Lucid's caricature; "
      "render it from noise.");
  o.def("per_item", &PyObjective::alternatives, py::arg("items"),
        "Item i of the batch gets objective i (the same as a | b | ...).");
  o.def("kinds",
        [] {
          py::list out;
          for (const fo::Kind& kind : fo::kinds()) {
            out.append(py::dict(py::arg("name") = kind.name, py::arg("signature") = kind.signature(),
                                py::arg("summary") = kind.summary, py::arg("help") = kind.help));
          }
          return out;
        },
        "Every kind of the text form, as `featvis objectives` lists them.");
  o.def("parse", [](const std::string& text, const model::Model& model) { return PyObjective::fixed(fo::parse(text, model)); },
        py::arg("text"), py::arg("model"),
        "The CLI's text form (see `featvis objectives`), checked against the model; short layer names work.");
}

}  // namespace featvis::python
