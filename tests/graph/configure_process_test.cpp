#include <featvis/util/configure_process.h>

#include <ATen/Context.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <malloc.h>

namespace featvis {
namespace {

// The test main has already called it once; calling again changes nothing.
TEST(ConfigureProcess, IsIdempotentAndDisablesTf32) {
  configure_process();
  configure_process();
  EXPECT_FALSE(at::globalContext().allowTF32CuDNN());
  EXPECT_FALSE(at::globalContext().allowTF32CuBLAS());
}

// With the policy, a block far above glibc's mmap threshold comes from the heap, not
// from a fresh mmap (mallinfo2's hblks counts mmapped blocks).
TEST(ConfigureProcess, KeepsLargeBlocksInTheHeap) {
  const char* env = std::getenv("FEATVIS_MALLOC_TUNING");
  if (env && std::strcmp(env, "0") == 0) GTEST_SKIP() << "FEATVIS_MALLOC_TUNING=0";
  configure_process();
  const size_t mapped_before = mallinfo2().hblks;
  void* block = std::malloc(64 << 20);
  ASSERT_NE(block, nullptr);
  static_cast<volatile char*>(block)[0] = 1;  // a used block: not elided
  const size_t mapped_during = mallinfo2().hblks;
  std::free(block);
  EXPECT_EQ(mapped_during, mapped_before);
}

}  // namespace
}  // namespace featvis
