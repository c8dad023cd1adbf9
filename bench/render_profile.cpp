// Where the time of a render step goes, op by op: LibTorch's autograd profiler (legacy
// CPU mode) records every ATen op of S render steps (after 4 warm-up steps) of a channel
// objective at 224 on MobileNetV2, the engine's defaults (FFT, decorrelated colour,
// sigmoid, Lucid's standard transforms, Adam), for an early, a middle and the last card
// layer, without the redirected ReLU gradient of a render's first 16 steps. Self time = an
// op's time minus the ops it called, so the shares add up to the profiled time; wall time
// per step is printed beside it.
//
// --batch B profiles a batch of B units of the middle layer instead (channels 0..B-1, one
// per item, as a Microscope build renders them); times are per step of the batch.
//
// --fixed OBJ profiles the render step's fixed cost instead, with no network layer run
// (issue 10): OBJ `l2` is the image penalty (the transforms run forward only, as in
// `featvis render MODEL l2`), `input` the mean of the network's input tensor (transforms
// and the card's scaling forward and backward, a step minus the network). --repeat R
// first times R renders of S steps without the profiler and prints the median process CPU
// ms/step (the two untransformed evaluations of a render are included: < 2 % at S = 64).
//
//   ./build/featvis_bench_render_profile [--model NAME|PATH] [--steps S] [--top N]
//       [--fixed l2|input] [--batch B] [--transforms standard|none|LIST] [--repeat R] [--no-profile]
//   (threads: at::set_num_threads($FEATVIS_BENCH_THREADS, default 1))
#include "bench_model.h"
#include "op_profile.h"

#include <featvis/model/model.h>
#include <featvis/objective/kinds.h>
#include <featvis/objective/parse.h>
#include <featvis/render/param/image_param.h>
#include <featvis/render/render.h>
#include <featvis/render/transform/standard.h>
#include <featvis/util/configure_process.h>
#include <featvis/util/error.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

namespace {

double cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

featvis::render::RenderResult render_steps(const featvis::model::Model& model,
                                           const featvis::objective::Objective& objective,
                                           const featvis::render::transform::Transform& transforms, int64_t steps,
                                           int64_t batch) {
  featvis::render::param::ImageParamOptions po;
  po.batch = batch;
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

}  // namespace

int main(int argc, char** argv) {
  try {
    featvis::configure_process();
    std::string model_ref;
    int64_t steps = 16;
    size_t top = 14;
    std::string fixed, transforms_text = "standard";
    int repeat = 0;
    int64_t batch = 1;
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
      } else if (flag == "--batch") {
        batch = std::stoll(value());
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
    if (batch < 1) throw featvis::Error("--batch must be at least 1");
    if (batch > 1 && !fixed.empty()) throw featvis::Error("--batch and --fixed do not go together");
    const char* threads = std::getenv("FEATVIS_BENCH_THREADS");
    at::set_num_threads(threads ? std::max(1, std::atoi(threads)) : 1);
    const featvis::model::Model model = featvis::model::load_model(featvis::bench::resolve_model(model_ref));
    const featvis::render::transform::Transform transforms = featvis::render::transform::parse(transforms_text);
    // --batch: the render benchmark's batch (render/units8), unit i in item i.
    const std::string batch_units = std::string(featvis::bench::kMiddle) + ":0-" + std::to_string(batch - 1);
    std::vector<featvis::objective::Objective> objectives;
    if (!fixed.empty()) {
      objectives.push_back(fixed_objective(model, fixed));
    } else if (batch > 1) {
      objectives.push_back(featvis::objective::parse(batch_units, model));
    } else {
      for (const char* layer : {featvis::bench::kEarly, featvis::bench::kMiddle, featvis::bench::kLast})
        objectives.push_back(featvis::objective::channel(layer, 7));
    }
    for (const auto& objective : objectives) {
      // A batch's description lists every item's unit; the range says the same.
      const std::string units =
          batch > 1 ? batch_units + " (batch of " + std::to_string(batch) + ", a unit per item)" : objective.description();
      const std::string name = units + ", transforms " + transforms_text;
      render_steps(model, objective, transforms, 4, batch);  // warm-up: allocator, kernels for the drawn sizes
      if (repeat > 0) {
        std::vector<double> per_step;
        for (int r = 0; r < repeat; ++r) {
          const double c0 = cpu_ms();
          render_steps(model, objective, transforms, steps, batch);
          per_step.push_back((cpu_ms() - c0) / static_cast<double>(steps));
        }
        std::sort(per_step.begin(), per_step.end());
        std::printf("%s: %.3f ms/step CPU (median of %d renders of %lld steps; min %.3f, max %.3f), %d thread(s)\n",
                    name.c_str(), per_step[per_step.size() / 2], repeat, static_cast<long long>(steps),
                    per_step.front(), per_step.back(), at::get_num_threads());
      }
      if (!profile) continue;
      std::printf("\n%s, %lld steps, %d thread(s): ", name.c_str(), static_cast<long long>(steps),
                  at::get_num_threads());
      featvis::bench::print_op_profile([&] { render_steps(model, objective, transforms, steps, batch); },
                                       static_cast<double>(steps), top, "step");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "featvis_bench_render_profile: %s\n", e.what());
    return 1;
  }
}
