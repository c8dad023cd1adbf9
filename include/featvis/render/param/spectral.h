#pragma once
// Lucid's fft_image: an image stored as its 2-D real FFT, each frequency scaled by
// 1/f^decay_power. Gradient steps then change low frequencies as easily as high ones,
// which removes most of the high-frequency noise that pixel-space optimization produces.
#include <ATen/ATen.h>

#include <cstdint>

namespace featvis::render::param {

// |f| of every rfft2 coefficient of an h x w image: [h, w/2+1] (numpy fftfreq units).
at::Tensor rfft2d_freqs(int64_t h, int64_t w, const at::TensorOptions& options = at::kFloat);

// Per-coefficient scale 1 / max(|f|, 1/max(h,w))^decay_power: [h, w/2+1].
at::Tensor spectrum_scale(int64_t h, int64_t w, double decay_power, const at::TensorOptions& options = at::kFloat);

// spectrum: [N, C, h, w/2+1, 2] real/imaginary parts; returns the [N, C, h, w] image
// irfft2(scale * spectrum, ortho) / 4 (Lucid's constant; larger values saturate less).
at::Tensor spectrum_to_image(const at::Tensor& spectrum, const at::Tensor& scale, int64_t h, int64_t w);

// The same in two parts for a render's every step: the gain scale / 4 made once, laid out
// as [h, w/2+1, 2] (one factor per real and imaginary part), so that the per-step multiply
// is elementwise instead of a broadcast over a last dimension of 2, which ATen loops over
// two values at a time; then irfft2(gain * spectrum, ortho).
at::Tensor spectrum_gain(const at::Tensor& scale);
at::Tensor gained_spectrum_to_image(const at::Tensor& spectrum, const at::Tensor& gain, int64_t h, int64_t w);

// Exact inverse of spectrum_to_image for a real image [N, C, h, w].
at::Tensor image_to_spectrum(const at::Tensor& image, const at::Tensor& scale);

}  // namespace featvis::render::param
