#include <featvis/util/error.h>
#include <featvis/util/interrupt.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace featvis {
namespace {

std::atomic<bool> g_raised{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the flag is set from a signal handler");
struct sigaction g_previous {};

void on_sigint(int) {
  g_raised.store(true);
  sigaction(SIGINT, &g_previous, nullptr);  // async-signal-safe; the next Ctrl-C is the old one
}

}  // namespace

InterruptFlag::InterruptFlag() {
  g_raised.store(false);
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (sigaction(SIGINT, &action, &previous_) != 0)
    throw Error(std::string("cannot install a SIGINT handler: ") + std::strerror(errno));
  g_previous = previous_;
}

InterruptFlag::~InterruptFlag() { sigaction(SIGINT, &previous_, nullptr); }

bool InterruptFlag::raised() const { return g_raised.load(); }

}  // namespace featvis
