#pragma once
// Ctrl-C for long runs: while an InterruptFlag lives, SIGINT only sets a flag that the
// work loop polls, so it can stop between steps and keep what it has written. A second
// SIGINT gets the previous (usually default) behaviour and ends the process at once.
#include <featvis/util/error.h>

#include <csignal>

namespace featvis {

// A call stopped by its stop_requested poll where what is done so far is no result (a
// part-done attribution). The CLI writes its line and dies of SIGINT; Python raises
// KeyboardInterrupt.
class Interrupted : public Error {
 public:
  using Error::Error;
};

class InterruptFlag {
 public:
  InterruptFlag();   // installs the SIGINT handler
  ~InterruptFlag();  // restores the previous one
  InterruptFlag(const InterruptFlag&) = delete;
  InterruptFlag& operator=(const InterruptFlag&) = delete;

  bool raised() const;

 private:
  struct sigaction previous_ {};
};

}  // namespace featvis
