// Graph::run traced into TorchScript and optimized as a frozen graph (see frozen_forward.h).
#include <featvis/graph/frozen_forward.h>
#include "fold_pad_into_convolution.h"
#include "leaky_relu_in_blocked_ops.h"
#include <featvis/util/check.h>
#include <featvis/util/error.h>

#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/frozen_conv_add_relu_fusion.h>
#include <torch/csrc/jit/passes/frozen_graph_optimizations.h>
#include <torch/csrc/jit/passes/frozen_ops_to_mkldnn.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/runtime/interpreter.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_set>

namespace featvis::graph {

bool frozen_forward_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("FEATVIS_FROZEN_FORWARD");
    return !(v && std::strcmp(v, "0") == 0);
  }();
  return enabled;
}

namespace {

bool verbose() {
  const char* v = std::getenv("FEATVIS_FROZEN_FORWARD");
  return v && std::strcmp(v, "verbose") == 0;
}

// FEATVIS_FROZEN_FORWARD=verbose says on stderr why a shape fell back to Graph::run.
void report_fallback(const std::string& origin, const std::string& why) {
  if (verbose())
    std::fprintf(stderr, "featvis: note: '%s' runs without the frozen fast path: %s\n", origin.c_str(), why.c_str());
}

}  // namespace

struct FrozenForward::Impl {
  std::vector<std::string> wanted;
  std::shared_ptr<torch::jit::Graph> graph;
  std::unique_ptr<torch::jit::Code> code;
  int folded_pads = 0;
  std::map<std::string, int> kinds;  // node kind -> count in the optimized graph
};

FrozenForward::FrozenForward(const Graph& g, const at::Tensor& example, std::vector<std::string> wanted)
    : impl_(std::make_unique<Impl>()) {
  impl_->wanted = std::move(wanted);
  {
    // The tracer records ATen calls on ordinary tensors: leave inference mode, and record
    // no autograd. Weights are not traced inputs, so they become graph constants, which
    // is what the frozen-graph passes look for.
    c10::InferenceMode not_inference(false);
    c10::NoGradGuard no_grad;
    const at::Tensor x = at::zeros(example.sizes(), example.options());
    auto traced = torch::jit::tracer::trace(
        {x},
        [&](torch::jit::Stack in) {
          const TensorMap values = g.run(in[0].toTensor(), impl_->wanted);
          torch::jit::Stack out;
          for (const auto& w : impl_->wanted) out.emplace_back(values.at(w));
          return out;
        },
        [](const at::Tensor&) { return std::string(); }, /*strict=*/false, /*force_outplace=*/false);
    impl_->graph = traced.first->graph;
  }
  auto& graph = impl_->graph;
  torch::jit::Inline(*graph);
  torch::jit::ConstantPropagation(graph);
  impl_->folded_pads = fold_pad_into_convolution(graph);
  leaky_relu_in_blocked_ops(graph);
  torch::jit::OptimizeFrozenGraph(graph, /*optimize_numerics=*/true);
  torch::jit::FuseFrozenConvAddRelu(graph);
  torch::jit::ConvertFrozenOpsToMKLDNN(graph);
  torch::jit::EliminateDeadCode(graph);
  for (const torch::jit::Node* node : graph->nodes()) ++impl_->kinds[node->kind().toQualString()];
  if (verbose()) {  // what the passes made of the graph: layout changes show as to_dense/to_mkldnn
    std::string summary;
    for (const auto& [kind, n] : impl_->kinds)
      if (kind != "prim::Constant") summary += (summary.empty() ? "" : ", ") + kind + " x" + std::to_string(n);
    std::fprintf(stderr, "featvis: note: frozen program for %s: %s\n", g.origin().c_str(), summary.c_str());
  }
  impl_->code = std::make_unique<torch::jit::Code>(graph, "featvis_frozen_forward");
}

FrozenForward::~FrozenForward() = default;

int FrozenForward::blocked_convolutions() const { return op_count("prim::mkldnn_convolution"); }

int FrozenForward::folded_pads() const { return impl_->folded_pads; }

int FrozenForward::op_count(const std::string& kind) const {
  const auto it = impl_->kinds.find(kind);
  return it == impl_->kinds.end() ? 0 : it->second;
}

TensorMap FrozenForward::run(const at::Tensor& input) const {
  torch::jit::Stack stack{input.contiguous()};
  torch::jit::InterpreterState(*impl_->code).run(stack);
  // One traced output per wanted tensor; a single tuple if the tracer packed them.
  std::vector<at::Tensor> outputs;
  if (stack.size() == 1 && stack[0].isTuple()) {
    for (const auto& v : stack[0].toTupleRef().elements()) outputs.push_back(v.toTensor());
  } else {
    for (const auto& v : stack) outputs.push_back(v.toTensor());
  }
  FEATVIS_CHECK(outputs.size() == impl_->wanted.size(), "frozen forward returned ", outputs.size(),
                " tensors for ", impl_->wanted.size(), " wanted");
  TensorMap out;
  for (size_t i = 0; i < outputs.size(); ++i) out[impl_->wanted[i]] = std::move(outputs[i]);
  return out;
}

// Per (wanted, shape): its program, or nullptr: that key runs Graph::run.
struct Graph::FrozenCache {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<const FrozenForward>> programs;
};

namespace {

// Bounded: a scan uses one shape plus its last partial batch; a cache this size covers a
// few layer sets without holding every oneDNN weight copy ever made.
constexpr size_t kMaxPrograms = 8;
// Tracing and optimizing cost about as much as a few forwards: a single image (`classify
// photo.jpg`, an attribution's top-1) runs Graph::run and never pays it. The choice depends
// on the shape alone, never on what ran before, so a value is the same function of its
// input in every process: a resumed scan or a shard ranks exactly as an uninterrupted run.
constexpr int64_t kSmallestFrozenBatch = 2;

// The first batch of a shape is computed both ways. The two are the same function by
// other kernels: they agree to float rounding (~1e-5 of the values' scale); anything
// beyond 1e-3 of it means the trace did not capture the graph, and the key falls back.
// Returns "" when they agree, else what differs.
std::string disagreement(const TensorMap& frozen, const TensorMap& eager) {
  for (const auto& [name, e] : eager) {
    auto f = frozen.find(name);
    if (f == frozen.end() || !f->second.sizes().equals(e.sizes())) return "'" + name + "' has another shape";
    const at::Tensor a = f->second.to(at::kDouble), b = e.to(at::kDouble);
    const double scale = 1.0 + b.abs().max().item<double>();
    const double error = (a - b).abs().max().item<double>();
    if (!(error <= 1e-3 * scale)) return "'" + name + "' differs by " + std::to_string(error);
  }
  return "";
}

}  // namespace

int Graph::frozen_programs() const {
  std::shared_ptr<FrozenCache> cache;
  {
    std::lock_guard<std::mutex> lock(*plan_mutex_);
    cache = frozen_;
  }
  if (!cache) return 0;
  std::lock_guard<std::mutex> lock(cache->mutex);
  int n = 0;
  for (const auto& [key, program] : cache->programs) n += program != nullptr;
  return n;
}

TensorMap Graph::run_inference(const at::Tensor& input, const std::vector<std::string>& wanted) const {
  const bool applies = frozen_forward_enabled() && device_.is_cpu() && input.defined() && input.dim() == 4 &&
                       input.size(0) >= kSmallestFrozenBatch && input.scalar_type() == at::kFloat &&
                       !(c10::GradMode::is_enabled() && input.requires_grad());
  if (!applies) return run(input, wanted);
  std::vector<std::string> unique;
  std::unordered_set<std::string> seen;
  for (const auto& w : wanted) {
    require_tensor(w);  // the same one-line error as run() for an unknown name
    if (seen.insert(w).second) unique.push_back(w);
  }
  std::string key;
  for (const auto& w : unique) key += w + '\n';
  for (int64_t d : input.sizes()) key += std::to_string(d) + 'x';
  std::shared_ptr<FrozenCache> cache;
  {
    std::lock_guard<std::mutex> lock(*plan_mutex_);
    if (!frozen_) frozen_ = std::make_shared<FrozenCache>();
    cache = frozen_;
  }
  {
    std::unique_lock<std::mutex> lock(cache->mutex);
    auto it = cache->programs.find(key);
    if (it != cache->programs.end()) {
      const std::shared_ptr<const FrozenForward> program = it->second;
      lock.unlock();  // programs run concurrently; only the map is guarded
      return program ? program->run(input) : run(input, wanted);
    }
  }
  std::shared_ptr<const FrozenForward> program;
  try {
    program = std::make_shared<const FrozenForward>(*this, input, unique);
  } catch (const std::exception& e) {
    report_fallback(origin_, std::string("tracing failed: ") + e.what());
    program = nullptr;  // untraceable: Graph::run serves this key
  }
  TensorMap eager = run(input, wanted);
  TensorMap result;
  if (program) {
    std::string why;
    try {
      result = program->run(input);
      why = disagreement(result, eager);
    } catch (const std::exception& e) {
      why = std::string("the program failed: ") + e.what();
    }
    if (!why.empty()) {
      report_fallback(origin_, why.substr(0, why.find('\n')));
      program = nullptr;
    }
  }
  {
    std::lock_guard<std::mutex> lock(cache->mutex);
    if (cache->programs.size() >= kMaxPrograms) cache->programs.clear();
    cache->programs[key] = program;  // two threads building one key store the same thing
  }
  // The program's own answer when it is kept: the same as every later call of this shape.
  return program ? result : eager;
}

}  // namespace featvis::graph
