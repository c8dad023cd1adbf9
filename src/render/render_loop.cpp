// The optimization loop: see render.h.
#include <featvis/graph/blocked_backprop.h>
#include <featvis/graph/relu_gradient.h>
#include <featvis/objective/evaluate.h>
#include <featvis/render/adam.h>
#include <featvis/render/recipe.h>
#include <featvis/render/render.h>
#include <featvis/util/error.h>
#include <featvis/util/progress.h>

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>

namespace featvis::render {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

[[noreturn]] void non_finite(double value, int64_t step) {
  throw Error(std::string("objective became ") + (std::isnan(value) ? "NaN" : "infinite") + " at step " +
              std::to_string(step) + "; try a lower learning rate");
}

}  // namespace

RenderResult render(const model::Model& model, const objective::Objective& objective, param::ImageParam& param,
                    const transform::Transform& transform, const RenderOptions& options, at::Generator generator,
                    const SnapshotCallback& on_snapshot) {
  const auto start = Clock::now();
  if (!objective.defined()) throw Error("render needs an objective");
  const int64_t batch = param.options().batch;
  check_settings(options, batch, objective);
  const std::set<int64_t> thresholds(options.thresholds.begin(), options.thresholds.end());

  RenderResult result;
  // Evaluates the current image untransformed, records it, and hands it over if asked.
  auto record = [&](int64_t step, bool threshold, bool final) {
    at::Tensor images;
    {
      at::NoGradGuard no_grad;
      images = param.image().detach();
    }
    std::vector<double> values = objective::values(model, objective, images);
    for (double v : values)
      if (!std::isfinite(v)) non_finite(v, step);
    result.history.push_back({step, values});
    if (final) result.images = images.to(at::kCPU);
    if ((threshold || final) && on_snapshot) {
      on_snapshot(Snapshot{step, threshold, final, result.interrupted, images.to(at::kCPU), values});
    }
  };

  // Step 0 doubles as the check that the model takes an image of this size.
  try {
    record(0, thresholds.count(0) > 0, options.steps == 0);
  } catch (const std::exception& e) {
    const auto& o = param.options();
    throw Error("cannot run the objective on a " + std::to_string(o.height) + "x" + std::to_string(o.width) +
                " image: " + first_line(e.what()));
  }
  if (options.steps == 0) {
    result.total_ms = ms_since(start);
    return result;
  }

  at::AutoGradMode grad_mode(true);
  Adam adam(param.parameters(), options.lr, options.weight_decay);
  ProgressBar bar(options.steps, "render", options.progress);
  double step_ms = 0;
  at::Tensor importance;  // RenderOptions::importance
  at::Tensor references;  // the objective's reference photos at the image's size
  for (int64_t step = 1; step <= options.steps; ++step) {
    const auto step_start = Clock::now();
    adam.zero_grad();
    const at::Tensor image = param.image();
    if (options.importance) image.retain_grad();
    // Reference photos (caricatures) join the batch before the transforms, so they move alike;
    // they are resized to the image once, not every step.
    if (step == 1) references = objective::reference_rows(objective, image.size(2), image.size(3), image);
    const at::Tensor transformed = transform(references.defined() ? at::cat({image, references}, 0) : image, generator);
    at::Tensor values;
    try {
      const graph::ReluGradientGuard relu_gradient(step <= options.redirected_relu_steps ? graph::ReluGradient::kRedirected
                                                                                   : graph::ReluGradient::kExact);
      const graph::GradientKernelsGuard kernels(options.blocked_network ? graph::GradientKernels::kBlocked
                                                                        : graph::GradientKernels::kMatchPyTorch);
      values = objective::evaluate(model, objective, image, {}, transformed).values;
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {  // e.g. transforms made the image too small
      throw Error("step " + std::to_string(step) + ": cannot run the objective on the transformed " +
                  std::to_string(transformed.size(2)) + "x" + std::to_string(transformed.size(3)) +
                  " image: " + first_line(e.what()));
    }
    const at::Tensor total = values.sum();
    const double value = total.item<double>();
    if (!std::isfinite(value)) non_finite(value, step);
    (-total).backward();
    if (options.importance && image.grad().defined()) {
      const at::Tensor g = image.grad().detach().abs().mean(1);
      importance = importance.defined() ? importance + g : g;
    }
    adam.step();
    step_ms += ms_since(step_start);
    result.steps_done = step;

    char note[48];
    std::snprintf(note, sizeof note, "objective %.4g", value / static_cast<double>(batch));
    bar.update(step, note);
    result.interrupted = options.stop_requested && options.stop_requested();
    if (result.interrupted || step == options.steps) break;
    if (thresholds.count(step)) record(step, true, false);
  }
  bar.finish(result.interrupted ? "interrupted" : "");
  record(result.steps_done, thresholds.count(result.steps_done) > 0, true);
  result.ms_per_step = step_ms / static_cast<double>(result.steps_done);
  if (importance.defined()) result.importance = importance.to(at::kCPU);
  result.total_ms = ms_since(start);
  return result;
}

}  // namespace featvis::render
