#pragma once
// Adam for the render loop: torch::optim::Adam's update (same formulas, same order of
// operations), with fewer passes over the parameters.
#include <ATen/ATen.h>

#include <vector>

namespace featvis::render {

class Adam {
 public:
  Adam(std::vector<at::Tensor> parameters, double lr, double weight_decay);

  // Drops the gradients (LibTorch 1.13 zeroes them): the next backward then hands its
  // buffer over instead of adding it to zeros.
  void zero_grad();
  // One update of every parameter that has a gradient.
  void step();

 private:
  struct Moments {
    at::Tensor exp_avg, exp_avg_sq;
  };
  std::vector<at::Tensor> parameters_;
  std::vector<Moments> moments_;
  double lr_, weight_decay_;
  int64_t steps_ = 0;
};

}  // namespace featvis::render
