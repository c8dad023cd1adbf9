#pragma once
// What the CPU running featvis can execute, for the few loops compiled for wider vectors
// with `target` attributes and picked at run time (graph/plane_stats.cpp, image/pil_resize.cpp,
// image/resize_rgb8.cpp, render/adam.cpp, render/param/channel_mix.cpp, render/param/plane_rfft2.cpp).
// Asked once per process. False on anything but x86-64 with GCC or Clang.
//
// FEATVIS_X86_TARGETS is 1 where such loops can be compiled at all (x86-64, GCC or Clang):
// the one condition those files put around their `target("avx2")` copies.
#if defined(__x86_64__) && defined(__GNUC__)
#define FEATVIS_X86_TARGETS 1
#else
#define FEATVIS_X86_TARGETS 0
#endif

namespace featvis {

#if FEATVIS_X86_TARGETS
inline bool cpu_has_avx2() {
  static const bool yes = (__builtin_cpu_init(), __builtin_cpu_supports("avx2"));
  return yes;
}
inline bool cpu_has_fma() {
  static const bool yes = (__builtin_cpu_init(), __builtin_cpu_supports("fma"));
  return yes;
}
inline bool cpu_has_avx512f() {
  static const bool yes = (__builtin_cpu_init(), __builtin_cpu_supports("avx512f"));
  return yes;
}
inline bool cpu_has_avx512bw() {
  static const bool yes = (__builtin_cpu_init(), __builtin_cpu_supports("avx512bw"));
  return yes;
}
#else
inline bool cpu_has_avx2() { return false; }
inline bool cpu_has_fma() { return false; }
inline bool cpu_has_avx512f() { return false; }
inline bool cpu_has_avx512bw() { return false; }
#endif

}  // namespace featvis
