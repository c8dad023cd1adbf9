#pragma once
// Process-wide settings featvis relies on, set in one visible place. Programs built on
// featvis_core call configure_process() once at start-up, before any model runs: the CLI's
// main(), the benchmarks, the test binaries (and a Python module would, on import). The
// library itself never changes process state behind the caller's back.
//
// What it sets, and why:
//  * glibc allocator policy (glibc only): mallopt(M_MMAP_MAX, 0) and
//    mallopt(M_TRIM_THRESHOLD, INT_MAX). glibc otherwise serves large blocks (up to
//    32 MiB) with a fresh mmap() and unmaps them on free, so every forward pass
//    page-faults each big activation in again, zero-filled: MobileNetV2 ran 2.4x (batch
//    8) to 3.7x (batch 32) slower for it (docs/PERFORMANCE.md). Freed memory now stays in
//    the heap for reuse; the cost is that the process keeps its peak heap.
//    FEATVIS_MALLOC_TUNING=0 in the environment leaves glibc's defaults alone.
//  * TF32 off for cuDNN convolutions and cuBLAS matmuls (PyTorch allows TF32 in cuDNN by
//    default): TF32 shifts logits by ~1e-3 relative, enough to change near-tie rankings
//    and gradients, so GPU results would no longer match the CPU's float32. A no-op
//    without a GPU.
//
// Idempotent and thread-safe: only the first call acts.
namespace featvis {

void configure_process();

}  // namespace featvis
