#include <featvis/util/progress.h>

#include <unistd.h>

#include <cstdio>

namespace featvis {

ProgressBar::ProgressBar(int64_t total, std::string label, bool enabled)
    : total_(total), label_(std::move(label)), enabled_(enabled), tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  if (!finished_) finish();
}

void ProgressBar::update(int64_t done, const std::string& note) {
  done_ = done;
  note_ = note;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && done_ < total_) return;
    last_draw_ = now;
    draw(false);
  } else {
    const int decile = total_ > 0 ? static_cast<int>(10 * done_ / total_) : 0;
    if (decile == last_decile_) return;
    last_decile_ = decile;
    draw(true);
  }
}

void ProgressBar::finish(const std::string& note) {
  if (finished_) return;
  finished_ = true;
  if (!note.empty()) note_ = note;
  if (!enabled_) return;
  if (!tty_ && drawn_done_ == done_ && note.empty()) return;  // the log already has this line
  draw(true);
}

void ProgressBar::draw(bool final_line) {
  drawn_done_ = done_;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fraction = total_ > 0 ? static_cast<double>(done_) / total_ : 1.0;
  const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  const double eta = rate > 0 ? (total_ - done_) / rate : 0.0;
  const int width = 30;
  std::string bar(static_cast<size_t>(width * fraction), '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "%s%s [%s] %lld/%lld %.1f/s %.0fs left %s%s", tty_ ? "\r" : "", label_.c_str(),
               bar.c_str(), static_cast<long long>(done_), static_cast<long long>(total_), rate, eta,
               note_.c_str(), (final_line || !tty_) ? "\n" : "\033[K");
  std::fflush(stderr);
}

}  // namespace featvis
