// featvis::Error (bad input: its one line is what the CLI prints) becomes featvis.Error, a
// ValueError, so callers can catch it by either name; a SettingError starts with the
// setting's name ("steps: ..."), where the CLI writes the flag. featvis::Interrupted (a
// call stopped by Ctrl-C with no result to return) is KeyboardInterrupt, as Ctrl-C is.
#include "bindings.h"

#include <featvis/util/error.h>
#include <featvis/util/interrupt.h>

namespace featvis::python {

void bind_errors(pybind11::module_& m) {
  static pybind11::exception<Error> error(m, "Error", PyExc_ValueError);
  pybind11::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Interrupted& e) {
      PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
    } catch (const SettingError& e) {
      // A setting out of range names it as the keyword argument, as the CLI names the flag.
      PyErr_SetString(error.ptr(), (e.setting() + ": " + e.what()).c_str());
    } catch (const Error& e) {
      PyErr_SetString(error.ptr(), e.what());
    }
  });
}

}  // namespace featvis::python
