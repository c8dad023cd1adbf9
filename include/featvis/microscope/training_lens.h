#pragma once
// The training lens of a Microscope built from a checkpoint series (model/series.h): each
// unit rendered at every checkpoint with the same seed and recipe (a labelled strip), its
// top-K dataset examples at every checkpoint and how they overlap (timeline/timeline.h,
// what `featvis timeline` computes for one unit), and per layer and across layers the
// median step at which units settle.
#include <featvis/microscope/examples_lens.h>
#include <featvis/microscope/lens.h>
#include <featvis/model/series.h>

#include <memory>

namespace featvis::microscope {

// Inactive when `series` is null (a model that is not a series). The model the builder
// renders the other lenses on must be the series' last checkpoint. Without `examples` it
// draws strips only. Each unit: <unit>/training_strip.webp + .jpg; each layer's top-K sets
// per checkpoint are computed once, by whichever work item needs them first, into
// <layer>/training_examples.json (the same bytes whoever writes them; kept on resume).
std::unique_ptr<Lens> training_lens(std::shared_ptr<const model::Series> series,
                                    std::shared_ptr<const ExamplesSource> examples);

}  // namespace featvis::microscope
