#pragma once
// The parts of the Python module `featvis`, one per concept; featvis_module.cpp calls
// each once at import.
#include <pybind11/pybind11.h>

namespace featvis::python {

void bind_errors(pybind11::module_& m);     // featvis.Error
void bind_model(pybind11::module_& m);      // featvis.Model
void bind_objective(pybind11::module_& m);  // featvis.objective, featvis.Objective
void bind_render(pybind11::module_& m);     // featvis.render, featvis.RenderResult

}  // namespace featvis::python
