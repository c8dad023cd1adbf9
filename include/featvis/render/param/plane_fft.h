#pragma once
// The FFT image's step, irfft2(gain * spectrum, ortho), and its backward as one autograd
// function whose N x C planes are spread over ATen's threads. This LibTorch's FFT
// (pocketfft, no MKL) runs every call on one thread, so ATen's irfft2 of a batch of 8
// renders is 24 planes on one core while the other waits; the gain multiply rides along in
// the same per-plane pass. The same transforms as ATen's irfft2 and its backward
// (_fft_c2r_backward: r2c, the mirrored bins doubled), plane by plane.
#include <ATen/ATen.h>

#include <cstdint>

namespace featvis::render::param {

// spectrum: [N, C, h, w/2+1, 2] float on the CPU; gain: [h, w/2+1, 2] (a constant, given no
// gradient). Returns the [N, C, h, w] image, differentiable to `spectrum`.
at::Tensor irfft2_by_planes(const at::Tensor& spectrum, const at::Tensor& gain, int64_t h, int64_t w);

}  // namespace featvis::render::param
