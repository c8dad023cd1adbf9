// Fully connected layers: Gemm (alpha*A'B' + beta*C), MatMul and Einsum.
#include "op_util.h"

namespace featvis::graph {

void register_linear_ops() {
  register_op("Gemm", [](const Node& n, const OpInputs& in) {
    at::Tensor a = ops::arg(n, in, 0);
    at::Tensor b = ops::arg(n, in, 1);
    const at::Tensor c = ops::opt(in, 2);
    if (n.attributes.get_int("transA", 0)) a = a.t();
    if (n.attributes.get_int("transB", 0)) b = b.t();
    const float alpha = n.attributes.get_float("alpha", 1.0f);
    const float beta = n.attributes.get_float("beta", 1.0f);
    if (a.dim() != 2 || b.dim() != 2 || a.size(1) != b.size(0)) {
      ops::fail(n, "cannot multiply " + std::to_string(a.size(0)) + "x" + std::to_string(a.size(1)) +
                       " by " + std::to_string(b.size(0)) + "x" + std::to_string(b.size(1)));
    }
    if (c.defined() && beta != 0.0f) return ops::one(at::addmm(c, a, b, beta, alpha));
    at::Tensor y = at::mm(a, b);
    return ops::one(alpha == 1.0f ? y : y * alpha);
  });
  // Einsum (MaxViT's attention): ONNX's equation syntax is numpy's, which at::einsum reads.
  register_op("Einsum", [](const Node& n, const OpInputs& in) {
    const std::string equation = n.attributes.get_string("equation", "");
    if (equation.empty()) ops::fail(n, "missing its equation");
    std::vector<at::Tensor> operands;
    for (size_t i = 0; i < in.size(); ++i) operands.push_back(ops::arg(n, in, i));
    return ops::one(at::einsum(equation, operands));
  });
  register_op("MatMul", [](const Node& n, const OpInputs& in) {
    return ops::one(at::matmul(ops::arg(n, in, 0), ops::arg(n, in, 1)));
  });
}

}  // namespace featvis::graph
