// The main() of every test binary: the process is configured as the CLI configures it,
// so tests (and GPU parity in particular) run under the same settings.
#include <featvis/util/configure_process.h>

#include <gtest/gtest.h>

int main(int argc, char** argv) {
  featvis::configure_process();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
