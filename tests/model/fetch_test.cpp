// Downloads against a local server on 127.0.0.1 only: a verified file lands in place, a
// wrong hash, a 404 or a dead server leave nothing behind, and redirects are followed.
#include "model/loopback_server.h"
#include "model/scoped_env.h"
#include "support/test_support.h"

#include <featvis/model/fetch.h>
#include <featvis/util/atomic_file.h>
#include <featvis/util/error.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

namespace fs = std::filesystem;

namespace featvis {
namespace {

// Not a multiple of any buffer size, so the download arrives in several uneven pieces.
std::string test_body() {
  std::string body(300 * 1024 + 17, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 2654435761u) >> 13);
  return body;
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}

using testing::error_of;
class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    body_ = test_body();
    server_ = std::make_unique<testing::LoopbackServer>(body_);
    dir_ = testing::temp_dir();
    const std::string body_path = testing::temp_dir() + "/body";
    write_file_atomically(body_path, body_);
    card_.name = "tiny_web";
    card_.file = "tiny_web.onnx";
    card_.sha256 = model::sha256_file(body_path);
    card_.url = server_->url("/model.onnx");
    options_.dir = dir_;
    options_.timeout_s = 10;
  }

  std::string body_, dir_;
  std::unique_ptr<testing::LoopbackServer> server_;
  model::ModelCard card_;
  model::FetchOptions options_;
};

TEST(FetchSha256Test, KnownVectors) {
  const std::string d = testing::temp_dir();
  write_file_atomically(d + "/abc", "abc");
  EXPECT_EQ(model::sha256_file(d + "/abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  write_file_atomically(d + "/empty", "");
  EXPECT_EQ(model::sha256_file(d + "/empty"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(error_of([&] { model::sha256_file(d + "/missing"); }), "cannot read '" + d + "/missing'");
}

TEST(FetchDownloadDirTest, DefaultIsUnderHomeCache) {
  testing::ScopedEnv home("HOME", std::string("/tmp/fv-fetch-home"));
  EXPECT_EQ(model::default_download_dir(), "/tmp/fv-fetch-home/.cache/featvis/models");
}

TEST_F(FetchTest, CorrectShaPutsTheFileInPlace) {
  uint64_t last_received = 0, last_total = 0;
  int calls = 0;
  options_.progress = [&](uint64_t received, uint64_t total) {
    EXPECT_GE(received, last_received);
    last_received = received;
    last_total = total;
    ++calls;
  };
  const model::FetchResult r = model::fetch_model(card_, options_);
  EXPECT_TRUE(r.downloaded);
  EXPECT_EQ(r.path, dir_ + "/tiny_web.onnx");
  EXPECT_EQ(r.sha256, card_.sha256);
  EXPECT_EQ(r.bytes, body_.size());
  EXPECT_EQ(read_file(r.path), body_);
  EXPECT_EQ(files_in(dir_), std::vector<std::string>{"tiny_web.onnx"});  // no temporary left
  EXPECT_GT(calls, 1);
  EXPECT_EQ(last_received, body_.size());
  EXPECT_EQ(last_total, body_.size());
}

TEST_F(FetchTest, CreatesTheDestinationDirectory) {
  options_.dir = dir_ + "/a/b";
  EXPECT_EQ(model::fetch_model(card_, options_).path, dir_ + "/a/b/tiny_web.onnx");
  EXPECT_TRUE(fs::is_regular_file(dir_ + "/a/b/tiny_web.onnx"));
}

TEST_F(FetchTest, WrongShaDeletesTheDownloadAndNamesBothHashes) {
  const std::string actual = card_.sha256;
  card_.sha256 = std::string(64, '0');
  const std::string msg = error_of([&] { model::fetch_model(card_, options_); });
  EXPECT_EQ(msg, "download of '" + card_.url + "' has sha256 " + actual + " but card 'tiny_web' expects " +
                     std::string(64, '0') + "; the file was deleted");
  EXPECT_TRUE(files_in(dir_).empty());
}

TEST_F(FetchTest, NotFoundIsAnErrorAndLeavesNothing) {
  options_.url = server_->url("/nothing-here.onnx");
  EXPECT_EQ(error_of([&] { model::fetch_model(card_, options_); }),
            "download of '" + options_.url + "' failed: HTTP 404");
  EXPECT_TRUE(files_in(dir_).empty());
  EXPECT_EQ(server_->model_requests(), 0);
}

TEST_F(FetchTest, RedirectsAreFollowed) {
  options_.url = server_->url("/moved-twice");
  const model::FetchResult r = model::fetch_model(card_, options_);
  EXPECT_TRUE(r.downloaded);
  EXPECT_EQ(read_file(r.path), body_);
  EXPECT_EQ(server_->model_requests(), 1);
}

TEST_F(FetchTest, VerifiedCopyIsKeptUnlessForced) {
  model::fetch_model(card_, options_);
  ASSERT_EQ(server_->model_requests(), 1);
  const model::FetchResult again = model::fetch_model(card_, options_);
  EXPECT_FALSE(again.downloaded);
  EXPECT_EQ(again.bytes, body_.size());
  EXPECT_EQ(server_->model_requests(), 1);
  options_.force = true;
  EXPECT_TRUE(model::fetch_model(card_, options_).downloaded);
  EXPECT_EQ(server_->model_requests(), 2);
}

TEST_F(FetchTest, CorruptCopyIsReplaced) {
  write_file_atomically(dir_ + "/tiny_web.onnx", "truncated");
  const model::FetchResult r = model::fetch_model(card_, options_);
  EXPECT_TRUE(r.downloaded);
  EXPECT_EQ(read_file(dir_ + "/tiny_web.onnx"), body_);
}

TEST_F(FetchTest, FailedDownloadKeepsTheExistingFile) {
  write_file_atomically(dir_ + "/tiny_web.onnx", "old copy");
  card_.sha256 = std::string(64, 'f');
  EXPECT_NE(error_of([&] { model::fetch_model(card_, options_); }).find("the file was deleted"), std::string::npos);
  EXPECT_EQ(read_file(dir_ + "/tiny_web.onnx"), "old copy");  // only the temporary is deleted
  EXPECT_EQ(files_in(dir_).size(), 1u);
}

TEST_F(FetchTest, GitLfsPointerIsExplained) {
  options_.url = server_->url("/lfs-pointer");
  const std::string msg = error_of([&] { model::fetch_model(card_, options_); });
  EXPECT_NE(msg.find("the server sent a Git LFS pointer instead of the file"), std::string::npos) << msg;
  EXPECT_TRUE(files_in(dir_).empty());
}

TEST_F(FetchTest, CardWithoutUrlIsRefusedUnlessAUrlIsGiven) {
  card_.url.clear();
  card_.source = "converted locally";
  const std::string msg = error_of([&] { model::fetch_model(card_, options_); });
  EXPECT_EQ(msg.rfind("model 'tiny_web' has no official download URL (converted locally); copy 'tiny_web.onnx'", 0),
            0u)
      << msg;
  options_.url = server_->url("/model.onnx");
  EXPECT_TRUE(model::fetch_model(card_, options_).downloaded);
}

TEST_F(FetchTest, CardWithoutShaIsRefused) {
  card_.sha256.clear();
  EXPECT_EQ(error_of([&] { model::fetch_model(card_, options_); }),
            "model 'tiny_web' has no sha256 on its card, so a download could not be verified; refusing to fetch it");
  EXPECT_EQ(server_->model_requests(), 0);
}

TEST_F(FetchTest, DeadServerIsAnError) {
  std::string url;
  {
    testing::LoopbackServer gone("x");
    url = gone.url("/model.onnx");
  }
  options_.url = url;
  const std::string msg = error_of([&] { model::fetch_model(card_, options_); });
  EXPECT_EQ(msg.rfind("download of '" + url + "' failed: ", 0), 0u) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  EXPECT_TRUE(files_in(dir_).empty());
}

TEST_F(FetchTest, UnsupportedUrls) {
  options_.url = "ftp://127.0.0.1/model.onnx";
  EXPECT_EQ(error_of([&] { model::fetch_model(card_, options_); }),
            "'ftp://127.0.0.1/model.onnx': only http:// and https:// downloads are supported");
  options_.url = "127.0.0.1/model.onnx";
  EXPECT_EQ(error_of([&] { model::fetch_model(card_, options_); }),
            "'127.0.0.1/model.onnx' is not a URL (expected http://... or https://...)");
  EXPECT_TRUE(files_in(dir_).empty());
}

}  // namespace
}  // namespace featvis
