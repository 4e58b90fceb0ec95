#include "api/librato/resources.hpp"

#include "engine/urlencoded.hpp"

namespace vigil::api::librato {

bool route_resources(actors::Engine& engine, Resources& res, const Request& req, Response& out) {
  return route_tokens(res.access, req, out) || route_metrics(engine, res, req, out) || route_jobs(res, req, out) ||
         route_sources(engine, res, req, out) || route_annotations(res, req, out) ||
         route_spaces(engine, res, req, out) || route_snapshots(engine, res, req, out);
}

Response method_not_allowed(const std::string& allow) {
  Response r = request_error(405, "method not allowed; use " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

bool path_segments(const std::string& path, const std::string& base, std::vector<std::string>& segs) {
  segs.clear();
  if (path == base) return true;
  if (path.size() <= base.size() || path.compare(0, base.size(), base) != 0 || path[base.size()] != '/') return false;
  std::size_t start = base.size() + 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    segs.push_back(url_decode(std::string_view(path).substr(start, slash - start), false));
    start = slash + 1;
  }
  for (const auto& s : segs)
    if (s.empty()) return false;
  return true;
}

Response no_content() { return Response{204, "", "application/json", {}}; }

Response json_answer(int status, const nlohmann::json& body) { return Response{status, body.dump(), "application/json", {}}; }

}  // namespace vigil::api::librato
