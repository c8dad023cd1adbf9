#pragma once
// featvis.Objective's value: a C++ objective, plus its alternatives when it was made by
// `|`, so that a | b | c stays one list of per-item objectives as in the text form.
#include <featvis/objective/objective.h>

#include <vector>

namespace featvis::python {

struct PyObjective {
  objective::Objective objective;
  std::vector<objective::Objective> items;  // non-empty only for a | b | ...

  static PyObjective alternatives(const std::vector<objective::Objective>& items);
};

PyObjective operator|(const PyObjective& a, const PyObjective& b);

}  // namespace featvis::python
