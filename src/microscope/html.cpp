#include <featvis/microscope/html.h>

#include <cstdio>

namespace featvis::microscope {

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

std::string html_img(const std::string& src, const std::string& alt, const std::string& cls) {
  return "<img src=\"" + html_escape(src) + "\" alt=\"" + html_escape(alt) + "\"" +
         (cls.empty() ? "" : " class=\"" + cls + "\"") + ">";
}

std::string html_lazy_img(const std::string& src, const std::string& alt, bool deferred) {
  return std::string(deferred ? "<img data-src=\"" : "<img src=\"") + html_escape(src) + "\" alt=\"" + html_escape(alt) + "\" loading=\"lazy\" decoding=\"async\">";
}

std::string html_absent(const std::string& what) { return "<p class=\"absent\">" + html_escape(what) + "</p>\n"; }

std::string html_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace featvis::microscope
