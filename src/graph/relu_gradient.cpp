#include <featvis/graph/relu_gradient.h>

namespace featvis::graph {
namespace {
thread_local ReluGradient g_mode = ReluGradient::kExact;
}

ReluGradient current_relu_gradient() { return g_mode; }

ReluGradientGuard::ReluGradientGuard(ReluGradient mode) : previous_(g_mode) { g_mode = mode; }
ReluGradientGuard::~ReluGradientGuard() { g_mode = previous_; }

}  // namespace featvis::graph
