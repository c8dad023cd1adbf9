#pragma once
// featvis.Objective's value: the C++ objective with the layer names as the user gave
// them (its description, batch size and algebra), and how to build the same objective
// with those names resolved in a model's graph (short names work, as in the text form).
// Alternatives made by `|` are kept as one list, so a | b | c is one per-item objective
// as in the text form, not nested ones.
#include <featvis/graph/graph.h>
#include <featvis/model/model.h>
#include <featvis/objective/objective.h>

#include <pybind11/pybind11.h>

#include <functional>
#include <string>
#include <vector>

namespace featvis::python {

struct PyObjective {
  using Bind = std::function<objective::Objective(const graph::Graph&)>;

  objective::Objective objective;  // names as given
  Bind bind;                       // names resolved (featvis::resolve_layer)
  std::vector<PyObjective> items;  // non-empty only for a | b | ...

  // An objective that reads no layers, or whose names are already resolved.
  static PyObjective fixed(const objective::Objective& o);
  // make(layer) for one layer name.
  static PyObjective on_layer(const std::string& layer,
                              const std::function<objective::Objective(const std::string&)>& make);
  static PyObjective alternatives(const std::vector<PyObjective>& items);
};

PyObjective operator+(const PyObjective& a, const PyObjective& b);
PyObjective operator-(const PyObjective& a, const PyObjective& b);
PyObjective operator*(double scale, const PyObjective& a);
PyObjective operator*(const PyObjective& a, double scale);
PyObjective operator-(const PyObjective& a);
PyObjective operator|(const PyObjective& a, const PyObjective& b);

// What a Python caller gives as an objective, bound to `model`: a featvis.Objective or
// its text form (objective::parse).
objective::Objective objective_for(const model::Model& model, const pybind11::handle& objective_or_text);

}  // namespace featvis::python
