#pragma once
// Setting ATen's intra-op thread count, only when it changes: every at::set_num_threads
// call also rebuilds ATen's pthreadpool (used by none of featvis's ops), whose new worker
// then spins about a million pause loops waiting for work, some 16 ms of a core each time
// (measured on a 2-core AMD EPYC), taken from the threads doing the work.
namespace featvis {

// n > 0. Returns the count before the call, for a later use_threads(previous).
int use_threads(int n);

}  // namespace featvis
