#include <featvis/inference/evaluate.h>
#include <featvis/inference/classify.h>
#include <featvis/image/image.h>
#include <featvis/util/csv.h>
#include <featvis/util/error.h>
#include <featvis/util/progress.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>

namespace featvis::inference {
namespace {

struct LoadedBatch {
  std::vector<at::Tensor> inputs;
  std::vector<int64_t> labels;
  std::vector<std::string> skipped;
};

LoadedBatch load(const std::vector<LabelledImage>& images, size_t begin, size_t end, const model::Preprocessing& pre) {
  LoadedBatch batch;
  for (size_t i = begin; i < end; ++i) {
    try {
      batch.inputs.push_back(image::load_network_input(images[i].path, pre));
      batch.labels.push_back(images[i].label);
    } catch (const Error& e) {
      batch.skipped.push_back(e.what());
    }
  }
  return batch;
}

}  // namespace

std::vector<LabelledImage> read_labels_csv(const std::string& csv_path, const std::string& images_dir) {
  std::ifstream in(csv_path);
  if (!in) throw Error("cannot read labels file '" + csv_path + "'");
  std::string line;
  if (!std::getline(in, line)) throw Error("labels file '" + csv_path + "' is empty");
  const auto header = parse_csv_line(line);
  const auto column = [&](const std::string& name) {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end())
      throw Error("labels file '" + csv_path + "' has no '" + name + "' column (header: " + line + ")");
    return static_cast<size_t>(it - header.begin());
  };
  const size_t file_col = column("file"), label_col = column("class_index");
  std::vector<LabelledImage> out;
  int line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty() || line == "\r") continue;
    const auto fields = parse_csv_line(line);
    if (fields.size() <= std::max(file_col, label_col))
      throw Error("labels file '" + csv_path + "' line " + std::to_string(line_number) + ": too few fields");
    LabelledImage item;
    item.path = (std::filesystem::path(images_dir) / fields[file_col]).string();
    try {
      size_t used = 0;
      item.label = std::stoll(fields[label_col], &used);
      if (used != fields[label_col].size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw Error("labels file '" + csv_path + "' line " + std::to_string(line_number) +
                  ": class_index '" + fields[label_col] + "' is not an integer");
    }
    out.push_back(std::move(item));
  }
  if (out.empty()) throw Error("labels file '" + csv_path + "' lists no images");
  return out;
}

EvalResult evaluate(const model::Model& model, const std::vector<LabelledImage>& all, const EvalOptions& options) {
  if (options.batch_size < 1) throw SettingError("batch", "batch must be at least 1");
  const size_t total = options.limit >= 0 ? std::min<size_t>(all.size(), options.limit) : all.size();
  const int64_t classes = static_cast<int64_t>(model.card.labels.size());
  for (size_t i = 0; i < total; ++i) {
    if (all[i].label < 0 || (classes > 0 && all[i].label >= classes))
      throw Error("label " + std::to_string(all[i].label) + " of '" + all[i].path + "' is outside the model's " +
                  std::to_string(classes) + " classes");
  }
  const auto start = std::chrono::steady_clock::now();
  EvalResult result;
  ProgressBar bar(static_cast<int64_t>(total), "eval", options.progress);
  const size_t step = static_cast<size_t>(options.batch_size);
  const model::Preprocessing& pre = model.card.preprocessing;
  // Decode the next batch on another thread while this one runs through the network.
  auto next = std::async(std::launch::async, load, std::cref(all), 0, std::min(step, total), std::cref(pre));
  for (size_t begin = 0; begin < total; begin += step) {
    LoadedBatch batch = next.get();
    const size_t after = begin + step;
    if (after < total) next = std::async(std::launch::async, load, std::cref(all), after, std::min(after + step, total), std::cref(pre));
    result.skipped.insert(result.skipped.end(), batch.skipped.begin(), batch.skipped.end());
    if (!batch.inputs.empty()) {
      c10::InferenceMode guard;
      at::Tensor scores = class_scores(model, at::stack(batch.inputs)).to(at::kCPU);
      const int64_t k = std::min<int64_t>(5, scores.size(1));
      const at::Tensor top = std::get<1>(at::topk(scores, k, 1));
      for (size_t i = 0; i < batch.labels.size(); ++i) {
        const at::Tensor row = top[static_cast<int64_t>(i)];
        result.top1 += row[0].item<int64_t>() == batch.labels[i];
        result.top5 += (row == batch.labels[i]).any().item<bool>();
        ++result.images;
        // The verdicts flip where the label's score crosses the best (top-1) or the k-th
        // best (top-5) score among the other classes.
        at::Tensor others = scores[static_cast<int64_t>(i)].clone();
        const double label_score = others[batch.labels[i]].item<double>();
        others[batch.labels[i]] = -std::numeric_limits<float>::infinity();
        const at::Tensor best_others = std::get<0>(at::topk(others, k));
        result.top1_near_ties += std::abs(label_score - best_others[0].item<double>()) < options.near_tie;
        result.top5_near_ties += std::abs(label_score - best_others[k - 1].item<double>()) < options.near_tie;
      }
    }
    bar.update(static_cast<int64_t>(std::min(after, total)),
               "top-1 " + std::to_string(static_cast<int>(result.top1_percent() + 0.5)) + "%");
  }
  bar.finish();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace featvis::inference
