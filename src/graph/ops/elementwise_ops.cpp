// Broadcasting binary arithmetic (numpy rules, as ONNX specifies) and n-ary Sum/Max/Min.
#include "op_util.h"

namespace featvis::graph {
namespace {

using ops::arg;
using ops::one;

template <typename F>
void binary(const char* name, F f) {
  register_op(name, [f](const Node& n, const OpInputs& in) {
    return one(f(arg(n, in, 0), arg(n, in, 1)));
  });
}

template <typename F>
void variadic(const char* name, F f) {
  register_op(name, [f](const Node& n, const OpInputs& in) {
    at::Tensor acc = arg(n, in, 0);
    for (size_t i = 1; i < in.size(); ++i) acc = f(acc, arg(n, in, i));
    return one(acc);
  });
}

}  // namespace

void register_elementwise_ops() {
  binary("Add", [](const at::Tensor& a, const at::Tensor& b) { return a + b; });
  binary("Sub", [](const at::Tensor& a, const at::Tensor& b) { return a - b; });
  binary("Mul", [](const at::Tensor& a, const at::Tensor& b) { return a * b; });
  binary("Div", [](const at::Tensor& a, const at::Tensor& b) {
    // ONNX integer division truncates; float division is plain.
    if (at::isIntegralType(a.scalar_type(), false) && at::isIntegralType(b.scalar_type(), false)) {
      return at::div(a, b, "trunc");
    }
    return a / b;
  });
  // Mod: fmod=1 is C's fmod (the result takes the dividend's sign), fmod=0 the integer
  // modulus that takes the divisor's sign (Python's %); ONNX requires fmod=1 for floats.
  register_op("Mod", [](const Node& n, const OpInputs& in) {
    const at::Tensor& a = arg(n, in, 0);
    const at::Tensor& b = arg(n, in, 1);
    if (n.attributes.get_int("fmod", 0)) return one(at::fmod(a, b));
    if (at::isFloatingType(a.scalar_type()) || at::isFloatingType(b.scalar_type()))
      ops::fail(n, "fmod must be 1 for floating-point inputs (ONNX Mod)");
    if ((b == 0).any().item<bool>()) ops::fail(n, "integer modulus by zero");
    return one(at::remainder(a, b));
  });
  register_op("Not", [](const Node& n, const OpInputs& in) { return one(at::logical_not(arg(n, in, 0))); });
  binary("Pow", [](const at::Tensor& a, const at::Tensor& b) { return at::pow(a, b); });
  binary("Equal", [](const at::Tensor& a, const at::Tensor& b) { return at::eq(a, b); });
  binary("Less", [](const at::Tensor& a, const at::Tensor& b) { return at::lt(a, b); });
  binary("Greater", [](const at::Tensor& a, const at::Tensor& b) { return at::gt(a, b); });
  variadic("Sum", [](const at::Tensor& a, const at::Tensor& b) { return a + b; });
  variadic("Max", [](const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); });
  variadic("Min", [](const at::Tensor& a, const at::Tensor& b) { return at::minimum(a, b); });
  register_op("Where", [](const Node& n, const OpInputs& in) {
    return one(at::where(arg(n, in, 0).to(at::kBool), arg(n, in, 1), arg(n, in, 2)));
  });
}

}  // namespace featvis::graph
