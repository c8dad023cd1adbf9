// Class targets read from the model's class-score output (logits, pre-softmax).
#include <featvis/objective/kinds.h>

#include "objective_util.h"

namespace featvis::objective {
namespace {

// The output as [N, classes], with class k checked.
at::Tensor class_scores(const ObjectiveInput& in, const std::string& output, int64_t k) {
  const at::Tensor map = detail::feature_map(in, output);
  const at::Tensor scores = map.reshape({map.size(0), -1});
  if (k < 0 || k >= scores.size(1)) {
    throw Error("class " + std::to_string(k) + " out of range: output '" + output + "' has " +
                std::to_string(scores.size(1)) + " classes");
  }
  return scores;
}

}  // namespace

Objective logit(const std::string& output, int64_t k) {
  return Objective("logit:" + std::to_string(k), {output},
                   [output, k](const ObjectiveInput& in) { return class_scores(in, output, k).select(1, k); });
}

Objective probability(const std::string& output, int64_t k) {
  return Objective("prob:" + std::to_string(k), {output}, [output, k](const ObjectiveInput& in) {
    return at::softmax(class_scores(in, output, k), 1).select(1, k);
  });
}

}  // namespace featvis::objective
