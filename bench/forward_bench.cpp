// featvis_bench_forward: forward throughput (the work of `featvis classify`) and
// forward + input-gradient time of an ONNX classifier run by featvis::Graph.
//
//   featvis_bench_forward [--model PATH] [--threads N] [--grad-class K]
//                         [--dump-logits IN.f32 OUT.f32] [Google Benchmark flags...]
//
// --model        ONNX file (default: $FEATVIS_BENCH_MODEL, else
//                mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx looked up in $FEATVIS_MODEL_PATH,
//                ./models, ../shared/models, <source>/../shared/models).
// --threads      intra-op threads, set with at::set_num_threads (default:
//                $FEATVIS_BENCH_THREADS, else 2). Match it with the baselines.
// --grad-class   class k whose logit sum is differentiated (default 0).
// --dump-logits  no benchmark: read raw float32 NCHW input (batch inferred from the file
//                size), write the raw float32 logits, exit. Used by run_forward_bench.sh to
//                check that featvis, PyTorch eager and ONNX Runtime compute the same thing.
//
// Benchmarks: forward/batch:{1,8,32} under c10::InferenceMode (counter img/s) by
// Graph::run_inference (classify's frozen path), forward_eager/batch:{1,8,32} by Graph::run, and
// forward_grad/batch:{1,8}: autograd on, input requires grad, backward of
// logits[:, k].sum() (counter ms/img). Times are wall-clock (UseRealTime).
#include <featvis/graph/graph.h>
#include <featvis/util/configure_process.h>
#include <featvis/util/error.h>

#include "bench_model.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <c10/core/InferenceMode.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {



struct Options {
  std::string model;
  int threads = 2;
  int64_t grad_class = 0;
  std::optional<std::pair<std::string, std::string>> dump;
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
    } else if (flag == "--grad-class") {
      o.grad_class = std::stoll(value());
    } else if (flag == "--dump-logits") {
      std::string in = value();
      o.dump = {in, value()};
    } else {
      return false;
    }
    return true;
  });
  if (o.threads < 1) throw featvis::Error("--threads must be at least 1");
  o.model = featvis::bench::resolve_model(o.model);
  return o;
}

std::vector<int64_t> chw_of(const featvis::graph::Graph& graph) {
  std::vector<int64_t> chw{3, 224, 224};
  const auto& shape = graph.inputs().at(0).shape;
  if (shape.size() == 4)
    for (size_t i = 1; i < 4; ++i)
      if (shape[i] > 0) chw[i - 1] = shape[i];
  return chw;
}

at::Tensor random_input(const featvis::graph::Graph& graph, int64_t batch) {
  const auto chw = chw_of(graph);
  at::manual_seed(0);
  return at::rand({batch, chw[0], chw[1], chw[2]}) * 2 - 1;  // the model's [-1, 1] range
}

std::string output_name(const featvis::graph::Graph& graph) { return graph.outputs().at(0); }

// frozen: Graph::run_inference, what classify/eval/the examples scan run (the frozen
// oneDNN program from batch 2 on; batch 1 stays on Graph::run); else Graph::run, the eager
// executor renders use.
void bench_forward(benchmark::State& state, const featvis::graph::Graph* graph, bool frozen) {
  const int64_t batch = state.range(0);
  const std::string out = output_name(*graph);
  const at::Tensor x = random_input(*graph, batch);
  c10::InferenceMode guard;
  auto forward = [&] { return frozen ? graph->run_inference(x, {out}) : graph->run(x, {out}); };
  for (int i = 0; i < 3; ++i) forward();  // warm-up: freezing, oneDNN primitive caches
  for (auto _ : state) {
    at::Tensor logits = forward().at(out);
    benchmark::DoNotOptimize(logits.data_ptr());
  }
  state.counters["img/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void bench_forward_grad(benchmark::State& state, const featvis::graph::Graph* graph, int64_t k) {
  const int64_t batch = state.range(0);
  const std::string out = output_name(*graph);
  at::Tensor x = random_input(*graph, batch).requires_grad_(true);
  auto step = [&] {
    x.mutable_grad() = at::Tensor();
    at::Tensor logits = graph->run(x, {out}).at(out);
    logits.select(1, k).sum().backward();
    return x.grad();
  };
  for (int i = 0; i < 2; ++i) step();  // warm-up
  for (auto _ : state) {
    at::Tensor g = step();
    benchmark::DoNotOptimize(g.data_ptr());
  }
  state.counters["ms/img"] = benchmark::Counter(
      static_cast<double>(batch) / 1000.0,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

int dump_logits(const featvis::graph::Graph& graph, const std::string& in_path, const std::string& out_path) {
  std::ifstream in(in_path, std::ios::binary);
  if (!in) throw featvis::Error("cannot read '" + in_path + "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto chw = chw_of(graph);
  const int64_t per_image = chw[0] * chw[1] * chw[2] * static_cast<int64_t>(sizeof(float));
  if (bytes.empty() || bytes.size() % per_image != 0)
    throw featvis::Error("'" + in_path + "' is not a whole number of float32 input images");
  const int64_t batch = static_cast<int64_t>(bytes.size()) / per_image;
  at::Tensor x = at::empty({batch, chw[0], chw[1], chw[2]}, at::kFloat);
  std::memcpy(x.data_ptr(), bytes.data(), bytes.size());
  c10::InferenceMode guard;
  const std::string out = output_name(graph);
  // The logits classify computes (the frozen program from batch 2 on).
  at::Tensor logits = graph.run_inference(x, {out}).at(out).contiguous().to(at::kFloat);
  std::ofstream o(out_path, std::ios::binary);
  o.write(static_cast<const char*>(logits.data_ptr()), logits.numel() * sizeof(float));
  if (!o) throw featvis::Error("cannot write '" + out_path + "'");
  std::cerr << "featvis: wrote logits " << logits.sizes() << " to " << out_path << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  featvis::configure_process();
  try {
    const Options opt = parse(&argc, argv);
    at::set_num_threads(opt.threads);
    const featvis::graph::Graph graph = featvis::graph::Graph::load_onnx(opt.model);
    if (opt.dump) return dump_logits(graph, opt.dump->first, opt.dump->second);

    benchmark::AddCustomContext("featvis_model", opt.model);
    benchmark::AddCustomContext("featvis_threads", std::to_string(at::get_num_threads()));
    for (int64_t batch : {1, 8, 32}) {
      benchmark::RegisterBenchmark("forward", bench_forward, &graph, true)
          ->Arg(batch)->ArgName("batch")->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark("forward_eager", bench_forward, &graph, false)
          ->Arg(batch)->ArgName("batch")->UseRealTime()->Unit(benchmark::kMillisecond);
    }
    for (int64_t batch : {1, 8}) {
      benchmark::RegisterBenchmark("forward_grad", bench_forward_grad, &graph, opt.grad_class)
          ->Arg(batch)->ArgName("batch")->UseRealTime()->Unit(benchmark::kMillisecond);
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    std::cerr << "featvis_bench_forward: error: " << msg.substr(0, msg.find('\n')) << "\n";
    return 1;
  }
}
