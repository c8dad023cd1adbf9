// `featvis fetch`: stream a model file to disk while hashing it, and keep it only if the
// hash is the one on its card.
#include <featvis/model/fetch.h>
#include <featvis/util/check.h>
#include <featvis/util/error.h>

#include <httplib.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

namespace fs = std::filesystem;

namespace featvis::model {
namespace {

// EVP_MD_CTX with its lifetime tied to scope.
class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      throw Error("cannot start a SHA-256 computation (OpenSSL)");
  }
  void update(const char* data, size_t n) {
    if (EVP_DigestUpdate(ctx_.get(), data, n) != 1) throw Error("SHA-256 update failed (OpenSSL)");
  }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest, &len) != 1) throw Error("SHA-256 final failed (OpenSSL)");
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out += digits[digest[i] >> 4];
      out += digits[digest[i] & 15];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

struct Url {
  std::string origin;  // "https://host[:port]", what httplib::Client wants
  std::string path;    // "/a/b?c", at least "/"
};

Url split_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) throw Error("'" + url + "' is not a URL (expected http://... or https://...)");
  const std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https")
    throw Error("'" + url + "': only http:// and https:// downloads are supported");
  const auto host_start = scheme_end + 3;
  const auto path_start = url.find_first_of("/?", host_start);
  Url u;
  u.origin = url.substr(0, path_start);
  if (u.origin.size() == host_start) throw Error("'" + url + "' has no host");
  u.path = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (u.path[0] == '?') u.path = "/" + u.path;
  return u;
}

// Removes the temporary download unless it was moved into place.
struct TempFile {
  std::string path;
  std::FILE* file = nullptr;
  bool keep = false;
  ~TempFile() {
    if (file) std::fclose(file);
    if (!keep && !path.empty()) std::remove(path.c_str());
  }
};

}  // namespace

std::string default_download_dir() {
  const char* home = std::getenv("HOME");
  if (!home || !*home) return "";
  return (fs::path(home) / ".cache" / "featvis" / "models").string();
}

std::string sha256_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) throw Error("cannot read '" + path + "'");
  Sha256 sha;
  std::vector<char> buffer(1 << 20);
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), f.get())) > 0) sha.update(buffer.data(), n);
  if (std::ferror(f.get())) throw Error("error while reading '" + path + "'");
  return sha.hex();
}

FetchResult fetch_model(const ModelCard& card, const FetchOptions& options) {
  const std::string url = options.url.empty() ? card.url : options.url;
  if (url.empty()) {
    throw SettingError("url", "model '" + card.name + "' has no official download URL" +
                (card.source.empty() ? "" : " (" + card.source + ")") +
                "; copy '" + card.file + "' into a directory on the model search path, or give the URL of a copy online");
  }
  if (card.sha256.empty())
    throw Error("model '" + card.name + "' has no sha256 on its card, so a download could not be verified; refusing to fetch it");

  std::string dir = options.dir.empty() ? default_download_dir() : options.dir;
  FEATVIS_CHECK_SETTING(!dir.empty(), "dir", "no download directory: HOME is not set; name one");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) throw Error("cannot create download directory '" + dir + "'");
  const std::string dest = (fs::path(dir) / fs::path(card.file).filename()).string();

  FetchResult result;
  result.path = dest;
  if (!options.force && fs::is_regular_file(dest, ec) && sha256_file(dest) == card.sha256) {
    result.sha256 = card.sha256;
    result.bytes = static_cast<uint64_t>(fs::file_size(dest, ec));
    return result;
  }

  const Url u = split_url(url);
  httplib::Client client(u.origin);
  if (!client.is_valid()) throw Error("cannot make an HTTP client for '" + u.origin + "'");
  client.set_follow_location(true);  // GitHub raw URLs redirect to the LFS media host
  client.set_connection_timeout(options.timeout_s);
  client.set_read_timeout(options.timeout_s);

  // Same directory as the destination, so the final rename cannot cross filesystems.
  TempFile temp;
  temp.path = dest + ".part." + std::to_string(::getpid());
  temp.file = std::fopen(temp.path.c_str(), "wb");
  if (!temp.file) throw Error("cannot write '" + temp.path + "'");

  Sha256 sha;
  int status = 0;
  uint64_t total = 0, received = 0;
  std::string head;  // first bytes, to recognise a Git LFS pointer served instead of the file
  bool write_failed = false;
  auto res = client.Get(
      u.path,
      [&](const httplib::Response& response) {
        status = response.status;
        if (response.has_header("Content-Length"))
          total = std::strtoull(response.get_header_value("Content-Length").c_str(), nullptr, 10);
        return status == 200;
      },
      [&](const char* data, size_t n) {
        if (std::fwrite(data, 1, n, temp.file) != n) {
          write_failed = true;
          return false;
        }
        sha.update(data, n);
        if (head.size() < 200) head.append(data, std::min<size_t>(n, 200 - head.size()));
        received += n;
        if (options.progress) options.progress(received, total);
        return true;
      });

  if (write_failed) throw Error("cannot write '" + temp.path + "' (disk full?)");
  if (status != 0 && status != 200)
    throw Error("download of '" + url + "' failed: HTTP " + std::to_string(status));
  if (!res) throw Error("download of '" + url + "' failed: " + httplib::to_string(res.error()));
  if (total != 0 && received != total)
    throw Error("download of '" + url + "' stopped after " + std::to_string(received) + " of " +
                std::to_string(total) + " bytes");
  if (std::fflush(temp.file) != 0 || std::fclose(temp.file) != 0) {
    temp.file = nullptr;
    throw Error("cannot write '" + temp.path + "' (disk full?)");
  }
  temp.file = nullptr;

  const std::string got = sha.hex();
  if (got != card.sha256) {
    std::string why;
    if (head.rfind("version https://git-lfs", 0) == 0)
      why = " (the server sent a Git LFS pointer instead of the file; try again later or download from a mirror's URL)";
    throw Error("download of '" + url + "' has sha256 " + got + " but card '" + card.name + "' expects " +
                card.sha256 + "; the file was deleted" + why);
  }
  if (std::rename(temp.path.c_str(), dest.c_str()) != 0)
    throw Error("cannot move the download into place at '" + dest + "'");
  temp.keep = true;

  result.sha256 = got;
  result.bytes = received;
  result.downloaded = true;
  return result;
}

}  // namespace featvis::model
