// featvis_bench_render: ms per optimization step of render::render (the work of
// `featvis render`) for a channel objective at 224 on MobileNetV2, and units/s of one
// batch of 32 units against single renders. The baseline is bench/lucent_eager_render.py
// (the same loop as Lucent runs it in PyTorch eager); bench/run_render_bench.sh runs both.
//
//   featvis_bench_render [--model PATH|NAME] [--threads N] [--steps S] [--batch-steps S]
//                        [--channel C] [--redirected-relu-steps K] [Google Benchmark flags...]
//
// --model        ONNX file or card name, loaded with featvis::load_model (default:
//                $FEATVIS_BENCH_MODEL, else mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx looked
//                up in $FEATVIS_MODEL_PATH, ./models, ../shared/models, <source>/../shared/models).
// --threads      intra-op threads, at::set_num_threads (default $FEATVIS_BENCH_THREADS, else 1).
// --steps        optimization steps per iteration of the batch-1 cases (default 16).
// --batch-steps  steps per iteration of the batch-32 case (default 3).
// --channel      channel of the batch-1 cases (default 7).
// --redirected-relu-steps  RenderOptions::redirected_relu_steps (default 0: every step
//                uses the exact gradient, as Lucent does; featvis render's default is 16).
//
// Every case: Lucid's default parameterization (FFT, decay 1, sd 0.01, decorrelated colour,
// sigmoid), render::transform::standard(), Adam lr 0.05, image 224x224. One iteration = a fresh
// ImageParam (seed 0) rendered for S steps; before the timed iterations, one warm-up render
// of S steps (same seed, so the same transformed sizes: the blocked network's programs for
// them are compiled there, as a 512-step render compiles them in its first steps). Counters:
//   ms/step   RenderResult::ms_per_step: mean wall time of the optimization steps alone
//             (param -> transforms -> Graph::run of the needed nodes -> objective ->
//             backward -> Adam), without the untransformed evaluations render() does at
//             step 0 and at the end (the benchmark's own time per iteration includes them).
//   units/s   batch * 1000 / ms/step: units rendered per second of optimization.
//   cpu_ms/step  process CPU time (all threads) per step over steps 2..S: less sensitive
//             to other processes on a busy machine than wall time at 1 thread.
// Cases:
//   render/early    MobileNetV2/expanded_conv_2/expand:C   batch 1
//   render/middle   MobileNetV2/expanded_conv_8/expand:C   batch 1
//   render/last     MobileNetV2/Conv2d_18_1:C              batch 1
//   render/units32  MobileNetV2/expanded_conv_8/expand:0-31, batch 32 (unit i in item i)
//   render/units8   MobileNetV2/expanded_conv_8/expand:0-7, batch 8, 4 x --batch-steps steps
// The network runs as `featvis render` runs it: blocked where the graph allows
// (graph/blocked_backprop.h); FEATVIS_BLOCKED_BACKPROP=0 measures ATen's kernels instead.
#include <featvis/model/model.h>
#include <featvis/objective/kinds.h>
#include <featvis/objective/parse.h>
#include <featvis/render/param/image_param.h>
#include <featvis/render/render.h>
#include <featvis/render/transform/standard.h>
#include <featvis/util/configure_process.h>
#include <featvis/util/error.h>

#include "bench_model.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using featvis::bench::kEarly;
using featvis::bench::kLast;
using featvis::bench::kMiddle;



struct Options {
  std::string model;
  int threads = 1;
  int64_t steps = 16;
  int64_t batch_steps = 3;
  int64_t channel = 7;
  int64_t redirected_relu_steps = 0;
};

// Takes our flags out of argv; everything else goes to Google Benchmark.
Options parse(int* argc, char** argv) {
  Options o;
  if (const char* env = std::getenv("FEATVIS_BENCH_THREADS")) o.threads = std::atoi(env);
  featvis::bench::take_flags(argc, argv, [&](const std::string& flag, const auto& value) {
    if (flag == "--model") {
      o.model = value();
    } else if (flag == "--threads") {
      o.threads = std::stoi(value());
    } else if (flag == "--steps") {
      o.steps = std::stoll(value());
    } else if (flag == "--batch-steps") {
      o.batch_steps = std::stoll(value());
    } else if (flag == "--channel") {
      o.channel = std::stoll(value());
    } else if (flag == "--redirected-relu-steps") {
      o.redirected_relu_steps = std::stoll(value());
    } else {
      return false;
    }
    return true;
  });
  if (o.threads < 1) throw featvis::Error("--threads must be at least 1");
  if (o.steps < 1 || o.batch_steps < 1) throw featvis::Error("--steps and --batch-steps must be at least 1");
  o.model = featvis::bench::resolve_model(o.model);
  return o;
}

struct Case {
  const featvis::model::Model* model;
  featvis::objective::Objective objective;
  int64_t batch;
  int64_t steps;
  int64_t redirected_relu_steps;
};

double process_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return 1e3 * static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_nsec);
}

struct Timing {
  featvis::render::RenderResult result;
  double cpu_ms_per_step = 0;  // steps 2..S, from the per-step poll (0 if S < 2)
};

// One render of `steps` steps from a fresh parameter (seed 0). The process CPU time is
// read in stop_requested, which render() polls once after each step, so the difference
// between the first and the last poll is the CPU time of steps 2..S alone.
Timing render_once(const Case& c, const featvis::render::transform::Transform& transform, int64_t steps) {
  featvis::render::param::ImageParamOptions po;
  po.batch = c.batch;
  po.height = 224;
  po.width = 224;  // Lucid's defaults otherwise: FFT, decay 1, sd 0.01, decorrelated, sigmoid
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(0);
  featvis::render::param::ImageParam image(po, generator);
  featvis::render::RenderOptions options;
  options.steps = steps;
  options.lr = 0.05;
  options.redirected_relu_steps = c.redirected_relu_steps;
  std::vector<double> polls;
  options.stop_requested = [&polls] {
    polls.push_back(process_cpu_ms());
    return false;
  };
  Timing t;
  t.result = featvis::render::render(*c.model, c.objective, image, transform, options, generator);
  if (polls.size() >= 2) t.cpu_ms_per_step = (polls.back() - polls.front()) / static_cast<double>(polls.size() - 1);
  return t;
}

void bench_render(benchmark::State& state, const Case* c) {
  const featvis::render::transform::Transform transform = featvis::render::transform::standard();
  // warm-up: allocator, and the blocked network's programs for the image sizes the
  // transforms draw (the same seed, so the same sizes as the timed renders). A real render
  // of 512 steps meets them all in its first steps and then reuses them.
  render_once(*c, transform, c->steps);
  double step_ms = 0, cpu_ms = 0;
  int64_t steps = 0, runs = 0;
  for (auto _ : state) {
    const Timing t = render_once(*c, transform, c->steps);
    step_ms += t.result.ms_per_step * static_cast<double>(t.result.steps_done);
    steps += t.result.steps_done;
    cpu_ms += t.cpu_ms_per_step;
    ++runs;
    benchmark::DoNotOptimize(t.result.images.data_ptr());
  }
  const double ms = step_ms / static_cast<double>(steps);
  state.counters["ms/step"] = ms;
  state.counters["units/s"] = static_cast<double>(c->batch) * 1000.0 / ms;
  state.counters["cpu_ms/step"] = cpu_ms / static_cast<double>(runs);
  state.counters["batch"] = static_cast<double>(c->batch);
  state.counters["steps"] = static_cast<double>(steps);
}

}  // namespace

int main(int argc, char** argv) {
  featvis::configure_process();
  try {
    const Options opt = parse(&argc, argv);
    at::set_num_threads(opt.threads);
    const featvis::model::Model model = featvis::model::load_model(opt.model);
    std::vector<std::pair<std::string, Case>> cases = {
        {"render/early", {&model, featvis::objective::channel(kEarly, opt.channel), 1, opt.steps, 0}},
        {"render/middle", {&model, featvis::objective::channel(kMiddle, opt.channel), 1, opt.steps, 0}},
        {"render/last", {&model, featvis::objective::channel(kLast, opt.channel), 1, opt.steps, 0}},
        // the CLI form: one unit per batch item
        {"render/units32",
         {&model, featvis::objective::parse(std::string(kMiddle) + ":0-31", model), 32, opt.batch_steps, 0}},
        {"render/units8",
         {&model, featvis::objective::parse(std::string(kMiddle) + ":0-7", model), 8, 4 * opt.batch_steps, 0}},
    };
    for (auto& [name, c] : cases) c.redirected_relu_steps = opt.redirected_relu_steps;

    benchmark::AddCustomContext("featvis_model", model.onnx_path);
    benchmark::AddCustomContext("featvis_threads", std::to_string(at::get_num_threads()));
    benchmark::AddCustomContext("featvis_redirected_relu_steps", std::to_string(opt.redirected_relu_steps));
    for (const auto& [name, c] : cases) {
      benchmark::RegisterBenchmark(name.c_str(), bench_render, &c)
          ->Iterations(1)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    std::cerr << "featvis_bench_render: error: " << msg.substr(0, msg.find('\n')) << "\n";
    return 1;
  }
}
