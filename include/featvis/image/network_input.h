#pragma once
// Rendered images live in [0, 1] RGB; the network wants the card's scaling.
#include <featvis/model/card.h>

#include <ATen/ATen.h>

namespace featvis::image {

// [N,3,H,W] RGB in [0,1] -> (x * 255 - mean) / std per channel, channels flipped to BGR
// when the card says so. Differentiable; stays on the image's device.
at::Tensor network_input(const at::Tensor& rgb01, const model::Preprocessing& preprocessing);

}  // namespace featvis::image
