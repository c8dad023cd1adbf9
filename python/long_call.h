#pragma once
// A long C++ call made from Python (render, dataset examples, Microscope build, attribution):
//  - its featvis::ProgressBar is drawn with tqdm when Python has it (plain lines on
//    sys.stderr otherwise), so a notebook shows it (the C++ bar writes to the process's
//    stderr, which a notebook does not show);
//  - Ctrl-C becomes a stop request that the C++ loop polls between steps, so the call
//    returns what is done so far instead of raising in the middle (attribution, which has
//    nothing to return, throws featvis::Interrupted: KeyboardInterrupt).
// The caller releases the GIL around the work (py::gil_scoped_release); the progress
// listener and the stop poll take it back to draw and to check for signals.
#include <featvis/util/progress.h>

#include <pybind11/pybind11.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace featvis::python {

class LongCall {
 public:
  explicit LongCall(bool progress);
  ~LongCall();  // closes bars left open; the GIL must be held
  LongCall(const LongCall&) = delete;
  LongCall& operator=(const LongCall&) = delete;

  // Whether the C++ progress bar reports (to this call's listener).
  bool progress() const { return progress_; }

  // For the options' stop_requested: true once Python has seen SIGINT (the pending
  // KeyboardInterrupt is cleared: the call ends normally, marked interrupted).
  std::function<bool()> stop_requested();

  bool interrupted() const { return interrupted_; }

 private:
  struct Bar {
    pybind11::object tqdm;  // None: plain lines
    std::chrono::steady_clock::time_point last_line;
  };

  bool check_signals();  // GIL held
  void draw(const ProgressEvent& event) noexcept;  // GIL taken inside

  bool progress_;
  bool interrupted_ = false;
  pybind11::object tqdm_class_;  // tqdm.std.tqdm, or None
  std::map<std::string, Bar> bars_;
  std::optional<ScopedProgressListener> listener_;
};

}  // namespace featvis::python
