#pragma once
// The image being optimized, as Lucid composes it: parameters in pixel or FFT space,
// optionally in a decorrelated colour basis, squashed into valid RGB. image() is a
// differentiable function of parameters(); an optimizer updates those in place.
#include <featvis/render/param/color.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

namespace featvis::render::param {

enum class Space {
  kPixel,  // one parameter per pixel and channel
  kFFT,    // rfft2 coefficients with 1/f scaling (Lucid's default)
  kCPPN,   // a small coordinate network per item (cppn.h); its own sigmoid RGB, no colour basis
  kMACO,   // Fourier phase only, magnitude fixed to natural images' (maco.h)
};

std::string to_string(Space space);
// "pixel", "fft", "cppn" or "maco"; throws featvis::SettingError ("param") otherwise.
Space parse_space(const std::string& text);

struct ImageParamOptions {
  int64_t batch = 1;
  int64_t height = 224;
  int64_t width = 224;
  Space space = Space::kFFT;
  bool decorrelate = true;
  Squash squash = Squash::kSigmoid;
  double decay_power = 1.0;  // FFT only: spectrum scaled by 1/f^decay_power
  double sd = 0.01;          // std of the random initial parameters
  // Optional start image in [0, 1], [3,H,W] (used for every batch item) or [N,3,H,W]:
  // the parameters are set so that image() reproduces it (DeepDream, caricatures).
  at::Tensor init_image;
  // MACO: the natural-image spectrum [3, H', W'/2+1] (maco.h), resized to the image.
  at::Tensor magnitude;
  // dtype/device of the parameters (the model's device).
  at::TensorOptions tensor_options = at::TensorOptions().dtype(at::kFloat);
};

class ImageParam {
 public:
  // Random initial values are drawn from `generator` (a CPU generator) on the CPU and
  // then moved, so a seed gives the same start on every device.
  ImageParam(ImageParamOptions options, at::Generator generator);

  // Leaf tensors requiring grad.
  const std::vector<at::Tensor>& parameters() const { return parameters_; }
  // [N, 3, H, W] in [0, 1], differentiable with respect to parameters().
  at::Tensor image() const;

  const ImageParamOptions& options() const { return options_; }
  // "fft(decay 1) + decorrelated colour + sigmoid, 2 x 3 x 128 x 128"
  std::string description() const;

 private:
  at::Tensor raw() const;  // before colour transform and squash

  ImageParamOptions options_;
  at::Tensor scale_;        // FFT: per-coefficient scale
  at::Tensor gain_;         // FFT: spectrum_gain(scale_), made once for every step
  at::Tensor coordinates_;  // CPPN: the (x, y) planes
  at::Tensor magnitude_;    // MACO: the fixed magnitude at the image's size
  std::vector<at::Tensor> parameters_;
};

}  // namespace featvis::render::param
