#pragma once
// Which share of a Microscope build this process does: `--shard K/N`, or K and N read from
// the engine that started it (a SLURM job array, a Kubernetes Indexed Job, mpirun), so a
// job script needs no arithmetic. Shard K of N builds the render batches that
// work_plan.h assigns to K; the N shards together build everything exactly once.
#include <cstdint>
#include <functional>
#include <string>

namespace featvis::microscope {

struct Shard {
  int64_t index = 0;  // K, 0-based
  int64_t count = 1;  // N; 1 = the whole build in this process
  std::string source;  // where K/N came from ("--shard", "SLURM_ARRAY_TASK_ID", ...); "" = not sharded
  bool sharded() const { return count > 1; }
};

// "K/N" with 0 <= K < N. Throws SettingError("shard", ...) otherwise.
Shard parse_shard(const std::string& text);

// The environment as a function, so tests need not change the process's variables.
using Getenv = std::function<const char*(const char*)>;

// K/N from `flag` ("" when not given) or else from the environment:
//   SLURM_ARRAY_TASK_ID, _COUNT, _MIN (and _STEP): K = (ID - MIN) / STEP, N = COUNT; or,
//     with `completions` (the --shard-count flag), K = ID and N = completions, so that
//     `sbatch --array=1` of the same script reruns shard 1 alone;
//   JOB_COMPLETION_INDEX (Kubernetes Indexed Job) with `completions`;
//   OMPI_COMM_WORLD_RANK, _SIZE (mpirun as a plain launcher).
// --shard wins over the environment. Two variable sources that disagree, a malformed or
// out-of-range value, JOB_COMPLETION_INDEX without a count, or a count without the index
// are one-line SettingErrors. Neither given: {0, 1, ""}.
Shard resolve_shard(const std::string& flag, int64_t completions, const Getenv& getenv);

// The same with the process's own environment.
Shard resolve_shard(const std::string& flag, int64_t completions);

}  // namespace featvis::microscope
