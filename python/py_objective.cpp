#include "py_objective.h"

#include <featvis/graph/layer_name.h>
#include <featvis/objective/parse.h>
#include <featvis/util/error.h>

namespace featvis::python {

namespace fo = featvis::objective;

PyObjective PyObjective::fixed(const fo::Objective& o) {
  return PyObjective{o, [o](const graph::Graph&) { return o; }, {}};
}

PyObjective PyObjective::on_layer(const std::string& layer, const std::function<fo::Objective(const std::string&)>& make) {
  return PyObjective{make(layer), [layer, make](const graph::Graph& g) { return make(graph::resolve_layer(g, layer)); }, {}};
}

PyObjective PyObjective::alternatives(const std::vector<PyObjective>& items) {
  std::vector<fo::Objective> given;
  for (const PyObjective& item : items) given.push_back(item.objective);
  Bind bind = [items](const graph::Graph& g) {
    std::vector<fo::Objective> bound;
    for (const PyObjective& item : items) bound.push_back(item.bind(g));
    return fo::per_item(bound);
  };
  return PyObjective{fo::per_item(given), bind, items};
}

PyObjective operator+(const PyObjective& a, const PyObjective& b) {
  return PyObjective{a.objective + b.objective, [a = a.bind, b = b.bind](const graph::Graph& g) { return a(g) + b(g); }, {}};
}

PyObjective operator-(const PyObjective& a, const PyObjective& b) {
  return PyObjective{a.objective - b.objective, [a = a.bind, b = b.bind](const graph::Graph& g) { return a(g) - b(g); }, {}};
}

PyObjective operator*(double scale, const PyObjective& a) {
  return PyObjective{scale * a.objective, [scale, a = a.bind](const graph::Graph& g) { return scale * a(g); }, {}};
}

PyObjective operator*(const PyObjective& a, double scale) {
  return PyObjective{a.objective * scale, [scale, a = a.bind](const graph::Graph& g) { return a(g) * scale; }, {}};
}

PyObjective operator-(const PyObjective& a) {
  return PyObjective{-a.objective, [a = a.bind](const graph::Graph& g) { return -a(g); }, {}};
}

PyObjective operator|(const PyObjective& a, const PyObjective& b) {
  std::vector<PyObjective> items = a.items.empty() ? std::vector<PyObjective>{a} : a.items;
  if (b.items.empty()) {
    items.push_back(b);
  } else {
    items.insert(items.end(), b.items.begin(), b.items.end());
  }
  return PyObjective::alternatives(items);
}

objective::Objective objective_for(const model::Model& model, const pybind11::handle& objective_or_text) {
  if (pybind11::isinstance<pybind11::str>(objective_or_text)) {
    return objective::parse(objective_or_text.cast<std::string>(), model);
  }
  if (!pybind11::isinstance<PyObjective>(objective_or_text)) {
    throw Error("an objective must be a featvis.Objective or its text form, not " +
                std::string(pybind11::str(objective_or_text.get_type().attr("__name__"))));
  }
  return objective_or_text.cast<const PyObjective&>().bind(model.graph);
}

}  // namespace featvis::python
