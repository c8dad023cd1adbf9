#pragma once
// The Microscope's HTML pages, written from the manifest and unit.json records: model
// overview, layer pages, unit pages, the site index and the shared CSS/JS (vanilla, no
// CDN). Links are relative, so the site works under any URL prefix.
#include <featvis/microscope/lens.h>

#include <string>
#include <vector>

namespace featvis::microscope {

// Writes SITE/<model>/index.html, layers.js, every layer and unit page. `units[l][i]` is
// the unit.json record of manifest["layers"][l]["units"][i].
void write_model_pages(const std::string& model_dir, const Json& manifest, const std::vector<std::vector<Json>>& units);

// Writes SITE/assets/, SITE/site.json and SITE/index.html listing every model built in
// SITE (every SITE/*/manifest.json).
void write_site_index(const std::string& site);

// Minimal HTML escaping for text and attribute values.
std::string html_escape(const std::string& text);

}  // namespace featvis::microscope
