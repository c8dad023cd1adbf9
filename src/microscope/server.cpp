// CPPHTTPLIB_OPENSSL_SUPPORT comes from src/CMakeLists.txt (it must match Debian's library).
#include <httplib.h>

#include <featvis/microscope/server.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <filesystem>

namespace featvis::microscope {
namespace {

namespace fs = std::filesystem;

bool inside(const fs::path& root, const fs::path& p) {
  const std::string r = root.string(), s = p.string();
  return s == r || (s.size() > r.size() && s.compare(0, r.size(), r) == 0 && s[r.size()] == '/');
}

}  // namespace

Resolved resolve_site_path(const std::string& site, const std::string& url_path) {
  Resolved r;
  std::error_code ec;
  const fs::path root = fs::canonical(site, ec);
  if (ec) return r;
  if (url_path.empty() || url_path[0] != '/' || url_path.find('\0') != std::string::npos ||
      url_path.find('\\') != std::string::npos) {
    r.status = 403;
    return r;
  }
  // No ".." at all, before any resolution; leading slashes are stripped so that an
  // absolute-looking path ("//etc/passwd") stays relative to SITE.
  const fs::path rel = fs::path(url_path.substr(url_path.find_first_not_of('/') == std::string::npos
                                                    ? url_path.size()
                                                    : url_path.find_first_not_of('/')));
  for (const auto& part : rel) {
    if (part == "..") {
      r.status = 403;
      return r;
    }
  }
  fs::path target = fs::weakly_canonical(root / rel, ec);
  if (ec) return r;
  if (!inside(root, target)) {  // a symlink pointing out of SITE
    r.status = 403;
    return r;
  }
  if (fs::is_directory(target)) {
    if (url_path.back() != '/') {
      r.status = 301;
      r.location = url_path + "/";
      return r;
    }
    target = fs::weakly_canonical(target / "index.html", ec);
    if (ec) return r;
    if (!inside(root, target)) {
      r.status = 403;
      return r;
    }
  }
  if (!fs::is_regular_file(target)) return r;
  r.status = 200;
  r.file = target.string();
  return r;
}

std::string content_type(const std::string& file) {
  const std::string ext = fs::path(file).extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".webp") return "image/webp";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

struct SiteServer::Impl {
  std::string site;
  httplib::Server server;
  int port = 0;

  void send(const std::string& url_path, httplib::Response& res) const {
    const Resolved r = resolve_site_path(site, url_path);
    res.status = r.status;
    if (r.status == 200) {
      try {
        res.set_content(read_file(r.file), content_type(r.file).c_str());
        res.set_header("Cache-Control", "no-cache");
      } catch (const Error&) {
        res.status = 404;
      }
    } else if (r.status == 301) {
      res.set_redirect(r.location, 301);
    }
    if (res.status == 403) res.set_content("403 forbidden\n", "text/plain");
    if (res.status == 404) res.set_content("404 not found\n", "text/plain");
  }
};

SiteServer::SiteServer(const std::string& site, const std::string& host, int port, int threads)
    : impl_(std::make_unique<Impl>()) {
  if (!fs::is_regular_file(fs::path(site) / "site.json")) {
    throw Error("'" + site + "' is not a microscope site (no site.json; build one with `featvis microscope build`)");
  }
  impl_->site = fs::canonical(site).string();
  // Keep-alive connections each hold a worker; enough workers that many browsers or a
  // load test do not queue behind each other.
  impl_->server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  // Small responses on keep-alive connections otherwise wait for delayed ACKs (Nagle).
  impl_->server.set_tcp_nodelay(true);
  Impl* impl = impl_.get();
  impl->server.Get("/api/site", [impl](const httplib::Request&, httplib::Response& res) { impl->send("/site.json", res); });
  impl->server.Get(R"(/api/manifest/([^/]+))", [impl](const httplib::Request& req, httplib::Response& res) {
    impl->send("/" + req.matches[1].str() + "/manifest.json", res);
  });
  impl->server.Get(R"(/api/unit/([^/]+)/([^/]+)/([0-9]+))", [impl](const httplib::Request& req, httplib::Response& res) {
    impl->send("/" + req.matches[1].str() + "/" + req.matches[2].str() + "/" + req.matches[3].str() + "/unit.json", res);
  });
  impl->server.Get(R"(/api/.*)", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content("{\"error\": \"unknown API path\"}\n", "application/json");
  });
  impl->server.Get(R"(.*)", [impl](const httplib::Request& req, httplib::Response& res) { impl->send(req.path, res); });
  impl_->port = port == 0 ? impl_->server.bind_to_any_port(host) : (impl_->server.bind_to_port(host, port) ? port : -1);
  if (impl_->port <= 0) throw Error("cannot listen on " + host + ":" + std::to_string(port));
}

SiteServer::~SiteServer() {
  if (impl_->server.is_running()) impl_->server.stop();
}

int SiteServer::port() const { return impl_->port; }
void SiteServer::run() { impl_->server.listen_after_bind(); }
void SiteServer::stop() { impl_->server.stop(); }
bool SiteServer::running() const { return impl_->server.is_running(); }

}  // namespace featvis::microscope
