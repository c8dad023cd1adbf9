#pragma once
// Ctrl-C for long runs: while an InterruptFlag lives, SIGINT only sets a flag that the
// work loop polls, so it can stop between steps and keep what it has written. A second
// SIGINT gets the previous (usually default) behaviour and ends the process at once.
#include <csignal>

namespace featvis {

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
