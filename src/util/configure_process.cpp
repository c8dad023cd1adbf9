#include <featvis/util/configure_process.h>

#include <ATen/Context.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace featvis {

void configure_process() {
  static std::once_flag once;
  std::call_once(once, [] {
#if defined(__GLIBC__)
    const char* env = std::getenv("FEATVIS_MALLOC_TUNING");
    if (!(env && std::strcmp(env, "0") == 0)) {
      mallopt(M_MMAP_MAX, 0);
      mallopt(M_TRIM_THRESHOLD, INT_MAX);
    }
#endif
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setAllowTF32CuBLAS(false);
  });
}

}  // namespace featvis
