#include <featvis/image/network_input.h>
#include <featvis/util/error.h>

namespace featvis::image {

at::Tensor network_input(const at::Tensor& rgb01, const model::Preprocessing& pre) {
  if (rgb01.dim() != 4 || rgb01.size(1) != 3) throw Error("network_input expects an [N,3,H,W] image");
  const at::TensorOptions cpu = at::TensorOptions().dtype(at::kFloat);
  const at::Tensor mean = at::tensor({pre.mean[0], pre.mean[1], pre.mean[2]}, cpu).view({1, 3, 1, 1});
  const at::Tensor std = at::tensor({pre.std[0], pre.std[1], pre.std[2]}, cpu).view({1, 3, 1, 1});
  // One multiply-add: x * (255/std) - mean/std.
  const at::Tensor gain = (255.0 / std).to(rgb01.options());
  const at::Tensor offset = (mean / std).to(rgb01.options());
  at::Tensor x = rgb01 * gain - offset;
  return pre.bgr ? x.flip({1}) : x;
}

}  // namespace featvis::image
