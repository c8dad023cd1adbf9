// featvis.Objective and featvis.objective: the C++ objective kinds and algebra
// (objective/kinds.h, objective.h) and the text form (objective/parse.h).
#include "bindings.h"
#include "numpy_tensor.h"
#include "py_objective.h"

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

PyObjective per_item(const std::vector<PyObjective>& items) {
  std::vector<fo::Objective> objectives;
  for (const PyObjective& item : items) objectives.push_back(item.objective);
  return PyObjective::alternatives(objectives);
}

}  // namespace

PyObjective PyObjective::alternatives(const std::vector<fo::Objective>& items) {
  return PyObjective{fo::per_item(items), items};
}

PyObjective operator|(const PyObjective& a, const PyObjective& b) {
  // a | b | c is one list of alternatives, as in the text form, not nested ones.
  std::vector<fo::Objective> items = a.items.empty() ? std::vector<fo::Objective>{a.objective} : a.items;
  if (b.items.empty()) {
    items.push_back(b.objective);
  } else {
    items.insert(items.end(), b.items.begin(), b.items.end());
  }
  return PyObjective::alternatives(items);
}

void bind_objective(py::module_& m) {
  py::class_<PyObjective>(m, "Objective",
                          "What a render maximizes: featvis.objective kinds combined with + - * and | "
                          "(one objective per batch item). Layer names must be full names "
                          "(Model.resolve); featvis.objective.parse also takes short ones.")
      .def_property_readonly("description", [](const PyObjective& o) { return o.objective.description(); })
      .def_property_readonly("layers", [](const PyObjective& o) { return o.objective.layers(); })
      .def_property_readonly("batch_size", [](const PyObjective& o) { return o.objective.batch_size(); },
                             "The batch size it needs (0 = any).")
      .def("__str__", [](const PyObjective& o) { return o.objective.description(); })
      .def("__repr__", [](const PyObjective& o) { return "featvis.Objective('" + o.objective.description() + "')"; })
      .def("__add__", [](const PyObjective& a, const PyObjective& b) { return PyObjective{a.objective + b.objective}; })
      .def("__sub__", [](const PyObjective& a, const PyObjective& b) { return PyObjective{a.objective - b.objective}; })
      .def("__mul__", [](const PyObjective& a, double s) { return PyObjective{a.objective * s}; })
      .def("__rmul__", [](const PyObjective& a, double s) { return PyObjective{s * a.objective}; })
      .def("__neg__", [](const PyObjective& a) { return PyObjective{-a.objective}; })
      .def("__or__", [](const PyObjective& a, const PyObjective& b) { return a | b; });

  py::module_ o = m.def_submodule("objective", "Objective kinds (Lucid's names), as in `featvis objectives`.");
  auto wrap = [](fo::Objective objective) { return PyObjective{std::move(objective)}; };
  o.def("channel", [wrap](const std::string& layer, int64_t c) { return wrap(fo::channel(layer, c)); },
        py::arg("layer"), py::arg("channel"), "Channel mean over all positions.");
  o.def("neuron",
        [wrap](const std::string& layer, int64_t c, std::optional<int64_t> x, std::optional<int64_t> y) {
          return wrap(fo::neuron(layer, c, position(x, y)));
        },
        py::arg("layer"), py::arg("channel"), py::arg("x") = py::none(), py::arg("y") = py::none(),
        "One neuron: channel at column x, row y (default: the centre).");
  o.def("deepdream", [wrap](const std::string& layer) { return wrap(fo::deepdream(layer)); }, py::arg("layer"),
        "Mean of squared activations of the whole layer.");
  o.def("logit", [wrap](const std::string& output, int64_t k) { return wrap(fo::logit(output, k)); },
        py::arg("output"), py::arg("k"), "Class k's score in `output` (model.card['output']).");
  o.def("probability", [wrap](const std::string& output, int64_t k) { return wrap(fo::probability(output, k)); },
        py::arg("output"), py::arg("k"), "Class k's softmax probability over `output`.");
  o.def("direction",
        [wrap](const std::string& layer, const py::array& vector, bool cosine) {
          return wrap(fo::direction(layer, tensor_from_numpy(vector), cosine));
        },
        py::arg("layer"), py::arg("vector"), py::arg("cosine") = true,
        "A direction in channel space (one value per channel), mean over positions.");
  o.def("direction_neuron",
        [wrap](const std::string& layer, const py::array& vector, std::optional<int64_t> x,
               std::optional<int64_t> y, bool cosine) {
          return wrap(fo::direction_neuron(layer, tensor_from_numpy(vector), position(x, y), cosine));
        },
        py::arg("layer"), py::arg("vector"), py::arg("x") = py::none(), py::arg("y") = py::none(),
        py::arg("cosine") = true, "A direction at one position (default: the centre).");
  o.def("diversity", [wrap](const std::string& layer) { return wrap(fo::diversity(layer)); }, py::arg("layer"),
        "Batch term: items' Gram matrices of `layer` unlike each other.");
  o.def("alignment", [wrap](const std::string& layer, double decay) { return wrap(fo::alignment(layer, decay)); },
        py::arg("layer"), py::arg("decay_ratio") = 2.0, "Batch term: neighbouring items alike.");
  o.def("channel_interpolate",
        [wrap](const std::string& l1, int64_t c1, const std::string& l2, int64_t c2) {
          return wrap(fo::channel_interpolate(l1, c1, l2, c2));
        },
        py::arg("layer1"), py::arg("channel1"), py::arg("layer2"), py::arg("channel2"),
        "Item i maximizes a blend of two channels, from the first to the second.");
  o.def("l1", [wrap](double constant) { return wrap(fo::l1(constant)); }, py::arg("constant") = 0.5);
  o.def("l2", [wrap](double constant, double epsilon) { return wrap(fo::l2(constant, epsilon)); },
        py::arg("constant") = 0.5, py::arg("epsilon") = 1e-6);
  o.def("total_variation", [wrap]() { return wrap(fo::total_variation()); });
  o.def("blur", [wrap]() { return wrap(fo::blur()); });
  o.def("per_item", &per_item, py::arg("items"), "Item i of the batch gets objective i (the same as a | b | ...).");
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
  o.def("parse", [wrap](const std::string& text, const Model& model) { return wrap(fo::parse(text, model)); },
        py::arg("text"), py::arg("model"),
        "The CLI's text form (see `featvis objectives`), checked against the model; short layer names work.");
}

}  // namespace featvis::python
