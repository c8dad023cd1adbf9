// The page writer lays out whatever sections the lenses give it: a lens it has never
// heard of shows up on the unit and layer pages, side by side when half-width, and its
// absence text when a unit has no entry.
#include "support/test_support.h"

#include <featvis/microscope/html.h>
#include <featvis/microscope/pages.h>
#include <featvis/microscope/site_path.h>
#include <featvis/util/atomic_file.h>

#include <gtest/gtest.h>

namespace {

using featvis::microscope::Json;
using featvis::microscope::Lens;
using featvis::microscope::PageSection;

class NoteLens : public Lens {
 public:
  std::string name() const override { return "note"; }
  std::optional<PageSection> unit_section(const Json& entry) const override {
    if (entry.is_null()) return PageSection{"Notes", featvis::microscope::html_absent("No note for this unit."), true};
    return PageSection{"Notes", "<p>" + featvis::microscope::html_escape(entry["text"]) + "</p>", true};
  }
  std::optional<PageSection> layer_section(const Json& entry) const override {
    return PageSection{"Layer notes", "<p>" + featvis::microscope::html_escape(entry.value("text", "")) + "</p>"};
  }
  std::string unit_thumbnail(const Json& entry) const override { return entry.is_null() ? "" : "note.jpg"; }
};

TEST(MicroscopePages, ANewLensGetsItsSectionsWithoutChangesToThePageWriter) {
  const std::string dir = featvis::testing::temp_dir();
  const Json layer{{"name", "conv"},  {"slug", "conv"}, {"title", ""},
                   {"shape", {1, 2, 3, 3}}, {"channels", 2}, {"units", Json::array({0, 1})},
                   {"lenses", {{"note", {{"text", "about the layer"}}}}}};
  const Json manifest{{"model", "m"}, {"description", ""}, {"notes", Json::array()}, {"lenses", Json::array({"note"})},
                      {"layers", Json::array({layer})}};
  const std::vector<std::vector<Json>> units{
      {Json{{"unit", 0}, {"lenses", {{"note", {{"text", "fires on <stripes>"}}}}}}, Json{{"unit", 1}, {"lenses", Json::object()}}}};
  for (const char* unit : {"/conv/0", "/conv/1"}) featvis::microscope::make_dirs(dir + unit);  // the builder's part
  featvis::microscope::Lenses lenses;
  lenses.push_back(std::make_unique<NoteLens>());
  featvis::microscope::write_model_pages(dir, manifest, units, lenses);

  const std::string unit0 = featvis::read_file(dir + "/conv/0/index.html");
  EXPECT_NE(unit0.find("<div class=\"pair\"><section><h2>Notes</h2><p>fires on &lt;stripes&gt;</p></section></div>"),
            std::string::npos)
      << unit0;
  EXPECT_NE(featvis::read_file(dir + "/conv/1/index.html").find("No note for this unit."), std::string::npos);
  const std::string layer_page = featvis::read_file(dir + "/conv/index.html");
  EXPECT_NE(layer_page.find("<h2>Layer notes</h2><p>about the layer</p>"), std::string::npos) << layer_page;
  // The unit grid uses the lens's thumbnail where it has one.
  EXPECT_NE(layer_page.find("<img src=\"../conv/0/note.jpg\" alt=\"unit 0\" loading=\"lazy\" decoding=\"async\">"), std::string::npos) << layer_page;
  EXPECT_NE(layer_page.find("<a class=\"cell\" href=\"../conv/1/\">1</a>"), std::string::npos) << layer_page;
}

}  // namespace
