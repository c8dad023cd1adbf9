#pragma once
// HTML fragments shared by the page writer and the lenses' page sections.
#include <string>

namespace featvis::microscope {

// Minimal HTML escaping for text and attribute values.
std::string html_escape(const std::string& text);

// <img src alt [class]>, both escaped.
std::string html_img(const std::string& src, const std::string& alt, const std::string& cls = "");

// A grid thumbnail: <img loading="lazy" decoding="async">, or with `deferred` no src but
// data-src, which site.js sets when the cell nears the viewport: a layer page of 1,280
// units fetches only the thumbnails in view (about 1 MB, docs/PERFORMANCE.md).
std::string html_lazy_img(const std::string& src, const std::string& alt, bool deferred = false);

// A muted italic paragraph saying why something is not shown.
std::string html_absent(const std::string& what);

// A number as the pages print scores and activations (3 significant digits).
std::string html_number(double v);

}  // namespace featvis::microscope
