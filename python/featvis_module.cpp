// `import featvis`: the Python face of featvis_core. Everything here is a thin binding;
// the behaviour lives in the C++ library.
#include "bindings.h"

#include <featvis/util/configure_process.h>

PYBIND11_MODULE(featvis, m) {
  m.doc() = "featvis: feature visualization, from the featvis C++ engine";
  // The same process settings as the CLI (allocator policy, no TF32), before any model runs.
  featvis::configure_process();
  featvis::python::bind_errors(m);
  featvis::python::bind_model(m);
  featvis::python::bind_objective(m);
  featvis::python::bind_render(m);
  featvis::python::bind_picture(m);
  featvis::python::bind_attribution(m);
  featvis::python::bind_examples(m);
  featvis::python::bind_microscope(m);
}
