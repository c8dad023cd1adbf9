#pragma once
// Feature visualization by optimization (Olah et al., Distill 2017): starting from a
// parameterized image, repeat  image -> random transforms -> network -> objective  and
// take an Adam step that increases the objective. The pieces are Lucid's: objective
// (objective/), parameterization (render/param), transforms (render/transform);
// this loop ties them together and records what happened.
#include <featvis/model/model.h>
#include <featvis/objective/objective.h>
#include <featvis/render/param/image_param.h>
#include <featvis/render/transform/transform.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace featvis::render {

struct RenderOptions {
  int64_t steps = 512;
  double lr = 0.05;           // Adam learning rate
  double weight_decay = 0.0;  // Adam's L2 term on the parameters
  // The first steps use Lucid's redirected ReLU gradient (featvis/graph/relu_gradient.h),
  // so that a target that is dead (clamped to 0) on the start image can still move.
  int64_t redirected_relu_steps = 16;
  // The network's forward and gradient in oneDNN's blocked layout where the graph allows
  // (featvis/graph/blocked_backprop.h): the same function, other rounding, 2-3x faster steps
  // on MobileNetV2 (docs/PERFORMANCE.md).
  // false: ATen's kernels, as PyTorch eager picks them (and as its parity tests check).
  bool blocked_network = true;
  // Steps after which a snapshot is handed to the callback (each <= steps; 0 = the
  // start image). The final image is always handed over as well.
  std::vector<int64_t> thresholds;
  bool progress = false;  // featvis::ProgressBar on stderr
  // Accumulate |d objective / d image| over the steps into RenderResult::importance
  // (MACO's transparency map: where the image mattered to the objective).
  bool importance = false;
  // Polled once per step; returning true stops the loop after the current step
  // (RenderResult::interrupted). E.g. a SIGINT flag.
  std::function<bool()> stop_requested;
};

struct Snapshot {
  int64_t step = 0;            // parameter updates done
  bool threshold = false;      // `step` is one of RenderOptions::thresholds
  bool final = false;          // the last image (end of the run or interruption)
  bool interrupted = false;    // final because stop_requested() said so
  at::Tensor images;           // [N,3,H,W] in [0,1], detached, on the CPU
  std::vector<double> values;  // objective per batch item on these (untransformed) images
};

// Called as snapshots are made, so the caller can write them at once (an interrupted
// or failed run keeps what was written).
using SnapshotCallback = std::function<void(const Snapshot&)>;

struct StepValues {
  int64_t step = 0;
  std::vector<double> values;  // per batch item
};

struct RenderResult {
  at::Tensor images;                // final [N,3,H,W] in [0,1], on the CPU
  std::vector<StepValues> history;  // step 0, each threshold reached, the last step
  int64_t steps_done = 0;
  bool interrupted = false;
  double total_ms = 0;     // whole call, including evaluations and callbacks
  double ms_per_step = 0;  // mean of the optimization steps alone
  // With RenderOptions::importance: [N,H,W] >= 0 on the CPU, the sum over steps of the
  // image gradient's absolute value, mean over colour channels. Undefined otherwise.
  at::Tensor importance;

  const std::vector<double>& initial_values() const { return history.front().values; }
  const std::vector<double>& final_values() const { return history.back().values; }
};

// Runs the loop. `generator` (a CPU at::Generator) drives the transforms; `param`'s
// parameters are updated in place. The objective's batch size, when it has one, must
// equal the image batch. Throws featvis::Error for a non-finite objective ("objective
// became NaN at step N; try a lower --lr") or when the model cannot take the image.
RenderResult render(const model::Model& model, const objective::Objective& objective, param::ImageParam& param,
                    const transform::Transform& transform, const RenderOptions& options, at::Generator generator,
                    const SnapshotCallback& on_snapshot = {});

}  // namespace featvis::render
