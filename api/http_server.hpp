// The HTTP/1.1 front: Boost.Beast sessions on a pool of I/O threads. Beast stays behind this
// header. Handlers run on the I/O thread that read the request and may block briefly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/response.hpp"

namespace vigil::api {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded? no: the raw path, without the query string
  std::string query;   // the raw query string, without '?'
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  // Non-zero when the server could read the head but not the body (413: over the size limit):
  // the handler still authenticates and counts the request, then answers with this status.
  int unread_status = 0;

  // The value of a header (name lower-cased), or empty.
  std::string_view header(std::string_view name) const {
    for (const auto& h : headers)
      if (h.first == name) return h.second;
    return {};
  }
};

using Handler = std::function<Response(const Request&)>;

class HttpServer {
 public:
  HttpServer(std::string host, std::uint16_t port, int threads, Handler handler);
  ~HttpServer();

  // Binds and starts serving; false and `err` if the address cannot be used.
  bool start(std::string& err);
  // Stops accepting, closes sessions, joins the I/O threads.
  void stop();
  // The bound port (useful with port 0).
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::api
