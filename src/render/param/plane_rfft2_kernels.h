#pragma once
// The kernels of plane_rfft2.h for one lane width: included by plane_rfft2_lanes*.cpp, each
// under its instruction set's target pragma and with -ffp-contract=off, after defining the vector type
// (GCC vector extensions: + - * act lane by lane, so each lane's arithmetic is the same code
// whatever the width). Not a public header.
//
// Layout of a plane's transform (L lanes):
//   inverse: the columns' inverse FFTs, L columns at a time (lanes across columns), written
//            transposed to T[k][h]; then each row's c2r, L rows at a time (lanes across rows)
//            as a complex FFT of w/2 packed values, transposed back into the image.
//   adjoint: the same steps backwards: rows' r2c (forward FFT of w/2 packed values), then
//            the columns' forward FFTs, the factor and the gain.
#include "plane_rfft2_kernels_includes.h"

#include <cstdint>

namespace featvis::render::param::detail::FEATVIS_RFFT2_LANES_NS {
namespace {

using V = FEATVIS_RFFT2_VECTOR;
constexpr int L = static_cast<int>(sizeof(V) / sizeof(float));

struct Cv {
  V re, im;
};

inline V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, V v) { std::memcpy(p, &v, sizeof v); }
// The first `count` floats from p, zeros after.
inline V load_part(const float* p, int count) {
  float tmp[L] = {};
  std::memcpy(tmp, p, sizeof(float) * static_cast<size_t>(count));
  return load(tmp);
}
inline void store_part(float* p, V v, int count) {
  float tmp[L];
  store(tmp, v);
  std::memcpy(p, tmp, sizeof(float) * static_cast<size_t>(count));
}
inline V zero() { return V{} * 0.f; }

inline Cv add(Cv a, Cv b) { return {a.re + b.re, a.im + b.im}; }
inline Cv sub(Cv a, Cv b) { return {a.re - b.re, a.im - b.im}; }
inline Cv twiddle(Cv a, float wr, float wi) { return {a.re * wr - a.im * wi, a.re * wi + a.im * wr}; }
// i * a (inverse) or -i * a (forward): the sign of the transform's exponent times i.
template <bool Inverse>
inline Cv times_i(Cv a) {
  if constexpr (Inverse) return {zero() - a.im, a.re};
  else return {a.im, zero() - a.re};
}

// ---- butterflies: y_k = sum_j v_j w^(j k), w = e^(-+2 pi i / R) ----

template <bool Inverse>
inline void butterfly2(Cv* v) {
  const Cv a = v[0], b = v[1];
  v[0] = add(a, b);
  v[1] = sub(a, b);
}

template <bool Inverse>
inline void butterfly4(Cv* v) {
  const Cv t0 = add(v[0], v[2]), t1 = sub(v[0], v[2]), t2 = add(v[1], v[3]), t3 = times_i<Inverse>(sub(v[1], v[3]));
  v[0] = add(t0, t2);
  v[2] = sub(t0, t2);
  v[1] = add(t1, t3);
  v[3] = sub(t1, t3);
}

// Odd R: pairs j, R-j share cos(2 pi j k / R) and have opposite sines.
template <int R, bool Inverse>
inline void butterfly_odd(Cv* v, const float* cos_jk, const float* sin_jk) {
  constexpr int kHalf = (R - 1) / 2;
  Cv a[kHalf], b[kHalf];
  Cv y0 = v[0];
  for (int j = 1; j <= kHalf; ++j) {
    a[j - 1] = add(v[j], v[R - j]);
    b[j - 1] = sub(v[j], v[R - j]);
    y0 = add(y0, a[j - 1]);
  }
  Cv y[R];
  y[0] = y0;
  for (int k = 1; k <= kHalf; ++k) {
    Cv p = v[0], q{zero(), zero()};
    for (int j = 1; j <= kHalf; ++j) {
      const float c = cos_jk[(j - 1) * kHalf + k - 1], s = sin_jk[(j - 1) * kHalf + k - 1];
      p = {p.re + a[j - 1].re * c, p.im + a[j - 1].im * c};
      q = {q.re + b[j - 1].re * s, q.im + b[j - 1].im * s};
    }
    const Cv iq = times_i<Inverse>(q);
    y[k] = add(p, iq);
    y[R - k] = sub(p, iq);
  }
  for (int r = 0; r < R; ++r) v[r] = y[r];
}

// One Stockham stage: butterflies of inputs n/R apart, twiddled by their place k in the
// sub-transforms of length span, written where the longer sub-transforms keep natural order.
template <int R, bool Inverse>
void run_stage(const LaneFftPlan::Stage& stage, int n, const Cv* in, Cv* out) {
  const int span = stage.span, apart = n / R, groups = apart / span;
  const float* tw_re = stage.re.data();
  const float* tw_im = Inverse ? stage.im_inverse.data() : stage.im.data();
  for (int g = 0; g < groups; ++g) {
    for (int k = 0; k < span; ++k) {
      const int j = g * span + k;
      Cv v[R];
      v[0] = in[j];
      for (int r = 1; r < R; ++r) {
        v[r] = in[j + r * apart];
        if (k > 0) v[r] = twiddle(v[r], tw_re[k * (R - 1) + r - 1], tw_im[k * (R - 1) + r - 1]);
      }
      if constexpr (R == 2) butterfly2<Inverse>(v);
      else if constexpr (R == 4) butterfly4<Inverse>(v);
      else butterfly_odd<R, Inverse>(v, stage.cos_jk.data(), stage.sin_jk.data());
      Cv* o = out + g * span * R + k;
      for (int r = 0; r < R; ++r) o[r * span] = v[r];
    }
  }
}

// The FFT of a[0..n) (each element L independent lanes), unnormalized. Uses b as the other
// buffer; returns the one holding the result.
template <bool Inverse>
Cv* fft(const LaneFftPlan& plan, Cv* a, Cv* b) {
  for (const LaneFftPlan::Stage& stage : plan.stages) {
    switch (stage.radix) {
      case 2: run_stage<2, Inverse>(stage, plan.n, a, b); break;
      case 3: run_stage<3, Inverse>(stage, plan.n, a, b); break;
      case 4: run_stage<4, Inverse>(stage, plan.n, a, b); break;
      case 5: run_stage<5, Inverse>(stage, plan.n, a, b); break;
      case 7: run_stage<7, Inverse>(stage, plan.n, a, b); break;
      case 11: run_stage<11, Inverse>(stage, plan.n, a, b); break;
      case 13: run_stage<13, Inverse>(stage, plan.n, a, b); break;
      default: break;  // plane_rfft2_plan makes no other radix
    }
    std::swap(a, b);
  }
  return a;
}

// ---- L x L transposes by stages of two-register shuffles ----

// Stage G swaps the off-diagonal G x G blocks of every 2G x 2G block: rows i and i + G
// (bit G of i clear) give their first and second halves of each 2G-lane group.
template <int G, bool High>
constexpr int pick(int j) {
  const int block = j / (2 * G) * (2 * G), offset = j % (2 * G);
  if (offset < G) return High ? block + G + offset : block + offset;
  return High ? L + block + offset : L + block + offset - G;
}
template <int G, bool High, int... J>
inline V shuffle(V a, V b, std::integer_sequence<int, J...>) {
  return __builtin_shufflevector(a, b, pick<G, High>(J)...);
}
template <int G>
inline void transpose_stage(V* r) {
  for (int i = 0; i < L; ++i) {
    if (i & G) continue;
    const V low = shuffle<G, false>(r[i], r[i + G], std::make_integer_sequence<int, L>());
    const V high = shuffle<G, true>(r[i], r[i + G], std::make_integer_sequence<int, L>());
    r[i] = low;
    r[i + G] = high;
  }
  if constexpr (G > 1) transpose_stage<G / 2>(r);
}
// r[i][j] becomes r[j][i].
inline void transpose(V* r) { transpose_stage<L / 2>(r); }

// Lanes 0, 2, 4, ... (Even) or 1, 3, 5, ... of the 2L floats a, b: complex pairs split.
template <bool Odd, int... J>
inline V deinterleave(V a, V b, std::integer_sequence<int, J...>) {
  return __builtin_shufflevector(a, b, (2 * J + (Odd ? 1 : 0))...);
}
// re, im lanes interleaved: the first (High false) or second L floats of the pairs.
template <bool High, int... J>
inline V interleave(V re, V im, std::integer_sequence<int, J...>) {
  return __builtin_shufflevector(re, im, ((J % 2 ? L : 0) + J / 2 + (High ? L / 2 : 0))...);
}

// This thread's buffers for one plane, carved from one allocation aligned for V by hand:
// vectors of V made by library code compiled outside the target pragma are not.
struct Scratch {
  std::vector<float> storage;
  Cv *a = nullptr, *b = nullptr;      // FFT buffers, max(h, w/2) values each
  V* lines = nullptr;                 // one row block's real values, w rounded up to L
  float *t_re = nullptr, *t_im = nullptr;  // [w/2 + 1][h rounded up to L]
};
Scratch& scratch_for(const PlaneRfft2Plan& plan) {
  thread_local Scratch s;
  const size_t longest = static_cast<size_t>(std::max(plan.h, plan.half));
  const size_t padded_h = static_cast<size_t>((plan.h + L - 1) / L * L);
  const size_t t_size = static_cast<size_t>(plan.half + 1) * padded_h;
  const size_t line_size = static_cast<size_t>(plan.w + L);
  const size_t floats = 2 * longest * 2 * L + line_size * L + 2 * t_size + 16 * L;
  if (s.storage.size() < floats) s.storage.resize(floats);
  const size_t align = sizeof(V);
  auto* p = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(s.storage.data()) + align - 1) / align * align);
  s.a = reinterpret_cast<Cv*>(p), p += 2 * L * longest;
  s.b = reinterpret_cast<Cv*>(p), p += 2 * L * longest;
  s.lines = reinterpret_cast<V*>(p), p += L * line_size;
  s.t_re = p, p += t_size;
  s.t_im = p;
  return s;
}

// A plane's sizes: bins = w/2 + 1, the height rounded up to whole lane groups.
struct Sizes {
  int h, w, half, bins, padded_h;
};
inline Sizes sizes_of(const PlaneRfft2Plan& plan) {
  const int h = static_cast<int>(plan.h), half = static_cast<int>(plan.half);
  return {h, static_cast<int>(plan.w), half, half + 1, (h + L - 1) / L * L};
}

}  // namespace

void irfft2(const PlaneRfft2Plan& plan, const float* spectrum, const float* gain, float* image) {
  const auto [h, w, half, bins, padded_h] = sizes_of(plan);
  Scratch& s = scratch_for(plan);
  float *t_re = s.t_re, *t_im = s.t_im;
  const auto all = std::make_integer_sequence<int, L>();
  // Columns: L bins at a time, each an inverse FFT of length h.
  for (int k0 = 0; k0 < bins; k0 += L) {
    const int count = std::min(L, bins - k0);
    for (int y = 0; y < h; ++y) {
      const float* sp = spectrum + (static_cast<int64_t>(y) * bins + k0) * 2;
      const float* gp = gain + (static_cast<int64_t>(y) * bins + k0) * 2;
      V s0, s1, g0, g1;
      if (count == L) {
        s0 = load(sp), s1 = load(sp + L), g0 = load(gp), g1 = load(gp + L);
      } else {  // the last bins of a row: no pointer past its end
        const int first = std::min(L, 2 * count), second = 2 * count - first;
        s0 = load_part(sp, first), g0 = load_part(gp, first);
        s1 = second > 0 ? load_part(sp + L, second) : zero(), g1 = second > 0 ? load_part(gp + L, second) : zero();
      }
      const V p0 = s0 * g0 * plan.norm, p1 = s1 * g1 * plan.norm;
      s.a[y] = {deinterleave<false>(p0, p1, all), deinterleave<true>(p0, p1, all)};
    }
    const Cv* col = fft<true>(plan.columns, s.a, s.b);
    for (int y0 = 0; y0 < padded_h; y0 += L) {
      V re[L], im[L];
      for (int i = 0; i < L; ++i) {
        const bool in = y0 + i < h;
        re[i] = in ? col[y0 + i].re : zero();
        im[i] = in ? col[y0 + i].im : zero();
      }
      transpose(re), transpose(im);
      for (int j = 0; j < count; ++j) {
        store(t_re + static_cast<int64_t>(k0 + j) * padded_h + y0, re[j]);
        store(t_im + static_cast<int64_t>(k0 + j) * padded_h + y0, im[j]);
      }
    }
  }
  // c2r reads only the real parts of the first and the last bin.
  std::fill(t_im, t_im + padded_h, 0.f);
  std::fill(t_im + static_cast<int64_t>(half) * padded_h, t_im + static_cast<int64_t>(half + 1) * padded_h, 0.f);
  // Rows: L at a time. Bins k and half - k packed into one complex FFT of length half, whose
  // real and imaginary parts are the even and odd pixels.
  for (int y0 = 0; y0 < padded_h; y0 += L) {
    for (int k = 0; k < half; ++k) {
      const int64_t at = static_cast<int64_t>(k) * padded_h + y0, mirror = static_cast<int64_t>(half - k) * padded_h + y0;
      const Cv y = {load(t_re + at), load(t_im + at)};
      const Cv c = {load(t_re + mirror), zero() - load(t_im + mirror)};  // conjugate
      const Cv even = add(y, c);
      const Cv odd = twiddle(sub(y, c), plan.pack_re[static_cast<size_t>(k)], plan.pack_im[static_cast<size_t>(k)]);
      s.a[static_cast<size_t>(k)] = add(even, times_i<true>(odd));
    }
    const Cv* z = fft<true>(plan.rows, s.a, s.b);
    V* line = s.lines;
    for (int n = 0; n < half; ++n) line[2 * n] = z[n].re, line[2 * n + 1] = z[n].im;
    for (int x0 = 0; x0 < w; x0 += L) {
      const int count = std::min(L, w - x0);
      V r[L];
      for (int j = 0; j < L; ++j) r[j] = j < count ? line[x0 + j] : zero();
      transpose(r);
      for (int i = 0; i < L && y0 + i < h; ++i) {
        float* out = image + static_cast<int64_t>(y0 + i) * w + x0;
        if (count == L) store(out, r[i]);
        else store_part(out, r[i], count);
      }
    }
  }
}

void adjoint(const PlaneRfft2Plan& plan, const float* grad_image, const float* gain, float* grad_spectrum) {
  const auto [h, w, half, bins, padded_h] = sizes_of(plan);
  Scratch& s = scratch_for(plan);
  float *t_re = s.t_re, *t_im = s.t_im;
  const auto all = std::make_integer_sequence<int, L>();
  // Rows: L at a time, the even and odd pixels as one complex FFT of length half, unpacked
  // into bins 0..half.
  for (int y0 = 0; y0 < padded_h; y0 += L) {
    V* line = s.lines;
    for (int x0 = 0; x0 < w; x0 += L) {
      const int count = std::min(L, w - x0);
      V r[L];
      for (int i = 0; i < L; ++i) {
        if (y0 + i >= h) {
          r[i] = zero();
          continue;
        }
        const float* in = grad_image + static_cast<int64_t>(y0 + i) * w + x0;
        r[i] = count == L ? load(in) : load_part(in, count);
      }
      transpose(r);
      for (int j = 0; j < count; ++j) line[x0 + j] = r[j];
    }
    for (int n = 0; n < half; ++n) s.a[static_cast<size_t>(n)] = {line[2 * n], line[2 * n + 1]};
    const Cv* z = fft<false>(plan.rows, s.a, s.b);
    for (int k = 0; k <= half; ++k) {
      const Cv zk = z[k % half], zm = z[(half - k) % half];
      const Cv c = {zm.re, zero() - zm.im};
      const Cv sum = add(zk, c), diff = sub(zk, c);
      const Cv even = {sum.re * 0.5f, sum.im * 0.5f};
      const Cv odd = {diff.im * 0.5f, zero() - diff.re * 0.5f};  // diff / 2i
      // times e^(-2 pi i k / w), the conjugate of the packing twiddle
      const Cv turned = twiddle(odd, plan.pack_re[static_cast<size_t>(k)], -plan.pack_im[static_cast<size_t>(k)]);
      const Cv bin = add(even, turned);
      store(t_re + static_cast<int64_t>(k) * padded_h + y0, bin.re);
      store(t_im + static_cast<int64_t>(k) * padded_h + y0, bin.im);
    }
  }
  // Columns: L bins at a time, each a forward FFT of length h, then the factor and the gain.
  for (int k0 = 0; k0 < bins; k0 += L) {
    const int count = std::min(L, bins - k0);
    for (int y0 = 0; y0 < padded_h; y0 += L) {
      V re[L], im[L];
      for (int j = 0; j < L; ++j) {
        const bool in = j < count;
        re[j] = in ? load(t_re + static_cast<int64_t>(k0 + j) * padded_h + y0) : zero();
        im[j] = in ? load(t_im + static_cast<int64_t>(k0 + j) * padded_h + y0) : zero();
      }
      transpose(re), transpose(im);
      for (int i = 0; i < L && y0 + i < h; ++i) s.a[static_cast<size_t>(y0 + i)] = {re[i], im[i]};
    }
    const Cv* col = fft<false>(plan.columns, s.a, s.b);
    const V factor = count == L ? load(plan.column_factor.data() + k0) : load_part(plan.column_factor.data() + k0, count);
    for (int y = 0; y < h; ++y) {
      const V re = col[y].re * factor, im = col[y].im * factor;
      V p0 = interleave<false>(re, im, all), p1 = interleave<true>(re, im, all);
      const int64_t at = (static_cast<int64_t>(y) * bins + k0) * 2;
      float* out = grad_spectrum + at;
      if (count == L) {
        store(out, p0 * load(gain + at));
        store(out + L, p1 * load(gain + at + L));
      } else {
        const int first = std::min(L, 2 * count), second = std::max(0, 2 * count - L);
        store_part(out, p0 * load_part(gain + at, first), first);
        if (second > 0) store_part(out + L, p1 * load_part(gain + at + L, second), second);
      }
    }
  }
}

}  // namespace featvis::render::param::detail::FEATVIS_RFFT2_LANES_NS
