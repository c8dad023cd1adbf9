#include <featvis/util/threads.h>
#include <featvis/util/check.h>

#include <ATen/Parallel.h>

namespace featvis {

int use_threads(int n) {
  FEATVIS_CHECK(n > 0, "thread count must be positive, not ", n);
  const int before = at::get_num_threads();
  if (n != before) at::set_num_threads(n);
  return before;
}

}  // namespace featvis
