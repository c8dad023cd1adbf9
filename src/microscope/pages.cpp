// Static HTML for the Microscope. Pages are plain HTML with relative links; app.js adds
// the jump box and keyboard navigation; nothing is fetched from outside the site.
#include <featvis/microscope/pages.h>
#include <featvis/microscope/site_path.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace featvis::microscope {
namespace {

namespace fs = std::filesystem;

const char* const kStyle = R"CSS(:root { --fg: #1d1d1f; --muted: #6b6b70; --line: #ddd; --bg: #fafafa; --accent: #0b57d0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; padding: 10px 20px; background: #fff;
         border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; }
header nav a { color: var(--accent); text-decoration: none; }
header nav span.sep { color: var(--muted); margin: 0 6px; }
#jump { margin-left: auto; display: flex; gap: 6px; align-items: center; }
#jump input { width: 280px; padding: 4px 8px; font: inherit; }
#jump-error { color: #b3261e; font-size: 13px; }
main { padding: 16px 20px 40px; max-width: 1400px; }
h1 { font-size: 22px; margin: 6px 0 2px; } h2 { font-size: 17px; margin: 22px 0 8px; }
.sub { color: var(--muted); margin: 0 0 10px; }
.absent { color: var(--muted); font-style: italic; }
.row { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; margin: 10px 0; }
.row h2 { margin: 0 0 6px; }
.thumbs, .grid { display: flex; flex-wrap: wrap; gap: 8px; }
.cell { display: block; text-align: center; color: var(--fg); text-decoration: none; font-size: 12px; }
.cell img { display: block; width: 96px; height: 96px; object-fit: cover; border-radius: 3px; background: #eee; }
.cell:hover img { outline: 2px solid var(--accent); }
.pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 24px; }
.big { width: 100%; max-width: 448px; image-rendering: auto; border-radius: 4px; background: #eee; }
.examples { display: grid; grid-template-columns: repeat(auto-fill, minmax(110px, 1fr)); gap: 8px; }
.examples figure, .figs figure { margin: 0; font-size: 12px; color: var(--muted); }
.examples img { width: 100%; border-radius: 3px; }
.figs { display: flex; flex-wrap: wrap; gap: 14px; }
.figs img { width: 192px; height: 192px; object-fit: cover; border-radius: 4px; background: #eee; }
.neighbours a { margin-right: 14px; color: var(--accent); }
footer { color: var(--muted); font-size: 12px; padding: 10px 20px; border-top: 1px solid var(--line); }
)CSS";

const char* const kScript = R"JS((function () {
  "use strict";
  var body = document.body;
  var modelRoot = body.getAttribute("data-model-root");
  function go(href) { if (href) window.location.href = href; }
  function findLayer(text) {
    var layers = window.FEATVIS_LAYERS || [];
    var pick = function (f) { var m = layers.filter(f); return m.length === 1 ? m[0] : null; };
    return pick(function (l) { return l.name === text || l.slug === text; }) ||
           pick(function (l) { return l.name.slice(-(text.length + 1)) === "/" + text; }) ||
           pick(function (l) { return l.name.indexOf(text) >= 0; });
  }
  // "layer:unit" or "layer"; layer names may themselves contain ':'.
  function jump(text) {
    var error = document.getElementById("jump-error");
    error.textContent = "";
    text = text.trim();
    var name = text, unit = null, colon = text.lastIndexOf(":");
    if (colon >= 0 && /^\d+$/.test(text.slice(colon + 1))) { name = text.slice(0, colon); unit = parseInt(text.slice(colon + 1), 10); }
    var layer = findLayer(name);
    if (!layer) { error.textContent = "no single layer matches '" + name + "'"; return; }
    if (unit === null) { go(modelRoot + layer.slug + "/"); return; }
    if (layer.units.indexOf(unit) < 0) {
      error.textContent = "unit " + unit + " of " + layer.name + " is not in this site"; return;
    }
    go(modelRoot + layer.slug + "/" + unit + "/");
  }
  var form = document.getElementById("jump");
  if (form) form.addEventListener("submit", function (e) { e.preventDefault(); jump(document.getElementById("jump-input").value); });
  var keys = { ArrowLeft: "prev", ArrowRight: "next", ArrowUp: "up", u: "up", "[": "prevLayer", "]": "nextLayer" };
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.altKey || e.ctrlKey || e.metaKey || (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA"))) return;
    if (e.key === "/" && form) { e.preventDefault(); document.getElementById("jump-input").focus(); return; }
    var target = keys[e.key] && body.dataset[keys[e.key]];
    if (target) { e.preventDefault(); go(target); }
  });
})();
)JS";

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

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

std::string img(const std::string& src, const std::string& alt, const std::string& cls = "") {
  return "<img src=\"" + html_escape(src) + "\" alt=\"" + html_escape(alt) + "\"" +
         (cls.empty() ? "" : " class=\"" + cls + "\"") + ">";
}

std::string absent(const std::string& what) { return "<p class=\"absent\">" + html_escape(what) + "</p>\n"; }

std::string layer_label(const Json& layer) {
  const std::string title = layer.value("title", "");
  return title.empty() ? layer.at("name").get<std::string>() : title;
}

std::string shape_text(const Json& shape) {
  std::string s;
  for (const auto& d : shape) s += (s.empty() ? "" : "x") + std::to_string(d.get<int64_t>());
  return s;
}

// A unit's thumbnail cell, linked to its page; `prefix` leads from the page to SITE/<model>/.
std::string unit_cell(const std::string& prefix, const Json& layer, const Json& unit) {
  const std::string slug_dir = layer.at("slug").get<std::string>() + "/" + std::to_string(unit.at("unit").get<int64_t>()) + "/";
  const Json lenses = unit.value("lenses", Json::object());
  std::string picture = lenses.contains("channel") ? img(prefix + slug_dir + lenses["channel"]["thumb"].get<std::string>(),
                                                         "unit " + std::to_string(unit.at("unit").get<int64_t>()))
                                                   : "";
  return "<a class=\"cell\" href=\"" + html_escape(prefix + slug_dir) + "\">" + picture + std::to_string(unit.at("unit").get<int64_t>()) + "</a>";
}

int64_t index_of(const Json& units, int64_t unit) {
  for (size_t i = 0; i < units.size(); ++i)
    if (units[i].get<int64_t>() == unit) return static_cast<int64_t>(i);
  return -1;
}

std::string unit_page(const Json& manifest, size_t li, size_t ui, const Json& unit) {
  const Json& layers = manifest.at("layers");
  const Json& layer = layers[li];
  const std::string model = manifest.at("model");
  const std::string lname = layer.at("name");
  const int64_t u = unit.at("unit");
  const Json& units = layer.at("units");
  const Json lenses = unit.value("lenses", Json::object());
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

  m += "<div class=\"pair\"><section><h2>Feature visualization</h2>";
  if (lenses.contains("channel")) {
    m += img(lenses["channel"]["image"], "channel visualization", "big") +
         "<p class=\"sub\">Optimized to maximize the channel's mean activation (reached " +
         fmt(lenses["channel"].value("activation", 0.0)) + "): what <em>causes</em> the unit to fire.</p>";
  } else {
    m += absent("Not in this build.");
  }
  m += "</section><section><h2>Dataset examples</h2>";
  if (lenses.contains("examples") && !lenses["examples"]["top_max"].empty()) {
    m += "<div class=\"examples\">";
    for (const auto& e : lenses["examples"]["top_max"]) {
      m += "<figure>" + img(e["crop"], e["image"].get<std::string>()) + "<figcaption>" + fmt(e["score"].get<double>()) +
           "</figcaption></figure>";
    }
    m += "</div><p class=\"sub\">Crops of the photos that excite the unit most: what it <em>correlates</em> with.</p>";
  } else {
    m += absent(std::find(manifest["lenses"].begin(), manifest["lenses"].end(), "examples") != manifest["lenses"].end()
                    ? "This unit is not in the examples index."
                    : "Dataset examples are not in this build (build with --examples DIR from `featvis examples`).");
  }
  m += "</section></div>\n<h2>Neuron (centre position)</h2>";
  if (lenses.contains("neuron")) {
    m += "<div class=\"figs\"><figure>" + img(lenses["neuron"]["image"], "neuron visualization") + "<figcaption>activation " +
         fmt(lenses["neuron"].value("activation", 0.0)) + "</figcaption></figure></div>";
  } else {
    m += absent("Not in this build.");
  }
  m += "\n<h2>Diversity</h2>";
  if (lenses.contains("diversity")) {
    m += "<div class=\"figs\">";
    int i = 0;
    for (const auto& d : lenses["diversity"]["images"]) m += "<figure>" + img(d["image"], "diversity " + std::to_string(i++)) + "</figure>";
    m += "</div>";
  } else {
    m += absent("Not in this build (--diversity 0).");
  }
  m += "\n<h2>Attribution</h2>";
  if (lenses.contains("attribution")) {
    const Json& a = lenses["attribution"];
    m += "<div class=\"figs\"><figure>" + img(a.value("image", ""), "attribution") + "<figcaption>" +
         html_escape("Grad-CAM at " + a.value("layer", std::string()) + " on " + a.value("photo", std::string())) +
         "</figcaption></figure></div>";
  } else {
    m += absent("No attribution: it needs this unit's dataset examples (build with --images or --examples).");
  }
  m += "\n";
  const std::string crumbs = crumb("../../", model) + crumb("../", lname) + crumb("", std::to_string(u));
  return page(lname + ":" + std::to_string(u), "../../../", "../../", crumbs, nav, m);
}

std::string layer_page(const Json& manifest, size_t li, const std::vector<Json>& units) {
  const Json& layers = manifest.at("layers");
  const Json& layer = layers[li];
  const std::string model = manifest.at("model");
  Nav nav;
  nav.up = "../";
  if (li > 0) nav.prev_layer = nav.prev = "../" + layers[li - 1].at("slug").get<std::string>() + "/";
  if (li + 1 < layers.size()) nav.next_layer = nav.next = "../" + layers[li + 1].at("slug").get<std::string>() + "/";
  std::string m = "<h1>" + html_escape(layer.at("name")) + "</h1>\n<p class=\"sub\">" + html_escape(layer_label(layer)) +
                  " · shape " + shape_text(layer.at("shape")) + " · " + std::to_string(layer.at("units").size()) + " of " +
                  std::to_string(layer.at("channels").get<int64_t>()) + " units built</p>\n<p class=\"neighbours\">";
  if (!nav.prev.empty()) m += "<a href=\"" + nav.prev + "\">[ " + html_escape(layers[li - 1].at("name").get<std::string>()) + "</a>";
  if (!nav.next.empty()) m += "<a href=\"" + nav.next + "\">" + html_escape(layers[li + 1].at("name").get<std::string>()) + " ]</a>";
  m += "</p>\n<h2>Units</h2>\n<div class=\"grid\">";
  for (const auto& unit : units) m += unit_cell("../", layer, unit);
  m += "</div>\n<h2>DeepDream and caricatures</h2>\n";
  const Json lenses = layer.value("lenses", Json::object());
  if (lenses.contains("deepdream")) {
    const Json& d = lenses["deepdream"];
    m += "<div class=\"figs\"><figure>" + img(d["dream"]["image"], "DeepDream from noise") +
         "<figcaption>the whole layer, from noise</figcaption></figure>";
    for (const auto& c : d["caricatures"]) {
      m += "<figure>" + img(c["photo"]["image"], c["source"].get<std::string>()) + "<figcaption>" +
           html_escape(c["source"].get<std::string>()) + "</figcaption></figure><figure>" +
           img(c["image"], "caricature") + "<figcaption>its caricature</figcaption></figure>";
    }
    m += "</div>";
    if (d["caricatures"].empty()) m += absent("No caricatures: the build had no photos.");
  } else {
    m += absent("Not in this build.");
  }
  const std::string crumbs = crumb("../", model) + crumb("", layer.at("name"));
  return page(layer.at("name").get<std::string>(), "../../", "../", crumbs, nav, m);
}

std::string overview_page(const Json& manifest, const std::vector<std::vector<Json>>& units) {
  const std::string model = manifest.at("model");
  std::string m = "<h1>" + html_escape(model) + "</h1>\n<p class=\"sub\">" + html_escape(manifest.value("description", "")) +
                  "</p>\n";
  for (const auto& note : manifest.value("notes", Json::array())) m += absent("Note: " + note.get<std::string>());
  const Json& layers = manifest.at("layers");
  for (size_t li = 0; li < layers.size(); ++li) {
    const Json& layer = layers[li];
    m += "<section class=\"row\"><h2><a href=\"" + html_escape(layer.at("slug").get<std::string>()) + "/\">" +
         html_escape(layer.at("name")) + "</a></h2><p class=\"sub\">" + html_escape(layer_label(layer)) + " · " +
         shape_text(layer.at("shape")) + "</p><div class=\"thumbs\">";
    for (size_t i = 0; i < std::min<size_t>(units[li].size(), 8); ++i) m += unit_cell("", layer, units[li][i]);
    m += "</div></section>\n";
  }
  Nav nav;
  nav.up = "../";
  if (!layers.empty()) nav.next = nav.next_layer = layers[0].at("slug").get<std::string>() + "/";
  return page(model, "../", "./", crumb("", model), nav, m);
}

void write(const fs::path& path, const std::string& text) { write_file_atomically(path.string(), text); }

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

void write_model_pages(const std::string& model_dir, const Json& manifest, const std::vector<std::vector<Json>>& units) {
  const Json& layers = manifest.at("layers");
  Json index = Json::array();
  for (const auto& l : layers) index.push_back(Json{{"name", l.at("name")}, {"slug", l.at("slug")}, {"units", l.at("units")}});
  write(fs::path(model_dir) / "layers.js", "window.FEATVIS_LAYERS = " + index.dump() + ";\n");
  for (size_t li = 0; li < layers.size(); ++li) {
    const fs::path layer_dir = fs::path(model_dir) / layers[li].at("slug").get<std::string>();
    for (size_t ui = 0; ui < units[li].size(); ++ui) {
      write(layer_dir / std::to_string(units[li][ui].at("unit").get<int64_t>()) / "index.html",
            unit_page(manifest, li, ui, units[li][ui]));
    }
    write(layer_dir / "index.html", layer_page(manifest, li, units[li]));
  }
  write(fs::path(model_dir) / "index.html", overview_page(manifest, units));
}

void write_site_index(const std::string& site) {
  make_dirs((fs::path(site) / "assets").string());
  write(fs::path(site) / "assets" / "style.css", kStyle);
  write(fs::path(site) / "assets" / "app.js", kScript);
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
  write(fs::path(site) / "site.json", Json{{"format", "featvis-microscope/1"}, {"models", models}}.dump(2) + "\n");
  Nav nav;
  if (manifests.size() == 1) nav.next = manifests.front().parent_path().filename().string() + "/";
  write(fs::path(site) / "index.html", page("Models", "", "", "", nav, m));
}

}  // namespace featvis::microscope
