#pragma once
// Plain text drawn into pictures (labels of strips, chart axes and legends), with the
// public-domain stb_easy_font: a few-pixel bitmap face scaled by whole pixels, so labels
// stay sharp and need no font file at run time.
#include <ATen/ATen.h>

#include <array>
#include <string>

namespace featvis::image {

// Width and height in pixels of `text` (one line) at `scale` pixels per font pixel.
int text_width(const std::string& text, int scale = 1);
int text_height(int scale = 1);

// Draws `text` with its top-left corner at (x, y) into `image`, a float [3, H, W] in
// [0, 1], in `rgb` (0..1). Parts outside the image are clipped.
void draw_text(at::Tensor& image, int x, int y, const std::string& text, std::array<float, 3> rgb = {0.f, 0.f, 0.f},
               int scale = 1);

// Fills the rectangle [x0, x1) x [y0, y1) (clipped) with `rgb`.
void fill_rect(at::Tensor& image, int x0, int y0, int x1, int y1, std::array<float, 3> rgb);

}  // namespace featvis::image
