#include <featvis/util/progress.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <utility>

namespace featvis {

// 5 s: often enough to see a job is alive, rare enough to keep a day-long log short.
std::chrono::duration<double> progress_log_interval() {
  const char* env = std::getenv("FEATVIS_PROGRESS_SECONDS");
  if (env && *env) {
    char* end = nullptr;
    const double seconds = std::strtod(env, &end);
    if (*end == '\0' && seconds >= 0) return std::chrono::duration<double>(seconds);
  }
  return std::chrono::duration<double>(5.0);
}

namespace {
thread_local ProgressListener current_listener;
}  // namespace

ScopedProgressListener::ScopedProgressListener(ProgressListener listener)
    : previous_(std::exchange(current_listener, std::move(listener))) {}

ScopedProgressListener::~ScopedProgressListener() { current_listener = std::move(previous_); }

ProgressBar::ProgressBar(int64_t total, std::string label, bool enabled)
    : listener_(enabled ? current_listener : nullptr), total_(total), label_(std::move(label)), enabled_(enabled),
      tty_(isatty(STDERR_FILENO) != 0),
      log_interval_(progress_log_interval()), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  if (finished_) return;
  if (std::uncaught_exceptions() > 0) {
    // An error is on its way to stderr as one line: a log keeps its last progress line, a
    // terminal's bar is ended so that the message starts a line of its own.
    finished_ = true;
    if (listener_) {
      report(true);
    } else if (enabled_ && tty_ && drawn_done_ >= 0) {
      std::fputs("\n", stderr);
    }
    return;
  }
  finish();
}

void ProgressBar::update(int64_t done, const std::string& note) {
  done_ = done;
  note_ = note;
  if (!enabled_) return;
  if (listener_) return report(false);
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && done_ < total_) return;
  } else if (now - last_draw_ < log_interval_) {
    return;  // finish() writes the last line
  }
  last_draw_ = now;
  draw(false);
}

void ProgressBar::finish(const std::string& note) {
  if (finished_) return;
  finished_ = true;
  if (!note.empty()) note_ = note;
  if (!enabled_) return;
  if (listener_) return report(true);
  if (!tty_ && drawn_done_ == done_ && note.empty()) return;  // the log already has this line
  draw(true);
}

void ProgressBar::report(bool final_event) { listener_(ProgressEvent{label_, done_, total_, note_, final_event}); }

void ProgressBar::draw(bool final_line) {
  drawn_done_ = done_;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fraction = total_ > 0 ? static_cast<double>(done_) / total_ : 1.0;
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  const double eta = rate > 0 ? (total_ - done_) / rate : 0.0;
  if (!tty_) {
    // A log gets whole lines without a bar: readable with less, grep and tail -f.
    std::fprintf(stderr, "%s: %lld/%lld (%.0f%%) %.1f/s, %.0fs elapsed, %.0fs left%s%s\n", label_.c_str(),
                 static_cast<long long>(done_), static_cast<long long>(total_), 100 * fraction, rate, elapsed, eta,
                 note_.empty() ? "" : ", ", note_.c_str());
    std::fflush(stderr);
    return;
  }
  const int width = 30;
  std::string bar(static_cast<size_t>(width * fraction), '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %.1f/s %.0fs left %s%s", label_.c_str(), bar.c_str(),
               static_cast<long long>(done_), static_cast<long long>(total_), rate, eta, note_.c_str(),
               final_line ? "\n" : "\033[K");
  std::fflush(stderr);
}

}  // namespace featvis
