// Where the time of an inference forward goes, op by op: LibTorch's autograd profiler
// over R batches of B images through Graph::run_inference (the frozen oneDNN program
// that classify, eval, examples and probe use) and through Graph::run, MobileNetV2 by
// default. In the frozen program the ops are the TorchScript graph's: prim::mkldnn_convolution,
// prim::MKLDNNHardTanh_ (ReLU6 as a separate pass), aten::to_dense / aten::to_mkldnn
// (layout changes around ops oneDNN's pass does not take, such as the TF-style Pads).
//
//   ./build/featvis_bench_forward_profile [--model NAME|PATH] [--batch B] [--rounds R] [--top N]
//   (threads: at::set_num_threads($FEATVIS_BENCH_THREADS, default 1))
#include "bench_model.h"
#include "op_profile.h"

#include <featvis/graph/graph.h>
#include <featvis/util/configure_process.h>
#include <featvis/util/error.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  try {
    featvis::configure_process();
    std::string model_ref;
    int64_t batch = 8, rounds = 8;
    size_t top = 12;
    featvis::bench::take_flags(&argc, argv, [&](const std::string& flag, const auto& value) {
      if (flag == "--model") {
        model_ref = value();
      } else if (flag == "--batch") {
        batch = std::stoll(value());
      } else if (flag == "--rounds") {
        rounds = std::stoll(value());
      } else if (flag == "--top") {
        top = std::stoul(value());
      } else {
        return false;
      }
      return true;
    });
    if (batch < 1 || rounds < 1) throw featvis::Error("--batch and --rounds must be at least 1");
    const char* threads = std::getenv("FEATVIS_BENCH_THREADS");
    at::set_num_threads(threads ? std::max(1, std::atoi(threads)) : 1);
    const featvis::graph::Graph graph = featvis::graph::Graph::load_onnx(featvis::bench::resolve_model(model_ref));
    const std::string logits = graph.outputs().front();
    const at::Tensor x = at::rand({batch, 3, 224, 224}) * 2 - 1;
    c10::InferenceMode inference;
    for (const bool frozen : {true, false}) {
      auto forward = [&] { return frozen ? graph.run_inference(x, {logits}) : graph.run(x, {logits}); };
      forward();  // warm-up: the frozen program is traced, checked and kept here
      forward();
      std::printf("\n%s, batch %lld, %lld batches, %d thread(s): ", frozen ? "Graph::run_inference (frozen)" : "Graph::run",
                  static_cast<long long>(batch), static_cast<long long>(rounds), at::get_num_threads());
      featvis::bench::print_op_profile(
          [&] {
            for (int64_t r = 0; r < rounds; ++r) forward();
          },
          static_cast<double>(rounds), top, "batch");
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "featvis_bench_forward_profile: %s\n", e.what());
    return 1;
  }
}
