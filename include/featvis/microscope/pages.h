#pragma once
// The Microscope's HTML pages, written from the manifest and unit.json records: model
// overview, layer pages, unit pages, the site index and the shared CSS/JS (vanilla, no
// CDN). Links are relative, so the site works under any URL prefix. The page writer lays
// out; what a lens shows is the lens's own section (Lens::unit_section, layer_section).
#include <featvis/microscope/lens.h>

#include <memory>
#include <string>
#include <vector>

namespace featvis::microscope {

using Lenses = std::vector<std::unique_ptr<Lens>>;

// Writes SITE/<model>/index.html, layers.js, every layer and unit page. `units[l][i]` is
// the unit.json record of manifest["layers"][l]["units"][i]; `lenses` (active or not, in
// order) give the sections.
void write_model_pages(const std::string& model_dir, const Json& manifest, const std::vector<std::vector<Json>>& units,
                       const Lenses& lenses);

// Writes SITE/assets/, SITE/site.json and SITE/index.html listing every model built in
// SITE (every SITE/*/manifest.json).
void write_site_index(const std::string& site);

}  // namespace featvis::microscope
