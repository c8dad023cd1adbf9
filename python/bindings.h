#pragma once
// The parts of the Python module `featvis`, one per concept; featvis_module.cpp calls
// each once at import.
#include <pybind11/pybind11.h>

namespace featvis::python {

void bind_errors(pybind11::module_& m);     // featvis.Error
void bind_model(pybind11::module_& m);      // featvis.Model
void bind_objective(pybind11::module_& m);  // featvis.objective, featvis.Objective
void bind_render(pybind11::module_& m);     // featvis.render, featvis.RenderResult
void bind_attribution(pybind11::module_& m);  // featvis.attribute, featvis.Attribution
void bind_examples(pybind11::module_& m);     // featvis.examples, featvis.Examples
void bind_microscope(pybind11::module_& m);   // featvis.microscope.build
void bind_picture(pybind11::module_& m);      // featvis.Picture, featvis.contact_sheet

}  // namespace featvis::python
