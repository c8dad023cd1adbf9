#include <featvis/graph/guided_backprop.h>

namespace featvis {
namespace {

// A depth, not a flag, so that nested scopes restore correctly.
thread_local int guided_depth = 0;

}  // namespace

GuidedBackprop::GuidedBackprop() { ++guided_depth; }
GuidedBackprop::~GuidedBackprop() { --guided_depth; }
bool GuidedBackprop::active() { return guided_depth > 0; }

at::Tensor guided_rectifier_output(const at::Tensor& output) {
  if (guided_depth > 0 && output.requires_grad()) {
    // The hook sees the gradient arriving at the op's output, before the op's backward.
    output.register_hook([](const at::Tensor& grad) { return grad.clamp_min(0); });
  }
  return output;
}

}  // namespace featvis
