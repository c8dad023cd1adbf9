#pragma once
// A linear probe: multinomial logistic regression on standardized features (mean and
// std of the rows it is fitted on), L2-regularized, fitted by full-batch L-BFGS
// (LibTorch). The L2 strength is chosen on a held-out part of the training rows; the
// probe is then refitted on all of them and scored on the test rows.
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace featvis::probe {

struct LogisticOptions {
  // Candidates for the L2 weight (loss = mean cross-entropy + l2/2 * |W|^2).
  std::vector<double> l2 = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1};
  double held_out = 0.2;  // fraction of the training rows that picks the L2 weight
  int64_t max_iterations = 150;
  uint64_t seed = 0;  // which rows are held out
};

struct ProbeScore {
  double l2 = 0;
  double held_out_accuracy = 0;  // of the chosen l2
  double train_accuracy = 0;     // of the final fit, on all training rows
  double test_accuracy = 0;
  int64_t features = 0;
};

// x: [N, F] float; y: [N] int64 class indices in [0, classes). Throws featvis::Error for
// fewer than 2 classes, a label outside [0, classes), or mismatched rows.
ProbeScore fit_probe(const at::Tensor& train_x, const at::Tensor& train_y, const at::Tensor& test_x, const at::Tensor& test_y,
                     int64_t classes, const LogisticOptions& options = {});

}  // namespace featvis::probe
