// An asynchronous HTTP/1.1 POST over TCP or TLS (Boost.Beast + Asio + OpenSSL). TLS verifies the
// peer certificate against the default trust store and the host name, and sends SNI. Every
// request has one overall deadline covering resolve, connect, handshake, write and read.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "connectors/notify/payloads.hpp"

namespace vigil::connectors {

struct HttpResult {
  int status = 0;     // 0 when no response was received
  std::string error;  // empty when a response was received
  std::string body;
};

struct ParsedUrl {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // path and query, at least "/"
};
bool parse_url(const std::string& url, ParsedUrl& out, std::string& err);

// A TLS client context: TLS 1.2+, verify_peer, default verify paths.
boost::asio::ssl::context make_tls_context();

// Sends `req` as a POST; `done` runs on the io_context's thread with the outcome. The resolved
// addresses of the host are judged by the egress policy (engine/model/egress.hpp) at every
// attempt, so a name that comes to resolve to a refused address is refused too; only allowed
// addresses are connected to. `allow_private` admits loopback and private ranges.
void async_post(boost::asio::io_context& io, boost::asio::ssl::context& tls, const HttpRequestSpec& req,
                std::chrono::milliseconds timeout, bool allow_private, std::function<void(HttpResult)> done);

// The prefix of the error of an attempt refused by the egress policy (never retried).
inline constexpr const char* kEgressRefused = "egress refused: ";

}  // namespace vigil::connectors
