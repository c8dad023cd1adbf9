#pragma once
// Op-by-op self time from LibTorch's autograd profiler (legacy CPU mode), shared by the
// profiling benchmarks. Self time = an op's time minus the ops it called, so the shares
// add up to the profiled time.
#include <torch/csrc/autograd/profiler_legacy.h>

#include <chrono>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace featvis::bench {

// Self CPU time per op name (ms), from the push/pop events of every thread.
inline std::map<std::string, double> self_ms(const torch::autograd::profiler::thread_event_lists& lists) {
  namespace profiler = torch::autograd::profiler;
  std::map<std::string, double> self;
  for (const auto& events : lists) {
    struct Open {
      const profiler::LegacyEvent* push;
      double children_us = 0;
    };
    std::vector<Open> stack;
    for (const auto& e : events) {
      if (e.kind() == profiler::EventKind::PushRange) {
        stack.push_back({&e});
      } else if (e.kind() == profiler::EventKind::PopRange && !stack.empty()) {
        const Open open = stack.back();
        stack.pop_back();
        const double total = open.push->cpuElapsedUs(e);
        self[open.push->name()] += (total - open.children_us) / 1e3;
        if (!stack.empty()) stack.back().children_us += total;
      }
    }
  }
  return self;
}

// Runs `work` under the profiler and prints the `top` ops as a markdown table, per `per`
// (a step, a batch): "| op | ms/per | share |". Returns the profiled wall time in ms.
inline double print_op_profile(const std::function<void()>& work, double per, size_t top, const char* unit) {
  namespace profiler = torch::autograd::profiler;
  profiler::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
  const auto t0 = std::chrono::steady_clock::now();
  work();
  const double wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const std::map<std::string, double> self = self_ms(profiler::disableProfilerLegacy());
  std::vector<std::pair<double, std::string>> rows;
  double total = 0;
  for (const auto& [name, ms] : self) {
    rows.push_back({ms, name});
    total += ms;
  }
  std::sort(rows.rbegin(), rows.rend());
  std::printf("%.1f ms/%s wall (profiled), %.1f ms/%s in ops\n", wall_ms / per, unit, total / per, unit);
  std::printf("| op | ms/%s | share |\n|---|---:|---:|\n", unit);
  double shown = 0;
  for (size_t i = 0; i < rows.size() && i < top; ++i) {
    std::printf("| `%s` | %.2f | %.1f %% |\n", rows[i].second.c_str(), rows[i].first / per, 100.0 * rows[i].first / total);
    shown += rows[i].first;
  }
  std::printf("| (other %zu ops) | %.2f | %.1f %% |\n", rows.size() > top ? rows.size() - top : 0, (total - shown) / per,
              100.0 * (total - shown) / total);
  return wall_ms;
}

}  // namespace featvis::bench
