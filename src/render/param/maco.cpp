#include <featvis/io/npy.h>
#include <featvis/render/param/color.h>
#include <featvis/render/param/maco.h>
#include <featvis/render/param/plane_fft.h>
#include <featvis/util/check.h>

#include <cmath>

namespace featvis::render::param {
namespace {

// Mean 0 and standard deviation 1 over each item ([N, ...]); MACO's epsilon.
at::Tensor standardize_items(const at::Tensor& x) {
  const at::Tensor flat = x.flatten(1);
  const at::Tensor mean = flat.mean(1, /*keepdim=*/true);
  const at::Tensor std = flat.std(1, /*unbiased=*/false, /*keepdim=*/true);
  return ((flat - mean) / (std + 1e-5)).view(x.sizes());
}

}  // namespace

at::Tensor spectrum_sum(const at::Tensor& photos) {
  FEATVIS_CHECK(photos.dim() == 4 && photos.size(1) == 3, "spectrum: photos must be [N,3,H,W], got ", photos.sizes());
  // Back to the decorrelated basis the phase is optimized in (the inverse of the colour
  // transform that maco_image's caller applies).
  const at::Tensor decorrelated = correlate_color(standardize_items(photos.to(at::kFloat)));
  return at::fft_rfft2(decorrelated).abs().sum(0);
}

at::Tensor magnitude_for(const at::Tensor& spectrum, int64_t h, int64_t w) {
  FEATVIS_CHECK(spectrum.dim() == 3 && spectrum.size(0) == 3 && spectrum.size(1) >= 2 && spectrum.size(2) >= 2,
                "a MACO spectrum must be [3, H, W/2+1], got ", spectrum.sizes());
  FEATVIS_CHECK(spectrum.isfinite().all().item<bool>() && (spectrum >= 0).all().item<bool>(),
                "a MACO spectrum must hold finite magnitudes >= 0");
  const int64_t wf = w / 2 + 1;
  if (spectrum.size(1) == h && spectrum.size(2) == wf) return spectrum;
  return at::upsample_bilinear2d(spectrum.unsqueeze(0), {h, wf}, /*align_corners=*/false).squeeze(0);
}

at::Tensor maco_image(const at::Tensor& phase, const at::Tensor& magnitude, int64_t h, int64_t w) {
  const at::Tensor p = standardize_items(phase);
  if (p.device().is_cpu() && p.scalar_type() == at::kFloat && magnitude.scalar_type() == at::kFloat) {
    // The FFT image's planes (plane_fft.h), whose norm is "ortho": a gain of 1/sqrt(h w)
    // makes it irfft2's default "backward" norm, 1/(h w).
    const at::Tensor spectrum = at::stack({magnitude * at::cos(p), magnitude * at::sin(p)}, -1);
    const at::Tensor gain = at::full({h, w / 2 + 1, 2}, 1.0 / std::sqrt(static_cast<double>(h) * static_cast<double>(w)),
                                     spectrum.options().requires_grad(false));
    return standardize_items(irfft2_by_planes(spectrum, gain, h, w));
  }
  const at::Tensor spectrum = at::complex(magnitude * at::cos(p), magnitude * at::sin(p));
  return standardize_items(at::fft_irfft2(spectrum, std::vector<int64_t>{h, w}));
}

at::Tensor read_spectrum(const std::string& path) {
  at::Tensor s;
  try {
    s = io::load_npy(path).to(at::kFloat);
  } catch (const Error& e) {
    throw Error("MACO spectrum '" + path + "': " + e.what());
  }
  if (s.dim() != 3 || s.size(0) != 3 || s.size(2) < 2) {
    std::string shape;
    for (int64_t d = 0; d < s.dim(); ++d) shape += (d ? "," : "") + std::to_string(s.size(d));
    throw Error("MACO spectrum '" + path + "' is [" + shape + "], expected [3,H,W/2+1] (from `featvis spectrum`)");
  }
  return s;
}

}  // namespace featvis::render::param
