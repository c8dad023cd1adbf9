#include "long_call.h"

#include <cstdio>

namespace featvis::python {

namespace py = pybind11;

LongCall::LongCall(bool progress) : progress_(progress) {
  if (!progress_) return;
  try {
    tqdm_class_ = py::module_::import("tqdm.std").attr("tqdm");
  } catch (const py::error_already_set&) {
    tqdm_class_ = py::none();  // no tqdm: plain lines
  }
  listener_.emplace([this](const ProgressEvent& event) { draw(event); });
}

LongCall::~LongCall() {
  listener_.reset();
  for (auto& [label, bar] : bars_) {
    if (!bar.tqdm.is_none()) bar.tqdm.attr("close")();
  }
}

bool LongCall::check_signals() {
  if (interrupted_) return true;
  if (PyErr_CheckSignals() == 0) return false;
  PyErr_Clear();
  interrupted_ = true;
  return true;
}

std::function<bool()> LongCall::stop_requested() {
  return [this] {
    py::gil_scoped_acquire gil;
    return check_signals();
  };
}

void LongCall::draw(const ProgressEvent& event) noexcept {
  py::gil_scoped_acquire gil;
  try {
    // Ctrl-C is seen here too, between the loop's polls; the poll then stops the loop.
    check_signals();
    auto found = bars_.find(event.label);
    if (found == bars_.end()) {
      Bar bar;
      bar.tqdm = tqdm_class_.is_none()
                     ? py::none()
                     : tqdm_class_(py::arg("total") = event.total, py::arg("desc") = event.label,
                                   py::arg("leave") = true);
      found = bars_.emplace(event.label, std::move(bar)).first;
    }
    Bar& bar = found->second;
    if (!bar.tqdm.is_none()) {
      const int64_t shown = bar.tqdm.attr("n").cast<int64_t>();
      if (!event.note.empty()) bar.tqdm.attr("set_postfix_str")(event.note, py::arg("refresh") = false);
      bar.tqdm.attr("update")(event.done - shown);
      if (event.final) bar.tqdm.attr("close")();
    } else {
      // Plain: one line redrawn in place, at most twice a second, and the last one kept.
      const auto now = std::chrono::steady_clock::now();
      if (event.final || now - bar.last_line > std::chrono::milliseconds(500)) {
        bar.last_line = now;
        const double percent = event.total > 0 ? 100.0 * event.done / event.total : 100.0;
        char line[64];
        std::snprintf(line, sizeof line, ": %lld/%lld (%.0f%%)", static_cast<long long>(event.done),
                      static_cast<long long>(event.total), percent);
        py::module_::import("sys").attr("stderr").attr("write")(
            "\r" + event.label + line + (event.note.empty() ? "" : " " + event.note) + (event.final ? "\n" : ""));
      }
    }
    if (event.final) bars_.erase(found);
  } catch (py::error_already_set& e) {
    // A broken progress display must not stop the work: plain lines from now on.
    e.discard_as_unraisable("featvis progress bar");
    tqdm_class_ = py::none();
    bars_.erase(event.label);
  } catch (...) {
    tqdm_class_ = py::none();
    bars_.erase(event.label);
  }
}

}  // namespace featvis::python
