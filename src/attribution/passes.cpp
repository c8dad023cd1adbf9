// Passes: progress and the stop poll of one attribute() call (methods.h).
#include "methods.h"

#include <featvis/util/interrupt.h>

namespace featvis::attribution::detail {

Passes::Passes(const AttributionOptions& options)
    : label_(to_string(options.method)), progress_(options.progress), stop_requested_(options.stop_requested) {}

void Passes::plan(int64_t images) {
  if (total_ > 0) return;
  total_ = images;
  if (!progress_) return;
  bar_.emplace(total_, label_);
  bar_->update(0);  // a listener (Python's tqdm) starts its clock now, not after the first pass
}

void Passes::poll() const {
  if (!stop_requested_ || !stop_requested_()) return;
  if (done_ == 0 && total_ == 0) throw Interrupted(label_ + " interrupted before its first forward pass");
  const std::string where = total_ > 0 ? std::to_string(done_) + " of " + std::to_string(total_) + " images"
                                       : std::to_string(done_) + (done_ == 1 ? " image" : " images");
  throw Interrupted(label_ + " interrupted after " + where);
}

void Passes::count(int64_t images) {
  done_ += images;
  if (bar_) bar_->update(done_);
}

void Passes::finish() {
  if (bar_) bar_->finish();
}

}  // namespace featvis::attribution::detail
