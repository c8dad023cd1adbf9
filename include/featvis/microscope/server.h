#pragma once
// `featvis microscope serve`: the built site and a small JSON API over HTTP (cpp-httplib).
// Only files inside SITE are served: ".." segments, absolute paths and symlinks that
// resolve outside SITE are refused.
//   GET /api/site                          SITE/site.json (the models)
//   GET /api/manifest/<model>              SITE/<model>/manifest.json
//   GET /api/unit/<model>/<layer-slug>/<unit>  that unit's unit.json
//   GET /anything else                     the file, or a directory's index.html
#include <memory>
#include <string>

namespace featvis::microscope {

struct Resolved {
  int status = 404;  // 200: `file` is the file to send; 301: redirect to `location`; 403/404
  std::string file, location;
};

// Maps a percent-decoded URL path onto a file under `site` (any form; canonicalized here).
Resolved resolve_site_path(const std::string& site, const std::string& url_path);

// Content-Type for a file name by extension.
std::string content_type(const std::string& file);

class SiteServer {
 public:
  // Binds host:port (port 0: any free port). featvis::Error if SITE is not a built site
  // or the address cannot be bound.
  SiteServer(const std::string& site, const std::string& host, int port, int threads = 32);
  ~SiteServer();
  SiteServer(const SiteServer&) = delete;
  SiteServer& operator=(const SiteServer&) = delete;

  int port() const;
  void run();   // serves until stop()
  void stop();  // from any thread
  bool running() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace featvis::microscope
