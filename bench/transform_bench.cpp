// The cost of the transform chain in one render step: Lucid's standard set (pad 12,
// jitter 8, scale, rotate, jitter 4) on a [N,3,224,224] image that needs its gradient,
// forward then backward of the sum, applied as one resampling (what render uses) and step
// by step (one interpolation per transform, the reference). Same seed for both, so the
// same sizes are drawn. Threads: at::set_num_threads($FEATVIS_BENCH_THREADS, default 1).
//   ./build/featvis_bench_transforms --benchmark_repetitions=5 --benchmark_min_time=2
#include <featvis/render/transform/standard.h>
#include <featvis/util/configure_process.h>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/csrc/autograd/autograd.h>

#include <cstdlib>

namespace {

namespace tf = featvis::render::transform;

void bench_chain(benchmark::State& state, tf::Resampling resampling) {
  const tf::Transform chain = tf::compose(tf::parse_steps("standard"), resampling);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(7);
  const at::Tensor image = at::rand({state.range(0), 3, 224, 224}).set_requires_grad(true);
  for (auto _ : state) {
    const at::Tensor out = chain(image, generator);
    const auto grads = torch::autograd::grad({out.sum()}, {image});
    benchmark::DoNotOptimize(grads[0].data_ptr());
  }
}

}  // namespace

BENCHMARK_CAPTURE(bench_chain, once, tf::Resampling::kOnce)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(bench_chain, per_transform, tf::Resampling::kPerTransform)
    ->Arg(1)
    ->Arg(8)
    ->Unit(benchmark::kMillisecond);

int main(int argc, char** argv) {
  featvis::configure_process();
  const char* threads = std::getenv("FEATVIS_BENCH_THREADS");
  at::set_num_threads(threads ? std::max(1, std::atoi(threads)) : 1);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
