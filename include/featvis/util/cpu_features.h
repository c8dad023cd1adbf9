#pragma once
// What the CPU running featvis can execute, for the few loops compiled for wider vectors
// with `target` attributes (graph/plane_stats.cpp, image/pil_resize.cpp, image/resize_rgb8.cpp) and picked at run
// time. Asked once per process. False on anything but x86-64 with GCC or Clang.
namespace featvis {

#if defined(__x86_64__) && defined(__GNUC__)
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
#else
inline bool cpu_has_avx2() { return false; }
inline bool cpu_has_fma() { return false; }
inline bool cpu_has_avx512f() { return false; }
#endif

}  // namespace featvis
