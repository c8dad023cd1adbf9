#pragma once
// Saving and resuming a dataset scan: the top-K state of every layer plus how many
// photos are done, in one CBOR file written atomically. A checkpoint is used only by a
// scan with the same settings (model, photos, layers, K).
#include <featvis/dataset_examples/scan.h>

#include <string>
#include <vector>

namespace featvis::dataset_examples {

struct ScanProgress {
  int64_t images_done = 0;
  std::vector<std::string> skipped;
};

void save_checkpoint(const std::string& path, const std::string& settings, const ScanProgress& progress,
                     const std::vector<LayerExamples>& layers);

// Restores `layers` (already set up for these settings) from `path`. Returns false and
// says why in `note` when there is no checkpoint or it was made with other settings;
// throws featvis::Error for a damaged file.
bool load_checkpoint(const std::string& path, const std::string& settings, ScanProgress& progress,
                     std::vector<LayerExamples>& layers, std::string& note);

}  // namespace featvis::dataset_examples
