#pragma once
// The site's stylesheet and script, src/microscope/assets/site.css and site.js, embedded
// into the library at build time (cmake/embed_files.cmake): a built site never depends on
// where the sources are.
#include <string_view>

namespace featvis::microscope {

std::string_view site_css();
std::string_view site_js();

}  // namespace featvis::microscope
