#pragma once
// featvis.Picture: an RGB image that a notebook shows (a contact sheet of dataset examples
// beside a visualization, say), and how numpy images become one.
#include <pybind11/pybind11.h>

#include <ATen/ATen.h>

#include <vector>

namespace featvis::python {

struct Picture {
  at::Tensor chw;  // [3,H,W] in [0,1] on the CPU
};

// An (H,W,3) or (3,H,W) image, float in [0,1] or uint8, as [3,H,W] floats in [0,1].
at::Tensor picture_chw(const pybind11::handle& image);

// [3,H,W] images of any sizes side by side (render::contact_sheet), each scaled to fill a
// cell of the largest one's size.
Picture contact_sheet_of(const std::vector<at::Tensor>& pictures, int64_t columns = 0);

}  // namespace featvis::python
