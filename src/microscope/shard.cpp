#include <featvis/microscope/shard.h>
#include <featvis/util/error.h>

#include <cstdlib>
#include <optional>
#include <vector>

namespace featvis::microscope {
namespace {

// A whole non-negative decimal number, or nothing.
std::optional<int64_t> whole_number(const std::string& text) {
  if (text.empty() || text.size() > 12) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

int64_t env_number(const Getenv& getenv, const char* name) {
  const char* value = getenv(name);
  const std::optional<int64_t> v = whole_number(value == nullptr ? "" : value);
  if (!v) {
    throw SettingError("shard", std::string("environment variable ") + name + "='" + (value == nullptr ? "" : value) +
                                    "' is not a whole number");
  }
  return *v;
}

Shard checked(int64_t k, int64_t n, const std::string& source, const std::string& shown) {
  if (n < 1) throw SettingError("shard", "shard count from " + source + " (" + shown + ") must be at least 1");
  if (k >= n) throw SettingError("shard", "shard " + shown + " from " + source + " is out of range: K must be below N");
  return Shard{k, n, source};
}

std::string text(const Shard& s) { return std::to_string(s.index) + "/" + std::to_string(s.count); }

}  // namespace

Shard parse_shard(const std::string& t) {
  const size_t slash = t.find('/');
  const std::optional<int64_t> k = slash == std::string::npos ? std::nullopt : whole_number(t.substr(0, slash));
  const std::optional<int64_t> n = slash == std::string::npos ? std::nullopt : whole_number(t.substr(slash + 1));
  if (!k || !n) throw SettingError("shard", "shard '" + t + "' must be K/N with whole numbers, e.g. 0/4");
  return checked(*k, *n, "--shard", t);
}

Shard resolve_shard(const std::string& flag, int64_t completions, const Getenv& getenv) {
  const bool have_index = getenv("JOB_COMPLETION_INDEX") != nullptr;
  if (!flag.empty()) {
    if (completions > 0) throw SettingError("shard", "give --shard K/N or --shard-count N (with JOB_COMPLETION_INDEX), not both");
    return parse_shard(flag);
  }
  std::vector<Shard> found;
  const bool in_array = getenv("SLURM_ARRAY_TASK_ID") != nullptr;
  if (in_array) {
    const int64_t id = env_number(getenv, "SLURM_ARRAY_TASK_ID");
    if (completions > 0) {
      // The index is the shard number, so `sbatch --array=1` reruns shard 1 of N alone.
      found.push_back(checked(id, completions, "SLURM_ARRAY_TASK_ID", std::to_string(id) + "/" + std::to_string(completions)));
    } else {
      const int64_t min = getenv("SLURM_ARRAY_TASK_MIN") ? env_number(getenv, "SLURM_ARRAY_TASK_MIN") : 0;
      const int64_t step = getenv("SLURM_ARRAY_TASK_STEP") ? env_number(getenv, "SLURM_ARRAY_TASK_STEP") : 1;
      if (getenv("SLURM_ARRAY_TASK_COUNT") == nullptr)
        throw SettingError("shard", "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; give --shard K/N");
      const int64_t count = env_number(getenv, "SLURM_ARRAY_TASK_COUNT");
      if (step < 1 || id < min || (id - min) % step != 0) {
        throw SettingError("shard", "SLURM array task " + std::to_string(id) + " is not in the array MIN=" + std::to_string(min) +
                                        " STEP=" + std::to_string(step) + "; give --shard K/N");
      }
      const int64_t k = (id - min) / step;
      found.push_back(checked(k, count, "SLURM_ARRAY_TASK_ID", std::to_string(k) + "/" + std::to_string(count)));
    }
  }
  if (have_index) {
    if (completions < 1) {
      throw SettingError("shard", "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job): give the job's completions as --shard-count N");
    }
    const int64_t k = env_number(getenv, "JOB_COMPLETION_INDEX");
    found.push_back(checked(k, completions, "JOB_COMPLETION_INDEX", std::to_string(k) + "/" + std::to_string(completions)));
  } else if (completions > 0 && !in_array) {
    throw SettingError("shard", "--shard-count goes with JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or "
                                "SLURM_ARRAY_TASK_ID, and neither is set; give --shard K/N");
  }
  if (getenv("OMPI_COMM_WORLD_RANK") != nullptr || getenv("OMPI_COMM_WORLD_SIZE") != nullptr) {
    const int64_t rank = env_number(getenv, "OMPI_COMM_WORLD_RANK");
    const int64_t size = env_number(getenv, "OMPI_COMM_WORLD_SIZE");
    found.push_back(checked(rank, size, "OMPI_COMM_WORLD_RANK", std::to_string(rank) + "/" + std::to_string(size)));
  }
  if (found.empty()) return Shard{};
  for (const Shard& s : found) {
    if (s.index != found.front().index || s.count != found.front().count) {
      throw SettingError("shard", "shard " + text(found.front()) + " from " + found.front().source + " and " + text(s) + " from " +
                                      s.source + " disagree; give --shard K/N");
    }
  }
  // A one-task array or a one-rank mpirun is a whole build, not a shard.
  return found.front().count > 1 ? found.front() : Shard{};
}

Shard resolve_shard(const std::string& flag, int64_t completions) {
  return resolve_shard(flag, completions, [](const char* name) { return std::getenv(name); });
}

}  // namespace featvis::microscope
