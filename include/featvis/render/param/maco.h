#pragma once
// MACO, magnitude-constrained optimization (Fel et al., NeurIPS 2023, arXiv 2306.06805):
// only the Fourier *phase* of the image is optimized; its magnitude is fixed to the
// average spectrum of natural images, so the picture keeps natural-image statistics on
// deep networks where Lucid's free spectrum drifts to noise. The image is
// sigmoid(recorrelated colour(standardized irfft2(magnitude * e^(i * standardized phase)))).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace featvis::render::param {

// Sum over `photos` ([N,3,H,W] in [0,1]) of |rfft2| of each photo, standardized and in the
// decorrelated colour basis (the space MACO's phase lives in): [3, H, W/2+1]. Divide the
// sum over all batches by the photo count for the average spectrum.
at::Tensor spectrum_sum(const at::Tensor& photos);

// The magnitude for an h x w image: `spectrum` [3, H', W'/2+1] resized (bilinear) to
// [3, h, w/2+1] when the sizes differ. Throws featvis::Error for a spectrum of another
// shape or with negative or non-finite values.
at::Tensor magnitude_for(const at::Tensor& spectrum, int64_t h, int64_t w);

// phase [N,3,h,w/2+1] -> the decorrelated-space image [N,3,h,w], before colour and
// sigmoid. Each item's phase and image are standardized (mean 0, std 1), as in MACO.
at::Tensor maco_image(const at::Tensor& phase, const at::Tensor& magnitude, int64_t h, int64_t w);

// Reads a spectrum .npy written by `featvis spectrum` ([3, H, W/2+1], float32).
at::Tensor read_spectrum(const std::string& path);

}  // namespace featvis::render::param
