// Fashion-MNIST training with LibTorch's C++ frontend (not a Python script): the same
// binary that renders and probes trains its subject, with no Python in the loop, and the
// tests can rebuild the series from the build tree. Grey images are fed as three equal
// channels, so the network takes RGB like every featvis model and renders in colour.
#include <featvis/train/fashion_cnn.h>

#include "onnx_export.h"

#include <featvis/io/idx.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/check.h>
#include <featvis/util/progress.h>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

namespace featvis::train {
namespace {

namespace fs = std::filesystem;

// Fashion-MNIST's pixel mean and standard deviation (0.2860 and 0.3530 of 255), the
// card's scaling: x = (pixel - mean) / std.
constexpr float kMean = 72.94f;
constexpr float kStd = 90.02f;

struct FashionCnnImpl : torch::nn::Module {
  FashionCnnImpl()
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 16, 3).padding(1)))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(16, 32, 3).padding(1)))),
        conv3(register_module("conv3", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1)))),
        fc1(register_module("fc1", torch::nn::Linear(64 * 3 * 3, 64))),
        fc2(register_module("fc2", torch::nn::Linear(64, 10))) {}

  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(torch::relu(conv1(x)), 2);
    x = torch::max_pool2d(torch::relu(conv2(x)), 2);
    x = torch::max_pool2d(torch::relu(conv3(x)), 2);
    return fc2(torch::relu(fc1(x.flatten(1))));
  }
  torch::nn::Conv2d conv1, conv2, conv3;
  torch::nn::Linear fc1, fc2;
};
TORCH_MODULE(FashionCnn);

// uint8 [N,28,28] -> the network's input [N,3,28,28].
torch::Tensor to_input(const torch::Tensor& images) {
  return ((images.to(torch::kFloat) - kMean) / kStd).unsqueeze(1).expand({-1, 3, -1, -1}).contiguous();
}

double test_accuracy(FashionCnn& net, const torch::Tensor& images, const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  int64_t correct = 0;
  for (int64_t i = 0; i < images.size(0); i += 1000) {
    const int64_t n = std::min<int64_t>(1000, images.size(0) - i);
    const torch::Tensor pred = net->forward(to_input(images.narrow(0, i, n))).argmax(1);
    correct += pred.eq(labels.narrow(0, i, n)).sum().item<int64_t>();
  }
  return static_cast<double>(correct) / static_cast<double>(images.size(0));
}

std::string card_json(const std::string& final_file) {
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  const char* titles[] = {"conv 3x3 (16 ch, 28x28)", "conv 3x3 (32 ch, 14x14)", "conv 3x3 (64 ch, 7x7)"};
  for (int k = 1; k <= 3; ++k) {
    const std::string name = "conv" + std::to_string(k);
    layers.push_back({{"name", name}, {"title", titles[k - 1]}, {"visualize", name + "/preact"}});
  }
  layers.push_back({{"name", "fc1"}, {"title", "fully connected (64)"}, {"visualize", "fc1/preact"}});
  layers.push_back({{"name", "logits"}, {"title", "class scores (10)"}});
  const nlohmann::ordered_json card = {
      {"name", "fashion_cnn"},
      {"description", "small CNN trained from scratch on Fashion-MNIST by `featvis train-fashion-mnist`"},
      {"file", final_file},
      {"source", "trained locally; one checkpoint per step-NNNNNN.onnx in this folder"},
      {"input", "input"},
      {"output", "logits"},
      {"classes", 10},
      {"labels_file", "fashion_mnist_labels.txt"},
      {"preprocessing",
       {{"crop", "stretch"}, {"width", 28}, {"height", 28}, {"mean", {kMean, kMean, kMean}}, {"std", {kStd, kStd, kStd}}, {"channels", "rgb"}}},
      {"layers", layers}};
  return card.dump(2) + "\n";
}

}  // namespace

const std::vector<std::string>& fashion_mnist_labels() {
  static const std::vector<std::string> labels = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return labels;
}

std::vector<int64_t> checkpoint_steps(int64_t total) {
  std::vector<int64_t> steps{0};
  for (int64_t s = 1; s < total; s *= 2) steps.push_back(s);
  if (total > 0) steps.push_back(total);
  return steps;
}

std::string fashion_mnist_file(const std::string& dir, const std::string& stem) {
  for (const std::string& name : {stem + ".gz", stem}) {
    if (fs::is_regular_file(fs::path(dir) / name)) return (fs::path(dir) / name).string();
  }
  throw Error("Fashion-MNIST file '" + stem + "[.gz]' not found in '" + dir + "'");
}

TrainResult train_fashion_cnn(const TrainOptions& o) {
  FEATVIS_CHECK_SETTING(o.steps >= 1 && o.steps <= 1000000, "steps", "must be 1..1000000, not ", o.steps);
  FEATVIS_CHECK_SETTING(o.batch >= 1 && o.batch <= 60000, "batch", "must be 1..60000, not ", o.batch);
  FEATVIS_CHECK_SETTING(o.lr > 0 && o.lr < 1, "lr", "must be in (0, 1), not ", o.lr);
  FEATVIS_CHECK_SETTING(o.test_images >= 1, "test_images", "must be at least 1, not ", o.test_images);
  // Named one after another: argument order is unspecified, and the first missing file should be reported.
  const std::string train_images = fashion_mnist_file(o.data_dir, "train-images-idx3-ubyte");
  const std::string train_labels = fashion_mnist_file(o.data_dir, "train-labels-idx1-ubyte");
  const std::string test_images = fashion_mnist_file(o.data_dir, "t10k-images-idx3-ubyte");
  const std::string test_labels = fashion_mnist_file(o.data_dir, "t10k-labels-idx1-ubyte");
  const auto train = io::load_idx_dataset(train_images, train_labels, 10);
  auto test = io::load_idx_dataset(test_images, test_labels, 10);
  if (o.test_images < test.images.size(0)) {  // the first ones: the test set is not sorted by class
    test.images = test.images.narrow(0, 0, o.test_images);
    test.labels = test.labels.narrow(0, 0, o.test_images);
  }
  FEATVIS_CHECK(train.images.size(1) == 28 && train.images.size(2) == 28 && test.images.size(1) == 28 &&
                    test.images.size(2) == 28,
                "Fashion-MNIST images in '", o.data_dir, "' are not 28x28");
  fs::create_directories(o.out_dir);
  write_file_atomically((fs::path(o.out_dir) / "fashion_mnist_labels.txt").string(), [] {
    std::string s;
    for (const auto& l : fashion_mnist_labels()) s += l + "\n";
    return s;
  }());

  torch::manual_seed(o.seed);  // initialization
  FashionCnn net;
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(o.lr));
  at::Generator order = at::make_generator<at::CPUGeneratorImpl>(o.seed + 1);  // batch order
  const int64_t n = train.images.size(0);
  at::Tensor perm = at::randperm(n, order, at::kLong);
  int64_t cursor = 0;

  TrainResult result;
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int64_t> steps = checkpoint_steps(o.steps);
  size_t next = 0;
  double loss_sum = 0;
  int64_t loss_count = 0;
  ProgressBar bar(o.steps, "training", o.progress);
  auto save = [&](int64_t step) {
    Checkpoint c;
    c.step = step;
    c.loss = loss_count ? loss_sum / static_cast<double>(loss_count) : 0.0;
    net->eval();
    c.test_accuracy = test_accuracy(net, test.images, test.labels);
    net->train();
    char name[32];
    std::snprintf(name, sizeof name, "step-%06lld.onnx", static_cast<long long>(step));
    c.file = name;
    std::map<std::string, at::Tensor> weights;
    for (const auto& p : net->named_parameters()) weights[p.key()] = p.value();
    write_file_atomically((fs::path(o.out_dir) / c.file).string(), fashion_cnn_onnx(weights));
    result.checkpoints.push_back(c);
    loss_sum = 0;
    loss_count = 0;
  };
  for (int64_t step = 0; step <= o.steps; ++step) {
    if (next < steps.size() && steps[next] == step && step > 0) {
      save(step);
      ++next;
    }
    if (step == o.steps) break;
    if (cursor + o.batch > n) {
      perm = at::randperm(n, order, at::kLong);
      cursor = 0;
    }
    const at::Tensor idx = perm.narrow(0, cursor, o.batch);
    cursor += o.batch;
    const torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(to_input(train.images.index_select(0, idx))),
                                                                   train.labels.index_select(0, idx));
    if (step == 0) {  // step 0 is the initialization, its loss that of the first batch
      loss_sum = loss.item<double>();
      loss_count = 1;
      save(0);
      ++next;
    }
    adam.zero_grad();
    loss.backward();
    adam.step();
    loss_sum += loss.item<double>();
    ++loss_count;
    bar.update(step + 1);
  }
  bar.finish();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const std::string final_file = result.checkpoints.back().file;
  write_file_atomically((fs::path(o.out_dir) / "fashion_cnn.card.json").string(), card_json(final_file));
  nlohmann::ordered_json record = {{"model", "fashion_cnn"},
                                   {"seed", o.seed},
                                   {"steps", o.steps},
                                   {"batch", o.batch},
                                   {"lr", o.lr},
                                   {"test_images", test.images.size(0)},
                                   {"optimizer", "adam"},
                                   {"seconds", result.seconds},
                                   {"checkpoints", nlohmann::ordered_json::array()}};
  for (const auto& c : result.checkpoints)
    record["checkpoints"].push_back({{"step", c.step}, {"loss", c.loss}, {"test_accuracy", c.test_accuracy}, {"file", c.file}});
  // Written last: its presence marks a finished series.
  write_file_atomically((fs::path(o.out_dir) / "training.json").string(), record.dump(2) + "\n");
  return result;
}

}  // namespace featvis::train
