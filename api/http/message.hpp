// An HTTP request as the server hands it to the router, and the response a handler returns.
// Neither knows a dialect: error bodies are the business of each dialect (api/dialect.hpp), and
// the HTTP layer's own errors (malformed requests, paths no dialect owns) use neutral_error().
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::api {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the raw path, not decoded, without the query string
  std::string query;   // the raw query string, without '?'
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  // Non-zero when the server could read the head but not the body (413: over the size limit):
  // the dialect still authenticates and counts the request, then answers with this status.
  int unread_status = 0;

  // The value of a header (name lower-cased), or empty.
  std::string_view header(std::string_view name) const {
    for (const auto& h : headers)
      if (h.first == name) return h.second;
    return {};
  }
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// A JSON answer whose body is already serialised.
inline Response json_answer(int status, std::string body) {
  return Response{status, std::move(body), "application/json", {}};
}
// 204 with an empty body.
inline Response no_content() { return Response{204, "", "application/json", {}}; }

// The HTTP layer's own error body, shared by no dialect: {"error":"<message>"}.
Response neutral_error(int status, std::string_view message);

}  // namespace vigil::api
