#include "api/console/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace vigil::api::console {

namespace fs = std::filesystem;

std::string content_type_of(std::string_view name) {
  struct Entry {
    const char* ext;
    const char* type;
  };
  static const Entry types[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".json", "application/json"},
      {".svg", "image/svg+xml"},             {".png", "image/png"},
      {".ico", "image/x-icon"},              {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},          {".woff2", "font/woff2"},
  };
  auto dot = name.rfind('.');
  if (dot != std::string_view::npos) {
    std::string_view ext = name.substr(dot);
    for (const auto& e : types)
      if (ext == e.ext) return e.type;
  }
  return "application/octet-stream";
}

void StaticFiles::load(const std::string& root, std::string& error) {
  root_ = root;
  files_.clear();
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    error = "no console files in " + root + " (scripts/web-build writes them)";
    return;
  }
  std::uintmax_t total = 0;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const fs::path rel = fs::relative(it->path(), root, ec);
    if (ec) break;
    total += it->file_size(ec);
    if (total > (64u << 20)) {
      error = "the console files in " + root + " are over 64 MiB";
      return;
    }
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    files_["/" + rel.generic_string()] = StaticFile{body.str(), content_type_of(rel.filename().string())};
  }
  if (ec) error = "cannot read the console files in " + root + ": " + ec.message();
}

const StaticFile* StaticFiles::find(std::string_view path) const {
  auto it = files_.find(std::string(path));
  return it == files_.end() ? nullptr : &it->second;
}

}  // namespace vigil::api::console
