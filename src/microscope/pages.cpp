// Static HTML for the Microscope. Pages are plain HTML with relative links; app.js adds
// the jump box and keyboard navigation; nothing is fetched from outside the site. This
// file lays pages out; each lens writes its own sections (lens.h).
#include <featvis/microscope/html.h>
#include <featvis/microscope/pages.h>
#include <featvis/microscope/site_assets.h>
#include <featvis/microscope/site_path.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <filesystem>

namespace featvis::microscope {
namespace {

namespace fs = std::filesystem;

struct Nav {
  std::string up, prev, next, prev_layer, next_layer;
};

// `root`: relative path to SITE; `model_root`: to SITE/<model>/ ("" = no jump box).
std::string page(const std::string& title, const std::string& root, const std::string& model_root,
                 const std::string& crumbs, const Nav& nav, const std::string& main) {
  std::string data = model_root.empty() ? "" : " data-model-root=\"" + html_escape(model_root) + "\"";
  const std::pair<const char*, const std::string*> links[] = {{"up", &nav.up},
                                                              {"prev", &nav.prev},
                                                              {"next", &nav.next},
                                                              {"prev-layer", &nav.prev_layer},
                                                              {"next-layer", &nav.next_layer}};
  for (const auto& [name, href] : links)
    if (!href->empty()) data += std::string(" data-") + name + "=\"" + html_escape(*href) + "\"";
  std::string h = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                  "<link rel=\"icon\" href=\"data:,\"><title>" + html_escape(title) + " · featvis Microscope</title>"
                  "<link rel=\"stylesheet\" href=\"" + root + "assets/style.css\"></head>\n<body" + data + ">\n"
                  "<header><nav><a href=\"" + root + "\">featvis Microscope</a>" + crumbs + "</nav>";
  if (!model_root.empty()) {
    h += "<form id=\"jump\" autocomplete=\"off\"><input id=\"jump-input\" name=\"q\" "
         "placeholder=\"jump to layer:unit (press /)\" aria-label=\"jump to layer:unit\">"
         "<button type=\"submit\">Go</button><span id=\"jump-error\" role=\"status\"></span></form>";
  }
  h += "</header>\n<main>\n" + main + "</main>\n<footer>Keys: ← → previous/next unit, [ ] previous/next layer, ↑ up, "
       "/ jump box. Built by featvis microscope.</footer>\n";
  if (!model_root.empty()) h += "<script src=\"" + model_root + "layers.js\"></script>";
  h += "<script src=\"" + root + "assets/app.js\"></script>\n</body></html>\n";
  return h;
}

std::string crumb(const std::string& href, const std::string& text) {
  return "<span class=\"sep\">/</span>" + (href.empty() ? html_escape(text) : "<a href=\"" + href + "\">" + html_escape(text) + "</a>");
}

std::string layer_label(const Json& layer) {
  const std::string title = layer.value("title", "");
  return title.empty() ? layer.at("name").get<std::string>() : title;
}

// " · optimized as T" when the lenses optimized another tensor than the layer (a ReLU6
// layer's pre-activation), so nobody reads its pictures as the layer's own.
std::string optimized_text(const Json& layer) {
  const std::string tensor = layer.value("tensor", layer.at("name").get<std::string>());
  return tensor == layer.at("name") ? std::string() : " · optimized as <code>" + html_escape(tensor) + "</code>";
}

std::string shape_text(const Json& shape) {
  std::string s;
  for (const auto& d : shape) s += (s.empty() ? "" : "x") + std::to_string(d.get<int64_t>());
  return s;
}

// A lens's entry in a unit.json or layer.json record, null when it has none.
Json entry_of(const Json& record, const Lens& lens) {
  const Json lenses = record.value("lenses", Json::object());
  return lenses.contains(lens.name()) ? lenses[lens.name()] : Json();
}

// Sections in order, half-width ones side by side first.
std::string lay_out(const std::vector<PageSection>& sections) {
  std::string half, full;
  for (const auto& s : sections) {
    if (s.half_width) half += "<section><h2>" + html_escape(s.title) + "</h2>" + s.html + "</section>";
    else full += "<h2>" + html_escape(s.title) + "</h2>" + s.html + "\n";
  }
  return (half.empty() ? "" : "<div class=\"pair\">" + half + "</div>\n") + full;
}

// A unit's thumbnail cell, linked to its page; `prefix` leads from the page to SITE/<model>/.
// `deferred`: the thumbnail waits for site.js (html_lazy_img).
std::string unit_cell(const std::string& prefix, const Json& layer, const Json& unit, const Lenses& lenses,
                      bool deferred = false) {
  const std::string number = std::to_string(unit.at("unit").get<int64_t>());
  const std::string unit_href = prefix + layer.at("slug").get<std::string>() + "/" + number + "/";
  std::string picture;
  for (const auto& lens : lenses) {
    const std::string thumb = lens->unit_thumbnail(entry_of(unit, *lens));
    if (thumb.empty()) continue;
    picture = html_lazy_img(unit_href + thumb, "unit " + number, deferred);
    break;
  }
  return "<a class=\"cell\" href=\"" + html_escape(unit_href) + "\">" + picture + number + "</a>";
}

int64_t index_of(const Json& units, int64_t unit) {
  for (size_t i = 0; i < units.size(); ++i)
    if (units[i].get<int64_t>() == unit) return static_cast<int64_t>(i);
  return -1;
}

std::string unit_page(const Json& manifest, size_t li, size_t ui, const Json& unit, const Lenses& lenses) {
  const Json& layers = manifest.at("layers");
  const Json& layer = layers[li];
  const std::string model = manifest.at("model");
  const std::string lname = layer.at("name");
  const int64_t u = unit.at("unit");
  const Json& units = layer.at("units");
  Nav nav;
  nav.up = "../";
  if (ui > 0) nav.prev = "../" + std::to_string(units[ui - 1].get<int64_t>()) + "/";
  if (ui + 1 < units.size()) nav.next = "../" + std::to_string(units[ui + 1].get<int64_t>()) + "/";
  // Neighbouring layers: the same unit number when that layer has it, else its first unit.
  auto same_unit = [&](const Json& other) {
    const int64_t j = index_of(other.at("units"), u);
    const int64_t target = j >= 0 ? u : other.at("units").empty() ? -1 : other.at("units")[0].get<int64_t>();
    return target < 0 ? "../../" + other.at("slug").get<std::string>() + "/"
                      : "../../" + other.at("slug").get<std::string>() + "/" + std::to_string(target) + "/";
  };
  if (li > 0) nav.prev_layer = same_unit(layers[li - 1]);
  if (li + 1 < layers.size()) nav.next_layer = same_unit(layers[li + 1]);

  std::string m = "<h1>" + html_escape(lname) + ":" + std::to_string(u) + "</h1>\n<p class=\"sub\">" +
                  html_escape(layer_label(layer)) + " · unit " + std::to_string(u) + " of " +
                  std::to_string(layer.at("channels").get<int64_t>()) + " · " + html_escape(model) + "</p>\n";
  m += "<p class=\"neighbours\">";
  if (!nav.prev.empty()) m += "<a href=\"" + nav.prev + "\" id=\"prev-unit\">← unit " + std::to_string(units[ui - 1].get<int64_t>()) + "</a>";
  if (!nav.next.empty()) m += "<a href=\"" + nav.next + "\" id=\"next-unit\">unit " + std::to_string(units[ui + 1].get<int64_t>()) + " →</a>";
  if (!nav.prev_layer.empty()) m += "<a href=\"" + nav.prev_layer + "\">[ " + html_escape(layers[li - 1].at("name").get<std::string>()) + "</a>";
  if (!nav.next_layer.empty()) m += "<a href=\"" + nav.next_layer + "\">" + html_escape(layers[li + 1].at("name").get<std::string>()) + " ]</a>";
  m += "<a href=\"../\">↑ layer</a></p>\n";

  std::vector<PageSection> sections;
  for (const auto& lens : lenses)
    if (auto section = lens->unit_section(entry_of(unit, *lens))) sections.push_back(*section);
  m += lay_out(sections);
  const std::string crumbs = crumb("../../", model) + crumb("../", lname) + crumb("", std::to_string(u));
  return page(lname + ":" + std::to_string(u), "../../../", "../../", crumbs, nav, m);
}

std::string layer_page(const Json& manifest, size_t li, const std::vector<Json>& units, const Lenses& lenses) {
  const Json& layers = manifest.at("layers");
  const Json& layer = layers[li];
  const std::string model = manifest.at("model");
  Nav nav;
  nav.up = "../";
  if (li > 0) nav.prev_layer = nav.prev = "../" + layers[li - 1].at("slug").get<std::string>() + "/";
  if (li + 1 < layers.size()) nav.next_layer = nav.next = "../" + layers[li + 1].at("slug").get<std::string>() + "/";
  std::string m = "<h1>" + html_escape(layer.at("name")) + "</h1>\n<p class=\"sub\">" + html_escape(layer_label(layer)) +
                  " · shape " + shape_text(layer.at("shape")) + " · " + std::to_string(layer.at("units").size()) + " of " +
                  std::to_string(layer.at("channels").get<int64_t>()) + " units built" + optimized_text(layer) +
                  "</p>\n<p class=\"neighbours\">";
  if (!nav.prev.empty()) m += "<a href=\"" + nav.prev + "\">[ " + html_escape(layers[li - 1].at("name").get<std::string>()) + "</a>";
  if (!nav.next.empty()) m += "<a href=\"" + nav.next + "\">" + html_escape(layers[li + 1].at("name").get<std::string>()) + " ]</a>";
  m += "</p>\n<h2>Units</h2>\n<div class=\"grid\">";
  // The first rows load with the page; the rest as they scroll near (site.js).
  constexpr size_t kEagerCells = 64;
  for (size_t i = 0; i < units.size(); ++i) m += unit_cell("../", layer, units[i], lenses, i >= kEagerCells);
  m += "</div>\n";
  std::vector<PageSection> sections;
  for (const auto& lens : lenses)
    if (auto section = lens->layer_section(entry_of(layer, *lens))) sections.push_back(*section);
  m += lay_out(sections);
  const std::string crumbs = crumb("../", model) + crumb("", layer.at("name"));
  return page(layer.at("name").get<std::string>(), "../../", "../", crumbs, nav, m);
}

std::string overview_page(const Json& manifest, const std::vector<std::vector<Json>>& units, const Lenses& lenses) {
  const std::string model = manifest.at("model");
  std::string m = "<h1>" + html_escape(model) + "</h1>\n<p class=\"sub\">" + html_escape(manifest.value("description", "")) +
                  "</p>\n";
  for (const auto& note : manifest.value("notes", Json::array())) m += html_absent("Note: " + note.get<std::string>());
  const Json& layers = manifest.at("layers");
  std::vector<PageSection> sections;
  for (const auto& lens : lenses)
    if (auto section = lens->model_section(layers)) sections.push_back(*section);
  m += lay_out(sections);
  for (size_t li = 0; li < layers.size(); ++li) {
    const Json& layer = layers[li];
    m += "<section class=\"row\"><h2><a href=\"" + html_escape(layer.at("slug").get<std::string>()) + "/\">" +
         html_escape(layer.at("name")) + "</a></h2><p class=\"sub\">" + html_escape(layer_label(layer)) + " · " +
         shape_text(layer.at("shape")) + optimized_text(layer) + "</p><div class=\"thumbs\">";
    for (size_t i = 0; i < std::min<size_t>(units[li].size(), 8); ++i) m += unit_cell("", layer, units[li][i], lenses);
    m += "</div></section>\n";
  }
  Nav nav;
  nav.up = "../";
  if (!layers.empty()) nav.next = nav.next_layer = layers[0].at("slug").get<std::string>() + "/";
  return page(model, "../", "./", crumb("", model), nav, m);
}

void write(const fs::path& path, const std::string& text) { write_file_atomically(path.string(), text); }

}  // namespace

void write_model_pages(const std::string& model_dir, const Json& manifest, const std::vector<std::vector<Json>>& units,
                       const Lenses& lenses) {
  const Json& layers = manifest.at("layers");
  Json index = Json::array();
  for (const auto& l : layers) index.push_back(Json{{"name", l.at("name")}, {"slug", l.at("slug")}, {"units", l.at("units")}});
  write(fs::path(model_dir) / "layers.js", "window.FEATVIS_LAYERS = " + index.dump() + ";\n");
  for (size_t li = 0; li < layers.size(); ++li) {
    const fs::path layer_dir = fs::path(model_dir) / layers[li].at("slug").get<std::string>();
    for (size_t ui = 0; ui < units[li].size(); ++ui) {
      write(layer_dir / std::to_string(units[li][ui].at("unit").get<int64_t>()) / "index.html",
            unit_page(manifest, li, ui, units[li][ui], lenses));
    }
    write(layer_dir / "index.html", layer_page(manifest, li, units[li], lenses));
  }
  write(fs::path(model_dir) / "index.html", overview_page(manifest, units, lenses));
}

void write_site_index(const std::string& site) {
  make_dirs((fs::path(site) / "assets").string());
  write(fs::path(site) / "assets" / "style.css", std::string(site_css()));
  write(fs::path(site) / "assets" / "app.js", std::string(site_js()));
  std::vector<fs::path> manifests;
  for (const auto& e : fs::directory_iterator(site))
    if (e.is_directory() && fs::is_regular_file(e.path() / "manifest.json")) manifests.push_back(e.path() / "manifest.json");
  std::sort(manifests.begin(), manifests.end());
  Json models = Json::array();
  std::string m = "<h1>Models</h1>\n";
  for (const auto& path : manifests) {
    const Json manifest = Json::parse(read_file(path.string()));
    const std::string dir = path.parent_path().filename().string();
    models.push_back(Json{{"name", manifest.at("model")}, {"path", dir + "/"}, {"layers", manifest.at("layers").size()}});
    m += "<section class=\"row\"><h2><a href=\"" + html_escape(dir) + "/\">" + html_escape(manifest.at("model")) +
         "</a></h2><p class=\"sub\">" + html_escape(manifest.value("description", "")) + " · " +
         std::to_string(manifest.at("layers").size()) + " layers</p></section>\n";
  }
  write(fs::path(site) / "site.json", Json{{"format", kSiteFormat}, {"models", models}}.dump(2) + "\n");
  Nav nav;
  if (manifests.size() == 1) nav.next = manifests.front().parent_path().filename().string() + "/";
  write(fs::path(site) / "index.html", page("Models", "", "", "", nav, m));
}

}  // namespace featvis::microscope
