// plane_rfft2.h's plans (twiddles computed in double, kept per size) and the choice of lane
// width. The kernels are in plane_rfft2_kernels.h.
#include <featvis/render/param/plane_rfft2.h>

#include <featvis/util/cpu_features.h>

#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace featvis::render::param::detail {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

// Radices for n, fours first; empty where a prime factor is above 13.
std::vector<int> radices(int n) {
  std::vector<int> out;
  while (n % 4 == 0) out.push_back(4), n /= 4;
  if (n % 2 == 0) out.push_back(2), n /= 2;
  for (int p : {3, 5, 7, 11, 13})
    while (n % p == 0) out.push_back(p), n /= p;
  if (n != 1) out.clear();
  return out;
}

bool lane_fft_plan(int n, LaneFftPlan& plan) {
  plan.n = n;
  const std::vector<int> rs = radices(n);
  if (n > 1 && rs.empty()) return false;
  int span = 1;
  for (int radix : rs) {
    LaneFftPlan::Stage s;
    s.radix = radix;
    s.span = span;
    for (int k = 0; k < span; ++k)
      for (int r = 1; r < radix; ++r) {
        const double angle = -kTwoPi * k * r / (static_cast<double>(span) * radix);
        s.re.push_back(static_cast<float>(std::cos(angle)));
        s.im.push_back(static_cast<float>(std::sin(angle)));
        s.im_inverse.push_back(static_cast<float>(-std::sin(angle)));
      }
    if (radix % 2 == 1) {
      const int half = (radix - 1) / 2;
      for (int j = 1; j <= half; ++j)
        for (int k = 1; k <= half; ++k) {
          s.cos_jk.push_back(static_cast<float>(std::cos(kTwoPi * j * k / radix)));
          s.sin_jk.push_back(static_cast<float>(std::sin(kTwoPi * j * k / radix)));
        }
    }
    plan.stages.push_back(std::move(s));
    span *= radix;
  }
  return true;
}

std::unique_ptr<PlaneRfft2Plan> make_plan(int64_t h, int64_t w) {
  if (w < 2 || w % 2 != 0 || h < 1 || h > (1 << 20) || w > (1 << 20)) return nullptr;
  auto plan = std::make_unique<PlaneRfft2Plan>();
  plan->h = h, plan->w = w, plan->half = w / 2;
  if (!lane_fft_plan(static_cast<int>(h), plan->columns) || !lane_fft_plan(static_cast<int>(w / 2), plan->rows))
    return nullptr;
  const double norm = 1.0 / std::sqrt(static_cast<double>(h) * static_cast<double>(w));
  plan->norm = static_cast<float>(norm);
  for (int64_t k = 0; k <= w / 2; ++k) {
    plan->pack_re.push_back(static_cast<float>(std::cos(kTwoPi * static_cast<double>(k) / static_cast<double>(w))));
    plan->pack_im.push_back(static_cast<float>(std::sin(kTwoPi * static_cast<double>(k) / static_cast<double>(w))));
    const bool mirrored = k > 0 && k < w / 2;  // ATen's _fft_c2r_backward doubles these bins
    plan->column_factor.push_back(static_cast<float>(mirrored ? 2 * norm : norm));
  }
  return plan;
}

}  // namespace

const PlaneRfft2Plan* plane_rfft2_plan(int64_t h, int64_t w) {
  static std::mutex mutex;
  static std::map<std::pair<int64_t, int64_t>, std::unique_ptr<PlaneRfft2Plan>> plans;  // null: not supported
  std::lock_guard<std::mutex> lock(mutex);
  auto it = plans.find({h, w});
  if (it == plans.end()) it = plans.emplace(std::make_pair(h, w), make_plan(h, w)).first;
  return it->second.get();
}

bool cpu_runs(Rfft2Lanes lanes) {
#if FEATVIS_RFFT2_WIDE_LANES
  if (lanes == Rfft2Lanes::k16) return cpu_has_avx512f();
  if (lanes == Rfft2Lanes::k8) return cpu_has_avx2();
  return true;
#else
  return lanes == Rfft2Lanes::k4;
#endif
}

void plane_irfft2(Rfft2Lanes lanes, const PlaneRfft2Plan& plan, const float* spectrum, const float* gain, float* image) {
#if FEATVIS_RFFT2_WIDE_LANES
  if (lanes == Rfft2Lanes::k16) return lanes16::irfft2(plan, spectrum, gain, image);
  if (lanes == Rfft2Lanes::k8) return lanes8::irfft2(plan, spectrum, gain, image);
#endif
  lanes4::irfft2(plan, spectrum, gain, image);
}

void plane_rfft2_adjoint(Rfft2Lanes lanes, const PlaneRfft2Plan& plan, const float* grad_image, const float* gain,
                         float* grad_spectrum) {
#if FEATVIS_RFFT2_WIDE_LANES
  if (lanes == Rfft2Lanes::k16) return lanes16::adjoint(plan, grad_image, gain, grad_spectrum);
  if (lanes == Rfft2Lanes::k8) return lanes8::adjoint(plan, grad_image, gain, grad_spectrum);
#endif
  lanes4::adjoint(plan, grad_image, gain, grad_spectrum);
}

namespace {
Rfft2Lanes widest() {
  for (Rfft2Lanes lanes : {Rfft2Lanes::k16, Rfft2Lanes::k8})
    if (cpu_runs(lanes)) return lanes;
  return Rfft2Lanes::k4;
}
}  // namespace

void plane_irfft2(const PlaneRfft2Plan& plan, const float* spectrum, const float* gain, float* image) {
  static const Rfft2Lanes lanes = widest();
  plane_irfft2(lanes, plan, spectrum, gain, image);
}

void plane_rfft2_adjoint(const PlaneRfft2Plan& plan, const float* grad_image, const float* gain, float* grad_spectrum) {
  static const Rfft2Lanes lanes = widest();
  plane_rfft2_adjoint(lanes, plan, grad_image, gain, grad_spectrum);
}

}  // namespace featvis::render::param::detail
