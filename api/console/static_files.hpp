// The console's files (the bundle scripts/web-build writes), read once from a directory at start
// and served from memory: only the files found there exist, so no request path can reach
// outside it. Content types come from the file extension.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace vigil::api::console {

struct StaticFile {
  std::string body;
  std::string content_type;
};

class StaticFiles {
 public:
  // Reads every regular file under `root` (at most 64 MiB in all); `error` says why nothing could
  // be read (the directory is missing), and the files read so far are kept.
  void load(const std::string& root, std::string& error);

  // The file at URL path `path` ("/index.html", "/assets/app.js"), or nullptr.
  const StaticFile* find(std::string_view path) const;
  std::size_t size() const { return files_.size(); }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
  std::unordered_map<std::string, StaticFile> files_;
};

// The Content-Type of a file name by its extension; application/octet-stream when unknown.
std::string content_type_of(std::string_view name);

}  // namespace vigil::api::console
