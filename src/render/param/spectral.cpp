#include <featvis/render/param/spectral.h>
#include <featvis/render/param/plane_fft.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <cmath>

namespace featvis::render::param {
namespace {

constexpr double kMagic = 4.0;  // Lucid's divisor of the irfft output

// numpy.fft.fftfreq(n): 0, 1/n, ..., then negative frequencies.
at::Tensor fftfreq(int64_t n, const at::TensorOptions& options) {
  at::Tensor k = at::arange(n, options.dtype(at::kDouble));
  k = at::where(k < (n + 1) / 2, k, k - n);
  return (k / static_cast<double>(n)).to(options.dtype());
}

}  // namespace

at::Tensor rfft2d_freqs(int64_t h, int64_t w, const at::TensorOptions& options) {
  if (h < 1 || w < 1) throw Error("image size must be positive");
  const at::Tensor fy = fftfreq(h, options).unsqueeze(1);
  const at::Tensor fx = fftfreq(w, options).slice(0, 0, w / 2 + 1).abs().unsqueeze(0);
  return (fx * fx + fy * fy).sqrt();
}

at::Tensor spectrum_scale(int64_t h, int64_t w, double decay_power, const at::TensorOptions& options) {
  const at::Tensor freqs = rfft2d_freqs(h, w, options);
  const double floor = 1.0 / static_cast<double>(std::max(h, w));
  return freqs.clamp_min(floor).pow(-decay_power);
}

at::Tensor spectrum_gain(const at::Tensor& scale) {
  // Dividing by 4 is exact in floating point and the FFT is linear, so folding it into the
  // gain gives the same image and saves a pass over it, forward and backward.
  return (scale / kMagic).unsqueeze(-1).expand({scale.size(0), scale.size(1), 2}).contiguous();
}

at::Tensor gained_spectrum_to_image(const at::Tensor& spectrum, const at::Tensor& gain, int64_t h, int64_t w) {
  if (spectrum.device().is_cpu() && spectrum.scalar_type() == at::kFloat && gain.scalar_type() == at::kFloat)
    return irfft2_by_planes(spectrum, gain, h, w);
  const at::Tensor complex = at::view_as_complex((spectrum * gain).contiguous());
  return at::fft_irfft2(complex, c10::IntArrayRef{h, w}, c10::IntArrayRef{-2, -1}, "ortho");
}

at::Tensor spectrum_to_image(const at::Tensor& spectrum, const at::Tensor& scale, int64_t h, int64_t w) {
  return gained_spectrum_to_image(spectrum, spectrum_gain(scale), h, w);
}

at::Tensor image_to_spectrum(const at::Tensor& image, const at::Tensor& scale) {
  const at::Tensor complex = at::fft_rfft2(image * kMagic, c10::nullopt, c10::IntArrayRef{-2, -1}, "ortho");
  return at::view_as_real(complex) / scale.unsqueeze(-1);
}

}  // namespace featvis::render::param
