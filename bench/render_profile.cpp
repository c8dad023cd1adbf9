// Where the time of a render step goes, op by op: LibTorch's autograd profiler (legacy
// CPU mode) records every ATen op of S render steps (after 4 warm-up steps) of a channel
// objective at 224 on MobileNetV2, the engine's defaults (FFT, decorrelated colour,
// sigmoid, Lucid's standard transforms, Adam), for an early, a middle and the last card
// layer, without the redirected ReLU gradient of a render's first 16 steps. Self time = an op's time minus the ops it called, so the shares add up to the
// profiled time; wall time per step is printed beside it.
//
//   ./build/featvis_bench_render_profile [--model NAME|PATH] [--steps S] [--top N]
//   (threads: at::set_num_threads($FEATVIS_BENCH_THREADS, default 1))
#include "bench_model.h"
#include "op_profile.h"

#include <featvis/model/model.h>
#include <featvis/objective/kinds.h>
#include <featvis/render/param/image_param.h>
#include <featvis/render/render.h>
#include <featvis/render/transform/standard.h>
#include <featvis/util/configure_process.h>
#include <featvis/util/error.h>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace {

featvis::render::RenderResult render_steps(const featvis::model::Model& model, const std::string& layer,
                                           int64_t steps) {
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
  return featvis::render::render(model, featvis::objective::channel(layer, 7), image,
                                 featvis::render::transform::standard(), options, generator);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    featvis::configure_process();
    std::string model_ref;
    int64_t steps = 16;
    size_t top = 14;
    featvis::bench::take_flags(&argc, argv, [&](const std::string& flag, const auto& value) {
      if (flag == "--model") {
        model_ref = value();
      } else if (flag == "--steps") {
        steps = std::stoll(value());
      } else if (flag == "--top") {
        top = std::stoul(value());
      } else {
        return false;
      }
      return true;
    });
    if (steps < 1) throw featvis::Error("--steps must be at least 1");
    const char* threads = std::getenv("FEATVIS_BENCH_THREADS");
    at::set_num_threads(threads ? std::max(1, std::atoi(threads)) : 1);
    const featvis::model::Model model = featvis::model::load_model(featvis::bench::resolve_model(model_ref));
    for (const char* layer :
         {"MobileNetV2/expanded_conv_2/expand", "MobileNetV2/expanded_conv_8/expand", "MobileNetV2/Conv2d_18_1"}) {
      render_steps(model, layer, 4);  // warm-up: allocator, kernels for the drawn sizes
      std::printf("\n%s, %lld steps, %d thread(s): ", layer, static_cast<long long>(steps), at::get_num_threads());
      featvis::bench::print_op_profile([&] { render_steps(model, layer, steps); }, static_cast<double>(steps), top,
                                       "step");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "featvis_bench_render_profile: %s\n", e.what());
    return 1;
  }
}
