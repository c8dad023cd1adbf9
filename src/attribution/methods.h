#pragma once
// The methods behind attribution::attribute(), one file each; shared pieces here.
#include <featvis/attribution/attribution.h>
#include <featvis/util/progress.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace featvis::attribution::detail {

// The loop of one attribute() call, shared by its methods so that a method adds no
// progress or Ctrl-C code of its own: every forward pass asks poll() first (a stop comes
// within one pass of `batch` images) and count()s its images after; a method that loops
// plan()s its images, which starts the progress bar.
class Passes {
 public:
  explicit Passes(const AttributionOptions& options);
  // All the images the method will send. The first plan is the bar's: SmoothGrad plans
  // its copies' IG points before each IG would plan its own.
  void plan(int64_t images);
  // featvis::Interrupted ("ig interrupted after 48 of 65 images") when stop_requested() says so.
  void poll() const;
  void count(int64_t images);
  void finish();  // the bar's last line (an exception leaves it where it stopped)

 private:
  std::string label_;
  bool progress_;
  std::function<bool()> stop_requested_;
  std::optional<ProgressBar> bar_;
  int64_t done_ = 0, total_ = 0;
};

// What one method returns; attribute() adds the target value and timing.
struct MethodResult {
  at::Tensor raw;  // on the image's device
  at::Tensor map;  // [H,W]
  std::optional<Completeness> completeness;
  std::optional<Conservation> conservation;
  std::string layer;
  int64_t forward_passes = 0;
};

struct Gradients {
  at::Tensor values;  // [N], detached
  at::Tensor grads;   // [N,3,H,W]: d value_i / d images_i
};

// The target and its gradient for each of `images` ([N,3,H,W] in [0,1]), `chunk` images
// per forward/backward pass, each pass polled and counted by `passes`.
Gradients gradients(const model::Model& model, const objective::Objective& target, const at::Tensor& images, int64_t chunk,
                    Passes& passes);

// Images per pass: `batch`, or 1 for a target fixed to a batch of one.
int64_t chunk_size(const objective::Objective& target, int64_t batch);

// [3,H,W] raw values -> [H,W] map, each gradient method's custom: max |.| over channels
// for gradients (saliency, guided, guided Grad-CAM), the signed sum for products.
at::Tensor channel_map(Method method, const at::Tensor& raw);

// saliency, gradxinput, guided
MethodResult gradient_method(Method method, const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                             Passes& passes);
MethodResult integrated_gradients(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                                  const IntegratedGradientsOptions& options, int64_t chunk, Passes& passes);
// `ig`: the options of integrated gradients when SmoothGrad averages it.
MethodResult smoothgrad(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                        const SmoothGradOptions& options, const IntegratedGradientsOptions& ig, int64_t chunk,
                        Passes& passes);
MethodResult grad_cam(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                      const GradCamOptions& options, bool guided, Passes& passes);
MethodResult occlusion(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                       const OcclusionOptions& options, int64_t chunk, Passes& passes);

MethodResult lrp(const model::Model& model, const objective::Objective& target, const at::Tensor& image,
                 const LrpOptions& options);

// The photo blurred with a Gaussian of `sigma` pixels (edges replicated): IG's blur baseline.
at::Tensor gaussian_blur(const at::Tensor& image, double sigma);

}  // namespace featvis::attribution::detail
