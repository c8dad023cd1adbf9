#pragma once
// Dataset examples: one streaming, batched forward pass over a folder of photos that
// keeps, for every unit of every chosen layer, the top-K and bottom-K photos by channel
// mean and the top-K by the unit's maximum (with its position). State is K entries per
// unit, never the activations; a checkpoint lets an interrupted scan resume.
#include <featvis/dataset_examples/receptive_field.h>
#include <featvis/dataset_examples/top_k.h>
#include <featvis/model/model.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace featvis::dataset_examples {

struct LayerExamples {
  std::string name;
  std::vector<int64_t> shape;  // for a batch of one: [1, C] or [1, C, H, W]
  ReceptiveField field;
  TopK top_mean, bottom_mean, top_max;  // top_max positions: y * W + x, -1 for [1, C] layers
};

struct ScanOptions {
  std::vector<std::string> layers;  // tensor names
  int64_t top_k = 9;
  int64_t batch_size = 16;
  // Where progress is saved (every `checkpoint_every` batches and when stopped) and
  // resumed from; empty: neither. Each save writes every unit's top-k (3 MB for
  // MobileNetV2's 18k units) on the scan's thread: every 8 batches cost 5 % of a scan at
  // 200 photos/s; every 64 (1,024 photos, seconds of work) costs under 1 %.
  std::string checkpoint_path;
  int64_t checkpoint_every = 64;
  bool progress = true;
  std::function<bool()> stop_requested;  // polled after each batch
  // Bytes of photo views ([H, W, 3] uint8: the card's crop in pixel levels, what crops are
  // cut from) kept in ScanResult::views, first come first kept, so that the crop stage
  // need not decode those photos again; 0: none.
  int64_t keep_views_bytes = 0;
};

struct ScanResult {
  std::vector<LayerExamples> layers;
  int64_t images_done = 0;   // photos covered, including those of a resumed checkpoint
  int64_t resumed_from = 0;  // photos already covered by the checkpoint started from
  std::string note;          // why an existing checkpoint was not used (empty otherwise)
  std::vector<std::string> skipped;  // unreadable photos, "path: reason"
  bool interrupted = false;
  double seconds = 0;         // this run's scanning time
  int64_t images_scanned = 0;  // photos run through the network by this run
  std::map<int64_t, at::Tensor> views;  // photo index -> view, as keep_views_bytes allows
};

// `images` are paths relative to `images_root` (see list_images); the index of a photo
// in `images` is what the state records. Throws featvis::Error for an unknown layer, a
// layer that is not [N, C] or [N, C, H, W], or bad options.
ScanResult scan_examples(const model::Model& model, const std::string& images_root, const std::vector<std::string>& images,
                         const ScanOptions& options);

// The tensors `--layers all` ranks: for each of the card's layers, its visualization
// tensor (the pre-activation of a ReLU6 layer, whose maxima would tie at 6).
std::vector<std::string> card_ranking_tensors(const model::Model& model);

}  // namespace featvis::dataset_examples
