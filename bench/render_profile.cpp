// Where the time of a render step goes, op by op: LibTorch's autograd profiler (legacy
// CPU mode) records every ATen op of S render steps (after 4 warm-up steps) of a channel
// objective at 224 on MobileNetV2, the engine's defaults (FFT, decorrelated colour,
// sigmoid, Lucid's standard transforms, Adam), for an early, a middle and the last card
// layer, without the redirected ReLU gradient of a render's first 16 steps. Self time = an
// op's time minus the ops it called, so the shares add up to the profiled time; wall time
// per step is printed beside it.
//
// --fixed OBJ profiles the render step's fixed cost instead, with no network layer run
// (issue 10): OBJ `l2` is the image penalty (the transforms run forward only, as in
// `featvis render MODEL l2`), `input` the mean of the network's input tensor (transforms
// and the card's scaling forward and backward, a step minus the network). --repeat R
// first times R renders of S steps without the profiler and prints the median process CPU
// ms/step (the two untransformed evaluations of a render are included: < 2 % at S = 64).
//
//   ./build/featvis_bench_render_profile [--model NAME|PATH] [--steps S] [--top N]
//       [--fixed l2|input] [--transforms standard|none|LIST] [--repeat R] [--no-profile]
//   (threads: at::set_num_threads($FEATVIS_BENCH_THREADS, default 1))
#include "bench_model.h"

#include <featvis/model/model.h>
#include <featvis/objective/kinds.h>
#include <featvis/render/param/image_param.h>
#include <featvis/render/render.h>
#include <featvis/render/transform/standard.h>
#include <featvis/util/configure_process.h>
#include <featvis/util/error.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

namespace profiler = torch::autograd::profiler;

double cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

featvis::render::RenderResult render_steps(const featvis::model::Model& model,
                                           const featvis::objective::Objective& objective,
                                           const featvis::render::transform::Transform& transforms, int64_t steps) {
  featvis::render::param::ImageParamOptions po;
  po.height = 224;
  po.width = 224;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(0);
  featvis::render::param::ImageParam image(po, generator);
  featvis::render::RenderOptions options;
  options.steps = steps;
  options.lr = 0.05;
  // The redirected ReLU gradient runs only in a render's first 16 steps (of 512 by
  // default); the profile is of the steps after it.
  options.redirected_relu_steps = 0;
  return featvis::render::render(model, objective, image, transforms, options, generator);
}

// The no-network objectives of --fixed.
featvis::objective::Objective fixed_objective(const featvis::model::Model& model, const std::string& kind) {
  if (kind == "l2") return featvis::objective::l2();
  if (kind != "input") throw featvis::Error("--fixed takes l2 or input, got '" + kind + "'");
  const std::string input = model.graph.inputs().at(0).name;
  return featvis::objective::Objective("mean of the network input", {input},
                                       [input](const featvis::objective::ObjectiveInput& in) {
                                         return in.activations.at(input).mean({1, 2, 3});
                                       });
}

// Self CPU time per op name (ms), from the push/pop events of every thread.
std::map<std::string, double> self_ms(const profiler::thread_event_lists& lists) {
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

}  // namespace

int main(int argc, char** argv) {
  try {
    featvis::configure_process();
    std::string model_ref;
    int64_t steps = 16;
    size_t top = 14;
    std::string fixed, transforms_text = "standard";
    int repeat = 0;
    bool profile = true;
    featvis::bench::take_flags(&argc, argv, [&](const std::string& flag, const auto& value) {
      if (flag == "--model") {
        model_ref = value();
      } else if (flag == "--steps") {
        steps = std::stoll(value());
      } else if (flag == "--top") {
        top = std::stoul(value());
      } else if (flag == "--fixed") {
        fixed = value();
      } else if (flag == "--transforms") {
        transforms_text = value();
      } else if (flag == "--repeat") {
        repeat = std::stoi(value());
      } else if (flag == "--no-profile") {
        profile = false;
      } else {
        return false;
      }
      return true;
    });
    if (steps < 1) throw featvis::Error("--steps must be at least 1");
    const char* threads = std::getenv("FEATVIS_BENCH_THREADS");
    at::set_num_threads(threads ? std::max(1, std::atoi(threads)) : 1);
    const featvis::model::Model model = featvis::model::load_model(featvis::bench::resolve_model(model_ref));
    const featvis::render::transform::Transform transforms = featvis::render::transform::parse(transforms_text);
    std::vector<featvis::objective::Objective> objectives;
    if (!fixed.empty()) {
      objectives.push_back(fixed_objective(model, fixed));
    } else {
      for (const char* layer :
           {"MobileNetV2/expanded_conv_2/expand", "MobileNetV2/expanded_conv_8/expand", "MobileNetV2/Conv2d_18_1"})
        objectives.push_back(featvis::objective::channel(layer, 7));
    }
    for (const auto& objective : objectives) {
      const std::string layer = objective.description() + ", transforms " + transforms.description();
      render_steps(model, objective, transforms, 4);  // warm-up: allocator, kernels for the drawn sizes
      if (repeat > 0) {
        std::vector<double> per_step;
        for (int r = 0; r < repeat; ++r) {
          const double c0 = cpu_ms();
          render_steps(model, objective, transforms, steps);
          per_step.push_back((cpu_ms() - c0) / static_cast<double>(steps));
        }
        std::sort(per_step.begin(), per_step.end());
        std::printf("%s: %.3f ms/step CPU (median of %d renders of %lld steps; min %.3f, max %.3f), %d thread(s)\n",
                    layer.c_str(), per_step[per_step.size() / 2], repeat, static_cast<long long>(steps),
                    per_step.front(), per_step.back(), at::get_num_threads());
      }
      if (!profile) continue;
      profiler::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
      const auto t0 = std::chrono::steady_clock::now();
      render_steps(model, objective, transforms, steps);
      const double wall_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      const std::map<std::string, double> self = self_ms(profiler::disableProfilerLegacy());
      std::vector<std::pair<double, std::string>> rows;
      double total = 0;
      for (const auto& [name, ms] : self) {
        rows.push_back({ms, name});
        total += ms;
      }
      std::sort(rows.rbegin(), rows.rend());
      const auto per_step = static_cast<double>(steps);
      std::printf("\n%s: %.2f ms/step wall (profiled), %.2f ms/step in ops, %lld steps, %d thread(s)\n",
                  layer.c_str(),
                  wall_ms / per_step, total / per_step, static_cast<long long>(steps), at::get_num_threads());
      std::printf("| op | ms/step | share |\n|---|---:|---:|\n");
      double shown = 0;
      for (size_t i = 0; i < rows.size() && i < top; ++i) {
        std::printf("| `%s` | %.2f | %.1f %% |\n", rows[i].second.c_str(), rows[i].first / per_step,
                    100.0 * rows[i].first / total);
        shown += rows[i].first;
      }
      std::printf("| (other %zu ops) | %.2f | %.1f %% |\n", rows.size() > top ? rows.size() - top : 0,
                  (total - shown) / per_step, 100.0 * (total - shown) / total);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "featvis_bench_render_profile: %s\n", e.what());
    return 1;
  }
}
