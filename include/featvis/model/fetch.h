#pragma once
// Downloading a known model: the card gives the official URL and the SHA-256 of the file.
// The bytes are hashed while they stream into a temporary file beside the destination,
// and only a verified file is renamed into place, so a partial or wrong download never
// sits where the model search path would find it.
#include <featvis/model/card.h>

#include <cstdint>
#include <functional>
#include <string>

namespace featvis::model {

struct FetchOptions {
  std::string dir;   // destination directory; "" = default_download_dir()
  std::string url;   // overrides the card's URL (a mirror); the card's sha256 still applies
  bool force = false;  // download even when a verified copy is already there
  int timeout_s = 60;  // connect and per-read timeout
  // Called as bytes arrive; `total` is 0 when the server does not say.
  std::function<void(uint64_t received, uint64_t total)> progress;
};

struct FetchResult {
  std::string path;    // the verified file
  std::string sha256;
  uint64_t bytes = 0;
  bool downloaded = false;  // false: an already present copy was verified and kept
};

// $HOME/.cache/featvis/models (the last entry of the model search path); "" without HOME.
std::string default_download_dir();

// Lower-case hex SHA-256 of a file's contents. Throws featvis::Error if unreadable.
std::string sha256_file(const std::string& path);

// Downloads card.file from card.url (or options.url), following redirects, over http or
// https, and verifies card.sha256. Throws featvis::Error with one line on any failure
// (no URL, HTTP status, network error, hash mismatch naming both hashes).
FetchResult fetch_model(const ModelCard& card, const FetchOptions& options = {});

}  // namespace featvis::model
