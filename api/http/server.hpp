// The HTTP/1.1 front: Boost.Beast sessions on a pool of I/O threads, plain TCP or TLS (OpenSSL).
// Beast and OpenSSL stay behind this header. It knows no dialect: a malformed request is
// answered with neutral_error(), and every other answer comes from the HttpHandler.
//
// A request is served in two steps. Once its head (request line and fields) is read, the
// handler admits it or answers it (401, 403, 413 for a declared body over the limit, ...): a
// refused request's body is never read, and the connection closes after the answer when a body
// was announced. An admitted request's body is read next (within max_body_bytes), then the
// handler serves it. Handlers run on the I/O thread that read the request and may block briefly.
//
// Limits (HttpLimits): connections (beyond the cap a connection gets 503 and is closed; accept
// errors such as EMFILE back off from 50 ms to 1 s), the time to read a head, a body, and to
// wait for the next request on a kept-alive connection, requests per connection, and requests
// in flight (admitted, not yet answered: beyond the bound 503 with Retry-After at once). Each
// refusal is counted (metrics_text()).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http/message.hpp"

namespace vigil::api {

// What admission leaves for the rest of the same request.
struct Admission {
  const void* owner = nullptr;  // the handler's own mark (the router: the admitting dialect)
  bool operations = false;      // the handler's own mark (the router: /health, /metrics)
  // Headers to add to every answer of the request (for example rate-limit state).
  std::vector<std::pair<std::string, std::string>> headers;
  void clear() {
    owner = nullptr;
    operations = false;
    headers.clear();
  }
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // The head is read; `head.body` is empty. nullopt: the body is read and handle() serves the
  // request. An answer: sent as it is, and the body is not read. `head.unread_status` is 413
  // when the declared length is over the limit: the answer must then refuse the request.
  virtual std::optional<Response> admit(const Request& head, Admission& adm) = 0;
  // The whole request, admitted. `req.unread_status` is 413 when a chunked body went over the
  // limit while it was read.
  virtual Response handle(const Request& req, Admission& adm) = 0;
  // An answer the server gives on its own (503: too many requests in flight), in the format of
  // whoever owns the request's path.
  virtual Response refuse(const Request& head, int status, const std::string& message) = 0;
};

struct HttpLimits {
  std::uint64_t max_body_bytes = std::uint64_t{32} << 20;  // server.max_body_mb
  std::size_t max_connections = 1000;                      // server.max_connections
  std::chrono::milliseconds header_timeout{10'000};        // first byte of a head to its end (and the TLS handshake)
  std::chrono::milliseconds body_timeout{60'000};          // the whole body
  std::chrono::milliseconds idle_timeout{60'000};          // a kept-alive connection waiting; also a stalled answer
  std::uint64_t max_requests_per_connection = 10'000;      // 0: no limit
  std::size_t max_in_flight = 64;                          // requests admitted and not yet answered
};

struct TlsOptions {
  std::string cert_file;       // PEM certificate chain; empty: plain HTTP
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM CA(s): set, every client must present a certificate they signed
  std::string min_version = "1.2";  // "1.2" or "1.3"
  bool enabled() const { return !cert_file.empty(); }
};

// A loaded TLS server context (certificate, key, client CAs).
class TlsContext;
// Loads the files of `opts`; null with the setting at fault in `key` ("tls.cert_file") and
// what is wrong in `err` when one cannot be read or used.
std::shared_ptr<TlsContext> make_tls_context(const TlsOptions& opts, std::string& key, std::string& err);

class HttpServer {
 public:
  // `handler` must outlive the server. `tls` null: plain HTTP.
  HttpServer(std::string host, std::uint16_t port, int threads, HttpHandler& handler, HttpLimits limits = {},
             std::shared_ptr<TlsContext> tls = nullptr);
  ~HttpServer();

  // Binds and starts serving; false and `err` if the address cannot be used.
  bool start(std::string& err);
  // Stops accepting, closes sessions, joins the I/O threads.
  void stop();
  // The bound port (useful with port 0).
  std::uint16_t port() const;
  // Prometheus text: open connections, requests in flight, refusals by reason, accept errors.
  std::string metrics_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::api
