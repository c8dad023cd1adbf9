#pragma once
// A small CNN trained from scratch on Fashion-MNIST with LibTorch's C++ frontend, saved as
// ONNX checkpoints on a log scale of steps (step 0 = the initialization), so that featvis
// can show features forming over training (`featvis timeline`) and serve as the
// from-scratch baseline of `featvis probe`. Writes into the output directory:
//   step-NNNNNN.onnx    one per checkpoint (input "input" [N,3,28,28], output "logits")
//   fashion_cnn.card.json, fashion_mnist_labels.txt   the one card of the series
//   training.json       step, loss and test accuracy per checkpoint
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace featvis::train {

// The Fashion-MNIST class names, label i = line i.
const std::vector<std::string>& fashion_mnist_labels();

struct TrainOptions {
  std::string data_dir;  // holds {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
  std::string out_dir;
  int64_t steps = 1800;  // Adam steps; ~1.9 epochs at batch 64
  int64_t batch = 64;
  double lr = 2e-3;
  uint64_t seed = 0;     // initialization and batch order
  int64_t test_images = 10000;  // the first N of the test set measure accuracy (all 10,000 by default)
  bool progress = true;
};

struct Checkpoint {
  int64_t step = 0;
  double loss = 0;           // mean training loss of the batches since the previous checkpoint (step 0: of the first batch)
  double test_accuracy = 0;  // on the first TrainOptions::test_images test images
  std::string file;          // file name in the output directory
};

struct TrainResult {
  std::vector<Checkpoint> checkpoints;
  double seconds = 0;
};

// 0, 1, 2, 4, ... (powers of two below `total`), then `total`.
std::vector<int64_t> checkpoint_steps(int64_t total);

// The Fashion-MNIST files in `dir` ("<stem>.gz" or "<stem>"); featvis::Error when missing.
std::string fashion_mnist_file(const std::string& dir, const std::string& stem);

// Trains and writes the series. Throws featvis::Error (SettingError for bad options) for
// missing or broken data files.
TrainResult train_fashion_cnn(const TrainOptions& options);

}  // namespace featvis::train
