// Penalties on the image itself (Lucid's L1, L2, total_variation, blur_input_each_step),
// per-pixel means so that their weights do not depend on the image size.
#include <featvis/objective/kinds.h>
#include <featvis/util/check.h>

#include "objective_util.h"
#include "text_form.h"

#include <memory>
#include <mutex>

namespace featvis::objective {
namespace {

// Lucid's _tf_blur: 3x3 kernel, 1 in the centre and 0.5 around, each channel on its own,
// divided by the kernel weight inside the image so that borders are not darkened.
at::Tensor blur3x3(const at::Tensor& x) {
  const int64_t c = x.size(1);
  const at::Tensor kernel = at::tensor({0.5, 0.5, 0.5, 0.5, 1.0, 0.5, 0.5, 0.5, 0.5}, x.options())
                                .reshape({1, 1, 3, 3})
                                .expand({c, 1, 3, 3})
                                .contiguous();
  const at::Tensor sum = at::conv2d(x, kernel, {}, 1, 1, 1, c);
  const at::Tensor weight = at::conv2d(at::ones_like(x.narrow(0, 0, 1)), kernel, {}, 1, 1, 1, c);
  return sum / weight;
}

}  // namespace

Objective l1(double constant) {
  return Objective(constant == 0.5 ? "l1" : "l1(" + text::number(constant) + ")", {},
                   [constant](const ObjectiveInput& in) {
                     return -detail::mean_per_item((detail::image_of(in) - constant).abs());
                   });
}

Objective l2(double constant, double epsilon) {
  std::string description = "l2";
  if (epsilon != 1e-6) {
    description += "(" + text::number(constant) + ", " + text::number(epsilon) + ")";
  } else if (constant != 0.5) {
    description += "(" + text::number(constant) + ")";
  }
  return Objective(description, {}, [constant, epsilon](const ObjectiveInput& in) {
    return -(detail::mean_per_item((detail::image_of(in) - constant).pow(2)) + epsilon).sqrt();
  });
}

Objective total_variation() {
  return Objective("tv", {}, [](const ObjectiveInput& in) {
    const at::Tensor& x = detail::image_of(in);
    const int64_t h = x.size(2), w = x.size(3);
    at::Tensor value = at::zeros({x.size(0)}, x.options());
    if (h > 1) value = value - detail::mean_per_item((x.narrow(2, 1, h - 1) - x.narrow(2, 0, h - 1)).abs());
    if (w > 1) value = value - detail::mean_per_item((x.narrow(3, 1, w - 1) - x.narrow(3, 0, w - 1)).abs());
    return value;
  });
}

Objective distance(const at::Tensor& photo, const std::string& name) {
  FEATVIS_CHECK(photo.dim() == 3 && photo.size(0) == 3, "distance: the photo must be [3,H,W], got ", photo.sizes());
  // The photo at the image's size, device and dtype, made on the first evaluation and kept:
  // a render evaluates the objective every step on images of one shape.
  // Copies of the objective share the cache, hence the lock.
  struct Cache {
    std::mutex mutex;
    at::Tensor target;
  };
  auto cache = std::make_shared<Cache>();
  return Objective("distance(" + name + ")", {}, [photo, cache](const ObjectiveInput& in) {
    const at::Tensor& x = detail::image_of(in);
    at::Tensor target;
    {
      std::lock_guard<std::mutex> lock(cache->mutex);
      const at::Tensor& t = cache->target;
      if (!t.defined() || t.size(2) != x.size(2) || t.size(3) != x.size(3) || t.device() != x.device() ||
          t.scalar_type() != x.scalar_type()) {
        at::Tensor resized = photo.to(x.options()).unsqueeze(0);
        if (resized.size(2) != x.size(2) || resized.size(3) != x.size(3)) {
          resized = at::_upsample_bilinear2d_aa(resized, {x.size(2), x.size(3)}, /*align_corners=*/false);
        }
        cache->target = resized;
      }
      target = cache->target;
    }
    return -(detail::mean_per_item((x - target).pow(2)) + 1e-12).sqrt();
  });
}

Objective blur() {
  return Objective("blur", {}, [](const ObjectiveInput& in) {
    const at::Tensor& x = detail::image_of(in);
    // The blurred image is a fixed target: the gradient pulls x toward it.
    return -detail::mean_per_item((x - blur3x3(x).detach()).pow(2));
  });
}

}  // namespace featvis::objective
