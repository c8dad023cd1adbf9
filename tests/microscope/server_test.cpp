// `featvis microscope serve`'s server: path traversal refused, API routes, and a bounded
// load on loopback.
// Debian's cpp-httplib is compiled with OpenSSL support; declare it the same way.
#define CPPHTTPLIB_OPENSSL_SUPPORT
#include <httplib.h>

#include "microscope/microscope_test_util.h"

#include <featvis/microscope/server.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace {

using namespace featvis::testing;
using featvis::microscope::resolve_site_path;
using featvis::microscope::SiteServer;

// SITE with a page, a unit record, an image; a secret beside SITE and symlinks to it.
struct FakeSite {
  std::string root = temp_dir();
  std::string site = root + "/site";
  FakeSite() {
    fs::create_directories(site + "/m/layer/3");
    fs::create_directories(root + "/outside");
    write_bytes(site + "/site.json", R"({"format": "featvis-microscope/1", "models": []})");
    write_bytes(site + "/index.html", "<html>home</html>");
    write_bytes(site + "/m/manifest.json", R"({"model": "m"})");
    write_bytes(site + "/m/layer/3/unit.json", R"({"unit": 3})");
    write_bytes(site + "/m/layer/3/index.html", "<html>unit 3</html>");
    featvis::image::save_png(site + "/m/layer/3/channel.png", at::full({3, 4, 4}, 0.5));
    write_bytes(root + "/secret.txt", "secret");
    write_bytes(root + "/outside/secret.txt", "secret");
    fs::create_symlink(root + "/secret.txt", site + "/link.txt");
    fs::create_symlink(root + "/outside", site + "/linkdir");
    fs::create_symlink("m/layer/3/unit.json", site + "/inner-link.json");  // inside: allowed
  }
};

class Running {
 public:
  explicit Running(const std::string& site) : server_(site, "127.0.0.1", 0) {
    thread_ = std::thread([this] { server_.run(); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_.running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~Running() {
    server_.stop();
    thread_.join();
  }
  int port() const { return server_.port(); }

 private:
  SiteServer server_;
  std::thread thread_;
};

int status_of(httplib::Client& client, const std::string& path) {
  auto res = client.Get(path.c_str());
  return res ? res->status : -1;
}

TEST(MicroscopeServer, ResolvesOnlyInsideTheSite) {
  FakeSite fs_;
  EXPECT_EQ(resolve_site_path(fs_.site, "/m/layer/3/unit.json").status, 200);
  EXPECT_EQ(resolve_site_path(fs_.site, "/").file, fs::canonical(fs_.site + "/index.html").string());
  EXPECT_EQ(resolve_site_path(fs_.site, "/m/layer/3").status, 301);
  EXPECT_EQ(resolve_site_path(fs_.site, "/m/layer/3").location, "/m/layer/3/");
  EXPECT_EQ(resolve_site_path(fs_.site, "/../secret.txt").status, 403);
  EXPECT_EQ(resolve_site_path(fs_.site, "/m/../../secret.txt").status, 403);
  EXPECT_EQ(resolve_site_path(fs_.site, "/link.txt").status, 403);
  EXPECT_EQ(resolve_site_path(fs_.site, "/linkdir/secret.txt").status, 403);
  EXPECT_EQ(resolve_site_path(fs_.site, "/inner-link.json").status, 200);
  EXPECT_EQ(resolve_site_path(fs_.site, fs_.root + "/secret.txt").status, 404);  // read as SITE/<root>/...
  EXPECT_EQ(resolve_site_path(fs_.site, "relative").status, 403);
  EXPECT_EQ(resolve_site_path(fs_.site, "/a\\..\\secret.txt").status, 403);
  EXPECT_EQ(resolve_site_path(fs_.site, "/missing.png").status, 404);
}

TEST(MicroscopeServer, RefusesTraversalOverHttp) {
  FakeSite site;
  Running server(site.site);
  httplib::Client client("127.0.0.1", server.port());
  EXPECT_EQ(status_of(client, "/"), 200);
  EXPECT_EQ(status_of(client, "/m/layer/3/channel.png"), 200);
  for (const std::string path : {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/m/..%2f..%2fsecret.txt",
                                 "/..%5csecret.txt", "//etc/passwd", "/%2Fetc%2Fpasswd", "/link.txt",
                                 "/linkdir/secret.txt", "/api/unit/m/..%2f..%2f/3", "/api/manifest/..",
                                 "/%252e%252e/secret.txt"}) {
    const int status = status_of(client, path);
    EXPECT_TRUE(status == 403 || status == 404 || status == 400) << path << " -> " << status;
  }
  auto res = client.Get("/m/layer/3");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 301);
  EXPECT_EQ(res->get_header_value("Location"), "/m/layer/3/");
}

TEST(MicroscopeServer, ServesTheJsonApi) {
  FakeSite site;
  Running server(site.site);
  httplib::Client client("127.0.0.1", server.port());
  auto unit = client.Get("/api/unit/m/layer/3");
  ASSERT_TRUE(unit);
  EXPECT_EQ(unit->status, 200);
  EXPECT_EQ(unit->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(unit->body)["unit"], 3);
  auto manifest = client.Get("/api/manifest/m");
  ASSERT_TRUE(manifest);
  EXPECT_EQ(nlohmann::json::parse(manifest->body)["model"], "m");
  EXPECT_EQ(status_of(client, "/api/site"), 200);
  EXPECT_EQ(status_of(client, "/api/unit/m/layer/4"), 404);
  EXPECT_EQ(status_of(client, "/api/nothing"), 404);
}

TEST(MicroscopeServer, RefusesADirectoryThatIsNotASite) {
  EXPECT_NE(error_of([] { SiteServer s(temp_dir(), "127.0.0.1", 0); }).find("is not a microscope site"), std::string::npos);
}

// 10,000 requests from 16 keep-alive connections on loopback: no errors.
TEST(MicroscopeServer, BoundedLoadCompletesWithoutErrors) {
  FakeSite site;
  Running server(site.site);
  const int kThreads = 16, kPerThread = 625;
  const std::vector<std::string> paths{"/", "/m/layer/3/", "/m/layer/3/channel.png", "/api/unit/m/layer/3",
                                       "/api/manifest/m"};
  std::atomic<int> errors{0}, ok{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client client("127.0.0.1", server.port());
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      for (int i = 0; i < kPerThread; ++i) {
        auto res = client.Get(paths[static_cast<size_t>(i + t) % paths.size()].c_str());
        if (res && res->status == 200 && !res->body.empty()) ++ok;
        else ++errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ load ] %d requests, 16 connections: %d errors, %.2f s, %.0f requests/s\n", ok.load() + errors.load(),
              errors.load(), seconds, (ok.load() + errors.load()) / seconds);
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
}

}  // namespace
