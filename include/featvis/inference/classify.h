#pragma once
// Class predictions from the card's output tensor (pre-softmax scores).
#include <featvis/model/model.h>

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace featvis::inference {

struct Prediction {
  int64_t index = 0;
  float probability = 0;  // softmax over the output
  float logit = 0;        // pre-softmax score
  std::string label;
};

// Loads and preprocesses photos into one [N,3,H,W] batch.
at::Tensor load_batch(const std::vector<std::string>& paths, const model::Preprocessing& pre);

// Scores of the card's output tensor for a batch, as [N, classes].
at::Tensor class_scores(const model::Model& model, const at::Tensor& batch);

// Top-k predictions per image of a batch.
std::vector<std::vector<Prediction>> classify(const model::Model& model, const at::Tensor& batch, int top_k);

}  // namespace featvis::inference
