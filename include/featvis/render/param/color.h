#pragma once
// From the optimized tensor to valid RGB (Lucid's to_valid_rgb). Natural images have
// strongly correlated colour channels; optimizing in a decorrelated basis (the square
// root of ImageNet's colour covariance) lets each step change brightness and hue
// independently, which gives natural colours instead of saturated noise.
#include <ATen/ATen.h>

#include <string>

namespace featvis::render::param {

enum class Squash {
  kSigmoid,  // rgb = sigmoid(t): always valid, never stuck
  kClamp,    // rgb = clamp(t + mean colour, 0, 1), gradient passed straight through
};

std::string to_string(Squash squash);
// "sigmoid" or "clamp"; throws featvis::Error otherwise.
Squash parse_squash(const std::string& text);

// Lucid's color_correlation_svd_sqrt divided by its largest column norm: [3, 3].
at::Tensor color_correlation_sqrt(const at::TensorOptions& options = at::kFloat);

// t [N, 3, H, W] in the decorrelated basis -> correlated RGB-space values, and back.
at::Tensor decorrelate_color(const at::Tensor& t);
at::Tensor correlate_color(const at::Tensor& rgb);

// The raw tensor [N, 3, H, W] -> RGB in [0, 1]. With kClamp the raw value 0 maps to
// ImageNet's mean colour (decorrelated) or mid grey, so weight decay pulls towards it.
at::Tensor to_valid_rgb(const at::Tensor& t, bool decorrelate, Squash squash);

// Inverse of to_valid_rgb for an image in [0, 1]; values are first clamped into
// [eps, 1 - eps] with eps a quarter of an 8-bit level so the sigmoid inverse is finite
// and an 8-bit photo still round-trips to the same bytes.
at::Tensor from_valid_rgb(const at::Tensor& rgb, bool decorrelate, Squash squash);

}  // namespace featvis::render::param
