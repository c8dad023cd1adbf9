// Where models and cards are looked for. The defaults let a checkout next to ../shared
// work without configuration, and `featvis fetch` saves into the last entry.
#include <featvis/model/fetch.h>
#include <featvis/model/model.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace featvis::model {
namespace {

std::string identity_of(const std::string& dir) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(dir, ec), ec);
  if (ec) p = fs::absolute(dir).lexically_normal();
  std::string s = p.string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// Cards in one directory, sorted by file name so the listing is stable.
std::vector<std::string> card_files_in(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 10 && name.compare(name.size() - 10, 10, ".card.json") == 0 &&
        entry.is_regular_file(ec))
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::vector<std::string> model_search_path() {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("FEATVIS_MODEL_PATH")) {
    std::string value = env;
    size_t start = 0;
    while (start <= value.size()) {
      const size_t colon = value.find(':', start);
      const std::string entry = value.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (!entry.empty()) candidates.push_back(entry);  // "a::b" and a trailing ':' are harmless
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  candidates.emplace_back("./models");
  candidates.emplace_back("../shared/models");
  candidates.push_back((fs::path(FEATVIS_SOURCE_DIR) / ".." / "shared" / "models").lexically_normal().string());
  const std::string downloads = default_download_dir();
  if (!downloads.empty()) candidates.push_back(downloads);

  // The same directory reached two ways (../shared from the repo root) is listed once.
  std::vector<std::string> dirs;
  std::set<std::string> seen;
  for (const auto& c : candidates)
    if (seen.insert(identity_of(c)).second) dirs.push_back(c);
  return dirs;
}

std::string builtin_cards_dir() { return FEATVIS_CARDS_DIR; }

std::vector<ModelCard> known_cards() {
  std::vector<std::string> dirs{builtin_cards_dir()};
  for (const auto& d : model_search_path()) dirs.push_back(d);

  std::vector<ModelCard> cards;
  std::set<std::string> names, seen_dirs;
  for (const auto& dir : dirs) {
    if (!seen_dirs.insert(identity_of(dir)).second) continue;
    for (const auto& path : card_files_in(dir)) {
      ModelCard card = ModelCard::from_file(path);
      if (names.insert(card.name).second) cards.push_back(std::move(card));
    }
  }
  return cards;
}

std::string default_model_name() {
  const auto cards = known_cards();
  for (const auto& c : cards)
    if (c.is_default) return c.name;
  if (cards.empty()) throw Error("no model cards found (looked in " FEATVIS_CARDS_DIR " and the model search path)");
  return cards.front().name;
}

}  // namespace featvis::model
