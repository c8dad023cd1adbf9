#pragma once
// An HTTP server on 127.0.0.1 (random free port) for download tests: never the internet.
// Serves `body` at /model.onnx, redirects /moved -> /model.onnx, /moved-twice -> /moved,
// serves a Git LFS pointer at /lfs-pointer; everything else is 404.
//
// Debian's cpp-httplib is a compiled library built with OpenSSL support; the classes must
// be declared the same way here as in it.
#define CPPHTTPLIB_OPENSSL_SUPPORT
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace featvis::testing {

class LoopbackServer {
 public:
  explicit LoopbackServer(std::string body) : body_(std::move(body)) {
    server_.Get("/model.onnx", [this](const httplib::Request&, httplib::Response& res) {
      ++model_requests_;
      res.set_content(body_, "application/octet-stream");
    });
    server_.Get("/moved", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/model.onnx"); });
    server_.Get("/moved-twice", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/moved", 301);
    });
    server_.Get("/lfs-pointer", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(
          "version https://git-lfs.github.com/spec/v1\noid sha256:"
          "c1c513582d56afceff8516c73804e484c81c6a830712ab6d682253f4a3cd042f\nsize 14246826\n",
          "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("cannot bind a port on 127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost, and join() would hang.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_.is_running()) {
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("loopback server did not start");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  ~LoopbackServer() {
    server_.stop();
    thread_.join();
  }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int model_requests() const { return model_requests_; }

 private:
  std::string body_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> model_requests_{0};
};

}  // namespace featvis::testing
