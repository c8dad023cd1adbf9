#pragma once
// Images given from Python as a model's input batch, with the card's preprocessing.
#include <featvis/model/model.h>

#include <pybind11/pybind11.h>

#include <ATen/ATen.h>

namespace featvis::python {

// `images`, any of:
//  - a file path, or a PIL image: a photo, cropped and scaled as the card says (like the CLI);
//  - an array (H,W,3), (N,H,W,3) or (N,3,H,W), float in [0,1] or uint8: numpy, or what
//    numpy reads (torch tensors, detached and moved to the CPU first). Arrays at the
//    card's input size are used as they are, read in place (no copy) for uint8 and
//    float32; a uint8 (H,W,3) array of another size is a photo and gets the card's crop;
//  - a list or tuple of the above.
// Throws featvis::Error for anything else.

// [N,3,H,W] RGB in [0,1] at the card's input size, or at height x width when given (the
// card's crop scaled alike, as `featvis render --init` does), on the CPU: the space
// render and attribution work in.
at::Tensor images01(const model::Model& model, const pybind11::handle& images, int64_t height = 0, int64_t width = 0);

// The network input [N,3,H,W] (the card's scaling) on the model's device.
at::Tensor network_batch(const model::Model& model, const pybind11::handle& images);

// The one [3,H,W] image of `images` in [0,1] (featvis::Error for a batch of several).
at::Tensor single_image01(const model::Model& model, const pybind11::handle& images);

}  // namespace featvis::python
