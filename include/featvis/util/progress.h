#pragma once
// A progress bar for long runs: redrawn in place on a terminal; when stderr is a log file
// (CI, SLURM, notebooks) a plain line every few seconds ($FEATVIS_PROGRESS_SECONDS,
// default 5) and one at the end; silent when disabled.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace featvis {

// Seconds between the plain progress lines written to a log (stderr not a terminal):
// $FEATVIS_PROGRESS_SECONDS, else 5.
std::chrono::duration<double> progress_log_interval();

// What a ProgressBar tells a listener instead of drawing: every update, and once with
// final = true when it finishes.
struct ProgressEvent {
  const std::string& label;
  int64_t done, total;
  const std::string& note;
  bool final;
};
// Must not throw (it is also called while an exception unwinds).
using ProgressListener = std::function<void(const ProgressEvent&)>;

// While one lives, the ProgressBars made on this thread report to its listener instead of
// stderr (the Python module draws them with tqdm in a notebook, where stderr is not seen).
class ScopedProgressListener {
 public:
  explicit ScopedProgressListener(ProgressListener listener);
  ~ScopedProgressListener();  // the previous listener (usually none) again
  ScopedProgressListener(const ScopedProgressListener&) = delete;
  ScopedProgressListener& operator=(const ScopedProgressListener&) = delete;

 private:
  ProgressListener previous_;
};

class ProgressBar {
 public:
  ProgressBar(int64_t total, std::string label, bool enabled = true);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(int64_t done, const std::string& note = "");
  void finish(const std::string& note = "");

 private:
  void draw(bool final_line);
  void report(bool final_event);

  ProgressListener listener_;  // the thread's at construction, or none

  int64_t total_;
  int64_t done_ = 0;
  std::string label_, note_;
  bool enabled_, tty_, finished_ = false;
  std::chrono::duration<double> log_interval_;
  int64_t drawn_done_ = -1;  // what the last printed line showed
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace featvis
