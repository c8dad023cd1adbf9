#pragma once
// Images given from Python (file paths, or numpy arrays of RGB pixels) as the network
// input batch of a model, with the card's preprocessing.
#include <featvis/model/model.h>

#include <pybind11/pybind11.h>

#include <ATen/ATen.h>

namespace featvis::python {

// `images`: a path, a list of paths (cropped and scaled as the card says, like the CLI),
// or an array (H,W,3), (N,H,W,3) or (N,3,H,W) at the card's input size, float in [0,1]
// or uint8: numpy, or anything numpy reads (torch tensors, PIL images).
// Returns [N,3,H,W] on the model's device. Throws featvis::Error for anything else.
at::Tensor network_batch(const model::Model& model, const pybind11::handle& images);

}  // namespace featvis::python
