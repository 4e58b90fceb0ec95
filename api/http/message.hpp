// An HTTP request as the server hands it to the router, and the response a handler returns.
// Neither knows a dialect: error bodies are the business of each dialect (api/dialect.hpp), and
// the HTTP layer's own errors (malformed requests, paths no dialect owns) use neutral_error().
#pragma once

#include <functional>
#include <memory>
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
  // Non-zero when the server will not read the body (413: declared or read over the size limit,
  // server.max_body_mb): the dialect still authenticates and counts the request, then answers
  // with this status.
  int unread_status = 0;

  // The value of a header (name lower-cased), or empty.
  std::string_view header(std::string_view name) const {
    for (const auto& h : headers)
      if (h.first == name) return h.second;
    return {};
  }
};

// The body of a long-lived answer (Server-Sent Events). The server writes the head (with
// `Connection: close`, no length: the body ends when the connection does), then whatever the
// stream hands it, on the connection's I/O thread, never blocking it.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Called once on the I/O thread before the head is written. `wake` may be called from any
  // thread, any number of times, when there is something to take; it never blocks.
  virtual void open(std::function<void()> wake) = 0;
  // What to write next, empty when nothing is ready. Sets `done` to end the answer.
  virtual std::string take(bool& done) = 0;
  // The client went away or the server stops: no more take(); `wake` must not be called after.
  virtual void close() = 0;
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // Set: `body` is ignored and the answer streams from here (status 200 only).
  std::shared_ptr<BodyStream> stream = nullptr;
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
