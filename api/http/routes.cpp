#include "api/http/routes.hpp"

#include "api/http/form.hpp"

namespace vigil::api {

namespace {

// Splits "/a/b/c" into {"a","b","c"}; false for a path not starting with '/' or holding an
// empty segment. "/" is no segments.
bool split(std::string_view path, std::vector<std::string_view>& out) {
  out.clear();
  if (path.empty() || path[0] != '/') return false;
  if (path.size() == 1) return true;
  std::size_t start = 1;
  while (true) {
    std::size_t slash = path.find('/', start);
    std::string_view seg = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg.empty()) return false;
    out.push_back(seg);
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

}  // namespace

const std::string& PathParams::operator[](std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : items_)
    if (k == name) return v;
  return kEmpty;
}

void RouteTable::add(std::string_view method, std::string_view pattern, RouteHandler handler) {
  std::vector<std::string_view> parts;
  split(pattern, parts);
  std::vector<Segment> segs;
  for (auto p : parts) {
    if (p[0] == ':') segs.push_back({std::string(p.substr(1)), true});
    else segs.push_back({std::string(p), false});
  }
  Entry* entry = nullptr;
  for (auto& e : entries_) {
    if (e.segments.size() != segs.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < segs.size() && same; ++i)
      same = e.segments[i].param == segs[i].param && (segs[i].param || e.segments[i].text == segs[i].text);
    if (same) entry = &e;
  }
  if (!entry) {
    entries_.push_back({std::move(segs), {}});
    entry = &entries_.back();
  }
  for (auto& [m, h] : entry->methods)
    if (m == method) {
      h = std::move(handler);
      return;
    }
  entry->methods.emplace_back(std::string(method), std::move(handler));
}

RouteTable::Match RouteTable::match(std::string_view method, std::string_view path) const {
  Match out;
  std::vector<std::string_view> parts;
  if (!split(path, parts)) return out;
  const Entry* best = nullptr;
  for (const auto& e : entries_) {
    if (e.segments.size() != parts.size()) continue;
    bool ok = true;
    for (std::size_t i = 0; i < parts.size() && ok; ++i)
      ok = e.segments[i].param || e.segments[i].text == parts[i];
    if (!ok) continue;
    if (best) {
      // The first segment where the two differ in kind decides: a literal is more specific.
      bool better = false;
      for (std::size_t i = 0; i < parts.size(); ++i)
        if (e.segments[i].param != best->segments[i].param) {
          better = !e.segments[i].param;
          break;
        }
      if (!better) continue;
    }
    best = &e;
  }
  if (!best) return out;
  for (const auto& [m, h] : best->methods) {
    if (m == method) {
      out.handler = &h;
      for (std::size_t i = 0; i < parts.size(); ++i)
        if (best->segments[i].param) out.params.add(best->segments[i].text, url_decode(parts[i], false));
      return out;
    }
  }
  for (const auto& [m, h] : best->methods) {
    if (!out.allow.empty()) out.allow += ", ";
    out.allow += m;
  }
  return out;
}

Response dispatch(const RouteTable& table, const Request& req, const std::function<Response()>& not_found,
                  const std::function<Response(const std::string& allow)>& not_allowed) {
  auto m = table.match(req.method, req.path);
  if (m.handler) return (*m.handler)(req, m.params);
  if (m.allow.empty()) return not_found();
  return with_allow(not_allowed(m.allow), m.allow);
}

Response with_allow(Response r, const std::string& allow) {
  r.headers.emplace_back("Allow", allow);
  return r;
}

}  // namespace vigil::api
